"""Presentation in milliseconds: blank (idle) time, the stimulus, blank again; and which steps are read out.

A trial of ``idle_ms + stimulus_ms + blank_ms`` is cut into steps of ``dt``; step n covers
``[n dt, (n+1) dt)`` and shows the image if its start lies in ``[idle_ms, idle_ms + stimulus_ms)``.
``pulses = [[on_ms, off_ms], ...]`` replaces the single stimulus by an on/off sequence of the same
image after the idle time (e.g. two 133 ms pulses 67 ms apart: ``[[133, 67], [133, 0]]``).
The blank is mean gray, which after normalisation is 0 (``blank_value``).

Readout (which steps the loss sees):
- ``all``: every step from stimulus onset on;
- ``last``: the last ``last_k`` steps of the trial;
- ``after``: steps that end at least ``readout_delay_ms`` after stimulus onset.
"""

from __future__ import annotations

from typing import Literal, Optional

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import Tensor

__all__ = ["PresentationConfig", "ReadoutConfig", "Trial", "make_trial", "present"]


class PresentationConfig(BaseModel):
    """Trial timing (ms). ``random_idle_ms`` / ``random_stimulus_ms``: ranges sampled per training batch."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    idle_ms: float = Field(0.0, ge=0)
    stimulus_ms: float = Field(20.0, gt=0)
    blank_ms: float = Field(0.0, ge=0)
    random_idle_ms: Optional[tuple[float, float]] = None
    random_stimulus_ms: Optional[tuple[float, float]] = None
    pulses: Optional[list[tuple[float, float]]] = None

    @model_validator(mode="after")
    def _ranges(self) -> "PresentationConfig":
        if self.pulses is not None:
            if not self.pulses or any(on <= 0 or off < 0 for on, off in self.pulses):
                raise ValueError(f"pulses: need a non-empty list of [on_ms > 0, off_ms >= 0], got {self.pulses}")
            if self.random_stimulus_ms is not None:
                raise ValueError("pulses: cannot be combined with random_stimulus_ms")
        for name in ("random_idle_ms", "random_stimulus_ms"):
            r = getattr(self, name)
            if r is not None and not 0 <= r[0] <= r[1]:
                raise ValueError(f"{name}: need 0 <= low <= high, got {r}")
        if self.random_stimulus_ms is not None and self.random_stimulus_ms[0] <= 0:
            raise ValueError(f"random_stimulus_ms: the low end must be > 0, got {self.random_stimulus_ms}")
        return self


class ReadoutConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    readout: Literal["all", "last", "after"] = "last"
    last_k: int = Field(3, ge=1)
    readout_delay_ms: float = Field(0.0, ge=0)


class Trial:
    """Step masks of one trial: ``stimulus`` (T,) where the image is shown, ``readout`` (T,) supervised."""

    def __init__(self, stimulus: Tensor, readout: Tensor, onset_ms: float):
        if not readout.any():
            raise ValueError("readout: no step is read out; lengthen the trial or shorten readout_delay_ms")
        self.stimulus, self.readout, self.onset_ms = stimulus, readout, onset_ms

    @property
    def n_steps(self) -> int:
        return int(self.stimulus.numel())


def make_trial(p: PresentationConfig, r: ReadoutConfig, dt: float, generator: Optional[torch.Generator] = None) -> Trial:
    """Masks for one trial; with a ``generator`` the random ranges (if any) are sampled."""

    def pick(fixed: float, rng: Optional[tuple[float, float]]) -> float:
        if rng is None or generator is None:
            return fixed
        return rng[0] + (rng[1] - rng[0]) * float(torch.rand((), generator=generator))

    idle = pick(p.idle_ms, p.random_idle_ms)
    segments = p.pulses if p.pulses is not None else [(pick(p.stimulus_ms, p.random_stimulus_ms), 0.0)]
    stim = sum(on_ms + off_ms for on_ms, off_ms in segments)
    n = max(1, round((idle + stim + p.blank_ms) / dt))
    start = torch.arange(n) * dt
    eps = 1e-9 * dt
    on = torch.zeros(n, dtype=torch.bool)
    t_on = idle
    for on_ms, off_ms in segments:
        on |= (start >= t_on - eps) & (start < t_on + on_ms - eps)
        t_on += on_ms + off_ms
    end = start + dt
    if r.readout == "all":
        read = end > idle + eps
    elif r.readout == "last":
        read = torch.arange(n) >= n - r.last_k
    else:
        read = end >= idle + r.readout_delay_ms - eps
    return Trial(on, read, idle)


def present(images: Tensor, trial: Trial, blank_value: float = 0.0) -> Tensor:
    """Frames ``(B, T, C, H, W)``: ``images`` on the trial's stimulus steps, ``blank_value`` elsewhere."""
    on = trial.stimulus.to(images.device).view(1, -1, 1, 1, 1)
    return torch.where(on, images.unsqueeze(1), torch.full((), blank_value, dtype=images.dtype, device=images.device))
