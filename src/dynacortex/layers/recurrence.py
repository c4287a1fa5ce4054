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

``bias=True`` gives every factor a bias (one per output channel; one scalar for ``self`` with
``layout="dynvision"`` and for the sheet kernel): ``J r + b``, affine rather than linear, so a silent area
then drives itself with ``b``.

``layout="dynvision"``: the parametrisation of DynVision 0.1.0 (``RecurrentConnectedConv2d``'s
recurrence types; the layout its checkpoints hold), one rule per type, checked against its source:

==================  =====================================================================  ==========================
type                DynVision's operation                                                   parameters (with bias)
==================  =====================================================================  ==========================
``self``            one scalar weight and one scalar bias for the whole area: ``w r + b``    2
``full``            as here                                                                 C^2 k^2 + C
``depthpointwise``  as here (depthwise, then pointwise)                                     C k^2 + C^2 + 2 C
``pointdepthwise``  as here (pointwise, then depthwise)                                     C^2 + C k^2 + 2 C
``local``           square sheet with mirrored channel copies, reflect padding, kernel      k_C^2 + 1
                    ``k_C`` from the channel count (3 x 3 up to C = 255, 5 x 5 at 256)
``localdepthwise``  the sheet kernel first, then the depthwise k x k convolution            k_C^2 + 1 + C k^2 + C
==================  =====================================================================  ==========================

(``k_C``: :func:`~dynacortex.layers.topographic.dynvision_local_kernel_size`; DynVision's recurrences carry
biases unless its model was built with ``bias=False``.) ``identity``, ``depthwise`` and ``pointwise`` are not
DynVision types.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from .topographic import LocalRecurrence, dynvision_local_kernel_size

__all__ = ["RECURRENCE_TYPES", "RECURRENCE_LAYOUTS", "DYNVISION_TYPES", "SelfRecurrence", "make_recurrence",
           "recurrence_parameter_count"]

RECURRENCE_TYPES = (
    "none", "identity", "self", "full", "depthwise", "pointwise",
    "depthpointwise", "pointdepthwise", "local", "localdepthwise",
)
RECURRENCE_LAYOUTS = ("dynacortex", "dynvision")
DYNVISION_TYPES = ("none", "self", "full", "depthpointwise", "pointdepthwise", "local", "localdepthwise")


class SelfRecurrence(nn.Module):
    """Diagonal recurrence: channel c feeds back onto itself with weight ``w_c`` (``per_channel=False``: one
    weight ``w`` for all channels, DynVision's ``self``); ``bias``: plus ``b_c`` (or one ``b``)."""

    def __init__(self, channels: int, per_channel: bool = True, bias: bool = False):
        super().__init__()
        shape = (channels, 1, 1) if per_channel else (1,)
        self.weight = nn.Parameter(torch.empty(shape).uniform_(-0.5, 0.5))
        self.bias = nn.Parameter(torch.zeros(shape)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        out = x * self.weight
        return out if self.bias is None else out + self.bias


def _conv(c: int, k: int, groups: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(c, c, k, padding=k // 2, groups=groups, bias=bias)


def make_recurrence(kind: str, channels: int, kernel_size: int = 3, local_kernel_size: int = 3, *,
                    layout: str = "dynacortex", bias: bool = False) -> Optional[nn.Module]:
    """The recurrence module of ``kind`` for an area of ``channels`` (``None`` for ``"none"``); ``layout`` and
    ``bias``: see the module docstring (with ``layout="dynvision"`` the sheet kernel size follows C and
    ``local_kernel_size`` is not used)."""
    if kind not in RECURRENCE_TYPES:
        raise ValueError(f"recurrence: unknown recurrence type {kind!r}; allowed values are {list(RECURRENCE_TYPES)}")
    if layout not in RECURRENCE_LAYOUTS:
        raise ValueError(f"recurrence_layout: {layout!r} is not one of {list(RECURRENCE_LAYOUTS)}")
    if layout == "dynvision" and kind not in DYNVISION_TYPES:
        raise ValueError(f"recurrence: {kind!r} is not a DynVision type; with recurrence_layout='dynvision' "
                         f"allowed values are {list(DYNVISION_TYPES)}")
    if kernel_size < 1 or kernel_size % 2 != 1:
        raise ValueError(f"recurrence_kernel_size: must be a positive odd integer, got {kernel_size}")
    c, k, b = channels, kernel_size, bias
    if kind == "none":
        return None
    if kind == "identity":
        if b:
            raise ValueError("recurrence_bias: the 'identity' recurrence has no parameters")
        return nn.Identity()
    if kind == "self":
        return SelfRecurrence(c, per_channel=layout == "dynacortex", bias=b)
    if kind == "full":
        return _conv(c, k, bias=b)
    if kind == "depthwise":
        return _conv(c, k, groups=c, bias=b)
    if kind == "pointwise":
        return _conv(c, 1, bias=b)
    if kind == "depthpointwise":
        return nn.Sequential(_conv(c, k, groups=c, bias=b), _conv(c, 1, bias=b))
    if kind == "pointdepthwise":
        return nn.Sequential(_conv(c, 1, bias=b), _conv(c, k, groups=c, bias=b))
    if layout == "dynvision":
        sheet = LocalRecurrence(c, dynvision_local_kernel_size(c), layout="square", padding="reflect", bias=b)
        return sheet if kind == "local" else nn.Sequential(sheet, _conv(c, k, groups=c, bias=b))
    if kind == "local":
        return LocalRecurrence(c, local_kernel_size, bias=b)
    return nn.Sequential(_conv(c, k, groups=c, bias=b), LocalRecurrence(c, local_kernel_size, bias=b))


def recurrence_parameter_count(kind: str, channels: int, kernel_size: int = 3, local_kernel_size: int = 3, *,
                               layout: str = "dynacortex", bias: bool = False) -> int:
    """The documented parameter count of a recurrence type (see the module tables)."""
    c, k, b = channels, kernel_size, int(bias)
    kl = dynvision_local_kernel_size(c) if layout == "dynvision" else local_kernel_size
    return {
        "none": 0, "identity": 0, "self": (c if layout == "dynacortex" else 1) * (1 + b),
        "full": c * c * k * k + b * c, "depthwise": c * k * k + b * c, "pointwise": c * c + b * c,
        "depthpointwise": c * k * k + c * c + 2 * b * c, "pointdepthwise": c * c + c * k * k + 2 * b * c,
        "local": kl * kl + b, "localdepthwise": c * k * k + b * c + kl * kl + b,
    }[kind]
