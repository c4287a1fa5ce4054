"""Breakpoints of a delayed network: where its solution is not smooth, so that high-order steps end there.

When the stimulus changes at ``tau`` (a trial's onset, a new frame), the rates' first derivative jumps there.
A connection or recurrence with delay ``Delta`` carries that jump to ``tau + Delta`` as a jump of the second
derivative, two delays on a path to ``tau + Delta_i + Delta_j`` as one of the third, and so on. A Runge-Kutta
step across a jump of the (m+1)-th derivative has a local error of order ``dt^(m+1)``, and that error is not
averaged away: a step across ``tau + Delta`` costs a fourth-order method its order (measured: RK4 at order 2.0
with delays that are not multiples of ``dt``). The remedy of delay-equation solvers is to put the breakpoints
in the mesh (Bellen & Zennaro 2003, ch. 4). Here a step of ``dt`` that contains breakpoints is taken in pieces
that end on them; commits stay on the grid ``t0 + k dt``. Breakpoints of first and second generation are
kept (``tau + Delta_i`` and ``tau + Delta_i + Delta_j`` over all delays of the network), enough for order 4.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor

__all__ = ["Breakpoints", "frames_differ"]


class Breakpoints:
    """Input change times and the delays of a network; :meth:`inside` lists breakpoints within a step.

    Args:
        delays: the network's positive delays (ms).
        changes: earlier times (ms) at which the input changed (from a carry).
        dt: the step (ms); breakpoints within ``1e-6 dt`` of a step time are on the grid already.
    """

    def __init__(self, delays: "list[float]", changes: "tuple[float, ...]", dt: float):
        ds = sorted({d for d in delays if d > 0})
        self.offsets = sorted(set(ds) | {a + b for a, b in itertools.combinations_with_replacement(ds, 2)})
        self.reach = self.offsets[-1] if self.offsets else 0.0
        self.changes = list(changes)
        self.eps = 1e-6 * dt

    def change(self, t: float) -> None:
        """The input changes at ``t``."""
        if not self.changes or self.changes[-1] != t:
            self.changes.append(t)

    def kept(self, t: float) -> "tuple[float, ...]":
        """The change times whose breakpoints still lie after ``t``."""
        return tuple(c for c in self.changes if c + self.reach > t + self.eps)

    def inside(self, t: float, t_next: float) -> "list[float]":
        """Breakpoints strictly inside ``(t, t_next)``, sorted, without near-duplicates."""
        self.changes = list(self.kept(t))
        marks = sorted(c + o for c in self.changes for o in self.offsets if t + self.eps < c + o < t_next - self.eps)
        return [m for i, m in enumerate(marks) if i == 0 or m - marks[i - 1] > self.eps]


def frames_differ(a: "dict[int, Tensor]", b: "dict[int, Tensor]") -> bool:
    """Whether two sets of stimulus drive frames (area index -> tensor) differ anywhere."""
    return a.keys() != b.keys() or any(not torch.equal(a[i], b[i]) for i in a)
