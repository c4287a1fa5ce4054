"""The column transfer function (rate in Hz of the input ``x = V - A``)

    f(x) = u / (1 - exp(z)),   u = a x - b,   z = -d u          (exact form; f -> 1/d at u = 0)

The reference (ODE-Column ``compute_firing_rate``) soft-clamps the exponent, ``z -> c tanh(z / c)``
with ``c = 80``. That changes rates below ~1 Hz by a few per cent, so it is on by default (to
reproduce the reference); ``clamp=None`` gives the exact formula of the issue text.

Numerics. Written as ``f = (1/d) z / expm1(z_c)`` (``z_c`` the clamped exponent), the only
problem is the removable 0/0 at ``z = 0``: ``expm1`` and ``tanh`` are relatively exact near 0, so
there is no cancellation elsewhere, and overflow of ``expm1`` for large ``z`` gives a zero rate,
never inf/inf. In the band ``|z| < eps_z`` (1e-8 in float64, 1e-3 in lower precision) the series

    f = (1 - z/2 + z^2/12) / d          (error z^4/720 and, with the clamp, (z/c)^2/3: below round-off)

replaces it, so value and gradient (``df/dx = a/2`` at ``a x = b``) are exact and never NaN.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

__all__ = ["transfer", "transfer_derivative"]


def transfer(x: Tensor, gain: float = 48.0, threshold: float = 981.0, noise_factor: float = 0.0089,
             clamp: Optional[float] = 80.0) -> Tensor:
    """Firing rate (Hz) for the net input ``x = V - A``; see the module docstring for the formula."""
    z = x * (-noise_factor * gain) + noise_factor * threshold  # z = -d (a x - b)
    small = z.abs() < (1e-8 if x.dtype == torch.float64 else 1e-3)
    zs = torch.where(small, 1.0, z)
    zc = zs if clamp is None else torch.tanh(zs / clamp) * clamp
    direct = zs / (noise_factor * torch.expm1(zc))
    series = ((z / 12 - 0.5) * z + 1) / noise_factor
    return torch.where(small, series, direct)


def transfer_derivative(x: Tensor, **kwargs: Optional[float]) -> Tensor:
    """``df/dx`` (Hz per unit of x) by autograd; finite everywhere, also at ``a x = b``."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(transfer(x, **kwargs).sum(), x)
    return grad
