"""Biological mechanisms of an area: slow adaptation and a delayed divisive-normalization pool.

Both are extra state of the area, integrated by the same solvers, delay history and checkpointing as its
rates. With either on (rate form only), the state holds after the ``C`` rate channels ``r`` the adaptation
``a`` (``C`` channels) and the pool ``N`` (1 channel), and

    tau   dr/dt = -r + Phi(I - g a) / (1 + [N]_+ / sigma)
    tau_a da/dt = -a + r                                   adaptation
    tau_N dN/dt = -N + mean_c r                            normalization pool

- **Adaptation** (``g`` = ``strength``, ``tau_a``): a slow variable that follows the unit's own rate and is
  subtracted from its input, like spike-frequency adaptation (the columns' ``w``; Benda & Herz 2003). It
  makes responses to a sustained input decline and leaves a trace that suppresses a second stimulus.
- **Normalization** (``sigma``, ``tau_N``): the unit's response is divided by a pool, the low-passed mean
  rate of all channels of the area at its position (a normalization pool across features; Carandini &
  Heeger 2012). Because the pool lags the rates (``tau_N``), the onset escapes it (a transient), the response
  settles lower (compressive, subadditive summation), high contrast recruits it sooner (earlier peaks), and
  it outlasts the stimulus (a suppressed response to a second one): the delayed normalization of Zhou et al.
  (2019) and the ORGaNICs of Heeger & Mackey (2019), driven by the area's own activity.

An area without them is the same area with them off (:class:`~dynacortex.layers.Area` ``adaptation=None,
normalization=None``): its state is ``r`` alone.
"""

from __future__ import annotations

from typing import Optional

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

__all__ = ["AdaptationConfig", "NormalizationConfig", "Mechanisms"]


class AdaptationConfig(BaseModel):
    """Slow subtractive adaptation ``tau_a da/dt = -a + r``, input ``I - strength * a``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    tau: float = Field(200.0, gt=0, description="tau_a (ms)")
    strength: float = Field(0.5, ge=0, description="g: input subtracted per unit of adaptation")


class NormalizationConfig(BaseModel):
    """Delayed divisive normalization ``r_target = Phi(.) / (1 + N / sigma)``, ``tau_N dN/dt = -N + mean_c r``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    tau: float = Field(80.0, gt=0, description="tau_N: time constant of the pool (ms)")
    sigma: float = Field(0.1, gt=0, description="semi-saturation: the pool level that halves the response")


class Mechanisms(nn.Module):
    """The extra state and the targets of an area's mechanisms (see the module docstring)."""

    def __init__(self, channels: int, adaptation: Optional[AdaptationConfig],
                 normalization: Optional[NormalizationConfig]):
        super().__init__()
        self.c, self.adaptation, self.normalization = channels, adaptation, normalization
        self.extra = (channels if adaptation else 0) + (1 if normalization else 0)
        taus = [adaptation.tau] * channels if adaptation else []
        taus += [normalization.tau] if normalization else []
        self.register_buffer("taus", torch.tensor(taus).view(-1, 1, 1), persistent=False)

    def tau(self, tau_r: "float | Tensor") -> Tensor:
        """Time constants of the whole state ``(C + extra, 1, 1)`` from the rates' ``tau_r``."""
        rates = torch.as_tensor(tau_r, dtype=self.taus.dtype, device=self.taus.device).expand(self.c, 1, 1)
        return torch.cat([rates, self.taus])

    def target(self, y: Tensor, drive: Tensor, phi: nn.Module) -> Tensor:
        """The state's target (``tau dy/dt = -y + target``) under the input current ``drive``."""
        r = y[:, :self.c]
        parts = []
        if self.adaptation is not None:
            a = y[:, self.c:2 * self.c]
            drive = drive - self.adaptation.strength * a
        rate = phi(drive)
        if self.normalization is not None:
            rate = rate / (1 + torch.relu(y[:, -1:]) / self.normalization.sigma)
        parts.append(rate)
        if self.adaptation is not None:
            parts.append(r)
        if self.normalization is not None:
            parts.append(r.mean(dim=1, keepdim=True))
        return torch.cat(parts, dim=1)

    def at_rest(self, rates: Tensor) -> Tensor:
        """A full state with ``rates`` and the mechanisms' variables at 0 (the mechanisms off)."""
        b, _, h, w = rates.shape
        return torch.cat([rates, rates.new_zeros(b, self.extra, h, w)], dim=1)

    def extra_repr(self) -> str:
        return f"adaptation={self.adaptation}, normalization={self.normalization}"
