"""The network as an autonomous dynamical system on one flat state vector.

For a static stimulus the network's delay-free vector field is

    F(y) = dy/dt,   tau_a dy_a/dt = -y_a + Phi_a(s_a + sum_c W_c r_src + J_a r_a)   (every delay read as 0)

on the flat state ``y`` (all areas' activities concatenated; batch 1). Fixed points of the delayed
and the delay-free systems coincide (at a fixed point every delayed state equals the current one).
Their stability can differ: delays do not move the equilibrium but can destabilise it (a negative
feedback loop with enough delay oscillates), so the spectrum of ``dF/dy`` describes the
delay-free linearisation; the delayed one adds ``exp(-lambda Delta)`` factors to each delayed term.

The analysis works on a frozen float64 copy of the model (gain-limit parametrisations baked in),
so Newton and Arnoldi iterations are not limited by float32 rounding.
"""

from __future__ import annotations

import copy
import warnings
from typing import Callable

import torch
from torch import Tensor
from torch.nn.utils import parametrize

from ..models import AreaNetwork

__all__ = ["VectorField", "vector_field"]


def _frozen(model: AreaNetwork, dtype: torch.dtype) -> AreaNetwork:
    net = copy.deepcopy(model).to(dtype).eval()
    for module in net.modules():
        if parametrize.is_parametrized(module):
            # a deep copy shares the dynamically created parametrized class with the original, and
            # removing a parametrization edits that class: give the copy a class of its own first
            cls = module.__class__
            module.__class__ = type(cls.__name__, cls.__bases__, dict(cls.__dict__))
            for name in list(module.parametrizations.keys()):
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    net.requires_grad_(False)
    return net


class VectorField:
    """``F(state) -> d state/dt`` of ``model`` for one stimulus ``image`` (C, H, W), on flat 1-D states.

    ``jvp(y, v)`` is the Jacobian-vector product ``dF/dy(y) v`` (forward-mode AD, matrix-free);
    ``linear(y)`` returns ``v -> J(y) v`` linearised once at ``y``, about 4x cheaper per product when
    many products at one state are needed (GMRES, Arnoldi, linear response).
    """

    def __init__(self, model: AreaNetwork, image: Tensor, dtype: torch.dtype = torch.float64):
        if image.dim() == 4 and image.shape[0] == 1:
            image = image[0]
        if image.dim() != 3:
            raise ValueError(f"image: expected one stimulus (C, H, W), got shape {tuple(image.shape)}")
        self.model = _frozen(model, dtype)
        p = next(self.model.parameters())
        with torch.no_grad():
            self._field, shapes = self.model.delay_free_field(image.to(device=p.device, dtype=dtype).unsqueeze(0))
        self.shapes = [tuple(s) for s in shapes]
        self.sizes = [int(torch.Size(s).numel()) for s in shapes]
        self.n = sum(self.sizes)
        self.dtype, self.device = dtype, p.device
        self.area_names = list(self.model.area_names)

    def unflatten(self, y: Tensor) -> tuple[Tensor, ...]:
        """Flat (n,) -> per-area states (1, C, H, W)."""
        if y.shape != (self.n,):
            raise ValueError(f"state: expected a flat vector of {self.n} values, got shape {tuple(y.shape)}")
        return tuple(part.view(1, *s) for part, s in zip(torch.split(y, self.sizes), self.shapes))

    def flatten(self, states: "tuple[Tensor, ...] | list[Tensor]") -> Tensor:
        return torch.cat([s.reshape(-1) for s in states])

    def __call__(self, y: Tensor) -> Tensor:
        with torch.no_grad():
            return self.evaluate(y)

    def evaluate(self, z: Tensor) -> Tensor:
        """``F(z)`` with autograd and ``torch.func`` transforms tracking it."""
        return self.flatten(self._field(self.unflatten(z)))

    def jvp(self, y: Tensor, v: Tensor) -> Tensor:
        return torch.func.jvp(self.evaluate, (y,), (v,))[1]

    def linear(self, y: Tensor) -> Callable[[Tensor], Tensor]:
        """``v -> J(y) v`` (the JVP linearised once at ``y``)."""
        with warnings.catch_warnings():  # torch's constant folding inside linearize warns about its own graph
            warnings.filterwarnings("ignore", message="Attempted to insert a get_attr Node", category=UserWarning)
            return torch.func.linearize(self.evaluate, y)[1]

    def zeros(self) -> Tensor:
        return torch.zeros(self.n, dtype=self.dtype, device=self.device)


def vector_field(model: AreaNetwork, image: Tensor) -> VectorField:
    """The delay-free vector field of ``model`` for ``image`` (C, H, W) on flat states (float64)."""
    return VectorField(model, image)
