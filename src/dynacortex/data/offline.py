"""Datasets that need no download: scikit-learn's handwritten digits and procedural shapes.

Both return ``(images uint8 (N, C, S, S), labels int64 (N,), classes)`` with a deterministic
train/test split (stratified, fixed seed), so every machine sees the same data.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["load_digits", "load_shapes", "SHAPE_CLASSES"]

SPLITS = ("train", "test")
SHAPE_CLASSES = ("disk", "square", "triangle", "cross", "horizontal grating", "vertical grating")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split: {split!r} is not one of {list(SPLITS)}")


def _stratified_split(labels: Tensor, split: str, test_fraction: float, seed: int) -> Tensor:
    """Indices of ``split``: per class, a seeded permutation; the first ``test_fraction`` is test."""
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for c in labels.unique(sorted=True):
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_test = round(len(idx) * test_fraction)
        chosen.append(idx[:n_test] if split == "test" else idx[n_test:])
    return torch.cat(chosen).sort().values


def load_digits(split: str = "train", size: int = 32, test_fraction: float = 0.2, seed: int = 0
                ) -> tuple[Tensor, Tensor, list[str]]:
    """The 1797 8x8 digits shipped with scikit-learn, upsampled (bilinear) to ``size`` x ``size``, 1 channel."""
    _check_split(split)
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x = torch.from_numpy(d.images).float().unsqueeze(1) / 16.0  # (N, 1, 8, 8) in [0, 1]
    y = torch.from_numpy(d.target).long()
    idx = _stratified_split(y, split, test_fraction, seed)
    x = F.interpolate(x[idx], size=(size, size), mode="bilinear", align_corners=False)
    return (x.clamp(0, 1) * 255).round().to(torch.uint8), y[idx], [str(i) for i in range(10)]


def _shape_mask(kind: int, yy: Tensor, xx: Tensor, cy: float, cx: float, r: float, phase: float) -> Tensor:
    dy, dx = yy - cy, xx - cx
    if kind == 0:
        return (dy**2 + dx**2).sqrt() <= r
    if kind == 1:
        return (dy.abs() <= r * 0.8) & (dx.abs() <= r * 0.8)
    if kind == 2:
        return (dy <= r * 0.7) & (dy >= -r * 0.9 + 2.0 * dx.abs())
    if kind == 3:
        return ((dy.abs() <= r * 0.25) & (dx.abs() <= r)) | ((dx.abs() <= r * 0.25) & (dy.abs() <= r))
    coord = yy if kind == 4 else xx
    return torch.sin(2 * math.pi * coord / (r * 0.8) + phase) > 0


def load_shapes(split: str = "train", size: int = 32, per_class: int = 300, seed: int = 0
                ) -> tuple[Tensor, Tensor, list[str]]:
    """Procedural shapes and gratings (6 classes) at random position, size and contrast, 3 channels.

    Train and test are drawn from disjoint seeds, so the split is deterministic and independent.
    """
    _check_split(split)
    g = torch.Generator().manual_seed(seed * 2 + (split == "test"))
    ax = torch.arange(size, dtype=torch.float32)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    n = per_class * len(SHAPE_CLASSES)
    labels = torch.arange(n) % len(SHAPE_CLASSES)
    images = torch.empty(n, 3, size, size, dtype=torch.uint8)
    for i, kind in enumerate(labels.tolist()):
        u = torch.rand(6, generator=g).tolist()
        r = size * (0.15 + 0.15 * u[0])
        cy, cx = size * (0.3 + 0.4 * u[1]), size * (0.3 + 0.4 * u[2])
        contrast = 0.3 + 0.7 * u[3]
        fg = _shape_mask(kind, yy, xx, cy, cx, r, 2 * math.pi * u[4]).float()
        img = 0.5 + 0.5 * contrast * (2 * fg - 1) if kind >= 4 else 0.5 + 0.5 * contrast * fg
        noise = 0.05 * torch.randn(size, size, generator=g)
        images[i] = ((img + noise).clamp(0, 1) * 255).round().to(torch.uint8).expand(3, size, size)
    return images, labels, list(SHAPE_CLASSES)
