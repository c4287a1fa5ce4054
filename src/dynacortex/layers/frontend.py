"""A front-end stage: the stimulus relayed to the cortex after a transport delay (retina and LGN latency).

One leaky stage per pixel and channel, ``tau dr/dt = -r + x(t)``, whose output reaches the first cortical
area ``delay`` ms later (through the model's stem). It adds latency and a little low-pass filtering and
nothing else: no adaptation, no centre-surround (for those, use :class:`~dynacortex.layers.Retina`). It
follows :class:`~dynacortex.layers.Area`'s protocol and is passed to a network as its input stage
(``AreaNetwork(retina=...)``, ``frontend={...}`` on a model config).
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

__all__ = ["FrontEnd", "FrontEndConfig"]


class FrontEndConfig(BaseModel):
    """Parameters of :class:`FrontEnd` (ms)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    tau: float = Field(5.0, gt=0, description="time constant of the relay stage (ms)")
    delay: float = Field(40.0, ge=0, description="transport delay to the first cortical area (ms)")


class FrontEnd(nn.Module):
    """``tau dr/dt = -r + x``, read by the first cortical area ``delay`` ms later."""

    recurrence = None
    t_recurrence = 0.0
    form = "rate"
    linear_output = True

    def __init__(self, in_channels: int, cfg: "FrontEndConfig | None" = None, name: str = "frontend"):
        super().__init__()
        cfg = cfg or FrontEndConfig()
        self.name, self.channels, self.delay, self.tau = name, in_channels, cfg.delay, cfg.tau

    def state_shape(self, drive_shape: torch.Size) -> torch.Size:
        return drive_shape

    def derivative(self, y: Tensor, drive: Tensor, scale: "float | Tensor" = 1.0) -> Tensor:
        return (drive - y) * (scale / self.tau)

    def steady_state(self, drive: Tensor) -> Tensor:
        return drive

    def output(self, y: Tensor) -> Tensor:
        return y

    rates = output

    def extra_repr(self) -> str:
        return f"name={self.name}, channels={self.channels}, tau={self.tau:g} ms, delay={self.delay:g} ms"
