"""The Jacobian ``J(y) = dF/dy`` as a matrix-free scipy ``LinearOperator`` for GMRES and ARPACK.

Each product ``J v`` is one linearised forward-mode pass through the network (``VectorField.linear``);
J is never formed. scipy's iterations run their own BLAS threads between the products, and on a
small machine OpenBLAS threads and torch's OpenMP threads then spin against each other (measured:
128 ms per product with both pools at 2 threads vs 16 ms with BLAS on one thread, DyRCNNx4 at
32x32). :func:`scipy_threads` therefore runs the scipy side single-threaded; the expensive part,
the product itself, keeps all of torch's threads.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator
from threadpoolctl import threadpool_limits
from torch import Tensor

from .vector_field import VectorField

__all__ = ["JacobianOperator", "scipy_threads"]


class JacobianOperator(LinearOperator):
    """``v -> J(y) v`` on float64 numpy vectors; ``matvecs`` counts the products taken."""

    def __init__(self, vf: VectorField, y: Tensor):
        super().__init__(dtype=np.float64, shape=(vf.n, vf.n))
        self._jac = vf.linear(y)
        self._like = y
        self.matvecs = 0

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        self.matvecs += 1
        x = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1)).to(self._like)
        return self._jac(x).cpu().numpy()


@contextmanager
def scipy_threads() -> Iterator[None]:
    """Run scipy's BLAS on one thread while torch computes the products (see the module docstring)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
