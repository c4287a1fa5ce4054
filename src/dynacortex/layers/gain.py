"""Limiting the gain of the recurrence, so that trained networks stay stable.

An area ``tau dr/dt = -r + Phi(J r(t - Delta) + u)`` with a 1-Lipschitz ``Phi`` (ReLU) and
``||J||_2 < 1`` is a contraction for every fixed input ``u`` and every delay ``Delta``: it forgets its
initial state and returns to baseline after a stimulus. Feedforward and skip connections form a
directed acyclic graph, so a network whose recurrences all obey the bound is stable (feedback
connections are not covered). Training otherwise tends to grow ``J`` until activity explodes beyond
the trained trial length.

:func:`limit_gain` reparametrises every weight of a recurrence module as

    W -> W * min(1, gamma_i / sigma(W))

with ``sigma`` the operator 2-norm of that convolution, estimated like spectral normalisation: one
power iteration per training simulation on a ``probe x probe`` image (the estimate is exact for circular
convolutions of that size, and close for zero-padded ones). A recurrence made of n factors
(e.g. depthwise then pointwise) gets ``gamma_i = gamma^(1/n)`` each, so the product is <= gamma.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

from .recurrence import SelfRecurrence
from .topographic import LocalRecurrence

__all__ = ["ConvGainLimit", "ScaleGainLimit", "advance_gain_estimates", "limit_gain"]


class ConvGainLimit(nn.Module):
    """Parametrisation ``W -> W min(1, gamma / ||conv_W||_2)`` for a conv weight (power iteration)."""

    def __init__(self, in_channels: int, groups: int, gamma: float, probe: int = 8):
        super().__init__()
        if not gamma > 0:
            raise ValueError(f"recurrence_gain: must be > 0, got {gamma}")
        self.gamma, self.groups = gamma, groups
        u = torch.randn(1, in_channels, probe, probe)
        self.register_buffer("u", u / u.norm())

    def _iterate(self, w: Tensor) -> Tensor:
        """One power iteration from the stored vector: ``normalise(W^T W u)``."""
        pad = w.shape[-1] // 2
        with torch.no_grad():
            v = F.conv2d(self.u, w, padding=pad, groups=self.groups)
            u = F.conv_transpose2d(v, w, padding=pad, groups=self.groups)
            return u / u.norm().clamp_min(1e-12)

    def advance(self, w: Tensor) -> None:
        """Store the next power-iteration vector (once per simulation in training, see :func:`advance_gain_estimates`)."""
        self.u.copy_(self._iterate(w))

    def forward(self, w: Tensor) -> Tensor:
        # a pure function of (w, u): every evaluation in one simulation gives the same weight, also the
        # recomputation of a checkpointed chunk during backward
        u = self._iterate(w)
        sigma = F.conv2d(u, w, padding=w.shape[-1] // 2, groups=self.groups).norm()
        return w * torch.clamp(self.gamma / sigma.clamp_min(1e-12), max=1.0)


class ScaleGainLimit(nn.Module):
    """Parametrisation for a diagonal recurrence: ``w -> w min(1, gamma / max|w|)``."""

    def __init__(self, gamma: float):
        super().__init__()
        self.gamma = gamma

    def forward(self, w: Tensor) -> Tensor:
        return w * torch.clamp(self.gamma / w.abs().max().clamp_min(1e-12), max=1.0)


def limit_gain(recurrence: nn.Module, gamma: float) -> None:
    """Bound the operator norm of ``recurrence`` (any built-in recurrence type) by about ``gamma``."""
    factors: list[tuple[nn.Module, nn.Module]] = []
    for m in recurrence.modules():
        if isinstance(m, nn.Conv2d):
            factors.append((m, ConvGainLimit(m.in_channels, m.groups, 1.0)))
        elif isinstance(m, LocalRecurrence):
            factors.append((m, ConvGainLimit(1, 1, 1.0)))
        elif isinstance(m, SelfRecurrence):
            factors.append((m, ScaleGainLimit(1.0)))
    if not factors:
        raise ValueError(f"recurrence_gain: cannot bound a recurrence of type {type(recurrence).__name__}")
    share = gamma ** (1.0 / len(factors))
    for module, limit in factors:
        limit.gamma = share
        parametrize.register_parametrization(module, "weight", limit)


def advance_gain_estimates(module: nn.Module) -> None:
    """Advance the power iteration of every gain limit in ``module`` by one step (no gradient). A network calls
    it once per simulation in training mode; the weights are then fixed for that whole simulation."""
    for m in module.modules():
        lists = getattr(m, "parametrizations", None)
        for plist in lists.values() if lists is not None else ():
            for p in plist:
                if isinstance(p, ConvGainLimit):
                    p.advance(plist.original)
