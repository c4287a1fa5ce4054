"""Linearised dynamics around a state: ``d delta/dt = J(y*) delta``, integrated matrix-free.

For a small perturbation ``delta_0`` of a fixed point ``y*``, the network's trajectory is
``y* + delta(t) + O(|delta_0|^2)``. Each step costs one Jacobian-vector product per solver stage
(RK4 at the model's dt by default), so this scales like a simulation. Along the slowest stable
mode the perturbation decays as ``exp(Re(lambda_1) t)``.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ..dynamics import get_solver
from .vector_field import VectorField

__all__ = ["linear_response"]


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
