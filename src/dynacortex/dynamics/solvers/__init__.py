"""ODE solvers, one per file; importing this package registers the built-in ones."""

from .base import RHS, Solver, get_solver, increment, list_solvers
from .euler import Euler
from .exp_euler import ExpEuler
from .heun import Heun
from .rk4 import RK4

__all__ = ["RHS", "Solver", "get_solver", "increment", "list_solvers", "Euler", "Heun", "RK4", "ExpEuler"]
