"""Delay history: past states read at ``t - delay`` by interpolation between committed states.

States are committed at the step times ``t_k = t0 + k dt`` (and, for high-order solvers, at breakpoints in
between: :meth:`History.push` takes the time). A read at time ``s`` between two commits,
``s = t_k + theta h_k`` with ``h_k = t_{k+1} - t_k`` and ``0 <= theta < 1``, returns

    linear   y(s) = (1 - theta) y_k + theta y_{k+1}                                          (error O(h^2))
    Hermite  y(s) = h00 y_k + h10 h_k f_k + h01 y_{k+1} + h11 h_k f_{k+1}                     (error O(h^4))

    h00 = (1 + 2 theta)(1 - theta)^2,  h10 = theta (1 - theta)^2,  h01 = theta^2 (3 - 2 theta),  h11 = -theta^2 (1 - theta)

where ``f_k = dy/dt (t_k)`` is the slope at commit ``k`` (:meth:`History.set_slope`; a solver's first stage
computes it anyway). Where the input changes at ``t_k`` the slope jumps, and the segment that ends there uses
the left slope (``set_slope(f, left=True)``). ``hermite=True`` uses the cubic Hermite interpolant wherever both
slopes are known; when only ``f_k`` is (a read inside the last stored segment before its right end's slope is
computed), the quadratic ``y_k + theta h f_k + theta^2 (y_{k+1} - y_k - h f_k)`` (error O(h^3)); without slopes
the linear one. An interpolated read is a weighted sum of stored tensors, its *stencil*
(:meth:`History.stencil`), so a linear operation of a read is the same sum of the operation's terms.

So delays need not be multiples of ``dt``, and Runge-Kutta stages (at ``t + c dt``) read the history at
their own time with the accuracy their order needs: linear interpolation keeps Euler (order 1) and Heun
(2), cubic Hermite keeps RK4 at order 4 with delays. A read that falls inside the step being taken
(``s > t_n``, possible when the delay is shorter than the stage offset) interpolates linearly between the
last committed state and the stage's own state. A read between two commits uses ``y_{k+1}``, which the
input during ``(t_k, t_{k+1}]`` already shaped: a change can reach a target up to one step before the sum of
the delays on its path, by an amount that vanishes with the interpolation error as ``dt -> 0``. Before
``t0`` the history is the initial state (constant pre-history).

Only the commits of the last ``max_delay`` ms (and the one before) are kept: ``ceil(max_delay/dt) + 1`` on the
step grid (``capacity``), plus any breakpoints among them, so memory is bounded by the largest delay. Only the
leaves named in ``leaves`` are stored (the areas that are read with a delay).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from typing import Callable, Iterable, Optional, Union

import torch
from torch import Tensor

from .state import State, leaves as state_leaves

__all__ = ["History", "Stencil"]

_EPS = 1e-6  # tolerance, in steps, for snapping a read time onto a commit time

Coefficient = Union[float, Tensor]
# a read as a weighted sum of stored tensors: (coefficient, commit index, what): what is VALUE, SLOPE (the slope
# at the commit, to the right of an input change) or LEFT (the slope at the commit from the left)
VALUE, SLOPE, LEFT = 0, 1, 2
Stencil = list[tuple[Coefficient, int, int]]
Entry = tuple[Optional[Tensor], ...]


def _hermite(theta: Coefficient, h: float, right_slope: bool) -> tuple[Coefficient, ...]:
    """Weights of ``(y_k, f_k, y_{k+1}, f_{k+1})`` (slopes scaled by the segment length ``h``) of the cubic
    Hermite interpolant, or of the quadratic one through ``y_k, f_k, y_{k+1}`` when ``right_slope`` is False."""
    if not right_slope:
        t2 = theta * theta
        return 1 - t2, h * (theta - t2), t2, 0.0
    u = 1 - theta
    t2, u2 = theta * theta, u * u
    return (1 + 2 * theta) * u2, h * theta * u2, t2 * (3 - 2 * theta), -h * t2 * u


class History:
    """Ring buffer of committed states (and, optionally, their slopes) with interpolated reads.

    Args:
        max_delay: the largest delay (ms) that will be read.
        dt: step (ms) between commits.
        leaves: indices of the state leaves to keep (default: all).
        hermite: interpolate with cubic Hermite polynomials where slopes are given (see the module docstring).
    """

    def __init__(self, max_delay: float, dt: float, leaves: Optional[Iterable[int]] = None, hermite: bool = False):
        if max_delay < 0:
            raise ValueError(f"max_delay: must be >= 0 ms, got {max_delay}")
        if dt <= 0:
            raise ValueError(f"dt: must be > 0 ms, got {dt}")
        self.dt = float(dt)
        self.max_delay = float(max_delay)
        self.leaves = None if leaves is None else frozenset(leaves)
        self.hermite = hermite
        self.capacity = math.ceil(max_delay / dt - _EPS) + 1  # commits kept on the step grid
        self._buf: deque[Entry] = deque()
        self._times: deque[float] = deque()
        self._slopes: deque[Optional[Entry]] = deque()
        self._left: deque[Optional[Entry]] = deque()  # slopes from the left, where they differ
        self._initial: Entry = ()
        self.t0 = 0.0
        self.n = -1  # index of the last commit
        self._decode: Optional[Callable[[Tensor], Tensor]] = None  # see decoded()

    def _keep(self, y: State) -> Entry:
        ls = state_leaves(y)
        if self.leaves is None:
            return ls
        return tuple(leaf if i in self.leaves else None for i, leaf in enumerate(ls))

    def reset(self, t0: float, y0: State) -> None:
        """Start a new history at ``t0`` with state ``y0`` (also the pre-history)."""
        for q in (self._buf, self._times, self._slopes, self._left):
            q.clear()
        self.t0 = float(t0)
        self._initial = self._keep(y0)
        self._append(self._initial, self.t0)
        self.n = 0

    def _append(self, entry: Entry, t: float) -> None:
        self._buf.append(entry)
        self._times.append(t)
        self._slopes.append(None)
        self._left.append(None)

    def push(self, y: State, t: Optional[float] = None) -> None:
        """Commit the state at time ``t`` (default: the next step time ``t_last + dt``)."""
        t = self.t_last + self.dt if t is None else float(t)
        self._append(self._keep(y), t)
        self.n += 1
        oldest = t - self.max_delay + _EPS * self.dt  # keep the last commit at or before it
        while len(self._times) > 1 and self._times[1] <= oldest:
            for q in (self._buf, self._times, self._slopes, self._left):
                q.popleft()

    def set_slope(self, f: State, left: bool = False) -> None:
        """Give ``dy/dt`` at the last commit (used by Hermite reads); ``left``: the slope before an input change
        there, for the segment that ends at the commit."""
        (self._left if left else self._slopes)[-1] = self._keep(f)

    @property
    def t_last(self) -> float:
        """Time (ms) of the last commit."""
        return self._times[-1]

    def copy(self) -> "History":
        """An independent history holding the same tensors (pushes to one do not affect the other)."""
        new = History.__new__(History)
        new.__dict__.update(self.__dict__)
        for name in ("_buf", "_times", "_slopes", "_left"):
            setattr(new, name, deque(getattr(self, name)))
        return new

    def map(self, fn: "Callable[[Tensor], Tensor]") -> "History":
        """A history holding ``fn(x)`` for every stored tensor ``x`` (e.g. a copy in another dtype)."""
        def each(entry: Optional[Entry]) -> Optional[Entry]:
            return None if entry is None else tuple(None if x is None else fn(x) for x in entry)

        new = self.copy()
        for name in ("_buf", "_slopes", "_left"):
            setattr(new, name, deque(each(e) for e in getattr(self, name)))
        new._initial = each(self._initial)  # type: ignore[assignment]
        return new

    def decoded(self, fn: "Callable[[Tensor], Tensor]") -> "History":
        """A copy whose stored tensors are returned as ``fn(x)`` when read (commits pushed to it later are
        returned as they are): only what is read gets decoded."""
        new = self.copy()
        stored = {id(x) for entry in (*self._buf, *self._slopes, *self._left, self._initial) if entry is not None
                  for x in entry if x is not None}
        new._decode = lambda x: fn(x) if id(x) in stored else x
        return new

    def detach_(self) -> None:
        """Cut the autograd graph through the stored states (truncated backpropagation)."""
        def each(entry: Optional[Entry]) -> Optional[Entry]:
            return None if entry is None else tuple(None if x is None else x.detach() for x in entry)

        for i in range(len(self._buf)):
            self._buf[i] = each(self._buf[i])  # type: ignore[assignment]
            self._slopes[i] = each(self._slopes[i])
            self._left[i] = each(self._left[i])
        self._initial = each(self._initial)  # type: ignore[assignment]

    def _pos(self, k: int) -> int:
        pos = k - (self.n - len(self._buf) + 1)
        if pos < 0:
            raise RuntimeError(
                f"History: step {k} was dropped (capacity {self.capacity}); "
                f"a delay longer than max_delay={self.max_delay} ms was read"
            )
        return pos

    def at(self, k: int, leaf: int) -> Tensor:
        """Commit ``k`` of ``leaf`` (``k`` counts commits from :meth:`reset`)."""
        x = self._buf[self._pos(k)][leaf]
        if x is None:
            raise RuntimeError(f"History: leaf {leaf} is not stored (stored: {sorted(self.leaves or ())})")
        return x if self._decode is None else self._decode(x)

    def slope(self, k: int, leaf: int, left: bool = False) -> Tensor:
        """The slope ``dy/dt`` at commit ``k`` of ``leaf`` (given by :meth:`set_slope`; ``left``: from the left)."""
        pos = self._pos(k)
        entry = self._left[pos] if left and self._left[pos] is not None else self._slopes[pos]
        x = None if entry is None else entry[leaf]
        if x is None:
            raise RuntimeError(f"History: no slope stored at step {k} for leaf {leaf}")
        return x if self._decode is None else self._decode(x)

    def stencil(self, s: "float | Tensor", t: float) -> Optional[Stencil]:
        """A read at ``s`` as a weighted sum of stored tensors, or ``None`` when :meth:`read` returns the
        pre-history or interpolates towards the current stage state. A tensor ``s`` (a learnable delay) gives
        tensor weights, so the read has a derivative in ``s`` (on a stored step: see :meth:`_on_commit`)."""
        learn = isinstance(s, Tensor)
        sv = float(s.detach()) if learn else s
        tol = _EPS * self.dt
        if sv - self.t0 < (-tol if learn else tol) or sv > self.t_last + tol:
            return None
        pos = bisect.bisect_right(self._times, sv + tol) - 1
        k = self.n - len(self._times) + 1 + pos
        if pos < 0:
            self._pos(k)  # raises: dropped
        t_k = self._times[pos]
        if sv - t_k <= tol:
            return self._on_commit(s, sv, pos, k, t) if learn else [(1.0, k, VALUE)]
        if learn and k == self.n:
            return None
        h = self._times[pos + 1] - t_k
        theta = (s - t_k) / h
        if not (self.hermite and self._slopes[pos] is not None):
            return [(1 - theta, k, VALUE), (theta, k + 1, VALUE)]
        right = self._slopes[pos + 1] is not None or self._left[pos + 1] is not None
        a0, b0, a1, b1 = _hermite(theta, h, right)
        last = LEFT if self._left[pos + 1] is not None else SLOPE
        return [(a0, k, VALUE), (b0, k, SLOPE), (a1, k + 1, VALUE)] + ([(b1, k + 1, last)] if right else [])

    def _on_commit(self, s: Tensor, sv: float, pos: int, k: int, t: float) -> Stencil:
        """A tensor read on commit ``k``: its value, with the derivative of the segment the read stands for.
        A step's first stage (at the last commit) reads the segment after ``k``, any later stage the one
        before it: a quadrature over the step then sees the one-sided limits of a slope that jumps at the commit
        (an input change there, or a breakpoint the step ends on). The slope is the stored one where there is
        one, else the linear interpolant's; 0 in the constant pre-history."""
        prehistory = pos == 0 and self._times[0] <= self.t0 + _EPS * self.dt
        first_kept = pos == 0 and not prehistory  # the segment before it was dropped
        after = k < self.n and (abs(t - self.t_last) <= _EPS * self.dt or first_kept)
        if after and self.hermite and self._slopes[pos] is not None:
            side: Stencil = [(1.0, k, SLOPE)]
        elif after:
            h = self._times[pos + 1] - self._times[pos]
            side = [(1 / h, k + 1, VALUE), (-1 / h, k, VALUE)]
        elif prehistory:
            side = []  # the constant pre-history before t0
        elif self.hermite and (self._left[pos] is not None or self._slopes[pos] is not None):
            side = [(1.0, k, LEFT if self._left[pos] is not None else SLOPE)]
        else:
            h = self._times[pos] - self._times[pos - 1]
            side = [(1 / h, k, VALUE), (-1 / h, k - 1, VALUE)]
        d = s - sv  # 0, with derivative 1 in s
        return [(1.0, k, VALUE)] + [(d * c, j, what) for c, j, what in side]

    def value(self, k: int, leaf: int, what: int) -> Tensor:
        """The stored tensor a stencil names: commit ``k``'s value, slope or left slope."""
        return self.at(k, leaf) if what == VALUE else self.slope(k, leaf, left=what == LEFT)

    def read(self, leaf: int, s: "float | Tensor", t: float, current: Tensor) -> Tensor:
        """The state of ``leaf`` at time ``s <= t``; ``current`` is its value at the stage time ``t``."""
        stored = self._stored(leaf, s, t)
        if stored is not None:
            return stored
        sv = float(s.detach()) if isinstance(s, Tensor) else s
        t_n = self.t_last  # inside the step being taken
        span = t - t_n
        if span <= _EPS * self.dt or sv >= t - _EPS * self.dt:
            return current
        return torch.lerp(self.at(self.n, leaf), current, (s - t_n) / span)

    def _stored(self, leaf: int, s: "float | Tensor", t: float) -> Optional[Tensor]:
        """A read at ``s`` from the stored commits or the pre-history; ``None`` inside the step being taken."""
        stencil = self.stencil(s, t)
        if stencil is not None:
            return combine(stencil, lambda k, what: self.value(k, leaf, what))
        sv = float(s.detach()) if isinstance(s, Tensor) else s
        if sv - self.t0 > _EPS * self.dt:
            return None
        x = self._initial[leaf]
        assert x is not None
        return x if self._decode is None else self._decode(x)

    def resampled(self, max_delay: float, dt: float, leaves: Optional[Iterable[int]], hermite: bool) -> "History":
        """This history on the grid of step ``dt`` ending at its last commit, holding ``max_delay`` ms: for a
        continuation with another step or longer delays. Reads at the new step times; the slopes carry over
        where a new step time falls on a commit (elsewhere reads between the resampled steps are linear).
        Raises ``ValueError`` where it lacks the past or a leaf that is needed."""
        new = History(max_delay, dt, leaves, hermite)
        need = new.leaves if new.leaves is not None else range(len(self._initial))
        missing = [i for i in need if i >= len(self._initial) or self._initial[i] is None]
        if missing:
            raise ValueError(f"carry: its delay history does not hold areas {missing}, which this network reads "
                             "with a delay; run the simulation from the start instead")
        kept = self._times[0]  # the oldest stored commit
        oldest = self.t_last - (new.capacity - 1) * new.dt
        if oldest < kept - _EPS * self.dt and kept > self.t0 + _EPS * self.dt:
            raise ValueError(
                f"carry: its delay history holds {self.t_last - kept:g} ms of the past, and this network reads "
                f"{max_delay:g} ms back; continue with delays of at most {self.t_last - kept:g} ms or run from the start")
        for j in range(new.capacity):
            s = oldest + j * new.dt
            stencil = self.stencil(s, self.t_last)
            entry = tuple(None if i not in need else self._stored(i, s, self.t_last) for i in range(len(self._initial)))
            if j == 0:
                new.reset(s, entry)
            else:
                new.push(entry, s)
            if stencil is not None and len(stencil) == 1 and self._slopes[self._pos(stencil[0][1])] is not None:
                new.set_slope(tuple(None if i not in need else self.slope(stencil[0][1], i)
                                    for i in range(len(self._initial))))
        return new


def combine(stencil: Stencil, fetch: "Callable[[int, int], Tensor]") -> Tensor:
    """``sum_i c_i x_i`` over a :data:`Stencil`, with ``x_i = fetch(k_i, what_i)``: a single term of weight 1 is
    returned as it is, a linear interpolation (two values) is one lerp."""
    if len(stencil) == 1 and isinstance(stencil[0][0], float) and stencil[0][0] == 1.0:
        return fetch(stencil[0][1], stencil[0][2])
    if len(stencil) == 2 and stencil[0][2] == VALUE and stencil[1][2] == VALUE:  # weights 1 - w and w
        return torch.lerp(fetch(stencil[0][1], VALUE), fetch(stencil[1][1], VALUE), stencil[1][0])
    out: Optional[Tensor] = None
    for c, k, what in stencil:
        x = fetch(k, what)
        if out is None:
            out = x * c
        else:
            out = torch.add(out, x, alpha=c) if isinstance(c, float) else out + x * c
    assert out is not None
    return out
