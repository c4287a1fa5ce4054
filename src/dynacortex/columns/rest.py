"""Steady state of a column network with constant input: relax, then Newton on the vector field.

The fixed point solves ``dV/dt = dA/dt = 0``, i.e. ``V = R I(r)``, ``A = kappa r`` with ``r = f(V - A)``.
Adaptation (tau_a = 10 s) makes plain relaxation slow (~100 s of model time to settle to 1e-6), so
the state is first relaxed briefly (adaptive dopri5, ``relax_s``) into the basin of the stable
fixed point and then refined by Newton's method with the dense Jacobian of the same vector field
(``torch.func.jacrev``; the state has only 16 entries per column).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .column import ColumnNetwork
from .integrate import simulate
from .parameters import POPULATIONS

__all__ = ["SteadyState", "steady_state", "resting_rates"]


@dataclass
class SteadyState:
    v: Tensor  # (P,)
    a: Tensor  # (P,)
    rates_hz: Tensor  # (P,)
    residual: float  # max |d(V, A)/dt| (units per s)
    newton_steps: int
    eigenvalues: Tensor  # of the Jacobian (1/s), complex, sorted by real part (descending)


def steady_state(net: ColumnNetwork, relax_s: float = 0.05, tol: float = 1e-9, max_steps: int = 50) -> SteadyState:
    """The stable fixed point of one trial of ``net`` (its stimulus held at the value of t = relax_s)."""
    p = net.n_populations
    with torch.no_grad():
        times = torch.tensor([0.0, relax_s], dtype=net.w_bg.dtype)
        v, a = simulate(net, net.initial_state(1), times, method="rk4", dt=relax_s / 500)
    y = torch.cat([v[-1, 0], a[-1, 0]])

    def field(flat: Tensor) -> Tensor:
        dv, da = net(relax_s, (flat[None, :p], flat[None, p:]))
        return torch.cat([dv[0], da[0]])

    def residual(flat: Tensor) -> float:
        with torch.no_grad():
            return float(field(flat).abs().max())

    steps, res = 0, residual(y)
    while res > tol and steps < max_steps:
        jac = torch.func.jacrev(field)(y).detach()
        with torch.no_grad():
            y = y - torch.linalg.solve(jac, field(y))
        res, steps = residual(y), steps + 1
    if res > tol:
        raise RuntimeError(f"steady_state: Newton did not converge (max |dy/dt| = {res:.3g} after {steps} steps); "
                           f"try a longer relax_s (got {relax_s} s)")
    jac = torch.func.jacrev(field)(y).detach()
    eig = torch.linalg.eigvals(jac)
    eig = eig[torch.argsort(eig.real, descending=True)]
    with torch.no_grad():
        r = net.rates(y[:p], y[p:])
    return SteadyState(y[:p], y[p:], r, res, steps, eig)


def resting_rates(net: ColumnNetwork | None = None, **kwargs: float) -> dict[str, float]:
    """Steady-state rates (Hz) of a single column with background input only, keyed by population."""
    net = net or ColumnNetwork()
    if net.n_columns != 1:
        raise ValueError(f"net: resting_rates needs a single column, got {net.n_columns} columns")
    ss = steady_state(net, **kwargs)
    return {name: float(r) for name, r in zip(POPULATIONS, ss.rates_hz)}
