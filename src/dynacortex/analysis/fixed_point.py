"""Steady states ``F(y*) = 0`` by relaxation and matrix-free Newton-Krylov.

1. Relaxation: integrate ``dy/dt = F(y)`` (explicit Euler at the model's dt, delay-free) for
   ``relax_ms`` from rest, which lands near a stable fixed point.
2. Newton-Krylov: solve ``J(y) dy = -F(y)`` by GMRES with ``J v`` from forward-mode AD (never forming
   J), inexactly (relative tolerance min(0.1, |F|)), then a backtracking line search on ``|F|``.
   If a Newton step cannot reduce ``|F|`` the solver relaxes again from where it is and retries.

The residual is the Euclidean norm of ``F`` (rate per ms) over all units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import torch
from torch import Tensor

from ..models import AreaNetwork
from .operator import JacobianOperator, scipy_threads
from .vector_field import VectorField

__all__ = ["FixedPoint", "fixed_point", "relax"]


@dataclass
class FixedPoint:
    state: Tensor  # flat (n,), float64
    residual: float  # |F(state)|
    converged: bool
    iterations: int  # Newton steps
    gmres_iterations: int
    relax_ms: float
    history: list[float] = field(default_factory=list)  # |F| after each Newton step

    def areas(self, vf: VectorField) -> dict[str, Tensor]:
        """The state per area, (C, H, W)."""
        return {n: s[0] for n, s in zip(vf.area_names, vf.unflatten(self.state))}


def relax(vf: VectorField, y: Tensor, duration_ms: float, dt: Optional[float] = None) -> Tensor:
    """Integrate the delay-free system for ``duration_ms`` with explicit Euler (default step: the model's dt)."""
    dt = vf.model.dt if dt is None else dt
    for _ in range(max(0, round(duration_ms / dt))):
        y = y + dt * vf(y)
    return y


def _gmres(vf: VectorField, y: Tensor, rhs: Tensor, rtol: float, maxiter: int) -> tuple[Tensor, int]:
    from scipy.sparse.linalg import gmres

    op = JacobianOperator(vf, y)
    with scipy_threads():
        sol, _ = gmres(op, rhs.cpu().numpy(), rtol=rtol, atol=0.0, restart=min(50, vf.n), maxiter=maxiter)
    return torch.from_numpy(sol).to(y), op.matvecs


def fixed_point(model: "AreaNetwork | VectorField", image: Optional[Tensor] = None, tol: float = 1e-6,
                start: Optional[Tensor] = None, relax_ms: float = 200.0, max_newton: int = 30,
                max_gmres: int = 20) -> FixedPoint:
    """A fixed point of ``model`` (or of a prepared :class:`VectorField`) for ``image`` (C, H, W).

    ``start``: a flat initial state (default: relax from rest for ``relax_ms``).
    """
    vf = model if isinstance(model, VectorField) else VectorField(model, _need(image))
    if not tol > 0:
        raise ValueError(f"tol: must be > 0, got {tol}")
    y = vf.zeros() if start is None else start.to(device=vf.device, dtype=vf.dtype).clone()
    relaxed = relax_ms if start is None else 0.0
    y = relax(vf, y, relaxed)
    f = vf(y)
    res = float(f.norm())
    history, n_gmres, it = [], 0, 0
    while res > tol and it < max_newton:
        it += 1
        step, k = _gmres(vf, y, -f, rtol=min(0.1, res), maxiter=max_gmres)
        n_gmres += k
        alpha = 1.0
        while alpha > 1e-4:
            trial = y + alpha * step
            f_trial = vf(trial)
            if float(f_trial.norm()) < (1 - 1e-4 * alpha) * res:
                break
            alpha /= 2
        else:  # no descent along the Newton direction: relax a little and try again
            trial = relax(vf, y, 20.0 * vf.model.dt)
            f_trial = vf(trial)
            relaxed += 20.0 * vf.model.dt
        y, f = trial, f_trial
        res = float(f.norm())
        history.append(res)
    return FixedPoint(y, res, res <= tol, it, n_gmres, relaxed, history)


def _need(image: Optional[Tensor]) -> Tensor:
    if image is None:
        raise ValueError("image: a stimulus (C, H, W) is needed to build the vector field")
    return image
