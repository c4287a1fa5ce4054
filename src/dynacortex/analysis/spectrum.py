"""The Jacobian ``J = dF/dy`` at a state: leading eigenvalues, spectral radius, stability.

- Arnoldi (ARPACK through ``scipy.sparse.linalg.eigs``) on a ``LinearOperator`` whose matvec is a
  forward-mode Jacobian-vector product: J is never formed, so it scales to conv networks.
- Dense: ``torch.func.jacfwd`` and ``numpy.linalg.eig`` for small systems (``n <= dense_limit``).
- Power iteration for the spectral radius ``max |lambda|``.
A fixed point of the delay-free system is linearly stable when every eigenvalue has a negative
real part; ``-1 / Re(lambda)`` is the time constant (ms) of the slowest mode.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import Tensor

from ..models import AreaNetwork
from .operator import JacobianOperator, scipy_threads
from .vector_field import VectorField

__all__ = ["jacobian_eigs", "dense_jacobian", "spectral_radius", "is_stable", "WHICH"]

WHICH = ("LR", "LM", "SR", "SM", "LI", "SI")


def dense_jacobian(vf: VectorField, state: Tensor) -> Tensor:
    """The full ``(n, n)`` Jacobian (small systems only)."""
    return torch.func.jacfwd(vf.evaluate)(state.to(device=vf.device, dtype=vf.dtype))


def _sort(vals: np.ndarray, which: str) -> np.ndarray:
    key = {"LR": -vals.real, "SR": vals.real, "LM": -np.abs(vals), "SM": np.abs(vals),
           "LI": -vals.imag, "SI": vals.imag}[which]
    return np.argsort(key, kind="stable")


def jacobian_eigs(model: "AreaNetwork | VectorField", image: Optional[Tensor], state: Tensor, k: int = 10,
                  which: str = "LR", method: str = "auto", dense_limit: int = 2000, tol: float = 1e-8,
                  seed: int = 0) -> tuple[Tensor, Tensor]:
    """The ``k`` eigenvalues of ``J(state)`` first by ``which`` (LR: largest real part) and their
    eigenvectors: ``(values (k,) complex128, vectors (n, k) complex128)``.

    ``method``: ``"arnoldi"`` (matrix-free), ``"dense"``, or ``"auto"`` (dense when n <= dense_limit).
    """
    if which not in WHICH:
        raise ValueError(f"which: {which!r} is not one of {list(WHICH)}")
    if method not in ("auto", "arnoldi", "dense"):
        raise ValueError(f"method: {method!r} is not one of ['auto', 'arnoldi', 'dense']")
    vf = model if isinstance(model, VectorField) else VectorField(model, image)  # type: ignore[arg-type]
    state = state.to(device=vf.device, dtype=vf.dtype)
    dense = method == "dense" or (method == "auto" and vf.n <= dense_limit)
    limit = vf.n if dense else vf.n - 2  # ARPACK needs k < n - 1
    if not 1 <= k <= limit:
        raise ValueError(f"k: need 1 <= k <= {limit} for {'dense' if dense else 'arnoldi'} with n = {vf.n}, got {k}")
    if dense:
        vals, vecs = np.linalg.eig(dense_jacobian(vf, state).cpu().numpy())
    else:
        from scipy.sparse.linalg import eigs

        v0 = np.random.default_rng(seed).normal(size=vf.n)
        with scipy_threads():
            vals, vecs = eigs(JacobianOperator(vf, state), k=k, which=which, tol=tol, v0=v0,
                              ncv=min(vf.n - 1, max(2 * k + 1, 100)))
    order = _sort(vals, which)[:k]
    return torch.from_numpy(vals[order]), torch.from_numpy(vecs[:, order])


def spectral_radius(vf: VectorField, state: Tensor, iters: int = 200, seed: int = 0) -> float:
    """``max |lambda|`` of ``J(state)`` by power iteration: the geometric mean of the growth factors
    ``|J v| / |v|`` over the second half of the iterations (robust to a dominant complex pair)."""
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(vf.n, generator=g, dtype=vf.dtype).to(vf.device)
    v /= v.norm()
    logs = []
    jac = vf.linear(state.to(device=vf.device, dtype=vf.dtype))
    for _ in range(iters):
        w = jac(v)
        growth = float(w.norm())
        if growth == 0.0:
            return 0.0
        logs.append(np.log(growth))
        v = w / growth
    return float(np.exp(np.mean(logs[len(logs) // 2:])))


def is_stable(eigenvalues: Tensor) -> bool:
    """Linearly stable: every eigenvalue has a negative real part (pass the ``LR`` eigenvalues)."""
    return bool((eigenvalues.real < 0).all())
