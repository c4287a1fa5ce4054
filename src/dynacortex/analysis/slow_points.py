"""Slow points: minima of the speed ``q(y) = |F(y)|^2 / 2`` from many starts (Sussillo & Barak 2013).

Fixed points have ``q = 0``; slow points (small but non-zero ``q``) mark where the dynamics lingers
(ghosts, line attractors). ``grad q = J(y)^T F(y)`` comes from one reverse-mode vector-Jacobian
product, so the search is matrix-free; L-BFGS minimises ``q`` from each start. Results with
``q < fixed_tol`` count as fixed points; duplicates (closer than ``unique_tol``) are merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .vector_field import VectorField

__all__ = ["SlowPoint", "slow_points"]


@dataclass
class SlowPoint:
    state: Tensor  # flat (n,)
    speed: float  # q = |F|^2 / 2
    is_fixed: bool
    count: int  # how many starts ended here


def _minimise(vf: VectorField, start: Tensor, max_iter: int) -> tuple[Tensor, float]:
    y = start.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([y], lr=1.0, max_iter=max_iter, tolerance_grad=1e-16, tolerance_change=1e-20,
                            history_size=20, line_search_fn="strong_wolfe")
    def closure() -> Tensor:
        opt.zero_grad()
        q = 0.5 * vf.evaluate(y).pow(2).sum()
        q.backward()
        return q

    with torch.enable_grad():
        opt.step(closure)
    final = y.detach()
    return final, float(0.5 * vf(final).pow(2).sum())


def slow_points(vf: VectorField, starts: Tensor, fixed_tol: float = 1e-12, unique_tol: float = 1e-5,
                max_iter: int = 500) -> list[SlowPoint]:
    """Minimise ``q`` from every row of ``starts`` (m, n); return distinct end points, slowest first."""
    if starts.dim() != 2 or starts.shape[1] != vf.n:
        raise ValueError(f"starts: expected (m, {vf.n}) flat states, got shape {tuple(starts.shape)}")
    found: list[SlowPoint] = []
    for s in starts.to(device=vf.device, dtype=vf.dtype):
        y, q = _minimise(vf, s, max_iter)
        for p in found:
            if float((p.state - y).norm()) < unique_tol * max(1.0, float(y.norm())):
                p.count += 1
                break
        else:
            found.append(SlowPoint(y, q, q < fixed_tol, 1))
    return sorted(found, key=lambda p: p.speed)
