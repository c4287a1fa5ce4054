"""Classical Runge-Kutta, order 4. Every stage evaluates the full right-hand side at its own time
(``t``, ``t + dt/2``, ``t + dt/2``, ``t + dt``), so delayed drives are read anew at each stage.

    k1 = f(t, y)                   k2 = f(t + dt/2, y + dt/2 k1)
    k3 = f(t + dt/2, y + dt/2 k2)  k4 = f(t + dt, y + dt k3)
    y_{n+1} = y + dt/6 (k1 + 2 k2 + 2 k3 + k4)
"""

from __future__ import annotations

from ..state import State, axpy, lincomb
from .base import RHS, Solver


class RK4(Solver, name="rk4"):
    order = 4
    leak_stability = 2.785  # real-axis extent of the RK4 stability region

    def step(self, rhs: RHS, t: float, y: State, dt: float) -> State:
        h2 = dt / 2
        k1 = rhs(t, y)
        k2 = rhs(t + h2, axpy(y, h2, k1))
        k3 = rhs(t + h2, axpy(y, h2, k2))
        k4 = rhs(t + dt, axpy(y, dt, k3))
        return lincomb(y, [(dt / 6, k1), (dt / 3, k2), (dt / 3, k3), (dt / 6, k4)])
