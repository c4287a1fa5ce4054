"""The dynamics engine: state pytrees, solvers, the delay history and the time loop.

Nothing here knows about models: a model provides a vector field ``f(t, y)`` and the engine
integrates it.
"""

from .denormals import denormals_flushed, flush_denormals
from .history import History
from .simulate import integrate
from .solvers import Solver, get_solver, list_solvers
from .state import State, axpy, lincomb, tree_map

__all__ = ["denormals_flushed", "flush_denormals", "History", "integrate", "Solver", "get_solver", "list_solvers", "State", "axpy", "lincomb", "tree_map"]
