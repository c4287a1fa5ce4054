#!/usr/bin/env python
"""Forward+backward time and peak memory of DyRCNNx4 for every recurrence type and every solver.

Reference configuration (B16, T20, 3x32x32, dt 2, tau 5, t_feedforward 0, t_recurrence 6, skip on).
Time: every (recurrence, solver) pair interleaved pass by pass in one process, median of
``--repeats``; ``per_evaluation`` divides by the solver's right-hand-side evaluations per step (Euler
1, exponential Euler 1, Heun 2, RK4 4) relative to Euler, so 1.0 means a stage costs exactly one Euler
step. Memory: the peak activation memory of one pass, each pair in its own process (see
``bench_memory.py``). The floor and DynVision implement Euler only: they are in ``bench_reference.py``.

    python benchmarks/bench_matrix.py --recurrence full self --solver euler rk4 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_memory import peak_mb

from dynacortex.files import write_atomic

ROOT = Path(__file__).resolve().parents[1]
RECURRENCE = ["full", "self", "depthwise", "pointwise", "depthpointwise", "pointdepthwise", "local",
              "localdepthwise", "none"]
EVALUATIONS = {"euler": 1, "exp_euler": 1, "heun": 2, "rk4": 4}


def _setup(pair: str, args):
    import torch

    import dynacortex as dc
    from dynacortex.benchmark.timing import REFERENCE_DYNAMICS

    recurrence, solver = pair.split(":")
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", recurrence=recurrence, **(REFERENCE_DYNAMICS | {"solver": solver}))
    x = torch.rand(args.batch, args.steps, 3, args.size, args.size)

    def pass_() -> float:
        model.zero_grad(set_to_none=True)
        t = time.perf_counter()
        model(x).square().mean().backward()
        return time.perf_counter() - t

    return pass_


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recurrence", nargs="+", default=RECURRENCE)
    ap.add_argument("--solver", nargs="+", default=list(EVALUATIONS), choices=list(EVALUATIONS))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-of", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "matrix.json")
    args = ap.parse_args()
    if args.memory_of is not None:
        pass_ = _setup(args.memory_of, args)
        pass_()  # warm-up
        print(json.dumps({"activation_mb": peak_mb(pass_)}))
        return
    pairs = [f"{r}:{s}" for r in args.recurrence for s in args.solver]
    passes = {p: _setup(p, args) for p in pairs}
    times: dict[str, list[float]] = {p: [] for p in pairs}
    for p in pairs:
        passes[p]()  # warm-up
    for _ in range(args.repeats):
        for p in pairs:
            times[p].append(passes[p]())
    sizes = ["--batch", str(args.batch), "--steps", str(args.steps), "--size", str(args.size)]
    rows = []
    for p in pairs:
        recurrence, solver = p.split(":")
        out = subprocess.run([sys.executable, __file__, "--memory-of", p, *sizes], capture_output=True, text=True,
                             check=True).stdout
        rows.append({"recurrence": recurrence, "solver": solver, "median_ms": statistics.median(times[p]) * 1e3,
                     "all_ms": [t * 1e3 for t in times[p]], **json.loads(out)})
    for r in rows:
        euler = next((e for e in rows if e["recurrence"] == r["recurrence"] and e["solver"] == "euler"), None)
        if euler is not None:
            r["per_evaluation"] = r["median_ms"] / euler["median_ms"] / EVALUATIONS[r["solver"]]
        per = f"{r['per_evaluation']:.2f}" if "per_evaluation" in r else "n/a"
        print(f"{r['recurrence']:>15} {r['solver']:>9} | {r['median_ms']:7.0f} ms | per evaluation vs Euler {per} | "
              f"activations {r['activation_mb']:7.1f} MB", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.json, json.dumps({"config": vars(args) | {"json": str(args.json)}, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
