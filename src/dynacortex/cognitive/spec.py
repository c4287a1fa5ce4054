"""Declarative cognitive tasks: periods in ms, what the screen shows, targets and the loss mask.

A task is a list of periods. Each period has a duration in ms (fixed, or ``[low, high]`` drawn
uniformly per batch), the layers shown on the screen (summed): ``fixation`` (a central dot) and
the trial's images (``stimulus``, ``sample``, ``test``, ``cue``: which exist depends on the trial
generator), pixel noise ``noise_std`` (redrawn every ``noise_frame_ms``), the target (``fixate``:
output unit 0; ``choice``: output unit 1 + the trial's choice; ``none``) and the loss weight.
Outputs follow neurogym's convention: unit 0 is fixation, units 1..n the choices.

Trial generators (:mod:`.trials`) draw the trial's images and its correct choice from an offline
dataset: ``classify`` (one ``stimulus``; choice = its class), ``match`` (``sample`` and ``test``;
choice 1 = match, 0 = non-match) and ``context`` (a digit left or right of centre as ``stimulus``
and a ``cue``; choice = the digit's class in context 0, its side in context 1).

Example (YAML)::

    name: go_no_go_digits
    trials: {generator: classify, classes: [3, 8]}
    periods:
      - {name: fixation, duration_ms: [100, 200], show: [fixation]}
      - {name: stimulus, duration_ms: 200, show: [fixation, stimulus], noise_std: 0.5}
      - {name: response, duration_ms: 100, target: choice, loss_weight: 5}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Period", "TrialsConfig", "TaskSpec", "GENERATOR_LAYERS"]

GENERATOR_LAYERS = {"classify": ("stimulus",), "match": ("sample", "test"), "context": ("stimulus", "cue")}
Duration = Union[float, tuple[float, float]]


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str
    duration_ms: Duration = Field(..., description="ms, or [low, high] drawn per batch")
    show: list[str] = Field(default_factory=list, description="screen layers: fixation or trial images")
    noise_std: float = Field(0.0, ge=0, description="std of the pixel noise added to the screen")
    target: Literal["fixate", "choice", "none"] = "fixate"
    loss_weight: float = Field(1.0, ge=0)

    @field_validator("duration_ms")
    @classmethod
    def _duration(cls, v: Duration) -> Duration:
        low, high = (v, v) if isinstance(v, (int, float)) else v
        if not 0 < low <= high:
            raise ValueError(f"must be > 0 ms, or [low, high] with 0 < low <= high, got {v}")
        return v

    def duration(self, u: float) -> float:
        """The duration (ms) at quantile ``u`` in [0, 1] of the range (a fixed duration ignores ``u``)."""
        if isinstance(self.duration_ms, (int, float)):
            return float(self.duration_ms)
        low, high = self.duration_ms
        return low + (high - low) * u


class TrialsConfig(BaseModel):
    """What a trial shows and its correct choice: generator, dataset, classes, coherence."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    generator: Literal["classify", "match", "context"] = "classify"
    dataset: Literal["digits", "shapes"] = "digits"
    classes: list[int] = Field(default_factory=lambda: [0, 1], description="dataset class indices used")
    coherence: list[float] = Field(default_factory=lambda: [1.0], description="image contrast, drawn per trial")
    match_probability: float = Field(0.5, ge=0, le=1)

    @field_validator("classes")
    @classmethod
    def _classes(cls, v: list[int]) -> list[int]:
        if len(v) < 2 or len(set(v)) != len(v) or min(v) < 0:
            raise ValueError(f"need at least two distinct non-negative class indices, got {v}")
        return v

    @field_validator("coherence")
    @classmethod
    def _coherence(cls, v: list[float]) -> list[float]:
        if not v or any(c < 0 for c in v):
            raise ValueError(f"need a non-empty list of values >= 0, got {v}")
        return v

    @model_validator(mode="after")
    def _context(self) -> "TrialsConfig":
        if self.generator == "context" and len(self.classes) != 2:
            raise ValueError(f"classes: the context generator needs exactly 2 classes (two choices), got {self.classes}")
        return self

    @property
    def n_choices(self) -> int:
        return 2 if self.generator in ("match", "context") else len(self.classes)


class TaskSpec(BaseModel):
    """A task: its trials and periods. ``image_size`` in pixels; fixation dot brightness in pixel units."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str
    trials: TrialsConfig = TrialsConfig()
    periods: list[Period]
    image_size: int = Field(16, ge=8)
    noise_frame_ms: float = Field(10.0, gt=0, description="the pixel noise is redrawn every this many ms")
    fixation_value: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _periods(self) -> "TaskSpec":
        if not self.periods:
            raise ValueError("periods: need at least one period")
        allowed = ("fixation", *GENERATOR_LAYERS[self.trials.generator])
        for p in self.periods:
            bad = [s for s in p.show if s not in allowed]
            if bad:
                raise ValueError(f"periods.{p.name}.show: {bad} not allowed with generator "
                                 f"{self.trials.generator!r}; allowed values are {list(allowed)}")
        if not any(p.target == "choice" and p.loss_weight > 0 for p in self.periods):
            raise ValueError("periods: no period has target 'choice' with loss_weight > 0; nothing to decide")
        names = [p.name for p in self.periods]
        if len(set(names)) != len(names):
            raise ValueError(f"periods: names must be unique, got {names}")
        return self

    @property
    def n_outputs(self) -> int:
        """Output units: fixation + one per choice."""
        return 1 + self.trials.n_choices

    @classmethod
    def from_yaml(cls, path: "str | Path") -> "TaskSpec":
        try:
            data = yaml.safe_load(Path(path).read_text())
        except yaml.YAMLError as e:
            raise ValueError(f"{path}: not valid YAML: {e}") from e
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a task mapping at the top level, got {type(data).__name__}")
        return cls.model_validate(data)
