"""A multi-area RNN on a dynacortex vision model: one area network, one vector field, one solver.

The RNN areas ``k = 1..K`` are areas of flat rate units (state ``(B, N_k, 1, 1)``) appended to the
vision front-end's areas, so the whole system is integrated by the same engine, solver, dt and
delay history as the front-end:

    tau_k dr_k/dt = -r_k + Phi( W_in x_k + W_rec,k r_k + W_ff,k r_{k-1}(t - D_ff) + W_fb,k r_{k+1}(t - D_fb) + b_k )

``x_1`` is the chosen front-end area's rate map, average-pooled to ``input_pool x input_pool`` and
flattened (``W_in`` and ``b_1`` act on it; later areas get ``b_k`` with their feedforward input).
``W_in`` starts with entries ``N(0, input_gain^2 / n_in)``: a small front-end (rates ~0.1) drives
supralinear units ``k [x]_+^2`` far below their unit-gain point with ``input_gain = 1``.
``tau_k`` is in ms per area; ``D_ff``, ``D_fb`` are delays in ms (0 by default). The logits are
``W_out r_K^E`` (the excitatory units of the last area with Dale's law, all units without).

Dale's law by parameterisation: a fraction ``excitatory_fraction`` of each area's units is
excitatory. Every weight leaving an RNN unit is ``|W| * s_j`` with ``s_j = +1`` for an excitatory
and ``-1`` for an inhibitory source unit; between areas only excitatory units project
(``s_j = 0`` for inhibitory ones), as in Song, Yang & Wang (2016) whose conventions (tau = 100 ms,
80 % excitatory units) are the defaults here. Signs therefore hold after any optimiser step.

``freeze_frontend=True``: the front-end's parameters get ``requires_grad=False`` and its modules
stay in eval mode through ``train()``; otherwise the whole network trains end to end.
"""

from __future__ import annotations

from typing import Optional

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from torch import Tensor, nn
from torch.nn import functional as F

from ..layers import Area, Connection, get_activation
from ..models import AreaNetwork
from ..models.config import check_activation

__all__ = ["RNNAreaConfig", "MultiAreaConfig", "SignedLinear", "MultiAreaRNN"]


class RNNAreaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str
    units: int = Field(64, ge=2)
    tau_ms: float = Field(100.0, gt=0, description="time constant (ms)")


