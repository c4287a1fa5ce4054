"""Topographic ("local") recurrence on a cortical sheet.

The channels of an area are laid out as a 2-D sheet: every spatial position (y, x) holds a tile of
``R x Q`` channel slots (``R = ceil(sqrt(C))``, ``Q = ceil(C / R)``, channel c at slot
``(c // Q, c % Q)``); tiles at odd x are mirrored left-right and tiles at odd y top-bottom, so that
neighbouring tiles meet at matching channels and the sheet is continuous. The sheet has
``(R H) x (Q W)`` units. Recurrence is one shared ``k x k`` kernel on that sheet: a unit drives the
units near it on the sheet, i.e. nearby channels at the same and at neighbouring positions.

Any C works: when ``R Q > C`` the spare slots hold zeros and are dropped on the way back. Parameters:
``k^2`` (``local``), ``C k_s^2 + k^2`` (``localdepthwise``: a depthwise ``k_s x k_s`` spatial
convolution, then the sheet kernel).

DynVision's sheet (``layout="square"``, with ``padding="reflect"`` and a bias: DynVision 0.1.0's
``LocalLateralConnection``) differs only where C is not a square: its tiles are ``S x S`` slots with
``S = floor(sqrt(C)) + 1``, and the ``S^2 - C`` extra slots hold mirrored copies of the last channels
(slot ``C + i`` holds channel ``C - 1 - i``) instead of zeros; outputs are read from each channel's own
slot. (DynVision 0.1.0 itself fails on a non-square C in its forward pass, so no DynVision model with
one can have been trained; for square C, which DyRCNNx4's 36/64/121/256 are, both layouts are the same
permutation.) Its kernel size follows the channel count: :func:`dynvision_local_kernel_size`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["sheet_layout", "LocalRecurrence", "dynvision_local_kernel_size", "LAYOUTS", "PADDINGS"]

LAYOUTS = ("tiles", "square")
PADDINGS = ("zeros", "reflect")


def dynvision_local_kernel_size(channels: int) -> int:
    """DynVision's sheet kernel: ``floor(sqrt(C)) // 4``, made odd by adding 1, at least 3
    (3 x 3 for C = 36, 64, 121; 5 x 5 for C = 256)."""
    k = math.isqrt(channels) // 4
    k += 1 - k % 2
    return max(3, k)


def _slots(channels: int, height: int, width: int, layout: str) -> tuple[Tensor, int, int]:
    """The (extended) channel held by every sheet unit, ``-1`` for a spare zero slot."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout: {layout!r} is not one of {list(LAYOUTS)}")
    if layout == "square":
        side = math.isqrt(channels)
        rows = cols = side if side * side == channels else side + 1
        n = rows * cols
    else:
        rows = math.ceil(math.sqrt(channels))
        cols = math.ceil(channels / rows)
        n = channels
    r = torch.arange(rows).view(rows, 1)
    q = torch.arange(cols).view(1, cols)
    sheet = torch.empty((rows * height, cols * width), dtype=torch.long)
    for y in range(height):
        rr = rows - 1 - r if y % 2 else r
        for x in range(width):
            qq = cols - 1 - q if x % 2 else q
            c = rr * cols + qq  # (extended) channel in each slot of this tile
            sheet[y * rows:(y + 1) * rows, x * cols:(x + 1) * cols] = torch.where(c < n, c, -1)
    return sheet, rows, cols


def sheet_layout(channels: int, height: int, width: int, layout: str = "tiles") -> tuple[Tensor, int, int]:
    """Index map from sheet units to ``C*H*W`` positions (``-1`` marks a spare slot).

    Returns ``(index, sheet_h, sheet_w)`` with ``index`` of shape ``(sheet_h * sheet_w,)``. With
    ``layout="square"`` the extra slots read mirrored copies (extended channel ``C + i`` is channel
    ``C - 1 - i``), so no index is ``-1`` and some positions appear twice.
    """
    slot, rows, cols = _slots(channels, height, width, layout)
    src = torch.where(slot >= channels, 2 * channels - 1 - slot, slot)  # mirrored copies ("square")
    y = torch.arange(height).repeat_interleave(rows).view(-1, 1)
    x = torch.arange(width).repeat_interleave(cols).view(1, -1)
    flat = src * (height * width) + y * width + x
    return torch.where(slot >= 0, flat, -1).flatten(), rows * height, cols * width


class LocalRecurrence(nn.Module):
    """One shared ``kernel_size x kernel_size`` kernel on the cortical sheet of ``channels``.

    ``layout``: ``"tiles"`` (spare slots hold zeros) or ``"square"`` (DynVision: square tiles, mirrored
    channel copies in the extra slots); ``padding``: ``"zeros"`` or ``"reflect"`` (DynVision) at the sheet's
    border; ``bias``: one scalar added to every unit (DynVision; it makes the recurrence affine).
    """

    def __init__(self, channels: int, kernel_size: int = 3, *, layout: str = "tiles", padding: str = "zeros",
                 bias: bool = False):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"local_kernel_size: must be odd, got {kernel_size}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout: {layout!r} is not one of {list(LAYOUTS)}")
        if padding not in PADDINGS:
            raise ValueError(f"padding: {padding!r} is not one of {list(PADDINGS)}")
        self.channels, self.layout, self.padding = channels, layout, padding
        self.weight = nn.Parameter(torch.empty(1, 1, kernel_size, kernel_size))
        nn.init.uniform_(self.weight, -1.0 / kernel_size, 1.0 / kernel_size)
        self.bias = nn.Parameter(torch.zeros(1)) if bias else None
        self._maps: dict[tuple[int, int, torch.device], tuple[Tensor, Tensor, int, int]] = {}

    def _map(self, h: int, w: int, device: torch.device) -> tuple[Tensor, Tensor, int, int]:
        key = (h, w, device)
        if key not in self._maps:
            index, sh, sw = sheet_layout(self.channels, h, w, self.layout)
            slot = _slots(self.channels, h, w, self.layout)[0].flatten()
            # to_sheet: gather from [x, 0] (the appended zero) for spare slots
            to_sheet = torch.where(index >= 0, index, self.channels * h * w)
            # from_sheet: for every C*H*W position, the unit of its own channel's slot
            home = (slot >= 0) & (slot < self.channels)
            from_sheet = torch.empty(self.channels * h * w, dtype=torch.long)
            from_sheet[index[home]] = torch.nonzero(home).flatten()
            self._maps[key] = (to_sheet.to(device), from_sheet.to(device), sh, sw)
        return self._maps[key]

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        to_sheet, from_sheet, sh, sw = self._map(h, w, x.device)
        flat = torch.cat([x.reshape(b, -1), x.new_zeros(b, 1)], dim=1)
        sheet = flat.index_select(1, to_sheet).view(b, 1, sh, sw)
        p = self.weight.shape[-1] // 2
        if self.padding == "reflect":
            out = F.conv2d(F.pad(sheet, (p, p, p, p), mode="reflect"), self.weight, self.bias)
        else:
            out = F.conv2d(sheet, self.weight, self.bias, padding=p)
        return out.view(b, -1).index_select(1, from_sheet).view(b, c, h, w)

    def extra_repr(self) -> str:
        extra = "" if self.layout == "tiles" else f", layout={self.layout}"
        extra += "" if self.padding == "zeros" else f", padding={self.padding}"
        extra += ", bias=True" if self.bias is not None else ""
        return f"channels={self.channels}, kernel_size={self.weight.shape[-1]}{extra}"
