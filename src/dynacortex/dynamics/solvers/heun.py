"""Heun's method (explicit trapezoid), order 2.

    k1 = f(t, y),  k2 = f(t + dt, y + dt k1),  y_{n+1} = y + dt/2 (k1 + k2)
"""

from __future__ import annotations

from ..state import State, axpy, lincomb
from .base import RHS, Solver


class Heun(Solver, name="heun"):
    order = 2
    leak_stability = 2.0

    def step(self, rhs: RHS, t: float, y: State, dt: float) -> State:
        k1 = rhs(t, y)
        k2 = rhs(t + dt, axpy(y, dt, k1))
        return lincomb(y, [(dt / 2, k1), (dt / 2, k2)])
