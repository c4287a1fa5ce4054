"""Recording per-area activity over time.

    with dynacortex.record(model, areas=["V1", "IT"]) as rec:
        model(x)
    rec["IT"]      # (B, T, C, H, W) rates at the end of every step
    rec.times      # (T,) ms

Recorded tensors are detached (no autograd graph kept) unless ``keep_graph=True``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional, Sequence

import torch
from torch import Tensor

from .network import AreaNetwork

__all__ = ["Recording", "record"]


class Recording:
    """Per-area rates collected at the end of every step (time in ms)."""

    def __init__(self, model: AreaNetwork, areas: Sequence[str], keep_graph: bool):
        self._index = [model.area_names.index(a) for a in areas]
        self._areas = [model.areas[i] for i in self._index]
        self.names = list(areas)
        self.keep_graph = keep_graph
        self._steps: list[list[Tensor]] = []
        self._times: list[float] = []

    def _observe(self, t: float, y: tuple[Tensor, ...]) -> None:
        rates = [a.output(y[i]) for a, i in zip(self._areas, self._index)]
        self._steps.append(rates if self.keep_graph else [r.detach() for r in rates])
        self._times.append(t)

    @property
    def times(self) -> Tensor:
        return torch.tensor(self._times)

    def __getitem__(self, area: str) -> Tensor:
        k = self.names.index(area)
        return torch.stack([step[k] for step in self._steps], dim=1)

    def as_dict(self) -> dict[str, Tensor]:
        return {name: self[name] for name in self.names}


@contextmanager
def record(model: AreaNetwork, areas: Optional[Sequence[str]] = None, keep_graph: bool = False) -> Iterator[Recording]:
    """Record the rates of ``areas`` (default: all) during the simulations run inside the block."""
    names = list(model.area_names if areas is None else areas)
    unknown = [a for a in names if a not in model.area_names]
    if unknown:
        raise ValueError(f"areas: {unknown} do not exist; this model's areas are {model.area_names}")
    rec = Recording(model, names, keep_graph)
    with model.observe(rec._observe):
        yield rec
