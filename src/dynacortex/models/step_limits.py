"""How large the step may be against the time constant: the stability limit and the accuracy limit.

On the leak ``tau dy/dt = -y`` an explicit solver multiplies the state by ``R(h)`` per step, with
``h = dt / tau`` (Euler ``1 - h``, Heun ``1 - h + h^2/2``, RK4 the degree-4 Taylor polynomial of
``exp(-h)``); the exact factor is ``exp(-h)``.

- **Stability limit** (``Solver.leak_stability``: 2 for Euler and Heun, 2.785 for RK4): beyond it
  ``|R(h)| > 1`` and activity grows without bound. Exceeding it is an error unless
  ``allow_unstable=True``.
- **Accuracy limit** (:func:`accuracy_limit`: 1 for Euler and Heun, 1.596 for RK4): the largest ``h``
  up to which ``R`` is positive and falls as ``h`` grows. Beyond it a step overshoots rest (Euler:
  ``R < 0``, the state flips sign each step) or a longer step decays *less* than a shorter one (Heun,
  RK4): stable, but the dynamics are qualitatively wrong. Exceeding it warns (:class:`AccuracyWarning`).

Solvers that are exact on the leak (exponential Euler) have neither limit. :func:`check_step` applies
both; model configs call it when they are validated and every network when dt or the solver is set.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import torch

from ..dynamics import get_solver
from ..dynamics.solvers.base import Solver

__all__ = ["AccuracyWarning", "accuracy_limit", "check_step", "decay_factor"]


class AccuracyWarning(UserWarning):
    """dt/tau is stable but beyond the solver's accuracy limit."""


_warned: set[tuple[str, float, float]] = set()  # (solver, dt, tau) already warned about in this process


def decay_factor(solver: "str | Solver", h: "float | torch.Tensor") -> "float | torch.Tensor":
    """``R(h)``: the factor one step of ``solver`` multiplies the leak's state by at ``dt/tau = h``
    (``h`` a float, or a tensor of them: on the autonomous leak, a step of ``h`` at rate 1 is a step
    of 1 at rate ``h``)."""
    rate = torch.as_tensor(h, dtype=torch.float64)
    r = get_solver(solver).step(lambda t, y: -rate * y, 0.0, torch.ones_like(rate), 1.0)
    return float(r) if r.dim() == 0 else r


@lru_cache(maxsize=None)
def _limit(cls: type[Solver]) -> float:
    solver = cls()
    if math.isinf(solver.leak_stability):
        return math.inf
    h = torch.linspace(0.0, solver.leak_stability, 100001, dtype=torch.float64)
    r = decay_factor(solver, h)
    bad = (r[1:] <= 0) | (r[1:] >= r[:-1])
    return math.floor(float(h[1:][bad][0]) * 1000) / 1000 if bad.any() else solver.leak_stability


def accuracy_limit(solver: "str | Solver") -> float:
    """The largest ``dt/tau`` (3 decimals) up to which ``solver``'s decay factor is positive and falling."""
    return _limit(type(get_solver(solver)))


def check_step(dt: float, tau: float, solver: "str | Solver", allow_unstable: bool = False, where: str = "") -> None:
    """Refuse ``dt / tau`` beyond the stability limit (unless ``allow_unstable``); warn beyond the accuracy limit.

    ``tau`` is the smallest time constant; ``where`` (e.g. ``" in area V1"``) is put into the error. The
    warning is given once per process for a (solver, dt, tau), though the config and then the network
    built from it both check."""
    s = get_solver(solver)
    h, stable, accurate = dt / tau, s.leak_stability, accuracy_limit(s)
    if h > stable and not allow_unstable:
        raise ValueError(
            f"dt: dt/tau = {h:.3g}{where} exceeds the stability limit {stable:g} of solver {s.name!r} "
            f"(accuracy limit {accurate:g}); use a smaller dt, solver='exp_euler', or allow_unstable=True")
    if accurate < h <= stable and (s.name, dt, tau) not in _warned:
        _warned.add((s.name, dt, tau))
        r = decay_factor(s, h)
        warnings.warn(
            f"dt: dt/tau = {h:.3g} is stable but beyond the accuracy limit {accurate:g} of solver {s.name!r} "
            f"(stability limit {stable:g}): each step multiplies a decaying state by {r:.3g} instead of "
            f"exp(-dt/tau) = {math.exp(-h):.3g}, so the dynamics are qualitatively off; use dt <= "
            f"{accurate * tau:.3g} ms or solver='exp_euler'", AccuracyWarning, stacklevel=2)
