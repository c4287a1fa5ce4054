"""One simulation's vector field ``f(t, y)`` of an :class:`~dynacortex.models.AreaNetwork`.

For every area ``a`` (see :class:`~dynacortex.layers.Area`)

    tau_a dy_a/dt = -y_a + Phi_a(I_a),   I_a(t) = s_a(t) + sum_{c: src -> a} W_c r_src(t - Delta_c) + J_a r_a(t - Delta_rc,a)

with the delayed terms read from the delay history at each stage's own time. ``scaled(t, y, h)`` returns
``h f(t, y)`` with ``h`` folded into each area's multiply by ``1/tau`` (see
:func:`~dynacortex.dynamics.solvers.increment`).

Work that the rest state makes constant is skipped: a read that falls where the network was at rest
(all states zero, up to ``Carry.rest_until``) gives the connection's term from the zero state, computed
once per simulation on one sample and expanded over the batch; a bias-free recurrence reading the rest
contributes exactly 0 and is left out. A connection whose op sets ``skip_at_rest = True`` gives 0 there
instead of ``W_c(0)``: its source has not fired yet (CORnet-RT's start-up, see ``models/cornet.py``).

Delayed terms of committed states are computed once: a delayed read that falls on a commit reuses the
term of that commit (Runge-Kutta's last stage and the next step's first read the same one), and for a
linear recurrence or an affine connection (``op.affine``) a read between two commits is the
interpolation of their terms. RK4 with a recurrence delay of at least ``dt`` thus evaluates ``J`` once
per step instead of four times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import torch
from torch import Tensor

from ..dynamics import History
from ..layers import Area, Connection
from .carry import Carry

if TYPE_CHECKING:
    from .network import AreaNetwork

__all__ = ["NetworkField", "Observer", "StabilityError"]

Observer = Callable[[float, tuple[Tensor, ...]], None]


class StabilityError(FloatingPointError):
    """A state became NaN or Inf during a simulation with ``stability_check=True``."""


class NetworkField:
    """One simulation's vector field: the network plus its stimulus, history and outputs."""

    def __init__(self, net: "AreaNetwork", drives: dict[int, Tensor], carry: Carry, observers: list[Optional[Observer]],
                 delays: bool = True):
        self.net = net
        self.delays = delays  # False: every delay read as 0 (the delay-free system)
        # observers, or in the recomputation of a checkpointed chunk their `replay` methods (which
        # repeat the tensor work so the recomputed graph matches, and keep no record)
        self.observers = observers
        self.silent_before = carry.rest_until + 1e-9 * net.dt
        # unbind: one backward node for all frames, not one zero-filled copy per step
        self.frames = {i: d.unbind(1) for i, d in drives.items()}
        self.areas: list[Area] = list(net.areas)  # type: ignore[arg-type]
        self.tau = tuple(a.tau for a in self.areas)  # for exponential integrators
        self.separate = [getattr(a, "separate_rates", False) for a in self.areas]  # recurrence reads all populations
        self.stimulus: list[Optional[Tensor]] = [None] * len(net.areas)
        self._rest_terms: dict[int, Tensor] = {}  # connection -> its term from the rest state, (1, C, H, W)
        self._commit_terms: dict[int, dict[int, Tensor]] = {}  # operation -> commit index -> its term
        self.begin_step(0, carry.t)
        self.logits: list[Tensor] = []
        delayed: dict[int, float] = {}
        for dst, incoming in enumerate(net._incoming):
            for src, c in incoming:
                if c.max_delay > 0:
                    delayed[src] = max(delayed.get(src, 0.0), c.max_delay)
            if self.areas[dst].recurrence is not None and self.areas[dst].t_recurrence > 0:
                delayed[dst] = max(delayed.get(dst, 0.0), self.areas[dst].t_recurrence)
        self.history = carry.history
        if delays and delayed and (self.history is None or self.history.dt != net.dt
                        or self.history.max_delay < max(delayed.values())):
            self.history = History(max(delayed.values()), net.dt, leaves=delayed)
            self.history.reset(carry.t, carry.state)

    def _read(self, j: int, delay: "float | Tensor", t: float, y: tuple[Tensor, ...], outs: list[Tensor],
              own: bool = False) -> Tensor:
        """Area ``j``'s output at ``t - delay`` (``own``: the rates its recurrence reads)."""
        area = self.areas[j]
        if not self.delays or (isinstance(delay, float) and delay == 0.0):
            return area.rates(y[j]) if own and self.separate[j] else outs[j]
        assert self.history is not None
        past = self.history.read(j, t - delay, t, y[j])
        return area.rates(past) if own else area.output(past)

    def _at_rest(self, src: int, conn: Connection, size: torch.Size, like: Tensor) -> Tensor:
        """``W_c`` of the rest state, for a read that falls where the network was at rest (zero state):
        computed once per simulation on one sample and expanded over the batch (``W_c`` acts per sample);
        0 for an op with ``skip_at_rest = True``."""
        term = self._rest_terms.get(id(conn))
        if term is None:
            term = self._rest_terms[id(conn)] = conn(self.areas[src].output(torch.zeros_like(like[:1])), size)
            if getattr(conn.op, "skip_at_rest", False):  # the source has not fired: no input yet
                term = self._rest_terms[id(conn)] = torch.zeros_like(term)
        return term.expand(like.shape[0], *term.shape[1:])

    def _delayed(self, op: Callable[[Tensor], Tensor], key: int, j: int, delay: "float | Tensor", t: float,
                 y: tuple[Tensor, ...], outs: list[Tensor], own: bool = False, affine: bool = False) -> Tensor:
        """``op`` of area ``j``'s output at ``t - delay``. A read of a committed state reuses ``op`` of that
        commit (computed once, ``key`` names the operation); for an affine ``op`` a read between two
        commits is the interpolation of their terms, ``op((1 - w) a + w b) = (1 - w) op(a) + w op(b)``."""
        where = None
        if self.delays and isinstance(delay, float) and delay > 0.0 and self.history is not None:
            where = self.history.locate(t - delay, t)
        if where is None or (where[1] > 0.0 and not affine):
            return op(self._read(j, delay, t, y, outs, own))
        k, w = where
        term = self._commit_term(op, key, j, k, own)
        return term if w == 0.0 else torch.lerp(term, self._commit_term(op, key, j, k + 1, own), w)

    def _commit_term(self, op: Callable[[Tensor], Tensor], key: int, j: int, k: int, own: bool) -> Tensor:
        terms = self._commit_terms.setdefault(key, {})
        if k not in terms:
            past = self.history.at(k, j)  # type: ignore[union-attr]
            terms[k] = op(self.areas[j].rates(past) if own else self.areas[j].output(past))
            for old in [c for c in terms if c < k - 1]:  # stages read at most two commits per step
                del terms[old]
        return terms[k]

    def __call__(self, t: float, y: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        return self.scaled(t, y, 1.0)

    def scaled(self, t: float, y: tuple[Tensor, ...], h: "float | tuple") -> tuple[Tensor, ...]:
        """``h * f(t, y)``; ``h`` a float or one per area (see :func:`~dynacortex.dynamics.solvers.increment`)."""
        areas, incoming = self.areas, self.net._incoming
        hs = h if isinstance(h, tuple) else (h,) * len(areas)
        outs = [a.output(yi) for a, yi in zip(areas, y)]
        drives = []
        for i, area in enumerate(areas):
            size = y[i].shape[-2:]
            drive = self.stimulus[i]
            for src, conn in incoming[i]:
                if self.delays and conn.bounds is None and t - conn.delay <= self.silent_before:
                    term = self._at_rest(src, conn, size, y[src])
                else:
                    term = self._delayed(lambda x, c=conn, s=size: c(x, s), id(conn), src, conn.delay, t, y, outs,
                                         affine=getattr(conn.op, "affine", False))
                drive = term if drive is None else drive + term
            if area.recurrence is not None and not (area.form == "rate" and t - area.t_recurrence <= self.silent_before):
                # J is linear (a bias-free linear module, see Area)
                drive = drive + self._delayed(area.recurrence, id(area.recurrence), i, area.t_recurrence, t, y, outs,
                                              own=True, affine=True)
            drives.append(drive)
        # every drive first, then the updates: backward then finishes each state's own update before the
        # connections' gradients reach it, so they accumulate in place
        return tuple(area.derivative(yi, drive, hi) for area, yi, drive, hi in zip(areas, y, drives, hs))

    def begin_step(self, n: int, t: float) -> None:
        for i, frames in self.frames.items():
            self.stimulus[i] = frames[n] if len(frames) > 1 else frames[0]

    def end_step(self, n: int, t: float, y: tuple[Tensor, ...]) -> None:
        net = self.net
        if net.stability_check:
            for name, yi in zip(net.area_names, y):
                if not torch.isfinite(yi).all():
                    raise StabilityError(f"area {name!r} became NaN/Inf at t = {t:g} ms (step {n + 1})")
        if self.history is not None:
            self.history.push(y)
        if net.readout is not None:
            self.logits.append(net.readout(*[self.areas[j].output(y[j]) for j in net._readout_index]))
        for observe in self.observers:
            if observe is not None:
                observe(t, y)
