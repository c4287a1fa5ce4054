"""Network state as a small pytree: a tensor, or a tuple of tensors (one per area).

Solvers only ever combine states linearly, ``y + a*k1 + b*k2 + ...``; these helpers do that leaf by
leaf so that one solver works for a single tensor, a tuple of areas, or a column network's (V, A).
"""

from __future__ import annotations

from typing import Callable, Union

import torch
from torch import Tensor

State = Union[Tensor, tuple[Tensor, ...]]

__all__ = ["State", "tree_map", "axpy", "lincomb", "leaves"]


def tree_map(fn: Callable[..., Tensor], tree: State, *rest: State) -> State:
    """Apply ``fn`` leaf-wise to one or more states of the same structure."""
    if isinstance(tree, Tensor):
        return fn(tree, *rest)
    return tuple(fn(*leaf) for leaf in zip(tree, *rest))


def axpy(y: State, a: float, k: State) -> State:
    """``y + a*k`` leaf by leaf (one fused kernel per leaf)."""
    if isinstance(y, Tensor):
        return torch.add(y, k, alpha=a)
    return tuple(torch.add(yi, ki, alpha=a) for yi, ki in zip(y, k))


def lincomb(y: State, terms: list[tuple[float, State]]) -> State:
    """``y + sum_i a_i * k_i`` leaf by leaf."""
    for a, k in terms:
        y = axpy(y, a, k)
    return y


def leaves(tree: State) -> tuple[Tensor, ...]:
    """The tensors of a state, as a tuple."""
    return (tree,) if isinstance(tree, Tensor) else tuple(tree)
