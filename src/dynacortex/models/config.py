"""Config fields every area-network model shares: classes, time (dt, tau, delays), solver, checks.

A model's config subclasses :class:`NetworkConfig` and adds its architecture fields; pydantic
validates each field and refuses unknown ones, naming them.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..dynamics import list_solvers
from ..layers import Retina, RetinaConfig, list_activations
from ..layers.frontend import FrontEnd, FrontEndConfig
from ..layers.mechanisms import AdaptationConfig, NormalizationConfig
from .step_limits import check_step

__all__ = ["NetworkConfig", "area_taus", "check_channels"]


class NetworkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    num_classes: int = Field(10, ge=1)
    in_channels: int = Field(3, ge=1)
    dt: float = Field(2.0, gt=0, description="integration step (ms)")
    tau: Union[float, tuple[float, ...]] = Field(5.0, description="time constant (ms), one or one per area")
    learn_tau: bool = False
    t_feedforward: float = Field(0.0, ge=0, description="delay between consecutive areas (ms)")
    t_recurrence: float = Field(0.0, ge=0, description="delay of the recurrence (ms)")
    solver: str = "euler"
    stability_check: bool = False
    noise: Optional[Union[float, tuple[float, ...]]] = Field(
        None, description="state noise sigma (rate units per sqrt(ms)), one or one per area; None: deterministic")
    allow_unstable: bool = False
    retina: Optional[RetinaConfig] = Field(None, description="a retina stage before the stem (None: none)")
    frontend: Optional[FrontEndConfig] = Field(None, description="a delayed relay before the stem: retina/LGN latency")
    adaptation: Optional[AdaptationConfig] = Field(None, description="slow adaptation in every area (None: off)")
    normalization: Optional[NormalizationConfig] = Field(None, description="a delayed normalization pool in every area")
    learn_delays: bool = Field(False, description="every connection's delay becomes a parameter in delay_bounds")
    delay_bounds: tuple[float, float] = Field((0.0, 50.0), description="(lo, hi) of learnable delays (ms)")
    channels_last: bool = Field(True, description="channels-last memory order (same values, faster convolutions)")
    ordering: Literal["simultaneous", "sequential"] = Field(
        "simultaneous", description="'sequential': areas updated in order within a step (Gauss-Seidel; DynVision)")
    delay_from: Literal["step_start", "step_end"] = Field(
        "step_start", description="'step_end': a step reads its terms at its end minus the delay, so a delay of "
                                  "k dt is k steps (DynVision)")
    start: Literal["rest", "on_input"] = Field(
        "rest", description="'on_input': an area is silent until its first input arrives; reads of it add nothing "
                            "(DynVision)")
    readout_delay: float = Field(0.0, ge=0, description="the readout reads the rates this many ms earlier (ms)")

    @model_validator(mode="after")
    def _stages(self) -> "NetworkConfig":
        if self.retina is not None and self.frontend is not None:
            raise ValueError("frontend: give a retina or a frontend, not both (the retina has its own delay)")
        if self.ordering == "sequential" and self.delay_from != "step_end":
            raise ValueError("ordering='sequential': needs delay_from='step_end'")
        if (self.ordering, self.delay_from) != ("simultaneous", "step_start") and self.solver != "euler":
            raise ValueError(f"solver: ordering/delay_from step conventions need 'euler', got {self.solver!r}")
        if self.learn_delays and (self.delay_from != "step_start" or self.start != "rest"):
            raise ValueError("learn_delays: needs delay_from='step_start' and start='rest'")
        return self

    @field_validator("delay_bounds")
    @classmethod
    def _bounds(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= v[0] < v[1]:
            raise ValueError(f"must be (lo, hi) with 0 <= lo < hi ms, got {v}")
        return v

    @field_validator("tau")
    @classmethod
    def _tau(cls, v: Union[float, tuple[float, ...]]) -> Union[float, tuple[float, ...]]:
        if any(not t > 0 for t in (v if isinstance(v, tuple) else (v,))):
            raise ValueError(f"must be > 0 ms, got {v}")
        return v

    @field_validator("solver")
    @classmethod
    def _solver(cls, v: str) -> str:
        if v not in list_solvers():
            raise ValueError(f"unknown solver {v!r}; allowed values are {list_solvers()}")
        return v

    @model_validator(mode="after")
    def _step(self) -> "NetworkConfig":
        """dt against the smallest tau: refused beyond the solver's stability limit, a warning beyond
        its accuracy limit (:mod:`.step_limits`); checked here so that a config fails before any work."""
        check_step(self.dt, min(self.tau) if isinstance(self.tau, tuple) else self.tau, self.solver, self.allow_unstable)
        return self

    @property
    def stem_in_channels(self) -> int:
        """Channels the model's stem receives: the stimulus's, or the retina's output channels."""
        return self.retina.out_channels(self.in_channels) if self.retina else self.in_channels

    def mechanisms(self, k: int, n: int) -> dict:
        """Keyword arguments of :class:`~dynacortex.layers.Area` for the mechanisms of area ``k`` of ``n``."""
        return dict(adaptation=self.adaptation.for_area(k, n) if self.adaptation else None,
                    normalization=self.normalization.for_area(k, n) if self.normalization else None)

    def network_kwargs(self) -> dict:
        """Keyword arguments of :class:`~dynacortex.models.AreaNetwork` taken from this config."""
        return dict(in_channels=self.in_channels, dt=self.dt, solver=self.solver,
                    stability_check=self.stability_check, allow_unstable=self.allow_unstable, noise=self.noise,
                    retina=(Retina(self.in_channels, self.retina) if self.retina else
                            FrontEnd(self.in_channels, self.frontend) if self.frontend else None),
                    delay_bounds=self.delay_bounds if self.learn_delays else None,
                    channels_last=self.channels_last, ordering=self.ordering, delay_from=self.delay_from,
                    start=self.start, readout_delay=self.readout_delay)


def area_taus(tau: Union[float, tuple[float, ...]], names: tuple[str, ...]) -> tuple[float, ...]:
    """One tau per area from a scalar or a per-area tuple (which must match the areas)."""
    if isinstance(tau, tuple):
        if len(tau) != len(names):
            raise ValueError(f"tau: must be one value or {len(names)} ({', '.join(names)}), got {len(tau)}")
        return tau
    return (tau,) * len(names)


def check_activation(v: str) -> str:
    """Validate an activation name against the registry."""
    if v not in list_activations():
        raise ValueError(f"unknown activation {v!r}; allowed values are {list_activations()}")
    return v


def check_channels(v: tuple[int, ...], names: tuple[str, ...]) -> tuple[int, ...]:
    """Validate one positive channel count per area."""
    if len(v) != len(names) or any(c < 1 for c in v):
        raise ValueError(f"must be {len(names)} positive channel counts ({', '.join(names)}), got {v}")
    return v
