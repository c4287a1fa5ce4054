"""What a simulation hands on to its continuation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from torch import Tensor

from ..dynamics import History

__all__ = ["Carry"]


@dataclass
class Carry:
    """What a simulation hands on to its continuation: state, time (ms) and delay history.

    ``rest_until``: the network was at rest (all rates exactly zero) up to this time, so bias-free
    recurrence reading from before it is skipped; ``-inf`` when unknown. Build one from your own
    state with ``Carry(state, t)``.
    """

    state: tuple[Tensor, ...]
    t: float = 0.0
    history: Optional[History] = None
    rest_until: float = float("-inf")

    def detach(self) -> "Carry":
        """The same carry with the autograd graph cut (for truncated backpropagation through time)."""
        if self.history is not None:
            self.history.detach_()
        return Carry(tuple(s.detach() for s in self.state), self.t, self.history, self.rest_until)

    def map(self, fn: Callable[[Tensor], Tensor]) -> "Carry":
        """The same carry with ``fn`` applied to every tensor of its state and history."""
        history = None if self.history is None else self.history.map(fn)
        return Carry(tuple(fn(s) for s in self.state), self.t, history, self.rest_until)
