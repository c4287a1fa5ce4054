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
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["sheet_layout", "LocalRecurrence"]


def sheet_layout(channels: int, height: int, width: int) -> tuple[Tensor, int, int]:
    """Index map from sheet units to ``C*H*W`` positions (``-1`` marks a spare slot).

    Returns ``(index, sheet_h, sheet_w)`` with ``index`` of shape ``(sheet_h * sheet_w,)``.
    """
    rows = math.ceil(math.sqrt(channels))
    cols = math.ceil(channels / rows)
    r = torch.arange(rows).view(rows, 1)
    q = torch.arange(cols).view(1, cols)
    sheet = torch.full((rows * height, cols * width), -1, dtype=torch.long)
    for y in range(height):
        rr = rows - 1 - r if y % 2 else r
        for x in range(width):
            qq = cols - 1 - q if x % 2 else q
            c = rr * cols + qq  # channel in each slot of this tile
            flat = c * (height * width) + y * width + x
            sheet[y * rows:(y + 1) * rows, x * cols:(x + 1) * cols] = torch.where(c < channels, flat, -1)
    return sheet.flatten(), rows * height, cols * width


class LocalRecurrence(nn.Module):
    """One shared ``kernel_size x kernel_size`` kernel on the cortical sheet of ``channels``."""

    def __init__(self, channels: int, kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"local_kernel_size: must be odd, got {kernel_size}")
        self.channels = channels
        self.weight = nn.Parameter(torch.empty(1, 1, kernel_size, kernel_size))
        nn.init.uniform_(self.weight, -1.0 / kernel_size, 1.0 / kernel_size)
        self._maps: dict[tuple[int, int, torch.device], tuple[Tensor, Tensor, Tensor, int, int]] = {}

    def _map(self, h: int, w: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor, int, int]:
        key = (h, w, device)
        if key not in self._maps:
            index, sh, sw = sheet_layout(self.channels, h, w)
            valid = index >= 0
            # to_sheet: gather from [x, 0] (the appended zero) for spare slots
            to_sheet = torch.where(valid, index, self.channels * h * w)
            # from_sheet: for every C*H*W position, its unit on the sheet
            from_sheet = torch.empty(self.channels * h * w, dtype=torch.long)
            from_sheet[index[valid]] = torch.nonzero(valid).flatten()
            self._maps[key] = (to_sheet.to(device), from_sheet.to(device), valid.to(device), sh, sw)
        return self._maps[key]

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        to_sheet, from_sheet, _, sh, sw = self._map(h, w, x.device)
        flat = torch.cat([x.reshape(b, -1), x.new_zeros(b, 1)], dim=1)
        sheet = flat.index_select(1, to_sheet).view(b, 1, sh, sw)
        out = F.conv2d(sheet, self.weight, padding=self.weight.shape[-1] // 2)
        return out.view(b, -1).index_select(1, from_sheet).view(b, c, h, w)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel_size={self.weight.shape[-1]}"
