"""Population signals recorded per area and step: the mean rate, or what an ECoG electrode would see.

``mean`` (default): the rate averaged over all units of the area,

    S_a(t) = (1 / N_a) sum_{c, x} r_c(x, t)

``ecog``: a broadband-ECoG proxy, the rectified activity under an electrode,

    S_a(t) = (1 / C_a) sum_c sum_x w_a(x) [r_c(x, t)]_+,     w_a(x) = exp(-|x - x0|^2 / (2 rho^2)) / Z_a

with ``x`` the centre of each of the area's pixels in visual-field coordinates ``[0, 1]^2`` (every
area's map spans the whole image), ``x0 = center``, ``rho = radius`` (a fraction of the image width)
and ``Z_a`` normalising ``w_a`` to sum 1 on the area's grid. The same electrode footprint thus covers
the same part of the visual field in every area, whatever its resolution, and the value is a
population-averaged rate under it, comparable across areas with different channel counts.

Assumptions (why this is an ECoG proxy and what it leaves out): broadband (high-gamma) ECoG power
tracks the summed firing of the population near the electrode (Miller et al. 2009; Manning et al.
2009), which is what Groen et al. (2022) analysed; rates are rectified because firing is positive.
It ignores volume conduction from distant areas, the geometry of dendrites, and the synaptic
currents that dominate the low-frequency LFP (Mazzoni et al. 2008): for a rate-form area the input
current is not part of the state, so an LFP proxy from synaptic currents is not provided.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import Tensor

__all__ = ["SignalConfig", "PopulationSignal", "aperture", "SIGNALS"]

SIGNALS = ("mean", "ecog")


class SignalConfig(BaseModel):
    """Which population signal ``response`` holds; the aperture applies to ``ecog`` only."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    kind: Literal["mean", "ecog"] = "mean"
    center: tuple[float, float] = Field((0.5, 0.5), description="electrode position (row, column) in [0, 1]")
    radius: float = Field(0.25, gt=0, description="SD of the footprint, fraction of the image width")

    @field_validator("center")
    @classmethod
    def _inside(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= c <= 1.0 for c in v):
            raise ValueError(f"must lie in [0, 1] x [0, 1] (fractions of the image), got {v}")
        return v

    def describe(self) -> str:
        if self.kind == "mean":
            return "rate (a.u.), mean over all units"
        return (f"ECoG proxy: rectified rate (a.u.), channel mean, Gaussian aperture at {self.center} "
                f"with SD {self.radius:g} of the image")


def aperture(height: int, width: int, center: tuple[float, float], radius: float) -> Tensor:
    """``(height, width)`` weights of a Gaussian footprint on a grid spanning ``[0, 1]^2``; they sum to 1."""
    rows = (torch.arange(height, dtype=torch.float64) + 0.5) / height - center[0]
    cols = (torch.arange(width, dtype=torch.float64) + 0.5) / width - center[1]
    w = torch.exp(-(rows[:, None] ** 2 + cols[None, :] ** 2) / (2 * radius**2))
    return w / w.sum()


class PopulationSignal:
    """Computes the configured signal of every area: ``rates`` (per area ``(B, C, H, W)``) -> ``(B, areas)``."""

    def __init__(self, cfg: "SignalConfig | str", shapes: "list[torch.Size]", like: Tensor):
        if isinstance(cfg, str):
            if cfg not in SIGNALS:
                raise ValueError(f"signal: unknown signal {cfg!r}; allowed values are {list(SIGNALS)}")
            cfg = SignalConfig(kind=cfg)
        self.cfg = cfg
        self.weights = [aperture(s[-2], s[-1], cfg.center, cfg.radius).to(like) for s in shapes] if cfg.kind == "ecog" else None

    def __call__(self, rates: "list[Tensor]") -> Tensor:
        if self.weights is None:
            return torch.stack([r.flatten(1).mean(1) for r in rates], dim=1)
        return torch.stack([(torch.relu(r) * w).sum((2, 3)).mean(1) for r, w in zip(rates, self.weights)], dim=1)
