"""Linearised dynamics around a state: ``d delta/dt = J(y*) delta``, integrated matrix-free.

For a small perturbation ``delta_0`` of a fixed point ``y*``, the network's trajectory is
``y* + delta(t) + O(|delta_0|^2)``. Each step costs one Jacobian-vector product per solver stage
(RK4 at the model's dt by default), so this scales like a simulation. Along the slowest stable
mode the perturbation decays as ``exp(Re(lambda_1) t)``.

:func:`perturbation_decay` ties the spectrum to noise: random state noise starts to decay at the mean
eigenvalue ``tr(J) / n`` (every mode at once) and what survives lives in the slowest modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from ..dynamics import get_solver
from .vector_field import VectorField

__all__ = ["linear_response", "perturbation_decay", "PerturbationDecay"]


def linear_response(vf: VectorField, state: Tensor, delta: Tensor, duration_ms: float, dt: Optional[float] = None,
                    solver: str = "rk4") -> tuple[Tensor, Tensor]:
    """``(times_ms (T+1,), deltas (T+1, n))``: the linearised response to the perturbation ``delta``."""
    if delta.shape != (vf.n,):
        raise ValueError(f"delta: expected a flat perturbation of {vf.n} values, got shape {tuple(delta.shape)}")
    dt = vf.model.dt if dt is None else dt
    step = get_solver(solver)
    state = state.to(device=vf.device, dtype=vf.dtype)
    d = delta.to(state)
    out = [d]
    n = max(0, round(duration_ms / dt))
    jac = vf.linear(state)
    rhs = lambda t, x: (jac(x[0]),)  # noqa: E731  (a one-leaf state tuple for the solver)
    for k in range(n):
        d = step.step(rhs, k * dt, (d,), dt)[0]
        out.append(d)
    return torch.arange(n + 1, dtype=torch.float64) * dt, torch.stack(out)


@dataclass
class PerturbationDecay:
    """How isotropic noise on the state decays under ``d delta/dt = J delta``.

    ``norm``: RMS over samples of ``|delta(t)| / |delta(0)|``. ``mean_rate``: the initial rate
    ``E[v^T J v / v^T v] = tr(J) / n`` (the mean real part of all eigenvalues; Hutchinson estimate from
    the same samples), which is how fast noise spread over all modes starts to decay. ``late_rate``:
    the slope of ``log norm`` over the last quarter of the run, which tends to ``Re(lambda_1)`` of the
    slowest mode as the fast ones die out -- slowly when J is non-normal (a feedforward cascade of
    areas adds ``t^k`` factors: the slope is about ``Re(lambda_1) + k / t``). Rates in 1/ms (negative: decay).
    """

    times_ms: Tensor
    norm: Tensor
    mean_rate: float
    late_rate: float
    half_life_ms: float  # first time the norm falls to 0.5 (interpolated; inf if it never does)


def perturbation_decay(vf: VectorField, state: Tensor, duration_ms: float, n_samples: int = 8, seed: int = 0,
                       dt: Optional[float] = None, solver: str = "rk4") -> PerturbationDecay:
    """Evolve ``n_samples`` random unit perturbations of ``state`` linearly for ``duration_ms``."""
    if n_samples < 1:
        raise ValueError(f"n_samples: must be >= 1, got {n_samples}")
    g = torch.Generator().manual_seed(seed)
    state = state.to(device=vf.device, dtype=vf.dtype)
    jac = vf.linear(state)
    sq, quotients = 0.0, []
    for _ in range(n_samples):
        v = torch.randn(vf.n, generator=g, dtype=vf.dtype).to(vf.device)
        v /= v.norm()
        quotients.append(float(v @ jac(v)))
        times, deltas = linear_response(vf, state, v, duration_ms, dt, solver)
        sq = sq + deltas.norm(dim=1).cpu() ** 2
    norm = (sq / n_samples).sqrt()
    log = norm.log()
    tail = max(2, len(times) // 4)
    late = float((log[-1] - log[-tail]) / (times[-1] - times[-tail])) if len(times) >= 2 else float("nan")
    below = (norm <= 0.5).nonzero()
    if len(below) == 0:
        half = float("inf")
    else:
        i = int(below[0])
        half = float(times[i - 1] + (norm[i - 1] - 0.5) / (norm[i - 1] - norm[i]) * (times[i] - times[i - 1]))
    return PerturbationDecay(times, norm, float(sum(quotients) / n_samples), late, half)
