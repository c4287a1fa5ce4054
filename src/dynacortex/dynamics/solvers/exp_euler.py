"""Exponential Euler for leaky systems ``tau dy/dt = -y + u(t, y)``.

Holding the drive ``u`` fixed over the step, the leak is integrated exactly:

    y_{n+1} = y_n e^{-dt/tau} + (1 - e^{-dt/tau}) u_n
            = y_n + tau (1 - e^{-dt/tau}) f(t_n, y_n)        since u_n = y_n + tau f(t_n, y_n)

so one right-hand-side evaluation suffices. It is exact for linear decay with constant ``u``, stable
for every dt, and first order in general. The right-hand side must expose ``tau``: a float, a tensor,
or a tuple with one entry per state leaf (broadcastable against it).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..state import State
from .base import RHS, Solver, increment


def _phi_dt(tau: "float | Tensor", dt: float) -> "float | Tensor":
    """``tau (1 - e^{-dt/tau})``: the step weight that integrates the leak exactly."""
    if isinstance(tau, Tensor):
        return -tau * torch.expm1(-dt / tau)
    return -tau * math.expm1(-dt / tau)


class ExpEuler(Solver, name="exp_euler"):
    order = 1

    def step(self, rhs: RHS, t: float, y: State, dt: float) -> State:
        tau = getattr(rhs, "tau", None)
        if tau is None:
            raise ValueError(
                "solver: 'exp_euler' needs a leaky right-hand side exposing `tau` "
                "(tau dy/dt = -y + u); use 'euler', 'heun' or 'rk4' for a general one"
            )
        if isinstance(y, Tensor):
            return y + _phi_dt(tau, dt) * rhs(t, y)
        taus = tau if isinstance(tau, (tuple, list)) else (tau,) * len(y)
        h = tuple(_phi_dt(ti, dt) for ti in taus)
        inc = increment(rhs, t, y, h)
        if inc is not None:
            return tuple(yi + di for yi, di in zip(y, inc))
        return tuple(yi + hi * fi for yi, hi, fi in zip(y, h, rhs(t, y)))
