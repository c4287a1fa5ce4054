"""Stimulus protocols in milliseconds, independent of dt.

A trial is a blank settling period of ``idle_ms``, the condition's segments, and blank up to the
protocol's common length (``tail_ms`` after the longest condition). Time is measured from the first
stimulus onset: step n covers ``[n dt, (n+1) dt) - idle_ms`` and shows segment k's image if its start
lies in that segment's on-window (the rule of :mod:`dynacortex.training.presentation`).

A segment shows ``contrast * image`` for ``on_ms`` then blank for ``off_ms``. Images are normalised
so that mean gray is 0: scaling by the contrast c keeps the mean luminance and scales the deviations
from it, ``c * (x - gray)``; contrast 0 is the blank. ``stimulus`` picks the image: 0 is the trial's
own image, k the k-th next image of the experiment's set (e.g. an A-B pair for stimulus-specific
adaptation).

Built-in protocols (``get_protocol(name, **overrides)``). The first three are the conditions of Groen et
al. (2022, J Neurosci 42:7562; their ``stiminfo.tsv``, ECoG in human visual cortex):
- ``duration``: one stimulus of 17, 33, 67, 133, 267, 533 ms at full contrast, then blank (1 s from onset in
  all);
- ``contrast``: a 500 ms stimulus at contrast 0.0625, 0.125, 0.25, 0.5, 1 (Groen's five);
- ``interval``: two 133 ms stimuli with gaps (offset to onset) of 17, 33, 67, 133, 267, 533 ms, plus the
  single 133 ms stimulus (``single``) from which the second response is isolated.
The other two are not from that study:
- ``response``: a long (1000 ms) stimulus and a blank trial (the baseline), for adaptation to a sustained
  stimulus and a check that the baseline settled (a dynacortex protocol);
- ``memory``: one 133 ms stimulus followed by 500 ms of blank, to decode the image after it is gone (a
  dynacortex protocol).
User-defined: ``Protocol(name, [Condition(label, [Segment(on_ms, off_ms, contrast, stimulus), ...])])``.
"""

from __future__ import annotations

import inspect
from typing import Callable, Sequence

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator, validate_call
from torch import Tensor

from ..validation import describe, suggest, unknown_name

__all__ = ["Segment", "Condition", "Protocol", "Timeline", "get_protocol", "list_protocols", "protocol_parameters",
           "PROTOCOLS"]


class Segment(BaseModel):
    """``contrast * image[stimulus]`` for ``on_ms``, then blank for ``off_ms``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    on_ms: float = Field(gt=0)
    off_ms: float = Field(0.0, ge=0)
    contrast: float = Field(1.0, ge=0)
    stimulus: int = Field(0, ge=0)


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    label: str
    segments: tuple[Segment, ...] = ()

    @property
    def length_ms(self) -> float:
        return sum(s.on_ms + s.off_ms for s in self.segments)


class Protocol(BaseModel):
    """Named conditions sharing one time axis; ``params`` keeps the numbers the metrics need."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    name: str
    conditions: tuple[Condition, ...]
    idle_ms: float = Field(200.0, ge=0)
    tail_ms: float = Field(300.0, ge=0)
    params: dict[str, float | list[float]] = {}

    @model_validator(mode="after")
    def _unique(self) -> "Protocol":
        labels = [c.label for c in self.conditions]
        if not labels:
            raise ValueError("conditions: a protocol needs at least one condition")
        if len(set(labels)) != len(labels):
            raise ValueError(f"conditions: labels must be unique, got {labels}")
        return self

    @property
    def length_ms(self) -> float:
        return self.idle_ms + max(c.length_ms for c in self.conditions) + self.tail_ms

    def timeline(self, dt: float) -> "Timeline":
        return Timeline(self, dt)


class Timeline:
    """The protocol cut into steps of ``dt``: per condition and step, the contrast and stimulus shown.

    ``contrast`` (n_conditions, T) float, 0 on blank steps; ``stimulus`` (n_conditions, T) long;
    ``time_ms`` (T,) the end of each step relative to the first onset.
    """

    def __init__(self, protocol: Protocol, dt: float):
        if not dt > 0:
            raise ValueError(f"dt: must be > 0 ms, got {dt}")
        n = max(1, round(protocol.length_ms / dt))
        start = torch.arange(n, dtype=torch.float64) * dt
        eps = 1e-9 * dt
        self.contrast = torch.zeros(len(protocol.conditions), n)
        self.stimulus = torch.zeros(len(protocol.conditions), n, dtype=torch.long)
        for i, cond in enumerate(protocol.conditions):
            t_on = protocol.idle_ms
            for seg in cond.segments:
                on = (start >= t_on - eps) & (start < t_on + seg.on_ms - eps)
                self.contrast[i, on] = seg.contrast
                self.stimulus[i, on] = seg.stimulus
                t_on += seg.on_ms + seg.off_ms
        self.time_ms = (start + dt - protocol.idle_ms).float()
        self.dt = dt

    @property
    def n_steps(self) -> int:
        return self.time_ms.numel()

    def pieces(self, max_steps: int) -> list[tuple[int, int]]:
        """``(start, stop)`` step ranges over which no condition's frame changes, at most ``max_steps`` long."""
        change = ((self.contrast[:, 1:] != self.contrast[:, :-1]) | (self.stimulus[:, 1:] != self.stimulus[:, :-1])).any(0)
        bounds = [0, *(torch.nonzero(change).flatten() + 1).tolist(), self.n_steps]
        out = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            out += [(s, min(s + max_steps, b)) for s in range(a, b, max_steps)]
        return out

    def frames(self, images: Tensor, step: int, batch: "slice | None" = None) -> Tensor:
        """Frames at ``step`` for every (condition, image of ``batch``, default all), ``(n_conditions * B, C, H, W)``;
        segment ``stimulus=k`` shows the k-th next image of the whole set ``images``."""
        n = images.shape[0]
        index = torch.arange(n)[batch if batch is not None else slice(None)]
        idx = (index.unsqueeze(0) + self.stimulus[:, step].unsqueeze(1)) % n  # (n_cond, B)
        c = self.contrast[:, step].to(images).view(-1, 1, 1, 1, 1)
        return (c * images[idx.to(images.device)]).flatten(0, 1)


