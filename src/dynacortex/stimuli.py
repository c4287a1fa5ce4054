"""Procedural stimuli (no downloads): gratings, disks and their presentation over time.

Images are ``(C, H, W)`` in [0, 1] with mean gray 0.5; contrast scales around the mean gray.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["grating", "disk", "presentation"]


def grating(size: int = 32, cycles: float = 4.0, orientation_deg: float = 0.0, contrast: float = 1.0,
            channels: int = 3) -> Tensor:
    """Sinusoidal grating with ``cycles`` periods across the image, at ``orientation_deg``."""
    if not 0 <= contrast <= 1:
        raise ValueError(f"contrast: must be in [0, 1], got {contrast}")
    ax = torch.linspace(-0.5, 0.5, size)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    theta = math.radians(orientation_deg)
    phase = 2 * math.pi * cycles * (xx * math.cos(theta) + yy * math.sin(theta))
    return (0.5 + 0.5 * contrast * torch.sin(phase)).expand(channels, size, size).clone()


def disk(size: int = 32, radius: float = 0.25, contrast: float = 1.0, channels: int = 3) -> Tensor:
    """A bright disk of ``radius`` (fraction of the image) on mean gray."""
    if not 0 <= contrast <= 1:
        raise ValueError(f"contrast: must be in [0, 1], got {contrast}")
    ax = torch.linspace(-0.5, 0.5, size)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    inside = (xx**2 + yy**2).sqrt() <= radius
    return (0.5 + 0.5 * contrast * inside.float()).expand(channels, size, size).clone()


def presentation(image: Tensor, dt: float, duration_ms: float, onset_ms: float, offset_ms: float) -> Tensor:
    """Frames ``(T, C, H, W)``: mean gray, the image during ``[onset_ms, offset_ms)``, then gray again.

    Frame n covers ``[n dt, (n + 1) dt)``; it shows the image when its start lies in the window.
    """
    if not 0 <= onset_ms <= offset_ms <= duration_ms:
        raise ValueError(f"presentation: need 0 <= onset_ms <= offset_ms <= duration_ms, got "
                         f"{onset_ms}, {offset_ms}, {duration_ms}")
    n = round(duration_ms / dt)
    t = torch.arange(n) * dt
    on = ((t >= onset_ms - 1e-9) & (t < offset_ms - 1e-9)).view(n, 1, 1, 1)
    return torch.where(on, image.unsqueeze(0), torch.full_like(image, 0.5).unsqueeze(0))
