"""Time the analysis at scale: fixed point + the 20 leading Jacobian eigenvalues of DyRCNNx4 at 32x32.

    python benchmarks/bench_analysis.py [--size 32] [--k 20]

Writes benchmarks/results/analysis.json (units, times, residual, Newton/GMRES iterations, eigenvalue
matvecs, the leading eigenvalues and the check |J v - lambda v| for each pair).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

import dynacortex as dc
from dynacortex.analysis import fixed_point, jacobian_eigs, vector_field


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--tol", type=float, default=1e-6, help="ARPACK relative accuracy of the eigenvalues")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "analysis.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", recurrence="full", recurrence_gain=0.9)
    image = torch.rand(3, args.size, args.size)
    t0 = time.perf_counter()
    vf = vector_field(model, image)
    fp = fixed_point(vf, tol=1e-6)
    t1 = time.perf_counter()
    calls = [0]
    linear = vf.linear

    def counted(y):
        jac = linear(y)

        def matvec(v):
            calls[0] += 1
            return jac(v)
        return matvec

    vf.linear = counted  # type: ignore[method-assign]
    vals, vecs = jacobian_eigs(vf, None, fp.state, k=args.k, which="LR", method="arnoldi", tol=args.tol)
    t2 = time.perf_counter()
    vf.linear = linear  # type: ignore[method-assign]
    checks = [float((vf.jvp(fp.state, vecs[:, i].real) - (vals[i] * vecs[:, i]).real).norm()) if vals[i].imag == 0
              else float("nan") for i in range(args.k)]
    result = {
        "model": "dyrcnnx4 full, recurrence_gain 0.9, random init", "input": [3, args.size, args.size], "units": vf.n,
        "fixed_point_s": round(t1 - t0, 2), "eigs_s": round(t2 - t1, 2), "total_s": round(t2 - t0, 2),
        "residual": fp.residual, "converged": fp.converged, "newton_steps": fp.iterations,
        "gmres_matvecs": fp.gmres_iterations, "relax_ms": fp.relax_ms, "eig_matvecs": calls[0],
        "eig_tol": args.tol, "leading_eigenvalues": [[round(float(v.real), 6), round(float(v.imag), 6)] for v in vals],
        "max_eigpair_error_real_pairs": float(np.nanmax(checks)) if not np.isnan(checks).all() else None,
        "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "leading_eigenvalues"}, indent=2))


if __name__ == "__main__":
    main()