def _labels(values: Sequence[float], unit: str) -> list[str]:
    return [f"{v:g}{unit}" for v in values]


def duration(durations_ms: Sequence[float] = (17, 33, 67, 133, 267, 533), contrast: float = 1.0,
             idle_ms: float = 200.0, tail_ms: float = 467.0) -> Protocol:
    conds = [Condition(label=lab, segments=(Segment(on_ms=d, contrast=contrast),))
             for lab, d in zip(_labels(durations_ms, "ms"), durations_ms)]
    return Protocol(name="duration", conditions=tuple(conds), idle_ms=idle_ms, tail_ms=tail_ms,
                    params={"durations_ms": [float(d) for d in durations_ms]})


def contrast(contrasts: Sequence[float] = (0.0625, 0.125, 0.25, 0.5, 1.0), duration_ms: float = 500.0,
             idle_ms: float = 200.0, tail_ms: float = 300.0) -> Protocol:
    conds = [Condition(label=f"c{c:g}", segments=(Segment(on_ms=duration_ms, contrast=c),)) for c in contrasts]
    return Protocol(name="contrast", conditions=tuple(conds), idle_ms=idle_ms, tail_ms=tail_ms,
                    params={"contrasts": [float(c) for c in contrasts], "duration_ms": float(duration_ms)})


def interval(gaps_ms: Sequence[float] = (17, 33, 67, 133, 267, 533), pulse_ms: float = 133.0,
             idle_ms: float = 200.0, tail_ms: float = 300.0) -> Protocol:
    single = Condition(label="single", segments=(Segment(on_ms=pulse_ms),))
    pairs = [Condition(label=lab, segments=(Segment(on_ms=pulse_ms, off_ms=g), Segment(on_ms=pulse_ms)))
             for lab, g in zip(_labels(gaps_ms, "ms"), gaps_ms)]
    return Protocol(name="interval", conditions=(single, *pairs), idle_ms=idle_ms, tail_ms=tail_ms,
                    params={"gaps_ms": [float(g) for g in gaps_ms], "pulse_ms": float(pulse_ms)})


def response(duration_ms: float = 1000.0, idle_ms: float = 200.0, tail_ms: float = 300.0) -> Protocol:
    blank = Condition(label="blank", segments=(Segment(on_ms=duration_ms, contrast=0.0),))
    long = Condition(label="long", segments=(Segment(on_ms=duration_ms),))
    return Protocol(name="response", conditions=(long, blank), idle_ms=idle_ms, tail_ms=tail_ms,
                    params={"duration_ms": float(duration_ms)})


def memory(duration_ms: float = 133.0, idle_ms: float = 200.0, tail_ms: float = 500.0) -> Protocol:
    cond = Condition(label=f"{duration_ms:g}ms", segments=(Segment(on_ms=duration_ms),))
    return Protocol(name="memory", conditions=(cond,), idle_ms=idle_ms, tail_ms=tail_ms,
                    params={"duration_ms": float(duration_ms)})


PROTOCOLS: dict[str, Callable[..., Protocol]] = {
    "duration": duration, "contrast": contrast, "interval": interval, "response": response, "memory": memory,
}


def list_protocols() -> list[str]:
    return list(PROTOCOLS)


def protocol_parameters(name: str) -> dict[str, object]:
    """The parameters of built-in protocol ``name`` and their defaults."""
    return {k: p.default for k, p in inspect.signature(PROTOCOLS[name]).parameters.items()}


def get_protocol(name: str, **overrides: object) -> Protocol:
    """A built-in protocol, e.g. ``get_protocol("interval", gaps_ms=[50, 100])``; an unknown name or
    parameter is refused with the closest match and the full list."""
    if name not in PROTOCOLS:
        raise ValueError(f"protocol: {unknown_name('protocol', name, list_protocols())}; or give a protocol "
                         "YAML file (a path ending in .yaml)")
    params = protocol_parameters(name)
    listed = ", ".join(f"{k}={list(v) if isinstance(v, tuple) else v}" for k, v in params.items())
    for key in overrides:
        if key not in params:
            raise ValueError(f"protocol {name!r}: unknown parameter {key!r}{suggest(key, params)} "
                             f"(parameters of {name}: {listed})")
    try:  # the parameters' annotations checked too: a string where numbers belong is named, not a TypeError
        return validate_call(PROTOCOLS[name], config=ConfigDict(allow_inf_nan=False))(**overrides)
    except ValidationError as e:
        raise ValueError(f"protocol {name!r}: {describe(e)} (parameters of {name}: {listed})") from None
    except (TypeError, ValueError) as e:
        raise ValueError(f"protocol {name!r}: {e} (parameters of {name}: {listed})") from None
