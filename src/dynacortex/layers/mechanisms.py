"""Biological mechanisms of an area: slow adaptation and a delayed divisive-normalization pool.

Both are extra state of the area, integrated by the same solvers, delay history and checkpointing as its
rates. With either on (rate form only), the state holds after the ``C`` rate channels ``r`` the adaptation
``a`` (``C`` channels) and the pool ``N`` (``C`` channels, or 1 with ``pool="channels"``), and

    tau   dr/dt = -r + Phi(I - g a) / (1 + [N]_+ / sigma)
    tau_a da/dt = -a + r                                   adaptation
    tau_N dN/dt = -N + P(r)                                normalization pool, P(r) = r or mean_c r

- **Adaptation** (``g`` = ``strength``, ``tau_a``): a slow variable that follows the unit's own rate and is
  subtracted from its input, like spike-frequency adaptation (the columns' ``w``; Benda & Herz 2003). It
  makes responses to a sustained input decline and leaves a trace that suppresses a second stimulus.
- **Normalization** (``sigma``, ``tau_N``, ``pool``): the unit's response is divided by a pool: its own
  low-passed rate (``pool="unit"``, the delayed gain control of Zhou et al.'s DN model, where each response is
  divided by a low-pass of itself), or the low-passed mean rate of all channels of the area at its position
  (``pool="channels"``, a normalization pool across features; Carandini & Heeger 2012). Because the pool lags
  the rates (``tau_N``), the onset escapes it (a transient), the response
  settles lower (compressive, subadditive summation), high contrast recruits it sooner (earlier peaks), and
  it outlasts the stimulus (a suppressed response to a second one): the delayed normalization of Zhou et al.
  (2019) and the ORGaNICs of Heeger & Mackey (2019), driven by the area's own activity.

Every parameter is one value, or one per area of a model (``strength: [6, 1, 1, 1]``; :meth:`~PerArea.for_area`).
An area without them is the same area with them off (:class:`~dynacortex.layers.Area` ``adaptation=None,
normalization=None``): its state is ``r`` alone.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import Tensor, nn

__all__ = ["AdaptationConfig", "NormalizationConfig", "Mechanisms", "PerArea"]


Value = Union[float, tuple[float, ...]]


class PerArea(BaseModel):
    """A mechanism's parameters: each a number, or a tuple with one number per area."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    def for_area(self, k: int, n: int) -> "PerArea":
        """The parameters of area ``k`` of ``n`` (a tuple must have ``n`` entries)."""
        values = {}
        for name, v in self.model_dump().items():
            if isinstance(v, (tuple, list)):
                if len(v) != n:
                    raise ValueError(f"{type(self).__name__.removesuffix('Config').lower()}.{name}: one value or {n} "
                                     f"(one per area), got {len(v)}")
                v = v[k]
            values[name] = v
        return type(self)(**values)

    @field_validator("*")
    @classmethod
    def _positive(cls, v: Any, info: Any) -> Any:
        for x in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(x, (int, float)) and (x < 0 or (x == 0 and info.field_name in ("tau", "sigma"))):
                raise ValueError(f"must be {'> 0' if info.field_name in ('tau', 'sigma') else '>= 0'}, got {v}")
        return v


class AdaptationConfig(PerArea):
    """Slow subtractive adaptation ``tau_a da/dt = -a + r``, input ``I - strength * a``."""

    tau: Value = Field(200.0, description="tau_a (ms), > 0")
    strength: Value = Field(0.5, description="g: input subtracted per unit of adaptation, >= 0")


class NormalizationConfig(PerArea):
    """Delayed divisive normalization ``r_target = Phi(.) / (1 + N / sigma)``, ``tau_N dN/dt = -N + P(r)``."""

    tau: Value = Field(80.0, description="tau_N: time constant of the pool (ms), > 0")
    sigma: Value = Field(0.1, description="semi-saturation: the pool level that halves the response, > 0")
    pool: Literal["unit", "channels"] = Field("unit", description="each unit's own rate, or the mean over channels")


class Mechanisms(nn.Module):
    """The extra state and the targets of an area's mechanisms (see the module docstring)."""

    def __init__(self, channels: int, adaptation: Optional[AdaptationConfig],
                 normalization: Optional[NormalizationConfig]):
        super().__init__()
        for cfg in (adaptation, normalization):
            if cfg is not None and any(isinstance(v, (tuple, list)) for v in cfg.model_dump().values()):
                raise ValueError(f"{type(cfg).__name__}: per-area tuples are for model configs; give one area's values "
                                 "(config.for_area(k, n))")
        self.c, self.adaptation, self.normalization = channels, adaptation, normalization
        self.pool = 0 if normalization is None else channels if normalization.pool == "unit" else 1
        self.extra = (channels if adaptation else 0) + self.pool
        taus = [adaptation.tau] * channels if adaptation else []
        taus += [normalization.tau] * self.pool
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
            rate = rate / (1 + torch.relu(y[:, y.shape[1] - self.pool:]) / self.normalization.sigma)
        parts.append(rate)
        if self.adaptation is not None:
            parts.append(r)
        if self.normalization is not None:
            parts.append(r if self.pool == self.c else r.mean(dim=1, keepdim=True))
        return torch.cat(parts, dim=1)

    def at_rest(self, rates: Tensor) -> Tensor:
        """A full state with ``rates`` and the mechanisms' variables at 0 (the mechanisms off)."""
        b, _, h, w = rates.shape
        return torch.cat([rates, rates.new_zeros(b, self.extra, h, w)], dim=1)

    def extra_repr(self) -> str:
        return f"adaptation={self.adaptation}, normalization={self.normalization}"
