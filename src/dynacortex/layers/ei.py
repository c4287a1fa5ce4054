"""Areas with separate excitatory (E) and inhibitory (I) populations, Dale's law by parameterisation.

An :class:`EIArea` holds ``C_E`` excitatory and ``C_I`` inhibitory channels in one state
``(B, C_E + C_I, H, W)``:

    tau_E dr_E/dt = -r_E + Phi(I_E + W_EE * r_E - W_EI * r_I)
    tau_I dr_I/dt = -r_I + Phi(I_I + W_IE * r_E - W_II * r_I)

``W_xy * r`` are k x k convolutions with non-negative weights (E->E, E->I, I->E, I->I), written as one
:class:`SignedConv` whose weight is ``|W_raw| * s_j`` with ``s_j = +1`` for excitatory and ``-1`` for
inhibitory source channels, so the signs hold after any optimiser step. The input ``I`` from other
areas reaches both populations (feedforward inhibition); only ``r_E`` leaves the area. The voltage
form (``tau dv/dt = -v + I``, ``r = Phi(v)``) applies to both populations alike.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .area import Area

__all__ = ["EIArea", "SignedConv", "NonNegative"]


class SignedConv(nn.Module):
    """A bias-free ``k x k`` convolution over ``C_E + C_I`` channels whose weights from the first ``excitatory``
    channels are >= 0 and from the others <= 0: ``W = |W_raw| * s_in``."""

    def __init__(self, excitatory: int, inhibitory: int, kernel_size: int = 3):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 != 1:
            raise ValueError(f"recurrence_kernel_size: must be a positive odd integer, got {kernel_size}")
        c = excitatory + inhibitory
        raw = torch.empty(c, c, kernel_size, kernel_size)
        nn.init.kaiming_uniform_(raw, a=math.sqrt(5))
        raw = raw.abs()
        raw[:, excitatory:] *= excitatory / inhibitory  # inhibition balances excitation at initialisation
        self.raw = nn.Parameter(raw)
        signs = torch.ones(c)
        signs[excitatory:] = -1.0
        self.register_buffer("signs", signs.view(1, c, 1, 1))
        self.excitatory = excitatory

    @property
    def weight(self) -> Tensor:
        return self.raw.abs() * self.signs

    def set_blocks(self, ee: float, ei: float, ie: float, ii: float) -> None:
        """Uniform weights per block, given as the total input a unit gets from a population:
        ``W_EE = ee``, ``W_EI = ei`` (I -> E), ``W_IE = ie`` (E -> I), ``W_II = ii`` (all >= 0)."""
        if min(ee, ei, ie, ii) < 0:
            raise ValueError(f"weights: magnitudes must be >= 0 (signs follow Dale's law), got {(ee, ei, ie, ii)}")
        e, k2 = self.excitatory, self.raw.shape[-1] ** 2
        ni = self.raw.shape[1] - e
        with torch.no_grad():
            self.raw[:e, :e] = ee / (e * k2)
            self.raw[:e, e:] = ei / (ni * k2)
            self.raw[e:, :e] = ie / (e * k2)
            self.raw[e:, e:] = ii / (ni * k2)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, padding=self.raw.shape[-1] // 2)


class NonNegative(nn.Module):
    """Parametrisation ``W -> |W|`` (for projections of excitatory neurons: Dale's law between areas)."""

    def forward(self, w: Tensor) -> Tensor:
        return w.abs()


class EIArea(Area):
    """An area of ``excitatory`` E and ``inhibitory`` I channels (see the module docstring).

    ``tau`` is the E time constant, ``tau_inhibitory`` the I one (ms); ``kernel_size`` is the spatial
    extent of the local E/I convolutions. Other arguments as for :class:`Area`.
    """

    separate_rates = True  # its recurrence reads both populations; its targets only E

    def __init__(self, name: str, excitatory: int, inhibitory: int, *, tau: float = 5.0,
                 tau_inhibitory: "float | None" = None, kernel_size: int = 3, learn_tau: bool = False,
                 activation: "str | nn.Module" = "relu", form: str = "rate", t_recurrence: float = 0.0):
        if excitatory < 1 or inhibitory < 1:
            raise ValueError(f"channels of E/I area {name}: need >= 1 excitatory and >= 1 inhibitory, "
                             f"got {excitatory} and {inhibitory}")
        tau_i = tau if tau_inhibitory is None else tau_inhibitory
        if not tau_i > 0:
            raise ValueError(f"tau_inhibitory of area {name}: must be > 0 ms, got {tau_i}")
        super().__init__(name, excitatory + inhibitory, tau=tau, learn_tau=learn_tau, tau_per_channel=True,
                         activation=activation, form=form, t_recurrence=t_recurrence,
                         recurrence=SignedConv(excitatory, inhibitory, kernel_size))
        self.set_tau(tau_i, slice(excitatory, None))
        self.excitatory, self.inhibitory = excitatory, inhibitory

    def rates(self, y: Tensor) -> Tensor:
        """Rates of both populations, ``(B, C_E + C_I, H, W)``."""
        return Area.output(self, y)

    def output(self, y: Tensor) -> Tensor:
        """Rates of the excitatory population, the only one that projects to other areas."""
        return y[:, :self.excitatory] if self.form == "rate" else self.phi(y)[:, :self.excitatory]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, excitatory={self.excitatory}, inhibitory={self.inhibitory}"
