"""The solver interface and the solver registry.

A solver advances ``dy/dt = f(t, y)`` by one step: ``y_next = solver.step(rhs, t, y, dt)``. ``rhs`` is
any callable ``(t, y) -> dy/dt`` on a :data:`~dynacortex.dynamics.state.State`; every evaluation
happens at its own stage time, so delayed and time-dependent drives are re-read per stage.

A system may also offer ``rhs.scaled(t, y, h) = h * f(t, y)`` with ``h`` (a float, or one float or tensor
per state leaf) folded into its own last multiply. A solver whose update is ``y + h f`` (Euler,
exponential Euler) then adds the increment as it is: one fewer multiply per leaf in the forward and
in the backward pass. :func:`increment` picks it when present.

Adding a solver is one subclass with one method; naming it registers it::

    class Midpoint(Solver, name="midpoint"):
        order = 2
        def step(self, rhs, t, y, dt):
            k1 = rhs(t, y)
            return axpy(y, dt, rhs(t + dt / 2, axpy(y, dt / 2, k1)))
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Callable, ClassVar

from ..state import State

RHS = Callable[[float, State], State]

_REGISTRY: dict[str, type["Solver"]] = {}

__all__ = ["Solver", "get_solver", "list_solvers", "increment", "RHS"]


def increment(rhs: RHS, t: float, y: State, h: "float | tuple") -> "State | None":
    """``h * f(t, y)`` from the system's ``scaled`` method, or ``None`` when it has none."""
    scaled = getattr(rhs, "scaled", None)
    return None if scaled is None else scaled(t, y, h)


class Solver(ABC):
    """One-step ODE solver.

    Attributes:
        order: global order of accuracy p (error O(dt^p)).
        leak_stability: the largest ``dt/tau`` for which the step is stable on the leak
            ``tau dy/dt = -y`` (``inf`` for solvers that are exact on it).
    """

    name: ClassVar[str] = ""
    order: ClassVar[int] = 1
    leak_stability: ClassVar[float] = math.inf

    def __init_subclass__(cls, name: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if name is not None:
            cls.name = name
            _REGISTRY[name] = cls

    @abstractmethod
    def step(self, rhs: RHS, t: float, y: State, dt: float) -> State:
        """Return the state at ``t + dt``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(order={self.order})"


def list_solvers() -> list[str]:
    """Names of the registered solvers."""
    return sorted(_REGISTRY)


def get_solver(solver: "str | Solver | type[Solver]") -> Solver:
    """A solver instance from a registered name, a Solver subclass, or an instance."""
    if isinstance(solver, Solver):
        return solver
    if isinstance(solver, type) and issubclass(solver, Solver):
        return solver()
    if isinstance(solver, str) and solver in _REGISTRY:
        return _REGISTRY[solver]()
    raise ValueError(
        f"solver: unknown solver {solver!r}; allowed values are {list_solvers()} "
        "(or a dynacortex.Solver subclass)"
    )
