"""Losses over time.

Cross-entropy over the read-out steps ``S``:  ``L_CE = mean_{n in S} CE(logits_n, label)``.

Masked cross-entropy over time (per-step targets, e.g. cognitive tasks):
``L = sum_{b,n} m_{b,n} CE(logits_{b,n}, y_{b,n}) / sum_{b,n} m_{b,n}`` with loss weights ``m >= 0``.

Energy (activity) loss, the metabolic cost of firing:  ``L_E = mean_{n, a} mean_units |r_a(t_n)|``,
the mean absolute rate over all areas and steps; the objective is ``L_CE + energy_weight * L_E``.
It is accumulated step by step from the simulation (no stored record), so it costs one reduction per
area per step and reaches every parameter that shapes the rates.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from ..models import AreaNetwork

__all__ = ["temporal_cross_entropy", "masked_cross_entropy", "EnergyMeter"]


def temporal_cross_entropy(logits: Tensor, labels: Tensor, readout: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """Mean cross-entropy of ``logits`` (B, T, K) against ``labels`` (B,) over the steps where ``readout`` (T,)."""
    sel = logits[:, readout.to(logits.device)]  # (B, S, K)
    target = labels.unsqueeze(1).expand(-1, sel.shape[1])
    return F.cross_entropy(sel.reshape(-1, sel.shape[-1]).float(), target.reshape(-1), label_smoothing=label_smoothing)


def masked_cross_entropy(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Cross-entropy of ``logits`` (B, T, K) against per-step ``targets`` (B, T), weighted by ``mask`` (B, T)."""
    if logits.shape[:2] != targets.shape or targets.shape != mask.shape:
        raise ValueError(f"targets/mask: expected shape {tuple(logits.shape[:2])} like the logits' (B, T), got "
                         f"{tuple(targets.shape)} and {tuple(mask.shape)}")
    ce = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="none")
    m = mask.flatten().to(ce.dtype)
    return (ce * m).sum() / m.sum().clamp_min(1e-12)


class EnergyMeter:
    """Context manager that sums the mean absolute rate of every area at every step of ``model``'s runs."""

    def __init__(self, model: AreaNetwork):
        self.model = model
        self.total: Optional[Tensor] = None
        self.count = 0

    def _energies(self, y: tuple[Tensor, ...]) -> list[Tensor]:
        return [area.output(yi).abs().mean() for area, yi in zip(self.model.areas, y)]

    def __call__(self, t: float, y: tuple[Tensor, ...]) -> None:
        for e in self._energies(y):
            self.total = e if self.total is None else self.total + e
            self.count += 1

    def replay(self, t: float, y: tuple[Tensor, ...]) -> None:
        """Recomputation under gradient checkpointing: the same tensor work, nothing accumulated."""
        self._energies(y)

    @property
    def value(self) -> Tensor:
        """Mean absolute rate over areas and steps observed so far."""
        if self.total is None:
            raise RuntimeError("EnergyMeter: nothing was simulated inside the block")
        return self.total / self.count

    def __enter__(self) -> "EnergyMeter":
        self._observing = ExitStack()
        self._observing.enter_context(self.model.observe(self))
        return self

    def __exit__(self, *exc: object) -> None:
        self._observing.close()
