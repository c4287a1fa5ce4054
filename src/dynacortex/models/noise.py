"""State noise: a network as a stochastic delay equation with additive noise on every area's rates.

    dr_a = f_a(t, r) dt + sigma_a dW_a          (sigma in rate units per sqrt(ms); W a Wiener process per unit)

After each step of ``dt`` the rates of area ``a`` get ``s_a xi`` with ``xi ~ N(0, 1)`` per unit:

- ``exp_euler``: ``s = sigma sqrt(tau / 2 (1 - e^(-2 dt/tau)))``, the exact noise of an Ornstein-Uhlenbeck step
  (with the leak integrated exactly, a linear area's stationary variance is exactly ``sigma^2 tau / 2``);
- any other solver: ``s = sigma sqrt(dt)``, Euler-Maruyama for the noise (the drift keeps the solver's own
  steps, which read the delay history as usual). A linear area's stationary variance is then
  ``sigma^2 tau / (2 - dt/tau)`` with Euler, within ``dt / (2 tau)`` of the continuous one.

Noise is off by default (``noise=None``); only the rate channels of an area get it, not the extra state of
its mechanisms. Draws come from ``torch``'s generator: seed it for repeatable trials.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import Tensor

__all__ = ["StateNoise"]


class StateNoise:
    """Per-area noise amplitudes and the increments they add after a step."""

    def __init__(self, sigma: "float | Sequence[float]", areas: Sequence[object], solver: str):
        sig = [float(sigma)] * len(areas) if isinstance(sigma, (int, float)) else [float(s) for s in sigma]
        if len(sig) != len(areas) or any(not (s >= 0 and math.isfinite(s)) for s in sig):
            raise ValueError(f"noise: one sigma >= 0 or one per area ({len(areas)}), got {sigma}")
        self.sigma, self.areas, self.exact = sig, list(areas), solver == "exp_euler"

    def scale(self, k: int, dt: float) -> "float | Tensor":
        """The SD of area ``k``'s increment over a step of ``dt``."""
        s = self.sigma[k]
        if not self.exact:
            return s * math.sqrt(dt)
        tau = self.areas[k].tau  # type: ignore[attr-defined]
        if isinstance(tau, Tensor):
            tau = tau[: self.areas[k].channels] if tau.dim() else tau  # type: ignore[attr-defined]
            return s * torch.sqrt(tau / 2 * -torch.expm1(-2 * dt / tau))
        return s * math.sqrt(tau / 2 * -math.expm1(-2 * dt / tau))

    def __call__(self, y: tuple[Tensor, ...], dt: float) -> tuple[Tensor, ...]:
        out = []
        for k, (area, yi) in enumerate(zip(self.areas, y)):
            if self.sigma[k] == 0:
                out.append(yi)
                continue
            c = getattr(area, "channels", yi.shape[1])
            xi = torch.randn_like(yi[:, :c]) * self.scale(k, dt)
            out.append(yi + xi if c == yi.shape[1] else torch.cat([yi[:, :c] + xi, yi[:, c:]], dim=1))
        return tuple(out)
