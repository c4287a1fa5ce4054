"""Column parameters: the table in ``configs/columns.yaml`` (units in the names), validated by pydantic.

    params = load_column_parameters()                       # the packaged reference table
    params = load_column_parameters("my.yaml", overrides={"background_rate_hz": 10.0})
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["POPULATIONS", "TimeConstants", "TransferParameters", "SynapseCounts", "NetworkWiring",
           "ColumnParameters", "load_column_parameters"]

POPULATIONS = ("L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i")


def _eight(name: str, values: list[float]) -> list[float]:
    if len(values) != len(POPULATIONS):
        raise ValueError(f"{name}: needs one value per population {list(POPULATIONS)}, got {len(values)}")
    return values


def _population(name: str, pop: str) -> str:
    if pop not in POPULATIONS:
        raise ValueError(f"{name}: unknown population {pop!r}; allowed values are {list(POPULATIONS)}")
    return pop


class TimeConstants(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    membrane: float = Field(gt=0, description="tau_m (s)")
    synapse: float = Field(gt=0, description="tau_s (s)")
    adaptation: float = Field(gt=0, description="tau_a (s)")


class TransferParameters(BaseModel):
    """``f(x) = (a x - b) / (1 - exp(-d (a x - b)))`` in Hz; optional soft clamp of the exponent."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    gain: float = Field(gt=0, description="a")
    threshold: float = Field(description="b")
    noise_factor: float = Field(gt=0, description="d")
    exponent_clamp: Optional[float] = Field(None, gt=0, description="c in c*tanh(z/c); None: exact")


class SynapseCounts(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    background: list[float]
    background_small: float = Field(gt=0)
    feedforward: list[float]

    @field_validator("background", "feedforward")
    @classmethod
    def _len(cls, v: list[float], info: Any) -> list[float]:
        return _eight(f"synapse_counts.{info.field_name}", v)


class NetworkWiring(BaseModel):
    """Inter-column connections: ``[target, source, initial weight]`` rows, input ``[target, weight]``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lateral: list[tuple[str, str, float]]
    feedforward: list[tuple[str, str, float]]
    input: list[tuple[str, float]]
    output: list[str]

    @model_validator(mode="after")
    def _names(self) -> "NetworkWiring":
        for key in ("lateral", "feedforward"):
            for tgt, src, _ in getattr(self, key):
                _population(f"network.{key}", tgt), _population(f"network.{key}", src)
        for tgt, _ in self.input:
            _population("network.input", tgt)
        for pop in self.output:
            _population("network.output", pop)
        return self


class ColumnParameters(BaseModel):
    """The full parameter table of a laminar column (see configs/columns.yaml for sources)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    populations: list[str] = Field(default_factory=lambda: list(POPULATIONS))
    time_constants_s: TimeConstants
    capacitance: float = Field(gt=0, description="C; R = tau_m / C")
    adaptation_strength: list[float]
    background_rate_hz: float = Field(ge=0)
    synaptic_strength: float = Field(gt=0, description="J")
    transfer: TransferParameters
    connection_probabilities: list[list[float]]
    synapse_counts: SynapseCounts
    population_sizes: dict[str, list[float]]
    network: NetworkWiring

    @field_validator("populations")
    @classmethod
    def _pops(cls, v: list[str]) -> list[str]:
        if tuple(v) != POPULATIONS:
            raise ValueError(f"populations: must be {list(POPULATIONS)} in this order, got {v}")
        return v

    @field_validator("adaptation_strength")
    @classmethod
    def _kappa(cls, v: list[float]) -> list[float]:
        return _eight("adaptation_strength", v)

    @field_validator("connection_probabilities")
    @classmethod
    def _probs(cls, v: list[list[float]]) -> list[list[float]]:
        _eight("connection_probabilities", v)
        for row in v:
            _eight("connection_probabilities (row)", row)
            if any(not 0.0 <= p < 1.0 for p in row):
                raise ValueError(f"connection_probabilities: each entry must be in [0, 1), got {row}")
        return v

    @field_validator("population_sizes")
    @classmethod
    def _sizes(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        for area, sizes in v.items():
            _eight(f"population_sizes.{area}", sizes)
            if any(n < 2 for n in sizes):
                raise ValueError(f"population_sizes.{area}: every population needs >= 2 neurons, got {sizes}")
        return v

    @property
    def resistance(self) -> float:
        """R = tau_m / C (80 for the reference values)."""
        return self.time_constants_s.membrane / self.capacitance

    def sizes(self, area: str) -> list[float]:
        """Population sizes of ``area`` (case-insensitive)."""
        key = area.lower()
        if key not in self.population_sizes:
            raise ValueError(f"area: unknown area {area!r}; allowed values are {sorted(self.population_sizes)}")
        return self.population_sizes[key]


def load_column_parameters(path: "str | Path | None" = None, overrides: Optional[dict[str, Any]] = None
                           ) -> ColumnParameters:
    """Load and validate a column parameter file (default: the packaged ``configs/columns.yaml``).

    ``overrides`` replaces top-level entries (e.g. ``{"background_rate_hz": 10.0}``).
    """
    if path is None:
        text = resources.files("dynacortex").joinpath("configs/columns.yaml").read_text()
    else:
        text = Path(path).read_text()
    data = yaml.safe_load(text)
    data.update(overrides or {})
    return ColumnParameters.model_validate(data)
