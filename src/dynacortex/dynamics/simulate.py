"""The time loop: advance a system ``dy/dt = f(t, y)`` by ``n_steps`` steps of a solver.

The system is a callable ``f(t, y)``. It may also define ``begin_step(n, t)`` (called before step n,
e.g. to set the stimulus frame held over ``[t_n, t_n + dt)``) and ``end_step(n, t, y)`` (called with
the new state at ``t = t_{n+1}``, e.g. to commit it to a delay history and to read out), and
``breakpoints(t, t_next)``: times strictly inside the step where the solution is not smooth (e.g. where a
delayed input change arrives); the step is then taken in pieces that end on them, so a high-order solver
keeps its order, and ``substep(t, y)`` is called with the state at each of them; and ``perturb(t, y, dt)``,
which returns the state after a step with a random increment added (state noise).
"""

from __future__ import annotations

from typing import Any

from .solvers import Solver
from .state import State

__all__ = ["integrate"]


def integrate(system: Any, y0: State, *, solver: Solver, dt: float, n_steps: int, t0: float = 0.0) -> State:
    """Integrate ``system`` from ``(t0, y0)`` for ``n_steps`` steps of size ``dt``; return the final state."""
    begin = getattr(system, "begin_step", None)
    end = getattr(system, "end_step", None)
    breaks = getattr(system, "breakpoints", None)
    substep = getattr(system, "substep", None)
    perturb = getattr(system, "perturb", None)
    y = y0
    for n in range(n_steps):
        t = t0 + n * dt
        if begin is not None:
            begin(n, t)
        inner = breaks(t, t + dt) if breaks is not None else ()
        if inner:
            s = t
            for b in inner:
                y, s = solver.step(system, s, y, b - s), b
                if substep is not None:
                    substep(s, y)
            y = solver.step(system, s, y, t + dt - s)
        else:
            y = solver.step(system, t, y, dt)
        if perturb is not None:
            y = perturb(t + dt, y, dt)
        if end is not None:
            end(n, t0 + (n + 1) * dt, y)
    return y
