"""BLT: bottom-up, lateral and top-down recurrent convolutions (Spoerer et al. 2017/2020, Kietzmann et
al. 2019), in continuous time.

Layout after the Kietzmann lab's PyTorch BLT (64x64 input): a retina stem (3x3 conv, 32 channels,
ReLU), then V1, V2, V4, IT (64/128/256/512 channels). For area n

    tau dr_n/dt = -r_n + ReLU(GN(I_n))
    I_n = B_n(pool(r_{n-1})(t - t_feedforward)) + L_n(r_n(t - t_recurrence)) + T_n(r_{n+1}(t - t_feedback))

B: 3x3 conv (2x2 max-pool first, except into V1); L: 3x3 conv C_n -> C_n; T: stride-2 transposed 3x3
conv from the area above (none into IT). No conv biases; GroupNorm with one group (a LayerNorm over
C, H, W with per-channel affine) replaces BLT's per-step normalisation, which has no meaning in
continuous time. Readout: global average pool + linear on IT at every step. ``lateral`` and
``top_down`` switch L and T off (B, BL, BT, BLT). The delays default to one step of 2 ms, BLT's
"previous time step".
"""

from __future__ import annotations

from pydantic import Field, field_validator
from torch import nn

from ..layers import Area, Connection, TopDown, pooled_linear
from .config import NetworkConfig, area_taus
from .network import AreaNetwork
from .registry import register_model

__all__ = ["BLTConfig", "build_blt"]


class BLTConfig(NetworkConfig):
    channels: tuple[int, ...] = (64, 128, 256, 512)
    stem_channels: int = Field(32, ge=1)
    lateral: bool = True
    top_down: bool = True
    dt: float = Field(2.0, gt=0)
    tau: float | tuple[float, ...] = 2.0
    t_feedforward: float = Field(0.0, ge=0)
    t_recurrence: float = Field(2.0, ge=0)
    t_feedback: float = Field(2.0, ge=0)

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) < 2 or any(c < 1 for c in v):
            raise ValueError(f"must be at least 2 positive channel counts, got {v}")
        return v


def build_blt(cfg: BLTConfig) -> AreaNetwork:
    c = cfg.channels
    names = ("V1", "V2", "V4", "IT") if len(c) == 4 else tuple(f"L{i}" for i in range(len(c)))
    taus = area_taus(cfg.tau, names)

    def phi(ch: int) -> nn.Module:
        return nn.Sequential(nn.GroupNorm(1, ch), nn.ReLU())

    areas = [Area(n, ch, tau=tau, learn_tau=cfg.learn_tau, recurrence="full" if cfg.lateral else "none",
                  t_recurrence=cfg.t_recurrence, phi=phi(ch)) for n, ch, tau in zip(names, c, taus)]
    connections = [Connection(names[i], names[i + 1], nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(c[i], c[i + 1], 3, padding=1, bias=False)),
                              cfg.t_feedforward) for i in range(len(c) - 1)]
    if cfg.top_down:
        connections += [Connection(names[i + 1], names[i], TopDown(c[i + 1], c[i]), cfg.t_feedback, kind="feedback")
                        for i in range(len(c) - 1)]
    stem = nn.Sequential(nn.Conv2d(cfg.stem_in_channels, cfg.stem_channels, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(cfg.stem_channels, c[0], 3, padding=1, bias=False))
    readout = pooled_linear(c[-1], cfg.num_classes)
    return AreaNetwork(areas, stem, connections, readout, **cfg.network_kwargs())


register_model(
    "blt", config=BLTConfig, default_input=(3, 64, 64),
    citation="Spoerer et al. 2020 PLoS Comput Biol; Kietzmann et al. 2019 PNAS (BLT recurrent convolutional networks)",
    description="Bottom-up, lateral and top-down recurrent convolutions, V1-IT 64-512 channels, in continuous time",
)(build_blt)
