"""DyRCNNx4: a four-area (V1, V2, V4, IT) recurrent convolutional network in continuous time.

Areas follow :class:`~dynacortex.layers.Area` (rate form ``tau dr/dt = -r + Phi(I)`` by default;
``form="voltage"``: ``tau dv/dt = -v + I``, ``r = Phi(v)``). The
architecture follows DynVision's DyRCNNx4: 3x3 convolutions, channels 36/64/121/256, max-pool 3/2
after V1 and V2, stride 2 into IT, skips V1->V4 and V2->IT (1x1 conv + resampling), optional
feedback V4->V1 and IT->V2, and a classifier (global average pool + linear) on IT at every step.

Delays (ms): ``t_feedforward`` between consecutive areas, ``t_recurrence`` within an area,
``t_skip`` on skips, ``t_feedback`` on feedback.

DynVision 0.1.0's own discrete step is opt-in: ``update="rectified"``, ``recurrence_layout="dynvision"``,
``recurrence_bias=True``, ``resample="nearest"`` here, and the network's ``ordering="sequential"``,
``delay_from="step_end"``, ``start="on_input"``, ``readout_delay=t_feedforward``;
:func:`~dynacortex.models.load_dynvision` sets them and loads DynVision's checkpoints (``models/dynvision.py``).

``populations="ei"``: every area is an :class:`~dynacortex.layers.EIArea` (``channels`` excitatory plus
``inhibitory_channels`` inhibitory channels, ``tau`` and ``tau_inhibitory``; the sign-constrained E/I
convolutions replace the recurrence type) and every projection between areas carries excitatory
rates with non-negative weights onto both populations (Dale's law throughout; the stem from the
image is not constrained, pixels are not neurons).
"""

from __future__ import annotations

from typing import Literal, Optional

import torch
from pydantic import Field, field_validator, model_validator
from torch import nn
from torch.nn.utils import parametrize

from ..layers import Adapter, Area, Connection, EIArea, NonNegative, pooled_linear
from ..layers.recurrence import DYNVISION_TYPES, RECURRENCE_TYPES
from .config import NetworkConfig, area_taus, check_activation, check_channels
from .network import AreaNetwork
from .registry import register_model

__all__ = ["DyRCNNConfig", "build_dyrcnn"]

AREA_NAMES = ("V1", "V2", "V4", "IT")

Recurrence = Literal[
    "none", "identity", "self", "full", "depthwise", "pointwise", "depthpointwise", "pointdepthwise", "local",
    "localdepthwise",
]
assert set(Recurrence.__args__) == set(RECURRENCE_TYPES)  # type: ignore[attr-defined]


