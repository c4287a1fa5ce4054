"""Forward Euler: ``y_{n+1} = y_n + dt f(t_n, y_n)``. Order 1; stable on the leak for dt/tau <= 2."""

from __future__ import annotations

from ..state import State, axpy
from .base import RHS, Solver, increment


class Euler(Solver, name="euler"):
    order = 1
    leak_stability = 2.0

    def step(self, rhs: RHS, t: float, y: State, dt: float) -> State:
        inc = increment(rhs, t, y, dt)
        return axpy(y, dt, rhs(t, y)) if inc is None else axpy(y, 1.0, inc)
