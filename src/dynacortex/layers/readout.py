"""Read-outs: logits from an area's rates."""

from __future__ import annotations

from torch import nn

__all__ = ["pooled_linear"]


def pooled_linear(channels: int, classes: int) -> nn.Sequential:
    """``Linear(mean over space of r)``: global average pool, flatten, linear (``.2`` is the linear)."""
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))