class DyRCNNConfig(NetworkConfig):
    """Configuration of a DyRCNN model; every field is validated, unknown fields are refused."""

    channels: tuple[int, ...] = (36, 64, 121, 256)
    recurrence: Recurrence = "full"
    recurrence_kernel_size: int = Field(3, ge=1)
    local_kernel_size: int = Field(3, ge=1)
    recurrence_gain: Optional[float] = Field(None, gt=0, description="bound on the recurrence's operator norm")
    tau_per_channel: bool = False
    t_recurrence: float = Field(6.0, ge=0, description="delay of the recurrence (ms)")
    t_skip: float = Field(0.0, ge=0, description="delay of skip connections (ms)")
    t_feedback: float = Field(30.0, ge=0, description="delay of feedback connections (ms)")
    skip: bool = True
    feedback: bool = False
    activation: str = "relu"
    form: Literal["rate", "voltage"] = "rate"
    update: Literal["ode", "rectified"] = Field(
        "ode", description="'rectified': DynVision's step r <- Phi(r + dt/tau (I - r)) (needs the euler solver)")
    recurrence_layout: Literal["dynacortex", "dynvision"] = Field(
        "dynacortex", description="'dynvision': DynVision 0.1.0's parametrisation of each recurrence type")
    recurrence_bias: bool = Field(False, description="the recurrence carries biases (DynVision)")
    resample: Literal["area", "nearest"] = Field(
        "area", description="how skip and feedback adapters resize: 'area' (average / bilinear) or 'nearest' (DynVision)")
    operations: tuple[Literal["norm", "activation"], ...] = ("activation",)
    populations: Literal["single", "ei"] = Field("single", description="one population per area, or E and I")
    inhibitory_channels: Optional[tuple[int, ...]] = Field(None, description="I channels per area (default C/4)")
    tau_inhibitory: Optional[float] = Field(None, gt=0, description="tau of the I populations (ms; default tau)")

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        return check_channels(v, AREA_NAMES)

    @field_validator("inhibitory_channels")
    @classmethod
    def _inhibitory(cls, v: Optional[tuple[int, ...]]) -> Optional[tuple[int, ...]]:
        return v if v is None else check_channels(v, AREA_NAMES)

    @field_validator("activation")
    @classmethod
    def _activation(cls, v: str) -> str:
        return check_activation(v)

    @model_validator(mode="after")
    def _checks(self) -> "DyRCNNConfig":
        for name in ("recurrence_kernel_size", "local_kernel_size"):
            if getattr(self, name) % 2 != 1:
                raise ValueError(f"{name}: must be odd, got {getattr(self, name)}")
        area_taus(self.tau, AREA_NAMES)
        if self.update != "ode" and (self.solver != "euler" or self.form != "rate"):
            raise ValueError(f"update={self.update!r}: needs solver='euler' and form='rate'")
        if self.recurrence_layout == "dynvision" and self.recurrence not in DYNVISION_TYPES:
            raise ValueError(f"recurrence: {self.recurrence!r} is not a DynVision type; with recurrence_layout="
                             f"'dynvision' allowed values are {list(DYNVISION_TYPES)}")
        for mech in (self.adaptation, self.normalization):
            if mech is not None:
                mech.for_area(0, len(AREA_NAMES))  # tuples must have one value per area
        if self.populations == "ei":
            if self.adaptation is not None or self.normalization is not None:
                raise ValueError("adaptation/normalization: not available with populations='ei'")
            for name, allowed in (("recurrence", "full"), ("recurrence_gain", None), ("operations", ("activation",)),
                                  ("update", "ode"), ("recurrence_layout", "dynacortex"), ("recurrence_bias", False)):
                if getattr(self, name) != allowed:
                    raise ValueError(f"{name}: must be {allowed!r} with populations='ei' (the E/I convolutions are "
                                     f"the recurrence), got {getattr(self, name)!r}")
        return self

    @property
    def inhibitory(self) -> tuple[int, ...]:
        """I channels per area (``populations="ei"``)."""
        return self.inhibitory_channels or tuple(max(1, ch // 4) for ch in self.channels)


def build_dyrcnn(cfg: DyRCNNConfig) -> AreaNetwork:
    """Build the DyRCNNx4 network described by ``cfg``."""
    c = cfg.channels
    taus = area_taus(cfg.tau, AREA_NAMES)
    ei = cfg.populations == "ei"
    d = tuple(e + i for e, i in zip(c, cfg.inhibitory)) if ei else c  # channels each area receives
    areas = [
        EIArea(name, ch, ich, tau=tau, tau_inhibitory=cfg.tau_inhibitory, kernel_size=cfg.recurrence_kernel_size,
               learn_tau=cfg.learn_tau, activation=cfg.activation, form=cfg.form, t_recurrence=cfg.t_recurrence)
        for name, ch, ich, tau in zip(AREA_NAMES, c, cfg.inhibitory, taus)
    ] if ei else [
        Area(
            name, ch, tau=tau, learn_tau=cfg.learn_tau, tau_per_channel=cfg.tau_per_channel,
            activation=cfg.activation, form=cfg.form, recurrence=cfg.recurrence,
            recurrence_kernel_size=cfg.recurrence_kernel_size, local_kernel_size=cfg.local_kernel_size,
            t_recurrence=cfg.t_recurrence, operations=cfg.operations, recurrence_gain=cfg.recurrence_gain,
            recurrence_layout=cfg.recurrence_layout, recurrence_bias=cfg.recurrence_bias, update=cfg.update,
            **cfg.mechanisms(k, len(AREA_NAMES)),
        )
        for k, (name, ch, tau) in enumerate(zip(AREA_NAMES, c, taus))
    ]

    def pool() -> nn.Module:
        return nn.MaxPool2d(3, stride=2, padding=1)

    ff = cfg.t_feedforward
    connections = [
        Connection("V1", "V2", nn.Sequential(pool(), nn.Conv2d(c[0], d[1], 3, padding=1)), ff),
        Connection("V2", "V4", nn.Sequential(pool(), nn.Conv2d(c[1], d[2], 3, padding=1)), ff),
        Connection("V4", "IT", nn.Conv2d(c[2], d[3], 3, stride=2, padding=1), ff),
    ]
    if cfg.skip:
        connections += [
            Connection("V1", "V4", Adapter(c[0], d[2], resample=cfg.resample), cfg.t_skip, kind="skip"),
            Connection("V2", "IT", Adapter(c[1], d[3], resample=cfg.resample), cfg.t_skip, kind="skip"),
        ]
    if cfg.feedback:
        connections += [
            Connection("V4", "V1", Adapter(c[2], d[0], resample=cfg.resample), cfg.t_feedback, kind="feedback"),
            Connection("IT", "V2", Adapter(c[3], d[1], resample=cfg.resample), cfg.t_feedback, kind="feedback"),
        ]
    if ei:  # excitatory projections: non-negative weights, scaled so that a mean rate passes on with gain ~1
        for conv in [m for conn in connections for m in conn.modules() if isinstance(m, nn.Conv2d)]:
            with torch.no_grad():
                conv.weight.mul_(2.0 / conv.weight[0].numel() ** 0.5)
            parametrize.register_parametrization(conv, "weight", NonNegative())
    readout = pooled_linear(c[3], cfg.num_classes)
    return AreaNetwork(areas, nn.Conv2d(cfg.stem_in_channels, d[0], 3, padding=1), connections, readout, **cfg.network_kwargs())


register_model(
    "dyrcnnx4", config=DyRCNNConfig,
    citation="Gutzeit et al., DynVision (Lindsay lab); architecture after DynVision's DyRCNNx4",
    description="V1-V2-V4-IT recurrent conv net, 36/64/121/256 channels, skips V1->V4 and V2->IT",
)(build_dyrcnn)
