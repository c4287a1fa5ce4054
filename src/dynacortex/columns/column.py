"""The vector field of a network of laminar cortical columns (ODE-Column model).

A network has areas, each of ``n`` columns of 8 populations (L23e, L23i, L4e, L4i, L5e, L5i, L6e, L6i);
``P = 8 * (total columns)`` populations in all. The state is ``(V, A)``, membrane potential and
adaptation, each ``(B, P)``:

    r = f(V - A)                                           (Hz, see transfer.py)
    I = tau_s [ W_in u(t) + w_bg nu_bg + (W_int + M * W) r ]
    tau_m dV/dt = -V + R I                                 (R = tau_m / C)
    tau_a dA/dt = -A + kappa r

``W_int`` is the fixed block-diagonal within-column connectivity (connectivity.py); ``W`` (trainable,
masked elementwise by ``M``) holds everything between columns: lateral connections inside an area
and feedforward connections between consecutive areas, or task-specific extra synapses. ``u(t)``
(Hz, ``(B, n_inputs)``) is set with :meth:`ColumnNetwork.set_stimulus`; ``W_in`` (masked by ``M_in``)
routes it, by default into L4e/L4i.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import Tensor, nn

from .connectivity import column_weights
from .parameters import POPULATIONS, ColumnParameters, load_column_parameters
from .transfer import transfer

__all__ = ["ColumnNetwork", "StepStimulus", "population_index"]

Stimulus = Callable[[object], Tensor]


def population_index(name: str) -> int:
    """Index 0..7 of a population name."""
    if name not in POPULATIONS:
        raise ValueError(f"population: unknown population {name!r}; allowed values are {list(POPULATIONS)}")
    return POPULATIONS.index(name)


class StepStimulus:
    """Input ``values`` (Hz, ``(B, n_inputs)``) switched on at ``onset_s`` (and off at ``offset_s``)."""

    def __init__(self, values: Tensor, onset_s: float = 0.0, offset_s: float = float("inf")) -> None:
        if not offset_s > onset_s:
            raise ValueError(f"offset_s: must be > onset_s = {onset_s}, got {offset_s}")
        self.values, self.onset_s, self.offset_s = values, float(onset_s), float(offset_s)

    def __call__(self, t: object) -> Tensor:
        t_s = float(t.detach()) if isinstance(t, Tensor) else float(t)  # torchsde passes a tensor
        on = self.onset_s <= t_s < self.offset_s
        return self.values if on else torch.zeros_like(self.values)

    @property
    def jumps(self) -> list[float]:
        """Times of the discontinuities (for adaptive solvers)."""
        return [t for t in (self.onset_s, self.offset_s) if 0 < t < float("inf")]


class ColumnNetwork(nn.Module):
    """Areas of laminar columns; a vector field ``(t, (V, A)) -> (dV/dt, dA/dt)`` in units per second.

    Args:
        columns_per_area: number of columns in each area, e.g. ``(8, 4, 1)``.
        n_inputs: external input units feeding ``W_in``.
        area: population-size table of every area (``params.population_sizes``).
        small: the reference's small mode (sizes / columns in the area, background in-degree 2510).
        params: the parameter table (default: the packaged one).
    """

    def __init__(self, columns_per_area: Sequence[int] = (1,), n_inputs: int = 0, area: str = "mt",
                 small: bool = False, params: Optional[ColumnParameters] = None,
                 dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        if not columns_per_area or any(int(n) < 1 for n in columns_per_area):
            raise ValueError(f"columns_per_area: needs >= 1 area of >= 1 column, got {list(columns_per_area)}")
        if n_inputs < 0:
            raise ValueError(f"n_inputs: must be >= 0, got {n_inputs}")
        self.params = params = params or load_column_parameters()
        self.columns_per_area = tuple(int(n) for n in columns_per_area)
        self.n_columns = sum(self.columns_per_area)
        self.n_populations = 8 * self.n_columns
        self.n_inputs = n_inputs
        blocks, bg, ff = [], [], []
        for n in self.columns_per_area:
            cw = column_weights(params, area, n, small)
            blocks += [cw.recurrent] * n
            bg += [cw.background] * n
            ff += [cw.feedforward] * n
        tc = params.time_constants_s
        self.tau_m, self.tau_s, self.tau_a = tc.membrane, tc.synapse, tc.adaptation
        self.resistance = params.resistance
        self.background_rate_hz = params.background_rate_hz
        tp = params.transfer
        self._transfer = dict(gain=tp.gain, threshold=tp.threshold, noise_factor=tp.noise_factor,
                              clamp=tp.exponent_clamp)
        p, kw = self.n_populations, dict(dtype=dtype)
        self.register_buffer("w_int", torch.block_diag(*blocks).to(dtype))
        self.register_buffer("w_bg", torch.cat(bg).to(dtype))
        self.register_buffer("w_ff_ext", torch.cat(ff).to(dtype))
        self.register_buffer("kappa", torch.tensor(params.adaptation_strength, **kw).repeat(self.n_columns))
        self.weight = nn.Parameter(torch.zeros(p, p, **kw))
        self.register_buffer("mask", torch.zeros(p, p, **kw))
        self.input_weight = nn.Parameter(torch.zeros(p, n_inputs, **kw))
        self.register_buffer("input_mask", torch.zeros(p, n_inputs, **kw))
        self.stimulus: Optional[Stimulus] = None

    # ----------------------------------------------------------------- indexing and wiring
    def column(self, area: int, column: int) -> int:
        """Global index of ``column`` of ``area``."""
        if not 0 <= area < len(self.columns_per_area):
            raise ValueError(f"area: must be in [0, {len(self.columns_per_area)}), got {area}")
        if not 0 <= column < self.columns_per_area[area]:
            raise ValueError(f"column: area {area} has {self.columns_per_area[area]} columns, got {column}")
        return sum(self.columns_per_area[:area]) + column

    def index(self, area: int, column: int, population: str) -> int:
        """Global population index of ``population`` in ``column`` of ``area``."""
        return 8 * self.column(area, column) + population_index(population)

    @torch.no_grad()
    def connect(self, target: int, source: int, weight: float) -> None:
        """Open the trainable synapse ``target <- source`` (population indices) with an initial weight."""
        self.mask[target, source] = 1.0
        self.weight[target, source] = weight

    @torch.no_grad()
    def connect_input(self, target: int, unit: int, weight: float) -> None:
        """Open the input synapse ``target <- input unit`` with an initial weight."""
        self.input_mask[target, unit] = 1.0
        self.input_weight[target, unit] = weight

    def connect_lateral(self, area: int, scale: float = 1.0) -> None:
        """Lateral inhibition between every pair of distinct columns of ``area`` (``params.network.lateral``)."""
        n = self.columns_per_area[area]
        for tgt, src, w in self.params.network.lateral:
            for a in range(n):
                for b in range(n):
                    if a != b:
                        self.connect(self.index(area, a, tgt), self.index(area, b, src), scale * w)

    def connect_feedforward(self, area: int, sources_of: Callable[[int], Sequence[int]], scale: float = 1.0
                            ) -> None:
        """Feedforward from area ``area - 1`` into ``area`` (``params.network.feedforward``): target column
        ``c`` receives from the source columns ``sources_of(c)``."""
        if area < 1:
            raise ValueError(f"area: feedforward targets an area >= 1 (area 0 receives the input), got {area}")
        for c in range(self.columns_per_area[area]):
            for s in sources_of(c):
                for tgt, src, w in self.params.network.feedforward:
                    self.connect(self.index(area, c, tgt), self.index(area - 1, s, src), scale * w)

    # ----------------------------------------------------------------- dynamics
    def set_stimulus(self, stimulus: Optional[Stimulus]) -> None:
        """``stimulus(t) -> u`` (Hz, ``(B, n_inputs)``), t in s; None: no input."""
        self.stimulus = stimulus

    @property
    def tau(self) -> tuple[float, float]:
        """``(tau_m, tau_a)`` in s, per state leaf (for the exponential-Euler solver)."""
        return (self.tau_m, self.tau_a)

    def rates(self, v: Tensor, a: Tensor) -> Tensor:
        """Firing rates (Hz) ``f(V - A)``."""
        return transfer(v - a, **self._transfer)

    def recurrent_weights(self) -> Tensor:
        """``W_int + M * W`` (target, source)."""
        return self.w_int + self.mask * self.weight

    def current(self, t: object, r: Tensor) -> Tensor:
        """Synaptic input current ``I`` for rates ``r`` (B, P) at time t (s)."""
        drive = r @ self.recurrent_weights().T + self.w_bg * self.background_rate_hz
        if self.n_inputs and self.stimulus is not None:
            drive = drive + self.stimulus(t) @ (self.input_mask * self.input_weight).T
        return self.tau_s * drive

    def forward(self, t: object, y: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        v, a = y
        r = self.rates(v, a)
        dv = (self.resistance * self.current(t, r) - v) / self.tau_m
        da = (self.kappa * r - a) / self.tau_a
        return dv, da

    def initial_state(self, batch: int = 1) -> tuple[Tensor, Tensor]:
        """``V = A = 0`` (the reference's start), ``(B, P)`` each."""
        z = self.w_bg.new_zeros(batch, self.n_populations)
        return z, z.clone()
