"""The delayed normalization (DN) model of Zhou et al. (2019) as fitted by Groen et al. (2022), as an ODE.

The response to a contrast time course ``S(t)`` is

    L(t) = (h1 * S)(t - shift),   h1 = G(tau1) - w G(1.5 tau1),   G(tau)(t) = t / tau^2 e^(-t/tau)
    R(t) = scale |L|^n / (sigma^n + |h2 * L|^n),   h2(t) = e^(-t/tau2) / tau2

with unit-area kernels (Groen's ``DN.m`` sums each sampled kernel to 1; Zhou et al. 2019, PLOS Comput Biol
15:e1007484; Groen et al. 2022, J Neurosci 42:7562). A two-stage gamma kernel is a cascade of two leaky
stages and an exponential kernel one stage, so the model is the linear ODE system

    tau1 dx1/dt = -x1 + S,    tau1 dx2/dt = -x2 + x1(t - shift)          (L = x2 - w y2)
    1.5 tau1 dy1/dt = -y1 + S,  1.5 tau1 dy2/dt = -y2 + y1(t - shift)
    tau2 dP/dt = -P + L,      R = scale |L|^n / (sigma^n + |P|^n)

integrated by the engine like any area network: an ``input`` area ``(x1, y1)``, a connection with the delay
``shift`` (a time-invariant system, so delaying the input or the first stage's output is the same), and a
``DN`` area ``(x2, y2, P)`` whose output is ``R``. Defaults are the starting values ``x0`` of Groen's
``temporal_models/DN.json``: tau1 5 ms, w 0, tau2 70 ms, n 1.5, sigma 0.15, shift 60 ms, scale 2 (their fitted
per-area values are not part of the public code).

The stimulus is an image sequence like any model's; ``S(t)`` is its mean absolute value over channels and
pixels divided by ``contrast_unit`` (set it to that of the full-contrast images, so that a protocol's contrast
``c`` gives ``S = c``).
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor, nn

from ..layers import Area, Connection
from .config import NetworkConfig
from .network import AreaNetwork
from .registry import register_model

__all__ = ["DNConfig", "build_dn", "DNArea"]


class DNConfig(NetworkConfig):
    tau1: float = Field(5.0, gt=0, description="time constant of the linear filter h1 (ms)")
    weight: float = Field(0.0, ge=0, le=1, description="w: weight of h1's negative (1.5 tau1) lobe")
    tau2: float = Field(70.0, gt=0, description="time constant of the normalization pool's filter h2 (ms)")
    n: float = Field(1.5, gt=0, description="exponent")
    sigma: float = Field(0.15, gt=0, description="semi-saturation constant (contrast units)")
    shift: float = Field(60.0, ge=0, description="delay of the response (ms)")
    scale: float = Field(2.0, gt=0, description="gain of the response")
    contrast_unit: float = Field(1.0, gt=0, description="mean |image| of a full-contrast stimulus (S = mean|x| / unit)")
    num_classes: int = Field(1, ge=1, description="unused: the DN model has no readout")
    dt: float = Field(1.0, gt=0, description="integration step (ms)")
    solver: str = "rk4"


class ContrastSignal(nn.Module):
    """``S = mean |x| / unit`` over channels and pixels, as 2 channels ``(B, 2, 1, 1)`` (for x1 and y1)."""

    def __init__(self, unit: float):
        super().__init__()
        self.unit = unit

    def forward(self, x: Tensor) -> Tensor:
        s = x.abs().mean(dim=(1, 2, 3), keepdim=True) / self.unit
        return s.expand(-1, 2, -1, -1)


def _fixed_conv(weight: list[list[float]]) -> nn.Conv2d:
    w = torch.tensor(weight)
    conv = nn.Conv2d(w.shape[1], w.shape[0], 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(w.view(*w.shape, 1, 1))
    conv.weight.requires_grad_(False)
    return conv


class DNArea(Area):
    """The ``(x2, y2, P)`` stage; its output is ``R = scale |L|^n / (sigma^n + |P|^n)`` with ``L = x2 - w y2``."""

    separate_rates = True  # its recurrence (P's input L) reads the state, not R

    def __init__(self, cfg: DNConfig):
        super().__init__("DN", 3, tau=cfg.tau1, tau_per_channel=True, activation="identity",
                         recurrence=_fixed_conv([[0, 0, 0], [0, 0, 0], [1, -cfg.weight, 0]]))
        self.set_tau(1.5 * cfg.tau1, slice(1, 2))
        self.set_tau(cfg.tau2, slice(2, 3))
        self.w, self.n, self.sigma, self.scale = cfg.weight, cfg.n, cfg.sigma, cfg.scale

    @property
    def linear_output(self) -> bool:
        return False

    def rates(self, y: Tensor) -> Tensor:
        return y

    def output(self, y: Tensor) -> Tensor:
        lin = (y[:, :1] - self.w * y[:, 1:2]).abs()
        return self.scale * lin ** self.n / (self.sigma ** self.n + y[:, 2:3].abs() ** self.n)

    def steady_state(self, drive: Tensor) -> Tensor:
        lin = drive[:, :1] - self.w * drive[:, 1:2]
        return torch.cat([drive[:, :2], lin], dim=1)


def build_dn(cfg: DNConfig) -> AreaNetwork:
    """The DN model of ``cfg`` (no readout: use ``run`` / ``record`` or the experiment protocols)."""
    first = Area("input", 2, tau=cfg.tau1, tau_per_channel=True, activation="identity", recurrence="none")
    first.set_tau(1.5 * cfg.tau1, slice(1, 2))
    relay = Connection("input", "DN", _fixed_conv([[1, 0], [0, 1], [0, 0]]), cfg.shift)
    kwargs = cfg.network_kwargs()
    kwargs["channels_last"] = False  # 1 x 1 states: nothing to gain
    return AreaNetwork([first, DNArea(cfg)], ContrastSignal(cfg.contrast_unit), [relay], None, **kwargs)


register_model(
    "dn", config=DNConfig, default_input=(1, 8, 8),
    citation="Zhou, Benson, Kay & Winawer 2019, PLOS Comput Biol 15:e1007484; Groen et al. 2022, J Neurosci 42:7562",
    description="delayed normalization: linear filter, rectification, exponent, delayed divisive pool (one time course)",
)(build_dn)
