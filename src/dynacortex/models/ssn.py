"""The stabilised supralinear network (SSN): one E/I area with a power-law transfer function.

Rubin, Van Hooser & Miller (2015), two-population form (Ahmadian, Rubin & Miller 2013):

    tau_E dr_E/dt = -r_E + k [W_EE r_E - W_EI r_I + h_E]_+^n
    tau_I dr_I/dt = -r_I + k [W_IE r_E - W_II r_I + h_I]_+^n

with the paper's k = 0.04, n = 2 (drives in mV, rates in Hz), W_EE = 1.25, W_EI = 0.65, W_IE = 1.2,
W_II = 0.5, tau_E = 20 ms, tau_I = 10 ms. Weak input: recurrence is weak and the response grows
supralinearly (~ h^n); strong input: the network becomes inhibition-stabilised, responses grow
sublinearly and add sublinearly, and extra input to the I population *lowers* its rate (the
paradoxical response). The input ``x`` has two channels, ``(h_E, h_I)`` in mV; an input of H x W
positions is a sheet of E/I pairs, and ``kernel_size > 1`` couples neighbours.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from torch import nn

from ..layers import EIArea, Supralinear
from .config import NetworkConfig
from .network import AreaNetwork
from .registry import register_model

__all__ = ["SSNConfig", "build_ssn"]


class SSNConfig(NetworkConfig):
    in_channels: int = Field(2, description="must be 2: the input to E (h_E) and to I (h_I), in mV")
    tau: float = Field(20.0, gt=0, description="tau_E (ms)")
    tau_inhibitory: float = Field(10.0, gt=0, description="tau_I (ms)")
    w_ee: float = Field(1.25, ge=0)
    w_ei: float = Field(0.65, ge=0, description="I -> E")
    w_ie: float = Field(1.2, ge=0, description="E -> I")
    w_ii: float = Field(0.5, ge=0)
    k: float = Field(0.04, gt=0, description="gain of the power law (Hz / mV^n)")
    n: float = Field(2.0, ge=1, description="exponent of the power law")
    kernel_size: int = Field(1, ge=1, description="spatial extent of the E/I coupling (odd)")
    dt: float = Field(0.5, gt=0, description="integration step (ms)")
    solver: str = "rk4"

    @field_validator("in_channels")
    @classmethod
    def _two(cls, v: int) -> int:
        if v != 2:
            raise ValueError(f"must be 2 (h_E, h_I), got {v}")
        return v

    @field_validator("kernel_size")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 != 1:
            raise ValueError(f"must be odd, got {v}")
        return v


def build_ssn(cfg: SSNConfig) -> AreaNetwork:
    """The SSN of ``cfg`` (no readout: use ``run`` / ``record``)."""
    area = EIArea("SSN", 1, 1, tau=float(cfg.tau), tau_inhibitory=cfg.tau_inhibitory, kernel_size=cfg.kernel_size,
                  learn_tau=cfg.learn_tau, activation=Supralinear(cfg.n, cfg.k), t_recurrence=cfg.t_recurrence)
    area.recurrence.set_blocks(cfg.w_ee, cfg.w_ei, cfg.w_ie, cfg.w_ii)
    return AreaNetwork([area], nn.Identity(), [], None, **cfg.network_kwargs())


register_model(
    "ssn", config=SSNConfig, default_input=(2, 1, 1),
    citation="Rubin, Van Hooser & Miller 2015, Neuron 85:402; Ahmadian, Rubin & Miller 2013",
    description="stabilised supralinear network: one E/I pair per position, power-law transfer function",
)(build_ssn)
