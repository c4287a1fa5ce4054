"""Dynamical analysis: a network with a static image as an autonomous ODE -- its fixed point, the
leading eigenvalues of the Jacobian there, and how a perturbation decays.

    python docs/tutorials/dynamical_analysis.py [--tiny]
"""

from __future__ import annotations

import sys

import torch

import dynacortex as dc
from dynacortex.analysis import fixed_point, is_stable, jacobian_eigs, linear_response, vector_field


def main(tiny: bool = False) -> dict:
    dc.flush_denormals()  # long simulations decay through denormal floats: flush them (README, "Semantics")
    torch.manual_seed(0)
    channels = (4, 4, 8, 8) if tiny else (36, 64, 121, 256)
    size = 12 if tiny else 32
    # recurrence_gain=0.9 bounds every recurrence's operator norm: each area is a contraction.
    model = dc.create_model("dyrcnnx4", channels=channels, recurrence="full", recurrence_gain=0.9,
                            tau=5.0, dt=2.0, t_recurrence=6.0).eval()
    image = torch.rand(3, size, size)

    vf = vector_field(model, image)        # F(y) = dy/dt on flat float64 states, every delay read as 0
    fp = fixed_point(vf, tol=1e-8)         # relax from rest, then Newton-Krylov
    print(f"fixed point: {vf.n} units, "
          f"|F| = {fp.residual:.1e}, converged {fp.converged} after {fp.iterations} Newton steps")

    values, vectors = jacobian_eigs(vf, None, fp.state, k=6)   # largest real part first
    print("leading eigenvalues (1/ms):", [complex(round(v.real, 4), round(v.imag, 4)) for v in values.tolist()])
    slowest_ms = -1.0 / values.real[0].item()
    print(f"stable: {is_stable(values)}; slowest time constant {slowest_ms:.2f} ms (tau = 5 ms)")

    # A perturbation along the leading mode (the real part of its eigenvector v: the mode may be one of a
    # complex pair) evolves as delta(t) = Re(v exp(lambda_1 t)) / |Re v|: it decays at rate Re(lambda_1)
    # and turns at frequency Im(lambda_1) (for a real mode |delta(t)| is exp(lambda_1 t)).
    v = vectors[:, 0]
    times_ms, deltas = linear_response(vf, fp.state, v.real / v.real.norm(), duration_ms=20.0)
    measured = deltas[-1].norm().item()
    predicted = ((v * torch.exp(values[0] * times_ms[-1])).real.norm() / v.real.norm()).item()
    print(f"|delta| after {times_ms[-1]:g} ms: {measured:.4f} (|Re(v exp(lambda_1 t))| / |Re v| = {predicted:.4f})")
    return {"fixed_point": fp, "eigenvalues": values, "slowest_ms": slowest_ms, "n_units": vf.n,
            "decay_measured": measured, "decay_predicted": predicted}


if __name__ == "__main__":
    main(tiny="--tiny" in sys.argv)
