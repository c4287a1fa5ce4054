"""Transfer functions ``Phi`` for the areas.

``supralinear`` is the power law of the stabilised supralinear network (Rubin et al. 2015),
``Phi(x) = k * relu(x)**n``. Its defaults here are ``n = 2`` and ``k = 1/n``, so that the gain
``Phi'(x) = k n x^(n-1)`` equals 1 at unit drive: swapping ReLU for the power law keeps the operating
point of a network whose drives are O(1). (The SSN paper's k = 0.04 assumes drives in mV and rates in
Hz; DynVision uses k = 0.8 with a signed power.)
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

__all__ = ["Supralinear", "get_activation", "list_activations"]


class Supralinear(nn.Module):
    """``Phi(x) = k * relu(x)**n`` (n >= 1)."""

    def __init__(self, n: float = 2.0, k: float | None = None):
        super().__init__()
        if n < 1:
            raise ValueError(f"supralinear exponent n: must be >= 1, got {n}")
        k = 1.0 / n if k is None else k
        if k <= 0:
            raise ValueError(f"supralinear gain k: must be > 0, got {k}")
        self.n, self.k = float(n), float(k)

    def forward(self, x: Tensor) -> Tensor:
        return self.k * torch.relu(x).pow(self.n)

    def extra_repr(self) -> str:
        return f"k={self.k:g}, n={self.n:g}"


_ACTIVATIONS: dict[str, Callable[..., nn.Module]] = {
    "relu": nn.ReLU,
    "softplus": nn.Softplus,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
    "supralinear": Supralinear,
}


def list_activations() -> list[str]:
    return sorted(_ACTIVATIONS)


def get_activation(name: "str | nn.Module", **kwargs: float) -> nn.Module:
    """An activation module by name (``relu``, ``softplus``, ``tanh``, ``supralinear``, ...)."""
    if isinstance(name, nn.Module):
        return name
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation: unknown activation {name!r}; allowed values are {list_activations()}")
    return _ACTIVATIONS[name](**kwargs)
