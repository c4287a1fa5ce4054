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

The step conventions of :class:`~dynacortex.models.AreaNetwork` (``delay_from="step_end"``,
``ordering="sequential"``) take the Euler step area by area (:meth:`NetworkField._stepwise`), and
``start="on_input"`` leaves out every read of a silent area (:meth:`AreaNetwork.onsets`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import torch
from torch import Tensor

from ..dynamics import History
from ..dynamics.history import VALUE, combine
from ..layers import Area, Connection
from .breakpoints import Breakpoints, frames_differ
from .carry import Carry
from .noise import StateNoise

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
        # per area: reads at or before this time see the rest state (start="on_input": a silent area, left out)
        self.absent = net.start == "on_input"
        self.silent = ([self.silent_before + o for o in net.onsets()] if self.absent
                       else [self.silent_before] * len(net.areas))
        self.step_end, self.sequential = net.delay_from == "step_end", net.ordering == "sequential"
        self.readout_delay = net.readout_delay
        # unbind: one backward node for all frames, not one zero-filled copy per step
        self.frames = {i: d.unbind(1) for i, d in drives.items()}
        self.areas: list[Area] = list(net.areas)  # type: ignore[arg-type]
        self.tau = tuple(a.tau for a in self.areas)  # for exponential integrators
        self.separate = [getattr(a, "separate_rates", False) for a in self.areas]  # recurrence reads all populations
        # a recurrence reading the rest state gives exactly 0 and is left out (rate form, no bias; silent areas)
        self.rest_free = [(a.form == "rate" and not getattr(a, "recurrence_bias", False)) or net.start == "on_input"
                          for a in self.areas]
        self.stimulus: list[Optional[Tensor]] = [None] * len(net.areas)
        self._rest_terms: dict[int, Tensor] = {}  # connection -> its term from the rest state, (1, C, H, W)
        self._commit_terms: dict[tuple, dict[int, Tensor]] = {}  # (operation, area, own, slope) -> commit -> term
        self.kinks: Optional[Breakpoints] = None  # where steps must end for a high-order solver (set below)
        self.noise = None if net.noise is None else StateNoise(net.noise, self.areas, net.solver.name)
        self.begin_step(0, carry.t)
        self.logits: list[Tensor] = []
        delayed: dict[int, float] = {}
        for dst, incoming in enumerate(net._incoming):
            for src, c in incoming:
                if c.max_delay > 0:
                    delayed[src] = max(delayed.get(src, 0.0), c.max_delay)
            if self.areas[dst].recurrence is not None and self.areas[dst].t_recurrence > 0:
                delayed[dst] = max(delayed.get(dst, 0.0), self.areas[dst].t_recurrence)
        if self.readout_delay > 0 and net.readout is not None:
            for j in net._readout_index:
                delayed[j] = max(delayed.get(j, 0.0), self.readout_delay)
        self.history = carry.history
        hermite = net.solver.order >= 3  # linear interpolation would cap the solver at order 2
        if delays and delayed:
            need = max(delayed.values())
            if self.history is None:
                self.history = History(need, net.dt, leaves=delayed, hermite=hermite)
                self.history.reset(carry.t, carry.state)
            elif (abs(self.history.dt - net.dt) > 1e-9 * net.dt or self.history.max_delay < need
                  or not set(delayed) <= set(self.history.leaves or delayed)):
                self.history = self.history.resampled(need, net.dt, delayed, hermite)
            else:  # a copy: the carry stays usable for another continuation
                self.history = self.history.copy()
                self.history.hermite = hermite
        self._committed = carry.state  # the state whose slope the next step's first stage computes
        self.linear = [getattr(a, "linear_output", False) for a in self.areas]
        if hermite and self.history is not None:
            found = [c.delay for incoming in net._incoming for _, c in incoming]
            found += [a.t_recurrence for a in self.areas if a.recurrence is not None]
            self.kinks = Breakpoints([float(d.detach()) if isinstance(d, Tensor) else float(d) for d in found],
                                     carry.changes, net.dt)
            if carry.last_drive is None or frames_differ(self._frame(0), carry.last_drive):
                self.kinks.change(carry.t)
                if carry.last_drive is not None:
                    self._left_slope(carry.t, carry.last_drive)

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
        commit (computed once, ``key`` names the operation). When ``op`` is affine and the area's output linear
        in its state, an interpolated read is the history's stencil applied to the terms,
        ``op(sum_i c_i y_i + sum_i d_i f_i) = sum_i c_i op(y_i) + sum_i d_i L f_i`` (``L``: the linear part of
        ``op``, ``sum_i c_i = 1``); otherwise ``op`` acts on the interpolated state."""
        stencil = None
        if self.delays and isinstance(delay, float) and delay > 0.0 and self.history is not None:
            stencil = self.history.stencil(t - delay, t)
        if stencil is None or (len(stencil) > 1 and not (affine and self.linear[j])):
            return op(self._read(j, delay, t, y, outs, own))
        return combine(stencil, lambda k, what: self._commit_term(op, key, j, k, own, what))

    def _commit_term(self, op: Callable[[Tensor], Tensor], key: int, j: int, k: int, own: bool, what: int) -> Tensor:
        """``op`` of area ``j``'s output at commit ``k`` (``what``: VALUE), or the linear part of ``op`` on its
        slope (SLOPE, LEFT: see :class:`~dynacortex.dynamics.History`)."""
        terms = self._commit_terms.setdefault((key, j, own, what), {})
        if k not in terms:
            history, area = self.history, self.areas[j]
            assert history is not None
            x = area.rates(history.value(k, j, what)) if own else area.output(history.value(k, j, what))
            term = op(x)
            if what != VALUE and (not own or getattr(area, "recurrence_bias", False)):  # a bias: keep the linear part
                term = term - op(torch.zeros_like(x[:1]))
            terms[k] = term
            for old in [c for c in terms if c < k - 1]:  # stages read at most two commits per step
                del terms[old]
        return terms[k]

    def __call__(self, t: float, y: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        return self.scaled(t, y, 1.0)

    def scaled(self, t: float, y: tuple[Tensor, ...], h: "float | tuple") -> tuple[Tensor, ...]:
        """``h * f(t, y)``; ``h`` a float or one per area (see :func:`~dynacortex.dynamics.solvers.increment`)."""
        if (self.step_end or self.sequential) and self.delays:
            return self._stepwise(t, y, h)  # type: ignore[arg-type]  # euler: h is the step
        areas, incoming = self.areas, self.net._incoming
        hs = h if isinstance(h, tuple) else (h,) * len(areas)
        slope = self.history is not None and self.history.hermite and y is self._committed
        outs = [a.output(yi) for a, yi in zip(areas, y)]
        drives = []
        for i, area in enumerate(areas):
            size = y[i].shape[-2:]
            drive = self.stimulus[i]
            for src, conn in incoming[i]:
                if self.delays and conn.bounds is None and t - conn.delay <= self.silent[src]:
                    if self.absent:
                        continue
                    term = self._at_rest(src, conn, size, y[src])
                else:
                    term = self._delayed(lambda x, c=conn, s=size: c(x, s), id(conn), src, conn.delay, t, y, outs,
                                         affine=getattr(conn.op, "affine", False))
                drive = term if drive is None else drive + term
            if area.recurrence is not None and not (self.rest_free[i] and t - area.t_recurrence <= self.silent[i]):
                # J is affine (linear, or with a bias: see Area)
                term = self._delayed(area.recurrence, id(area.recurrence), i, area.t_recurrence, t, y, outs,
                                     own=True, affine=True)
                drive = term if drive is None else drive + term
            drives.append(drive)
        # every drive first, then the updates: backward then finishes each state's own update before the
        # connections' gradients reach it, so they accumulate in place
        out = tuple(torch.zeros_like(yi) if drive is None else area.derivative(yi, drive, hi)  # no input yet: silent
                    for area, yi, drive, hi in zip(areas, y, drives, hs))
        if slope and abs(t - self.history.t_last) <= 1e-6 * self.net.dt:  # type: ignore[union-attr]
            # a first stage at the last commit: its slope makes the history's reads there cubic Hermite
            self.history.set_slope(out if h == 1.0 else tuple(o / hi for o, hi in zip(out, hs)))  # type: ignore[union-attr]
        return out

    def _stepwise(self, t: float, y: tuple[Tensor, ...], h: float) -> tuple[Tensor, ...]:
        """The Euler increment under the step conventions (``delay_from="step_end"``, ``ordering="sequential"``):
        every term reads its source at ``t + h - Delta``; the areas are updated in order, so with
        ``ordering="sequential"`` a read at the step end of an area already updated gets its new state."""
        areas, incoming = self.areas, self.net._incoming
        outs = [a.output(yi) for a, yi in zip(areas, y)]
        new: list[Optional[Tensor]] = [None] * len(areas)  # outputs at t + h of the areas updated so far
        result = []
        for i, area in enumerate(areas):
            size = y[i].shape[-2:]
            drive = self.stimulus[i]
            for src, conn in incoming[i]:
                term = self._step_read(lambda x, c=conn, s=size: c(x, s), id(conn), src, conn.delay, t, h, y, outs,
                                       new, affine=getattr(conn.op, "affine", False), conn=conn, size=size)
                if term is not None:
                    drive = term if drive is None else drive + term
            if area.recurrence is not None:
                term = self._step_read(area.recurrence, id(area.recurrence), i, area.t_recurrence, t, h, y, outs,
                                       new, own=True, affine=True)
                if term is not None:
                    drive = term if drive is None else drive + term
            inc = torch.zeros_like(y[i]) if drive is None else area.derivative(y[i], drive, h)  # None: silent
            result.append(inc)
            if self.sequential:
                new[i] = area.output(torch.add(y[i], inc))  # what the solver commits, y + inc
        return tuple(result)

    def _step_read(self, op: Callable[[Tensor], Tensor], key: int, j: int, delay: float, t: float, h: float,
                   y: tuple[Tensor, ...], outs: list[Tensor], new: list[Optional[Tensor]], own: bool = False,
                   affine: bool = False, conn: Optional[Connection] = None,
                   size: Optional[torch.Size] = None) -> Optional[Tensor]:
        """``op`` of area ``j``'s output (``own``: its rates) read ``delay`` ms before the step's end (or start);
        ``None`` when the read adds nothing (a silent area with ``start="on_input"``, a bias-free recurrence at
        rest)."""
        back = delay - h if self.step_end else delay  # how far before t the read falls
        if abs(back) <= 1e-9 * h:
            back = 0.0
        x = None
        if back < 0.0:  # inside this step: the new state if the area is updated already, else the one at t
            x, s = (new[j], t + h) if new[j] is not None else (None, t)
            back = 0.0
        else:
            s = t - back
        if s <= self.silent[j]:
            if self.absent:
                return None
            if conn is not None:
                assert size is not None
                return self._at_rest(j, conn, size, y[j])
            if self.rest_free[j]:
                return None
        if x is not None:
            return op(x)
        return self._delayed(op, key, j, back, t, y, outs, own=own, affine=affine)

    def _frame(self, n: int) -> dict[int, Tensor]:
        return {i: frames[n] if len(frames) > 1 else frames[0] for i, frames in self.frames.items()}

    def begin_step(self, n: int, t: float) -> None:
        for i, frame in self._frame(n).items():
            self.stimulus[i] = frame
        if self.kinks is not None and n > 0 and frames_differ(self._frame(n), self._frame(n - 1)):
            self.kinks.change(t)
            self._left_slope(t, self._frame(n - 1))

    def _left_slope(self, t: float, before: dict[int, Tensor]) -> None:
        """Give the history the slope at its last commit under the stimulus ``before`` an input change there."""
        now, committed = list(self.stimulus), self._committed
        self._committed = None  # type: ignore[assignment]  # not the first stage of a step: no capture
        for i, frame in before.items():
            self.stimulus[i] = frame
        self.history.set_slope(self(t, committed), left=True)  # type: ignore[union-attr]
        self.stimulus, self._committed = now, committed

    def perturb(self, t: float, y: tuple[Tensor, ...], dt: float) -> tuple[Tensor, ...]:
        """The state after a step of ``dt`` with the step's state noise added (none without noise)."""
        return y if self.noise is None else self.noise(y, dt)

    def substep(self, t: float, y: tuple[Tensor, ...]) -> None:
        """Commit the state at a breakpoint inside a step (no readout, no observers)."""
        self.history.push(y, t)  # type: ignore[union-attr]
        self._committed = y

    def breakpoints(self, t: float, t_next: float) -> list[float]:
        """Breakpoints inside the step (see :mod:`dynacortex.models.breakpoints`); none for low-order solvers."""
        return self.kinks.inside(t, t_next) if self.kinks is not None else []

    def handover(self, t: float) -> tuple[tuple[float, ...], Optional[dict[int, Tensor]]]:
        """What a continuation needs to find its breakpoints: recent input changes and the last drive frames."""
        if self.kinks is None:
            return (), None
        return self.kinks.kept(t), self._frame(-1)

    def end_step(self, n: int, t: float, y: tuple[Tensor, ...]) -> None:
        net = self.net
        if net.stability_check:
            for name, yi in zip(net.area_names, y):
                if not torch.isfinite(yi).all():
                    raise StabilityError(f"area {name!r} became NaN/Inf at t = {t:g} ms (step {n + 1})")
        if self.history is not None:
            self.history.push(y, t)
            self._committed = y
        if net.readout is not None:
            if self.readout_delay > 0 and self.history is not None:  # the rates readout_delay ms ago
                s = t - self.readout_delay
                rates = [self.areas[j].output(self.history.read(j, s, t, y[j])) for j in net._readout_index]
                logits = net.readout(*rates)
                if self.absent and all(s <= self.silent[j] for j in net._readout_index):
                    logits = torch.zeros_like(logits)  # nothing has reached the read-out yet
                self.logits.append(logits)
            else:
                self.logits.append(net.readout(*[self.areas[j].output(y[j]) for j in net._readout_index]))
        for observe in self.observers:
            if observe is not None:
                observe(t, y)
