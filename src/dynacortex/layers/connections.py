"""Connections between areas: ``I_dst += W_c r_src(t - Delta_c)``.

A :class:`Connection` names its source and target area, its delay in ms, and the operation ``W_c``.
:class:`Adapter` is the operation for skip and feedback connections between areas of different
shape: a 1x1 convolution from the source's to the target's channels and a resampling to the
target's spatial size (``resample="area"``: area averaging when shrinking, bilinear when growing;
``resample="nearest"``: the nearest source pixel both ways, as DynVision 0.1.0's skip and feedback
connections do with ``nn.Upsample(size, mode="nearest")``). Both are linear and act on different axes, so
they commute; the adapter resamples first when that makes the convolution cheaper.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .exact import ExactInit

__all__ = ["Connection", "Adapter", "TopDown", "resample", "RESAMPLE_MODES"]

KINDS = ("feedforward", "skip", "feedback", "lateral")


RESAMPLE_MODES = ("area", "nearest")


def resample(x: Tensor, size: tuple[int, int], mode: str = "area") -> Tensor:
    """Resize ``x`` (B, C, H, W) to ``size``: ``"area"``: area average to shrink, bilinear to grow;
    ``"nearest"``: pixel ``floor(i * in / out)`` (PyTorch's ``nearest``)."""
    h, w = x.shape[-2:]
    if (h, w) == tuple(size):
        return x
    if mode == "nearest":
        return F.interpolate(x, size=size, mode="nearest")
    if h >= size[0] and w >= size[1]:
        return F.adaptive_avg_pool2d(x, size)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class Adapter(nn.Module):
    """1x1 convolution ``in_channels -> out_channels`` plus resampling to the target size (``resample``:
    ``"area"`` or ``"nearest"``, see :func:`resample`)."""

    takes_size = True
    affine = True  # op(interpolated input) = interpolated op: delayed reads between commits reuse terms

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True, resample: str = "area"):
        super().__init__()
        if resample not in RESAMPLE_MODES:
            raise ValueError(f"resample: {resample!r} is not one of {list(RESAMPLE_MODES)}")
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=bias)
        self.mode = resample

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        if x.shape[-2] * x.shape[-1] > size[0] * size[1]:
            return self.conv(resample(x, size, self.mode))
        return resample(self.conv(x), size, self.mode)

    def extra_repr(self) -> str:
        return "" if self.mode == "area" else f"resample={self.mode}"


class TopDown(nn.Module):
    """Top-down (feedback) operation: a stride-2 transposed ``k x k`` convolution from the higher area's
    channels to the lower area's, then resampling to the lower area's exact size."""

    takes_size = True
    affine = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = False):
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=2, padding=kernel_size // 2,
                                       output_padding=1, bias=bias)

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        return resample(self.conv(x), size)


class Connection(ExactInit):
    """A directed, delayed connection ``src -> dst`` with operation ``op``.

    ``op`` is either a plain module ``op(x)`` (e.g. pooling + convolution for feedforward), or one with
    ``takes_size = True`` (:class:`Adapter`, :class:`TopDown`) that also takes the target size. An op with
    ``affine = True`` promises ``op((1 - w) a + w b) = (1 - w) op(a) + w op(b)`` (the network then
    interpolates its terms of committed states instead of evaluating it on interpolated ones).

    ``delay_bounds=(lo, hi)`` makes the delay a parameter, ``Delta = lo + (hi - lo) sigmoid(theta)``,
    that gets gradients through the history's linear interpolation (a delay at a bound starts 1e-4 of
    the range inside it); ``delay`` is then a 0-dim tensor and ``max_delay`` is ``hi``.
    """

    def __init__(self, src: str, dst: str, op: nn.Module, delay: float = 0.0, kind: str = "feedforward",
                 delay_bounds: "tuple[float, float] | None" = None):
        super().__init__()
        if delay < 0:
            raise ValueError(f"delay of connection {src}->{dst}: must be >= 0 ms, got {delay}")
        if kind not in KINDS:
            raise ValueError(f"kind of connection {src}->{dst}: {kind!r} is not one of {list(KINDS)}")
        self.src, self.dst, self.op, self.kind = src, dst, op, kind
        self._sized = getattr(op, "takes_size", False)
        self._delay, self.bounds = float(delay), None
        if delay_bounds is not None:
            self.learn_delay(delay_bounds)

    def learn_delay(self, bounds: "tuple[float, float]") -> None:
        """Turn the delay into a parameter bounded by ``bounds = (lo, hi)`` ms."""
        lo, hi = (float(b) for b in bounds)
        if not 0 <= lo < hi:
            raise ValueError(f"delay_bounds of connection {self.src}->{self.dst}: need 0 <= lo < hi ms, got {bounds}")
        if not lo <= self._delay <= hi:
            raise ValueError(f"delay of connection {self.src}->{self.dst}: {self._delay:g} ms lies outside "
                             f"delay_bounds {bounds}")
        p = min(max((self._delay - lo) / (hi - lo), 1e-4), 1 - 1e-4)
        self.bounds = (lo, hi)
        like = next((q for q in self.parameters() if q.is_floating_point()), None)
        logit = torch.tensor(math.log(p / (1 - p)), dtype=torch.float64)
        self.delay_logit = nn.Parameter(logit.to(like.dtype if like is not None else torch.get_default_dtype())
                                        .to(like.device if like is not None else None))
        self.remember_exact("delay_logit", logit)

    @property
    def delay(self) -> "float | Tensor":
        """The delay in ms: a float, or a 0-dim tensor when learnable."""
        if self.bounds is None:
            return self._delay
        lo, hi = self.bounds
        return lo + (hi - lo) * torch.sigmoid(self.delay_logit)

    @property
    def max_delay(self) -> float:
        """The longest delay this connection can read (ms)."""
        return self._delay if self.bounds is None else self.bounds[1]

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        return self.op(x, size) if self._sized else self.op(x)

    def extra_repr(self) -> str:
        learn = f" in [{self.bounds[0]:g}, {self.bounds[1]:g}] learnable" if self.bounds else ""
        return f"{self.src} -> {self.dst}, kind={self.kind}, delay={float(self._delay if self.bounds is None else self.delay.detach()):g} ms{learn}"
