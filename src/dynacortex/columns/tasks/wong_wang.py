"""The reduced two-variable decision model of Wong & Wang (2006, J. Neurosci. 26:1314), the target of
the ``wta`` task (parameters as in ODE-Column ``src/ww_model.py``, noise off).

    x_i = J_within s_i - J_between s_j + J_ext mu_i + I_0                 (nA)
    r_i = (a x_i - b) / (1 - exp(-d (a x_i - b)))                       (Hz; a = 270 /nC, b = 108 Hz, d = 0.154 s)
    ds_i/dt = -s_i / tau_s + (1 - s_i) gamma r_i                         (tau_s = 100 ms, gamma = 0.641)

Integrated by forward Euler at dt = 1 ms from ``s = 0.1`` (the reference's scheme; its background
current relaxes from 0 to I_0 with tau_AMPA = 2 ms, reproduced here).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["wong_wang_rates"]

GAMMA, TAU_S, TAU_AMPA = 0.641, 0.100, 0.002
J_WITHIN, J_BETWEEN, J_EXT, I_0 = 0.2609, 0.0497, 5.2e-4, 0.3255


def _rate(x: Tensor) -> Tensor:
    u = 270.0 * x - 108.0
    return u / -torch.expm1(-0.154 * u)


def wong_wang_rates(mu: Tensor, phase_s: float = 5.0, dt: float = 1e-3) -> Tensor:
    """Rates (Hz, ``(T, B, 2)``, one sample per ``dt``) for inputs ``mu`` (B, 2): ``phase_s`` without input,
    ``phase_s`` with ``mu``, ``phase_s`` without (T = 3 phase_s / dt)."""
    b = mu.shape[0]
    s = torch.full((b, 2), 0.1, dtype=torch.float64)
    noise = torch.zeros(b, 2, dtype=torch.float64)
    w = torch.tensor([[J_WITHIN, -J_BETWEEN], [-J_BETWEEN, J_WITHIN]], dtype=torch.float64)
    n = round(phase_s / dt)
    out = []
    for k in range(3 * n):
        drive = J_EXT * mu if n <= k < 2 * n else torch.zeros_like(mu)
        noise = noise + dt * (I_0 - noise) / TAU_AMPA
        r = _rate(s @ w.T + drive + noise)
        s = s + dt * (-s / TAU_S + (1 - s) * GAMMA * r)
        out.append(r)
    return torch.stack(out)