class MultiAreaConfig(BaseModel):
    """The RNN areas and their wiring; every field validated, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    areas: list[RNNAreaConfig] = [RNNAreaConfig(name="PPC"), RNNAreaConfig(name="PFC")]
    input_area: Optional[str] = Field(None, description="front-end area feeding the first RNN area (default: its last)")
    input_pool: int = Field(2, ge=1, description="the input area is average-pooled to input_pool x input_pool")
    input_gain: float = Field(1.0, gt=0, description="scale of W_in at initialisation (entries N(0, input_gain^2 / n_in))")
    dale: bool = True
    excitatory_fraction: float = Field(0.8, gt=0, lt=1)
    feedback: bool = True
    t_feedforward_ms: float = Field(0.0, ge=0, description="delay between consecutive RNN areas (ms)")
    t_feedback_ms: float = Field(0.0, ge=0, description="delay of feedback between RNN areas (ms)")
    activation: str = "relu"
    spectral_radius: float = Field(0.9, gt=0, description="spectral radius of each area's recurrent weights at initialisation")
    freeze_frontend: bool = False

    @field_validator("activation")
    @classmethod
    def _activation(cls, v: str) -> str:
        return check_activation(v)

    @model_validator(mode="after")
    def _areas(self) -> "MultiAreaConfig":
        names = [a.name for a in self.areas]
        if not names:
            raise ValueError("areas: need at least one RNN area")
        if len(set(names)) != len(names):
            raise ValueError(f"areas: names must be unique, got {names}")
        return self

    def n_excitatory(self, units: int) -> int:
        return max(1, min(units - 1, round(self.excitatory_fraction * units))) if self.dale else units


class SignedLinear(nn.Module):
    """``y = W x + b`` on flat units ``(B, N_in, 1, 1) -> (B, N_out, 1, 1)``.

    With ``signs`` (N_in,) the weight is ``|W_raw| * signs`` (Dale's law: the sign belongs to the
    source unit; 0 cuts the unit off); without, ``W = W_raw``.
    """

    def __init__(self, n_in: int, n_out: int, signs: Optional[Tensor] = None, bias: bool = False, gain: float = 1.0):
        super().__init__()
        raw = torch.randn(n_out, n_in) * (gain / n_in**0.5)
        if signs is not None:
            inhibitory = signs < 0
            raw = raw.abs()
            if inhibitory.any():  # balance: the mean inhibitory input cancels the mean excitatory one
                raw[:, inhibitory] *= float((signs > 0).sum()) / float(inhibitory.sum())
            self.register_buffer("signs", signs.float())
        else:
            self.signs = None
        self.raw = nn.Parameter(raw)
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None

    @property
    def weight(self) -> Tensor:
        """The effective weight ``(N_out, N_in)``."""
        return self.raw if self.signs is None else self.raw.abs() * self.signs

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x.flatten(1), self.weight, self.bias)[:, :, None, None]


class _PooledInput(nn.Module):
    """``W_in pool(r) + b``: a front-end rate map ``(B, C, H, W)`` to flat units ``(B, N, 1, 1)``."""

    def __init__(self, channels: int, pool: int, units: int, gain: float = 1.0):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(pool)
        self.linear = SignedLinear(channels * pool * pool, units, bias=True, gain=gain)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(self.pool(x))


class _ExcitatoryReadout(nn.Module):
    """Logits ``W_out r[:n_read]`` of flat rates ``(B, N, 1, 1)`` (the excitatory units first)."""

    def __init__(self, n_read: int, n_out: int):
        super().__init__()
        self.n_read = n_read
        self.linear = nn.Linear(n_read, n_out)

    def forward(self, r: Tensor) -> Tensor:
        return self.linear(r.flatten(1)[:, : self.n_read])


class MultiAreaRNN(AreaNetwork):
    """The front-end's areas followed by the RNN areas of ``cfg``, read out to ``n_outputs`` logits.

    The front-end's own readout is dropped; its areas, stem, connections and stimulus paths are
    shared (not copied), and dt, solver and checks are the front-end's.
    """

    def __init__(self, frontend: AreaNetwork, cfg: MultiAreaConfig, n_outputs: int):
        names = frontend.area_names
        input_area = cfg.input_area or names[-1]
        if input_area not in names:
            raise ValueError(f"input_area: {input_area!r} is not a front-end area; its areas are {names}")
        clash = [a.name for a in cfg.areas if a.name in names]
        if clash:
            raise ValueError(f"areas: RNN area names {clash} clash with front-end areas {names}")
        with torch.no_grad():
            probe = torch.zeros(1, frontend.in_channels, 16, 16, dtype=next(frontend.parameters()).dtype)
            drive = frontend._drives(probe.unsqueeze(1))[0].shape[2:]
        in_channels = frontend.state_shapes(drive)[names.index(input_area)][0]
        areas, conns = [], []
        signs = []
        for k, a in enumerate(cfg.areas):
            n_e = cfg.n_excitatory(a.units)
            s = torch.cat([torch.ones(n_e), -torch.ones(a.units - n_e)])
            signs.append(s)
            rec = SignedLinear(a.units, a.units, s if cfg.dale else None)
            with torch.no_grad():  # excitation-dominated E/I weights have a large radius: rescale at init
                rec.raw.mul_(cfg.spectral_radius / float(torch.linalg.eigvals(rec.weight).abs().max()))
            areas.append(Area(a.name, a.units, tau=a.tau_ms, recurrence=rec, phi=get_activation(cfg.activation)))
        long_range = [s.clamp(min=0) if cfg.dale else None for s in signs]  # excitatory units only
        conns.append(Connection(input_area, cfg.areas[0].name,
                                _PooledInput(in_channels, cfg.input_pool, cfg.areas[0].units, cfg.input_gain)))
        for k in range(1, len(cfg.areas)):
            lo, hi = cfg.areas[k - 1], cfg.areas[k]
            ff = SignedLinear(lo.units, hi.units, long_range[k - 1], bias=True, gain=lo.units**-0.5)
            conns.append(Connection(lo.name, hi.name, ff, cfg.t_feedforward_ms))
            if cfg.feedback:
                fb = SignedLinear(hi.units, lo.units, long_range[k], gain=hi.units**-0.5)
                conns.append(Connection(hi.name, lo.name, fb, cfg.t_feedback_ms, kind="feedback"))
        last = cfg.areas[-1]
        readout = _ExcitatoryReadout(cfg.n_excitatory(last.units), n_outputs)
        super().__init__(
            list(frontend.areas) + areas, frontend.stem, list(frontend.connections) + conns, readout,
            in_channels=frontend.in_channels, dt=frontend.dt, solver=frontend.solver,
            stability_check=frontend.stability_check, allow_unstable=frontend.allow_unstable,
            stimulus_paths=list(frontend.stimulus_paths.items()), readout_from=[last.name],
            channels_last=frontend.channels_last,
        )
        self.config = cfg
        self.n_frontend_areas = len(names)
        self.rnn_area_names = [a.name for a in cfg.areas]
        # a plain list: these modules are registered once, through areas/stem/connections above
        self._frontend_modules: list[nn.Module] = [*frontend.areas, frontend.stem, *frontend.connections,
                                                    *frontend.stimulus_paths.values()]
        if cfg.freeze_frontend:
            for m in self._frontend_modules:
                m.requires_grad_(False)
            self.train(self.training)

    def frontend_parameters(self) -> list[nn.Parameter]:
        """The front-end's parameters (each once)."""
        seen: dict[int, nn.Parameter] = {}
        for m in self._frontend_modules:
            for p in m.parameters():
                seen.setdefault(id(p), p)
        return list(seen.values())

    def train(self, mode: bool = True) -> "MultiAreaRNN":
        super().train(mode)
        if self.config.freeze_frontend:
            for m in self._frontend_modules:
                m.train(False)
        return self

    def dale_signs(self) -> dict[str, Tensor]:
        """Per RNN area, the source sign (+1 excitatory, -1 inhibitory) of each unit."""
        return {a.name: a.recurrence.signs for a in self.areas[self.n_frontend_areas:]
                if getattr(a.recurrence, "signs", None) is not None}
