"""A retina-like first stage: centre-surround ON/OFF channels with light and contrast adaptation.

For each input channel (or their mean, ``channels="luminance"``) the stimulus is a luminance
``B + x(t)``: ``x`` is the model's input as everywhere in dynacortex (a blank screen is 0) and
``B = background`` the luminance of that blank. The retina integrates four leaky states per pixel:

    tau_lum      dm/dt = -m + G_lum * x                                  local mean luminance, minus B
    tau_contrast dg/dt = -g + G_con * |u|                                local contrast
    tau          dr/dt = -r + u / (c50 + g)                              contrast-normalised signal
    tau_transient dz/dt = -z + r                                         slow trace of r

    u = (G_c * x - w_s G_s * x + (1 - w_s) B) / (L0 + [B + m]_+)        Weber-scaled centre-surround

so the zero state is the retina adapted to the blank screen (exactly at rest when ``w_s = 1``).

``G_sigma *`` is a normalised Gaussian blur (replicate padding, so the image border is not an edge);
``G_c - w_s G_s`` is the difference of Gaussians (``w_s = 1``: no response to uniform light). Dividing
by the adapted luminance makes the response depend on contrast, not on light level (Weber's law),
once ``m`` has caught up (``tau_lum``). Dividing by ``c50 + g`` is divisive contrast gain control
(steady state ``r = u / (c50 + G_con * |u|)``: linear below ``c50``, compressive above). The outputs
are rectified ON and OFF channels of the sustained signal, ``[r]_+`` and ``[-r]_+``, and with
``transient=True`` also of the transient signal ``r - z`` (a step drives it up and it decays with
``tau_transient``):

    output = ([r]_+, [-r]_+, [r - z]_+, [z - r]_+)        (blocks of C channels, in this order)

Sizes are given in degrees of visual angle and converted with ``pixels_per_degree``; times in ms.
Defaults: centre 0.1 deg, surround 0.3 deg (Croner & Kaplan 1995 put primate surrounds at several
centre radii), light adaptation 100 ms, contrast adaptation 100 ms (the fast component in
Baccus & Meister 2002), integration 10 ms, background 0.5. The retina is a stage of the network's
ODE: the same solver, dt and history integrate it.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import Tensor, nn

__all__ = ["Retina", "RetinaConfig", "gaussian_blur"]


class RetinaConfig(BaseModel):
    """Parameters of :class:`Retina` (sizes in degrees, times in ms); unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    pixels_per_degree: float = Field(8.0, gt=0, description="image pixels per degree of visual angle")
    sigma_center: float = Field(0.1, gt=0, description="centre Gaussian SD (deg)")
    sigma_surround: float = Field(0.3, gt=0, description="surround Gaussian SD (deg)")
    surround_weight: float = Field(1.0, ge=0, le=1, description="integral of the surround relative to the centre")
    sigma_luminance: float = Field(1.0, gt=0, description="pool of the luminance adaptation (deg)")
    sigma_contrast: float = Field(0.5, gt=0, description="pool of the contrast gain control (deg)")
    background: float = Field(0.5, ge=0, description="B: luminance of a zero input (the blank screen)")
    dark_luminance: float = Field(0.05, gt=0, description="L0: luminance at which Weber scaling halves")
    c50: float = Field(0.1, gt=0, description="semi-saturation contrast of the gain control")
    tau: float = Field(10.0, gt=0, description="integration time of the output signal (ms)")
    tau_luminance: float = Field(100.0, gt=0, description="light adaptation (ms)")
    tau_contrast: float = Field(100.0, gt=0, description="contrast adaptation (ms)")
    tau_transient: float = Field(30.0, gt=0, description="decay of the transient channels (ms)")
    transient: bool = Field(True, description="add transient ON/OFF channels")
    channels: Literal["each", "luminance"] = Field("each", description="'each' input channel or their mean")
    delay: float = Field(0.0, ge=0, description="retina -> first cortical area (ms)")

    @model_validator(mode="after")
    def _surround_wider(self) -> "RetinaConfig":
        if self.sigma_surround <= self.sigma_center:
            raise ValueError(f"sigma_surround: must exceed sigma_center ({self.sigma_center} deg), "
                             f"got {self.sigma_surround}")
        return self

    def out_channels(self, in_channels: int) -> int:
        """Channels the retina sends on for a stimulus of ``in_channels``."""
        return (1 if self.channels == "luminance" else in_channels) * (4 if self.transient else 2)


