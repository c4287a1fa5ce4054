"""Within-column connectivity from connection probabilities and population sizes (Potjans & Diesmann 2014).

In-degree of target population i from source j (the expected number of distinct synapses, per
target neuron, when ``N_i N_j`` candidate pairs are drawn with replacement until a fraction P_ij is hit):

    K_ij = ln(1 - P_ij) / ln(1 - 1 / (N_i N_j)) / N_i

Synaptic strength per source: ``J`` for excitatory populations, ``-J N_E / N_I`` for the inhibitory
population of the same layer (balancing each layer's E and I counts). Recurrent weights:
``W_ij = K_ij J_j``. Background weights: ``K_bg,i J``; external input weights ``K_ff,i J``.

Small mode (the reference's ``small_network``, used for its XOR and WTA networks): population sizes are
divided by the number of columns in the area and every background in-degree is 2510.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .parameters import ColumnParameters

__all__ = ["ColumnWeights", "in_degrees", "synaptic_strengths", "column_weights"]


def in_degrees(probabilities: Tensor, sizes: Tensor) -> Tensor:
    """``K[i, j]`` (synapses per neuron of target i from source j) for P[target, source] and sizes N."""
    pairs = sizes[:, None] * sizes[None, :]
    return torch.log1p(-probabilities) / torch.log1p(-1.0 / pairs) / sizes[:, None]


def synaptic_strengths(sizes: Tensor, strength: float) -> Tensor:
    """Per-source strength: ``J`` (excitatory, even index), ``-J N_E / N_I`` (inhibitory, odd index)."""
    j = torch.full_like(sizes, strength)
    j[1::2] = -strength * sizes[0::2] / sizes[1::2]
    return j


@dataclass(frozen=True)
class ColumnWeights:
    """One column's connectivity (float64): in-degrees K (8, 8), weights W (8, 8) [target, source],
    background weights w_bg (8,) and external-input weights w_ff (8,)."""

    in_degrees: Tensor
    recurrent: Tensor
    background: Tensor
    feedforward: Tensor


def column_weights(params: ColumnParameters, area: str = "mt", n_columns: int = 1, small: bool = False
                   ) -> ColumnWeights:
    """Connectivity of one column of ``area``; ``small`` divides sizes by ``n_columns`` (reference mode)."""
    if n_columns < 1:
        raise ValueError(f"n_columns: must be >= 1, got {n_columns}")
    f64 = dict(dtype=torch.float64)
    sizes = torch.tensor(params.sizes(area), **f64)
    if small:
        sizes = sizes / n_columns
    k = in_degrees(torch.tensor(params.connection_probabilities, **f64), sizes)
    w = k * synaptic_strengths(sizes, params.synaptic_strength)[None, :]
    counts = params.synapse_counts
    k_bg = torch.full((8,), counts.background_small, **f64) if small else torch.tensor(counts.background, **f64)
    j = params.synaptic_strength
    return ColumnWeights(k, w, k_bg * j, torch.tensor(counts.feedforward, **f64) * j)
