"""A cortical area: one population of rate units with a leak, a transfer function and recurrence.

Rate form (default)::

    tau dr/dt = -r + Phi(I),          output r

Voltage form::

    tau dv/dt = -v + I,               output r = Phi(v)

with ``I = sum_c W_c r_src(t - Delta_c) + J r(t - Delta_rc) + stimulus``; ``J`` (``recurrence``) is a type
name or any bias-free linear module (a silent area then drives itself with exactly 0, and a delayed read
between two stored steps may interpolate ``J`` of the two). ``tau`` (ms) is a scalar
or one value per channel, fixed or learnable (``learn_tau``; learned as ``log tau`` so it stays
positive). ``Phi`` applies ``operations`` in order: ``"norm"`` (GroupNorm) and ``"activation"``, or
is any module given as ``phi`` (e.g. CORnet-RT's conv -> GroupNorm -> ReLU). ``recurrence_gain``
bounds the operator norm of ``J`` (see :mod:`dynacortex.layers.gain`). ``adaptation`` and ``normalization``
add slow adaptation and a delayed divisive-normalization pool as extra state (rate form; equations in
:mod:`dynacortex.layers.mechanisms`).

``recurrence_layout`` and ``recurrence_bias`` choose the parametrisation of a named recurrence type
(:func:`~dynacortex.layers.make_recurrence`; ``"dynvision"``: DynVision 0.1.0's). With a bias ``J`` is affine,
``J r + b``: a silent area then drives itself with ``b``.

``update`` (opt-in, for loading DynVision): ``"ode"`` (default) makes the area the ODE above, for any
solver. ``"rectified"`` is DynVision 0.1.0's discrete step instead (its ``EulerStep`` followed by the ReLU,
with the rectified rate stored and fed back)::

    r_{n+1} = Phi(r_n + dt/tau (I_n - r_n))

the voltage form's Euler step with the rate in place of the voltage. It is a map, not a discretisation of an
ODE (its fixed points are the rate form's, ``r = Phi(I)``, for a ReLU): it needs ``form="rate"`` and the
``euler`` solver (the network checks the solver). :meth:`derivative` returns ``r_{n+1} - r_n`` for the step
``scale = dt``.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from .activations import get_activation
from .exact import ExactInit
from .gain import limit_gain
from .mechanisms import AdaptationConfig, Mechanisms, NormalizationConfig
from .recurrence import make_recurrence

__all__ = ["Area", "FORMS", "OPERATIONS", "UPDATES"]

FORMS = ("rate", "voltage")
OPERATIONS = ("norm", "activation")
UPDATES = ("ode", "rectified")


class Area(ExactInit):
    """One area's dynamics. See the module docstring for the equations."""

    def __init__(
        self,
        name: str,
        channels: int,
        *,
        tau: float = 5.0,
        learn_tau: bool = False,
        tau_per_channel: bool = False,
        activation: "str | nn.Module" = "relu",
        form: str = "rate",
        recurrence: "str | nn.Module" = "full",
        recurrence_kernel_size: int = 3,
        local_kernel_size: int = 3,
        t_recurrence: float = 0.0,
        operations: Sequence[str] = ("activation",),
        norm_groups: int = 1,
        phi: "nn.Module | None" = None,
        recurrence_gain: "float | None" = None,
        adaptation: "AdaptationConfig | None" = None,
        normalization: "NormalizationConfig | None" = None,
        recurrence_layout: str = "dynacortex",
        recurrence_bias: bool = False,
        update: str = "ode",
    ):
        super().__init__()
        if form not in FORMS:
            raise ValueError(f"form: {form!r} is not one of {list(FORMS)}")
        if update not in UPDATES:
            raise ValueError(f"update: {update!r} is not one of {list(UPDATES)}")
        if update == "rectified" and (form != "rate" or adaptation is not None or normalization is not None):
            raise ValueError(f"update='rectified' of area {name}: needs form='rate' and no adaptation/normalization")
        if not tau > 0:
            raise ValueError(f"tau of area {name}: must be > 0 ms, got {tau}")
        if t_recurrence < 0:
            raise ValueError(f"t_recurrence: must be >= 0 ms, got {t_recurrence}")
        bad = [op for op in operations if op not in OPERATIONS]
        if bad:
            raise ValueError(f"operations: {bad} not allowed; allowed values are {list(OPERATIONS)}")
        self.name, self.channels, self.form = name, channels, form
        self.t_recurrence = float(t_recurrence)
        shape = (channels, 1, 1) if tau_per_channel else ()
        log_tau = torch.full(shape, math.log(tau))
        if learn_tau:
            self.log_tau = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_tau", log_tau)
        self.remember_exact("log_tau", torch.full(shape, math.log(tau), dtype=torch.float64))
        self._fixed_tau = None if (learn_tau or tau_per_channel) else float(tau)
        ops = {"norm": lambda: nn.GroupNorm(norm_groups, channels), "activation": lambda: get_activation(activation)}
        self.phi = phi if phi is not None else nn.Sequential(*[ops[op]() for op in operations])
        self.update = update
        self.recurrence = (recurrence if isinstance(recurrence, nn.Module)
                           else make_recurrence(recurrence, channels, recurrence_kernel_size, local_kernel_size,
                                                layout=recurrence_layout, bias=recurrence_bias))
        # J(0) != 0: the recurrence of a silent area is not 0 (a module given as `recurrence` is linear)
        self.recurrence_bias = bool(recurrence_bias) and isinstance(recurrence, str) and self.recurrence is not None
        if recurrence_gain is not None and self.recurrence is not None:
            limit_gain(self.recurrence, recurrence_gain)
        self.mechanisms = None
        if adaptation is not None or normalization is not None:
            if form != "rate":
                raise ValueError(f"adaptation/normalization of area {name}: need form='rate', got {form!r}")
            self.mechanisms = Mechanisms(channels, adaptation, normalization)

    def set_tau(self, tau: float, channels: slice = slice(None)) -> None:
        """Set the time constant (ms) of ``channels`` (kept exact through a conversion to float64)."""
        exact = self.__dict__["_exact_init"]["log_tau"]
        exact[channels] = math.log(tau)
        with torch.no_grad():
            self.log_tau[channels] = exact[channels].to(self.log_tau.dtype)

    @property
    def tau(self) -> "float | Tensor":
        """Time constant in ms: a float when fixed and scalar, else a tensor (scalar or (C, 1, 1)); with
        mechanisms one per state channel."""
        tau = self._fixed_tau if self._fixed_tau is not None else self.log_tau.exp()
        return tau if self.mechanisms is None else self.mechanisms.tau(tau)

    def output(self, y: Tensor) -> Tensor:
        """The rate the area sends to its targets."""
        if self.mechanisms is not None:
            return y[:, :self.channels]
        return y if self.form == "rate" else self.phi(y)

    @property
    def linear_output(self) -> bool:
        """Whether :meth:`output` and :meth:`rates` are linear in the state (rate form), so that the output of
        an interpolated state is the interpolation of the outputs."""
        return self.form == "rate"

    def rates(self, y: Tensor) -> Tensor:
        """The rates its own recurrence reads (all its populations; here the same as :meth:`output`)."""
        return self.output(y)

    def state_shape(self, drive_shape: torch.Size) -> torch.Size:
        """State shape ``(C, H, W)`` for a drive of ``drive_shape`` (plus the mechanisms' channels)."""
        if self.mechanisms is not None:
            return torch.Size((drive_shape[0] + self.mechanisms.extra, *drive_shape[1:]))
        return drive_shape

    def steady_state(self, drive: Tensor) -> Tensor:
        """The state under a constant ``drive`` without recurrence (and with the mechanisms off): ``Phi(I)``
        (voltage form: ``I``)."""
        if self.mechanisms is not None:
            return self.mechanisms.at_rest(self.phi(drive))
        return self.phi(drive) if self.form == "rate" else drive

    def derivative(self, y: Tensor, drive: Tensor, scale: "float | Tensor" = 1.0) -> Tensor:
        """``scale * dy/dt`` for state ``y`` and total input current ``drive`` (``scale``: a solver's step
        weight, folded into the one multiply by ``1/tau``)."""
        if self.update == "rectified":  # DynVision's step: Phi(r + dt/tau (I - r)), as an increment
            return self.phi(y + (drive - y) * (scale / self.tau)) - y
        if self.mechanisms is not None:
            target = self.mechanisms.target(y, drive, self.phi)
        else:
            target = self.phi(drive) if self.form == "rate" else drive
        return (target - y) * (scale / self.tau)

    def extra_repr(self) -> str:
        update = "" if self.update == "ode" else f", update={self.update}"
        return f"name={self.name}, channels={self.channels}, form={self.form}, t_recurrence={self.t_recurrence:g} ms{update}"