def _kernel(sigma_px: float) -> Tensor:
    radius = max(1, math.ceil(3 * sigma_px))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (x / sigma_px) ** 2)
    return (k / k.sum()).float()


def gaussian_blur(x: Tensor, kernel: Tensor) -> Tensor:
    """Separable normalised Gaussian blur of ``x`` (B, C, H, W) with replicate padding."""
    c, r = x.shape[1], kernel.numel() // 2
    k = kernel.to(x.dtype)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


class Retina(nn.Module):
    """The retina stage (see the module docstring); it follows :class:`~dynacortex.layers.Area`'s protocol.

    State ``(B, 4 C, H, W)``: ``[m, g, r, z]`` stacked along channels (C = channels it sees).
    """

    recurrence = None
    t_recurrence = 0.0
    form = "retina"

    def __init__(self, in_channels: int, cfg: "RetinaConfig | None" = None, name: str = "retina"):
        super().__init__()
        self.cfg = cfg = cfg or RetinaConfig()
        self.name, self.in_channels = name, in_channels
        self.c = 1 if cfg.channels == "luminance" else in_channels
        self.channels = cfg.out_channels(in_channels)
        self.delay = cfg.delay
        ppd = cfg.pixels_per_degree
        for key, sigma in (("center", cfg.sigma_center), ("surround", cfg.sigma_surround),
                           ("luminance", cfg.sigma_luminance), ("contrast", cfg.sigma_contrast)):
            self.register_buffer(f"k_{key}", _kernel(sigma * ppd), persistent=False)
        taus = torch.tensor([cfg.tau_luminance, cfg.tau_contrast, cfg.tau, cfg.tau_transient])
        self.register_buffer("_tau", taus.repeat_interleave(self.c).view(-1, 1, 1), persistent=False)

    @property
    def tau(self) -> Tensor:
        """Time constants (ms) per state channel, ``(4 C, 1, 1)``."""
        return self._tau

    def state_shape(self, drive_shape: torch.Size) -> torch.Size:
        return torch.Size((4 * self.c, *drive_shape[1:]))

    def _luminance(self, x: Tensor) -> Tensor:
        return x.mean(1, keepdim=True) if self.cfg.channels == "luminance" else x

    def _contrast(self, x: Tensor, m: Tensor) -> Tensor:
        """``u``: the Weber-scaled centre-surround signal."""
        cfg = self.cfg
        dog = gaussian_blur(x, self.k_center) - cfg.surround_weight * gaussian_blur(x, self.k_surround)
        if cfg.surround_weight != 1.0:
            dog = dog + (1 - cfg.surround_weight) * cfg.background
        return dog / (cfg.dark_luminance + torch.relu(cfg.background + m))

    def derivative(self, y: Tensor, drive: Tensor, scale: "float | Tensor" = 1.0) -> Tensor:
        m, g, r, z = y.chunk(4, dim=1)
        x = self._luminance(drive)
        u = self._contrast(x, m)
        target = torch.cat([gaussian_blur(x, self.k_luminance), gaussian_blur(u.abs(), self.k_contrast),
                            u / (self.cfg.c50 + g), r], dim=1)
        return (target - y) * (scale / self._tau)

    def steady_state(self, drive: Tensor) -> Tensor:
        """The state after adapting to a static stimulus ``drive`` for long."""
        x = self._luminance(drive)
        m = gaussian_blur(x, self.k_luminance)
        u = self._contrast(x, m)
        g = gaussian_blur(u.abs(), self.k_contrast)
        r = u / (self.cfg.c50 + g)
        return torch.cat([m, g, r, r], dim=1)

    def output(self, y: Tensor) -> Tensor:
        _, _, r, z = y.chunk(4, dim=1)
        parts = [r, -r, r - z, z - r] if self.cfg.transient else [r, -r]
        return torch.relu(torch.cat(parts, dim=1))

    rates = output

    def extra_repr(self) -> str:
        return f"name={self.name}, in_channels={self.in_channels}, out_channels={self.channels}"
