"""Recurrent connectivity within an area, ``J r``, by type.

Parameter counts for C channels and kernel size k (no bias: the area's feedforward input already
carries one):

==================  =============================================  ======================
type                operation                                      parameters
==================  =============================================  ======================
``none``            no recurrence                                  0
``identity``        J = 1: the area's own rate is added            0
``self``            one weight per channel (diagonal J)            C
``full``            C -> C convolution, k x k                      C^2 k^2
``depthwise``       one k x k kernel per channel                   C k^2
``pointwise``       1 x 1 convolution (channel mixing)             C^2
``depthpointwise``  depthwise k x k, then pointwise 1 x 1          C k^2 + C^2
``pointdepthwise``  pointwise 1 x 1, then depthwise k x k          C^2 + C k^2
``local``           shared k_l x k_l kernel on the cortical sheet  k_l^2
``localdepthwise``  depthwise k x k, then the sheet kernel         C k^2 + k_l^2
==================  =============================================  ======================

(see :mod:`dynacortex.layers.topographic` for the sheet.)
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from .topographic import LocalRecurrence

__all__ = ["RECURRENCE_TYPES", "SelfRecurrence", "make_recurrence", "recurrence_parameter_count"]

RECURRENCE_TYPES = (
    "none", "identity", "self", "full", "depthwise", "pointwise",
    "depthpointwise", "pointdepthwise", "local", "localdepthwise",
)


class SelfRecurrence(nn.Module):
    """Diagonal recurrence: channel c feeds back onto itself with weight ``w_c``."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(channels, 1, 1).uniform_(-0.5, 0.5))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.weight


def _conv(c: int, k: int, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c, c, k, padding=k // 2, groups=groups, bias=False)


def make_recurrence(kind: str, channels: int, kernel_size: int = 3, local_kernel_size: int = 3) -> Optional[nn.Module]:
    """The recurrence module of ``kind`` for an area of ``channels`` (``None`` for ``"none"``)."""
    if kind not in RECURRENCE_TYPES:
        raise ValueError(f"recurrence: unknown recurrence type {kind!r}; allowed values are {list(RECURRENCE_TYPES)}")
    if kernel_size < 1 or kernel_size % 2 != 1:
        raise ValueError(f"recurrence_kernel_size: must be a positive odd integer, got {kernel_size}")
    c, k = channels, kernel_size
    if kind == "none":
        return None
    if kind == "identity":
        return nn.Identity()
    if kind == "self":
        return SelfRecurrence(c)
    if kind == "full":
        return _conv(c, k)
    if kind == "depthwise":
        return _conv(c, k, groups=c)
    if kind == "pointwise":
        return _conv(c, 1)
    if kind == "depthpointwise":
        return nn.Sequential(_conv(c, k, groups=c), _conv(c, 1))
    if kind == "pointdepthwise":
        return nn.Sequential(_conv(c, 1), _conv(c, k, groups=c))
    if kind == "local":
        return LocalRecurrence(c, local_kernel_size)
    return nn.Sequential(_conv(c, k, groups=c), LocalRecurrence(c, local_kernel_size))


def recurrence_parameter_count(kind: str, channels: int, kernel_size: int = 3, local_kernel_size: int = 3) -> int:
    """The documented parameter count of a recurrence type (see the module table)."""
    c, k, kl = channels, kernel_size, local_kernel_size
    return {
        "none": 0, "identity": 0, "self": c, "full": c * c * k * k, "depthwise": c * k * k, "pointwise": c * c,
        "depthpointwise": c * k * k + c * c, "pointdepthwise": c * c + c * k * k,
        "local": kl * kl, "localdepthwise": c * k * k + kl * kl,
    }[kind]
