"""What a simulation hands on to its continuation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

from torch import Tensor

from ..dynamics import History

__all__ = ["Carry"]


@dataclass
class Carry:
    """What a simulation hands on to its continuation: state, time (ms) and delay history.

    ``rest_until``: the network was at rest (all rates exactly zero) up to this time, so bias-free
    recurrence reading from before it is skipped; ``-inf`` when unknown. ``changes``: recent times at which
    the stimulus changed and ``last_drive``: the last stimulus drive frames (area index -> tensor),
    from which a continuation finds its breakpoints (see :mod:`dynacortex.models.breakpoints`); without
    them the stimulus is taken to change where the continuation starts. Build one from your own state with
    ``Carry(state, t)``.
    """

    state: tuple[Tensor, ...]
    t: float = 0.0
    history: Optional[History] = None
    rest_until: float = float("-inf")
    changes: tuple[float, ...] = ()
    last_drive: Optional[dict[int, Tensor]] = None

    def detach(self) -> "Carry":
        """The same carry with the autograd graph cut (for truncated backpropagation through time)."""
        if self.history is not None:
            self.history.detach_()
        drive = None if self.last_drive is None else {i: d.detach() for i, d in self.last_drive.items()}
        return replace(self, state=tuple(s.detach() for s in self.state), last_drive=drive)

    def map(self, fn: Callable[[Tensor], Tensor]) -> "Carry":
        """The same carry with ``fn`` applied to every tensor of its state, history and last drive."""
        history = None if self.history is None else self.history.map(fn)
        drive = None if self.last_drive is None else {i: fn(d) for i, d in self.last_drive.items()}
        return replace(self, state=tuple(fn(s) for s in self.state), history=history, last_drive=drive)
