"""Rasterising a task at step ``dt`` (ms): the screen frames, per-step targets and the loss mask.

Periods follow each other from t = 0. Step n covers ``[n dt, (n + 1) dt)`` and belongs to the period
whose interval ``[start, end)`` contains its start ``n dt`` (the frame is held over the step, as in
the network's stimulus convention); the trial has ``round(total_ms / dt)`` steps. Durations drawn
from a range are drawn once per batch (all trials of a batch share the timeline); ``quantile=0.5``
gives every range's midpoint (the held-out timeline).

Targets ``(B, T)``: 0 (fixation unit) on ``fixate`` steps, ``1 + choice`` on ``choice`` steps, 0 with
mask 0 on ``none`` steps. Mask ``(B, T)``: the period's ``loss_weight``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from .spec import TaskSpec
from .trials import TrialSampler, Trials

__all__ = ["Timeline", "TrialBatch", "timeline", "fixation_frame", "make_batch"]


@dataclass
class Timeline:
    names: list[str]
    bounds_ms: list[tuple[float, float]]  # [start, end) per period
    period: Tensor  # (T,) long: period index of each step
    dt: float

    @property
    def n_steps(self) -> int:
        return int(self.period.numel())

    def steps(self, name: str) -> Tensor:
        """Boolean (T,) mask of the steps in period ``name``."""
        if name not in self.names:
            raise ValueError(f"period: {name!r} is not one of {self.names}")
        return self.period == self.names.index(name)


@dataclass
class TrialBatch:
    x: Tensor  # (B, T, C, H, W) screen frames
    target: Tensor  # (B, T) long
    mask: Tensor  # (B, T) float loss weights
    choice: Tensor  # (B,) correct choice
    conditions: dict[str, Tensor]
    timeline: Timeline


def timeline(spec: TaskSpec, dt: float, generator: Optional[torch.Generator] = None, quantile: float = 0.5) -> Timeline:
    """The periods' bounds (ms) and each step's period, ranges drawn with ``generator`` (else at ``quantile``)."""
    if not dt > 0:
        raise ValueError(f"dt: must be > 0 ms, got {dt}")
    bounds, t = [], 0.0
    for p in spec.periods:
        u = float(torch.rand((), generator=generator)) if generator is not None else quantile
        d = p.duration(u)
        bounds.append((t, t + d))
        t += d
    n = max(1, round(t / dt))
    start = torch.arange(n, dtype=torch.float64) * dt
    ends = torch.tensor([b for _, b in bounds], dtype=torch.float64)
    period = torch.searchsorted(ends, start + 1e-9 * dt, right=True).clamp(max=len(bounds) - 1)
    return Timeline([p.name for p in spec.periods], bounds, period, dt)


def fixation_frame(spec: TaskSpec, channels: int) -> Tensor:
    """The screen with only the fixation dot, ``(C, H, W)``: the central 2 x 2 pixels at ``fixation_value``."""
    s = spec.image_size
    frame = torch.zeros(channels, s, s)
    c = s // 2
    frame[:, c - 1:c + 1, c - 1:c + 1] = spec.fixation_value
    return frame


def make_batch(spec: TaskSpec, sampler: TrialSampler, n: int, dt: float, generator: torch.Generator,
               random_timing: bool = True) -> TrialBatch:
    """``n`` trials rasterised at ``dt``; timing drawn with ``generator`` when ``random_timing`` (else midpoints)."""
    line = timeline(spec, dt, generator if random_timing else None)
    trials: Trials = sampler.sample(n, generator)
    fix = fixation_frame(spec, sampler.channels)
    screens = []
    for p in spec.periods:
        screen = torch.zeros(n, *fix.shape)
        for layer in p.show:
            screen = screen + (fix if layer == "fixation" else trials.layers[layer])
        screens.append(screen)
    x = torch.stack(screens, dim=1)[:, line.period]  # (B, T, C, H, W)
    noise_std = torch.tensor([p.noise_std for p in spec.periods])[line.period]
    if bool((noise_std > 0).any()):
        frame_of_step = (torch.arange(line.n_steps) * dt / spec.noise_frame_ms + 1e-9).floor().long()
        noise = torch.randn(n, int(frame_of_step[-1]) + 1, *fix.shape, generator=generator)
        x = x + noise[:, frame_of_step] * noise_std.view(1, -1, 1, 1, 1)
    kind = [p.target for p in spec.periods]
    is_choice = torch.tensor([k == "choice" for k in kind])[line.period]
    target = torch.where(is_choice.unsqueeze(0), 1 + trials.choice.unsqueeze(1), torch.zeros((), dtype=torch.long))
    weight = torch.tensor([0.0 if p.target == "none" else p.loss_weight for p in spec.periods])[line.period]
    mask = weight.unsqueeze(0).expand(n, -1).contiguous()
    return TrialBatch(x, target, mask, trials.choice, trials.conditions, line)
