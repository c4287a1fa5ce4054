"""Delay history: past states read at ``t - delay`` by linear interpolation.

States are committed at the step times ``t_k = t0 + k dt``. A read at time ``s`` returns

    y(s) = (1 - w) y_k + w y_{k+1},   k = floor((s - t0)/dt),  w = (s - t_k)/dt

so delays need not be multiples of ``dt`` and Runge-Kutta stages (at ``t + c dt``) read the history
at their own time. A read that falls inside the step being taken (``s > t_n``, possible when the
delay is shorter than the stage offset) interpolates between the last committed state and the
stage's own state. Before ``t0`` the history is the initial state (constant pre-history).

Only the last ``ceil(max_delay/dt) + 1`` commits are kept (a read at ``t - max_delay`` with
``t >= t_n`` needs commits ``n - ceil(max_delay/dt)`` to ``n``), so memory is bounded by the largest
delay. Only the leaves named in ``leaves`` are stored (the areas that are read with a delay).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Callable, Iterable, Optional

import torch
from torch import Tensor

from .state import State, leaves as state_leaves

__all__ = ["History"]

_EPS = 1e-6  # tolerance, in steps, for snapping a read time onto a commit time


class History:
    """Ring buffer of committed states with interpolated reads.

    Args:
        max_delay: the largest delay (ms) that will be read.
        dt: step (ms) between commits.
        leaves: indices of the state leaves to keep (default: all).
    """

    def __init__(self, max_delay: float, dt: float, leaves: Optional[Iterable[int]] = None):
        if max_delay < 0:
            raise ValueError(f"max_delay: must be >= 0 ms, got {max_delay}")
        if dt <= 0:
            raise ValueError(f"dt: must be > 0 ms, got {dt}")
        self.dt = float(dt)
        self.max_delay = float(max_delay)
        self.leaves = None if leaves is None else frozenset(leaves)
        self.capacity = math.ceil(max_delay / dt - _EPS) + 1
        self._buf: deque[tuple[Optional[Tensor], ...]] = deque(maxlen=self.capacity)
        self._initial: tuple[Optional[Tensor], ...] = ()
        self.t0 = 0.0
        self.n = -1  # index of the last commit
        self._decode: Optional[Callable[[Tensor], Tensor]] = None  # see decoded()

    def _keep(self, y: State) -> tuple[Optional[Tensor], ...]:
        ls = state_leaves(y)
        if self.leaves is None:
            return ls
        return tuple(leaf if i in self.leaves else None for i, leaf in enumerate(ls))

    def reset(self, t0: float, y0: State) -> None:
        """Start a new history at ``t0`` with state ``y0`` (also the pre-history)."""
        self._buf.clear()
        self.t0 = float(t0)
        self._initial = self._keep(y0)
        self._buf.append(self._initial)
        self.n = 0

    def push(self, y: State) -> None:
        """Commit the state at the next step time ``t0 + (n+1) dt``."""
        self._buf.append(self._keep(y))
        self.n += 1

    def copy(self) -> "History":
        """An independent history holding the same tensors (pushes to one do not affect the other)."""
        new = History.__new__(History)
        new.__dict__.update(self.__dict__)
        new._buf = deque(self._buf, maxlen=self.capacity)
        return new

    def map(self, fn: "Callable[[Tensor], Tensor]") -> "History":
        """A history holding ``fn(x)`` for every stored tensor ``x`` (e.g. a copy in another dtype)."""
        new = self.copy()
        new._buf = deque((tuple(None if x is None else fn(x) for x in entry) for entry in self._buf),
                         maxlen=self.capacity)
        new._initial = tuple(None if x is None else fn(x) for x in self._initial)
        return new

    def decoded(self, fn: "Callable[[Tensor], Tensor]") -> "History":
        """A copy whose stored tensors are returned as ``fn(x)`` when read (commits pushed to it later are
        returned as they are): only what is read gets decoded."""
        new = self.copy()
        stored = {id(x) for entry in (*self._buf, self._initial) for x in entry if x is not None}
        new._decode = lambda x: fn(x) if id(x) in stored else x
        return new

    def detach_(self) -> None:
        """Cut the autograd graph through the stored states (truncated backpropagation)."""
        for i, entry in enumerate(self._buf):
            self._buf[i] = tuple(None if x is None else x.detach() for x in entry)
        self._initial = tuple(None if x is None else x.detach() for x in self._initial)

    def at(self, k: int, leaf: int) -> Tensor:
        """Commit ``k`` of ``leaf`` (``k`` counts commits from :meth:`reset`)."""
        pos = k - (self.n - len(self._buf) + 1)
        if pos < 0:
            raise RuntimeError(
                f"History: step {k} was dropped (capacity {self.capacity}); "
                f"a delay longer than max_delay={self.max_delay} ms was read"
            )
        x = self._buf[pos][leaf]
        if x is None:
            raise RuntimeError(f"History: leaf {leaf} is not stored (stored: {sorted(self.leaves or ())})")
        return x if self._decode is None else self._decode(x)

    def locate(self, s: float, t: float) -> "tuple[int, float] | None":
        """Where a read at ``s`` (a float) falls among the stored commits: ``(k, w)`` for
        ``(1 - w) y_k + w y_{k+1}`` (``w = 0``: exactly commit k), or ``None`` when :meth:`read` returns
        the pre-history or interpolates towards the current stage state."""
        u = (s - self.t0) / self.dt
        if u <= _EPS or u > self.n + _EPS:
            return None
        k = math.floor(u + _EPS)
        frac = u - k
        return (k, 0.0) if frac <= _EPS else (k, frac)

    def read(self, leaf: int, s: "float | Tensor", t: float, current: Tensor) -> Tensor:
        """The state of ``leaf`` at time ``s <= t``; ``current`` is its value at the stage time ``t``.

        A tensor ``s`` (a learnable delay) gets gradients through the interpolation weight; on a commit
        time it reads the segment that follows, so the derivative exists there too.
        """
        learn = isinstance(s, Tensor)
        sv = float(s.detach()) if learn else s
        u = (sv - self.t0) / self.dt
        if u <= _EPS:
            x = self._initial[leaf]
            assert x is not None
            return x if self._decode is None else self._decode(x)
        t_n = self.t0 + self.n * self.dt
        k = math.floor(u + _EPS)
        if u > self.n + _EPS or (learn and k == self.n):  # inside the step being taken
            span = t - t_n
            if span <= _EPS * self.dt or sv >= t - _EPS * self.dt:
                return current
            return torch.lerp(self.at(self.n, leaf), current, (s - t_n) / span)
        frac = (s - self.t0) / self.dt - k
        if not learn and frac <= _EPS:
            return self.at(k, leaf)
        return torch.lerp(self.at(k, leaf), self.at(k + 1, leaf), frac)
