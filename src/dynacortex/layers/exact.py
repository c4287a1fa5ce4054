"""Parameters that keep their exact initial value when a model is converted to float64.

A value such as ``log(5 ms)`` is created in the default dtype (float32); after ``model.double()`` it would
read ``exp(float32(log 5)) = 5.00000015``. A module with :class:`ExactInit` remembers such initial values in
float64 and, on a conversion to float64, restores every element that still holds its rounded initial value
(values changed since, e.g. by training, are converted as they are).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ExactInit"]


class ExactInit(nn.Module):
    """Mixin for :class:`torch.nn.Module`: ``self.remember_exact(name, values)`` after creating a tensor attribute."""

    def remember_exact(self, name: str, values: Tensor) -> None:
        """Remember ``values`` (float64) as the exact initial value of the tensor attribute ``name``."""
        exact = self.__dict__.setdefault("_exact_init", {})
        exact[name] = values.detach().to(torch.float64, copy=True).cpu()

    def _apply(self, fn, recurse=True):  # type: ignore[no-untyped-def]
        exact: dict[str, Tensor] = self.__dict__.get("_exact_init", {})
        before = {n: getattr(self, n).detach().clone() for n in exact}
        out = super()._apply(fn, recurse)
        for name, values in exact.items():
            now = getattr(self, name)
            if now.dtype != torch.float64 or before[name].dtype == torch.float64:
                continue
            kept = before[name].cpu() == values.to(before[name].dtype)  # still at its rounded initial value
            with torch.no_grad():
                now.copy_(torch.where(kept.to(now.device), values.to(now.device), now))
        return out
