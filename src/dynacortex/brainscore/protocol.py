"""From Brain-Score stimuli to dynacortex trials, and from rates to Brain-Score time bins.

No import of brainscore here: this is the part of the adapter that the main test suite checks.

Conventions (Brain-Score's where it has one; docs/brainscore.md gives the reasons):

- **Degrees.** The whole image spans the model's ``visual_degrees()`` of visual angle: benchmarks call
  ``place_on_screen`` to rescale their stimuli to that size (cropping a larger field, padding a smaller one
  with gray), and the model resizes the image to its ``image_size`` x ``image_size`` input, as Brain-Score's
  ``load_preprocess_images`` does (bilinear, aspect ratio not kept). One pixel is thus
  ``visual_degrees / image_size`` degrees.
- **Pixels.** RGB (luminance for a one-channel model) scaled to [0, 1] and normalised per channel with the
  mean and SD of the model's training set, as in training.
- **Time.** Brain-Score's bins are ms after stimulus onset. A trial is ``blank_before_ms`` of blank, the
  image for ``presentation_ms``, then blank until the last requested bin ends. The blank is mean gray,
  which is 0 after normalisation, the input the model had between stimuli in training. Step ``n`` of the
  model covers ``[n dt, (n + 1) dt)`` of the trial and shows the image when its start lies in the
  presentation (the convention of :mod:`dynacortex.training.presentation`).
- **Bins.** The rates at the end of a step, ``t_k`` ms after onset, stand for the step ``(t_k - dt, t_k]``;
  a bin is the mean of the steps it covers weighted by their overlap with it, which is Brain-Score's own
  temporal alignment (``assembly_time_align``, mode "portion") applied to the model's steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["Protocol", "TimeBins", "BinRecorder", "load_images"]

_EPS = 1e-9


def TimeBins(time_bins: Any) -> list[tuple[float, float]]:
    """Brain-Score's ``time_bins`` (tuples, lists or arrays of ``(start, end)`` ms, or an assembly's ``time_bin``
    values, an object array of tuples, as its benchmarks pass them) as float pairs, checked."""
    try:
        if isinstance(time_bins, np.ndarray) and time_bins.dtype == object:
            time_bins = time_bins.tolist()
        bins = [(float(a), float(b)) for a, b in np.asarray(time_bins, dtype=float).reshape(-1, 2).tolist()]
    except (TypeError, ValueError) as e:
        raise ValueError(f"time_bins: need (start_ms, end_ms) pairs, got {time_bins!r}") from e
    if not bins or any(not (math.isfinite(a) and math.isfinite(b) and a < b) for a, b in bins):
        raise ValueError(f"time_bins: need a non-empty list of (start, end) with start < end in ms, got {bins}")
    return bins


@dataclass(frozen=True)
class Protocol:
    """Trial timing in ms: blank, the image, blank (stimulus onset is t = 0 of the bins)."""

    presentation_ms: float = 100.0
    blank_before_ms: float = 0.0

    def __post_init__(self) -> None:
        if not self.presentation_ms > 0 or not self.blank_before_ms >= 0:
            raise ValueError(f"presentation_ms must be > 0 and blank_before_ms >= 0 ms, got {self.presentation_ms} "
                             f"and {self.blank_before_ms}")

    def segments(self, dt: float, until_ms: float) -> list[tuple[bool, int]]:
        """``[(image shown, steps), ...]`` for a trial that lasts until ``until_ms`` after onset."""
        first_image = math.ceil(self.blank_before_ms / dt - _EPS)
        after_image = math.ceil((self.blank_before_ms + self.presentation_ms) / dt - _EPS)
        total = max(1, math.ceil((self.blank_before_ms + until_ms) / dt - _EPS))
        parts = [(False, min(first_image, total)), (True, min(after_image, total) - min(first_image, total)),
                 (False, total - min(after_image, total))]
        return [(shown, n) for shown, n in parts if n > 0]

    def check(self, bins: Sequence[tuple[float, float]]) -> None:
        if min(a for a, _ in bins) < -self.blank_before_ms - _EPS:
            raise ValueError(f"time_bins: a bin starts at {min(a for a, _ in bins)} ms, before the trial starts "
                             f"({-self.blank_before_ms} ms: blank_before_ms={self.blank_before_ms})")


class BinRecorder:
    """An observer (``model.observe``) that averages the rates of some areas into time bins as the model runs.

    ``areas``: ``[(index, area)]`` of the network; rates are flattened per area and concatenated.
    ``onset_ms``: the model time of stimulus onset. After the run, ``result()`` is ``(B, neuroids, bins)``.
    """

    def __init__(self, areas: Sequence[tuple[int, Any]], bins: Sequence[tuple[float, float]], onset_ms: float,
                 dt: float):
        self.areas, self.bins, self.onset, self.dt = list(areas), list(bins), onset_ms, dt
        self.sum: Optional[Tensor] = None
        self.shapes: list[torch.Size] = []  # each area's output shape (C, H, W), known after the first step
        self.weight = torch.zeros(len(self.bins), dtype=torch.float64)
        self.covered = np.zeros(len(self.bins))

    def __call__(self, t: float, y: tuple[Tensor, ...]) -> None:
        end = t - self.onset
        start = end - self.dt
        w = [max(0.0, min(end, b) - max(start, a)) / self.dt for a, b in self.bins]
        if not any(w):
            return
        outputs = [area.output(y[i]).detach() for i, area in self.areas]
        self.shapes = [o.shape[1:] for o in outputs]
        rates = torch.cat([o.flatten(1) for o in outputs], dim=1).double()
        if self.sum is None:
            self.sum = rates.new_zeros((rates.shape[0], rates.shape[1], len(self.bins)))
        for k, wk in enumerate(w):
            if wk > 0:
                self.sum[:, :, k] += wk * rates
                self.weight[k] += wk
                self.covered[k] += wk * self.dt

    def result(self) -> Tensor:
        lengths = np.array([b - a for a, b in self.bins])
        short = np.flatnonzero(self.covered < lengths - 1e-6)
        if self.sum is None or len(short):
            raise ValueError(f"time_bins: {[self.bins[k] for k in short]} are not covered by the simulated trial")
        return (self.sum / self.weight).float()


def load_images(paths: Sequence[str], image_size: int, channels: int, mean: Sequence[float],
                std: Sequence[float]) -> Tensor:
    """``(N, channels, image_size, image_size)``: the images resized and normalised (see the module doc)."""
    from PIL import Image

    if channels not in (1, 3):
        raise ValueError(f"channels: images feed models with 1 (luminance) or 3 (RGB) input channels, not {channels}")
    mean_t = torch.as_tensor(mean, dtype=torch.float32).reshape(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).reshape(-1, 1, 1)
    if mean_t.numel() not in (1, channels) or std_t.numel() not in (1, channels) or not bool((std_t > 0).all()):
        raise ValueError(f"mean/std: need 1 or {channels} values with std > 0, got {list(mean)} and {list(std)}")
    out = []
    for path in paths:
        with Image.open(path) as im:
            im = im.convert("L" if channels == 1 else "RGB").resize((image_size, image_size), Image.BILINEAR)
            a = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0)
        a = a.unsqueeze(0) if a.dim() == 2 else a.permute(2, 0, 1)
        out.append((a - mean_t) / std_t)
    return torch.stack(out) if out else torch.zeros((0, channels, image_size, image_size))
