"""Batch-level image transforms in plain torch ops.

Every transform takes a batch ``x`` of shape ``(B, C, H, W)`` (uint8 or floating) and an optional
``torch.Generator``; random transforms draw all their randomness from that generator, so the same
generator state gives the same output. Random numbers are drawn on the generator's device (CPU when
no generator is given) and then moved to ``x.device``, so a CPU generator also drives GPU batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = ["ToFloat", "Normalize", "RandomCrop", "RandomHorizontalFlip", "Compose"]

Transform = Callable[..., Tensor]


def _check_batch(x: Tensor, who: str) -> None:
    """Raise a ValueError unless ``x`` is a 4-d ``(B, C, H, W)`` tensor."""
    if not isinstance(x, Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x: {who} expects a (B, C, H, W) tensor, got {shape}")


def _rand_device(generator: torch.Generator | None) -> torch.device:
    """The device random numbers must be drawn on for ``generator``."""
    return generator.device if generator is not None else torch.device("cpu")


class ToFloat:
    """uint8 in [0, 255] -> floating in [0, 1]; floating input is only cast to ``dtype``."""

    def __init__(self, dtype: torch.dtype = torch.float32) -> None:
        if not dtype.is_floating_point:
            raise ValueError(f"dtype: must be a floating dtype (e.g. torch.float32), got {dtype}")
        self.dtype = dtype

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        _check_batch(x, "ToFloat")
        if x.dtype == torch.uint8:
            return x.to(self.dtype).div_(255.0)
        if not x.dtype.is_floating_point:
            raise ValueError(f"x: ToFloat accepts uint8 or floating tensors, got {x.dtype}")
        return x.to(self.dtype)


class Normalize:
    """Per-channel ``(x - mean[c]) / std[c]`` on a floating batch (apply ``ToFloat`` first)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        mean_t = torch.as_tensor(mean, dtype=torch.float64).flatten()
        std_t = torch.as_tensor(std, dtype=torch.float64).flatten()
        if mean_t.numel() == 0 or mean_t.numel() != std_t.numel():
            raise ValueError(f"mean, std: must be non-empty and of equal length, got {len(mean)} and {len(std)}")
        if not bool((std_t > 0).all()):
            raise ValueError(f"std: all entries must be > 0, got {std_t.tolist()}")
        self.mean, self.std = mean_t, std_t

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        _check_batch(x, "Normalize")
        if not x.dtype.is_floating_point:
            raise ValueError(f"x: Normalize needs a floating tensor, got {x.dtype}; apply ToFloat first")
        if x.shape[1] != self.mean.numel():
            raise ValueError(f"x: Normalize has {self.mean.numel()} channels, the batch has {x.shape[1]}")
        mean = self.mean.to(device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
        std = self.std.to(device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
        return (x - mean) / std


class RandomCrop:
    """Pad every side by ``padding`` with ``fill``, then crop ``size`` at an independent random offset per image.

    The crop is one ``gather`` with per-image flat index grids (no loop over the batch);
    ``size`` is an int or ``(h, w)``.
    """

    def __init__(self, size: int | tuple[int, int], padding: int = 0, fill: float = 0.0) -> None:
        hw = (size, size) if isinstance(size, int) else tuple(size)
        if len(hw) != 2 or not all(isinstance(s, int) and s > 0 for s in hw):
            raise ValueError(f"size: must be a positive int or a pair (h, w) of positive ints, got {size!r}")
        if not isinstance(padding, int) or padding < 0:
            raise ValueError(f"padding: must be an int >= 0, got {padding!r}")
        self.size, self.padding, self.fill = (int(hw[0]), int(hw[1])), padding, float(fill)

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        _check_batch(x, "RandomCrop")
        (h, w), p = self.size, self.padding
        if p:
            x = torch.nn.functional.pad(x, (p, p, p, p), mode="constant", value=self.fill)
        b, c, hp, wp = x.shape
        if h > hp or w > wp:
            raise ValueError(f"size: crop {self.size} is larger than the padded image {(hp, wp)}")
        dev = _rand_device(generator)
        top = torch.randint(0, hp - h + 1, (b,), generator=generator, device=dev).to(x.device)
        left = torch.randint(0, wp - w + 1, (b,), generator=generator, device=dev).to(x.device)
        rows = top[:, None] + torch.arange(h, device=x.device)  # (B, h)
        cols = left[:, None] + torch.arange(w, device=x.device)  # (B, w)
        flat = (rows[:, :, None] * wp + cols[:, None, :]).view(b, 1, h * w)  # indices into each padded plane
        return x.reshape(b, c, hp * wp).gather(2, flat.expand(b, c, h * w)).view(b, c, h, w)


class RandomHorizontalFlip:
    """Mirror each image left-right independently with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p: must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        _check_batch(x, "RandomHorizontalFlip")
        flip = torch.rand(x.shape[0], generator=generator, device=_rand_device(generator)) < self.p
        return torch.where(flip.to(x.device).view(-1, 1, 1, 1), x.flip(-1), x)


class Compose:
    """Apply ``transforms`` in order, handing each the same generator (consumed in sequence)."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        transforms = list(transforms)
        bad = [t for t in transforms if not callable(t)]
        if bad:
            raise ValueError(f"transforms: every entry must be callable as t(x, generator), got {bad!r}")
        self.transforms = transforms

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        for t in self.transforms:
            x = t(x, generator)
        return x
