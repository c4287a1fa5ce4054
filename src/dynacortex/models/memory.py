"""Estimate the memory of a forward+backward pass before running it at full size.

The activations autograd keeps are counted exactly on a small probe: a forward pass with batch 1 and
batch 2 (same steps and image size) under a saved-tensor hook that adds up the distinct storages
saved for backward, parameters excluded. Activation memory is linear in the batch, so the two probes
give ``a + b B``. The backward pass adds transient gradients: about three times the network state
(gradient of the state, of a stage and of a drive) plus one gradient per parameter.

With ``checkpoint_every = k`` what stays is, per chunk boundary, the state and the delay history
(``ceil(D/dt) + 1`` states for the largest delay D; boundaries closer than that share states, so at
most all ``T + 1`` states), plus one chunk recomputed during backward: ``k / T`` of the full activations.
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from .network import AreaNetwork

__all__ = ["estimate_memory"]

MB = 2**20


def _saved_bytes(model: AreaNetwork, x: torch.Tensor, n_steps: Optional[int], every: Optional[int]) -> tuple[int, int]:
    """(bytes saved for backward excluding parameters, bytes of the final state)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        _, carry = model.run(x, n_steps, checkpoint_every=every)
    return sum(seen.values()), sum(s.numel() * s.element_size() for s in carry.state)


def estimate_memory(model: AreaNetwork, input_shape: tuple[int, ...], n_steps: Optional[int] = None,
                    checkpoint_every: Optional[int] = None) -> dict[str, float]:
    """Estimated memory (MB) of one forward+backward pass on input of ``input_shape``.

    ``input_shape`` is ``(B, T, C, H, W)`` or ``(B, C, H, W)`` (then ``n_steps`` is needed), as for the
    model's forward. Returns ``activations``, ``transients``, ``parameters``, ``gradients`` and
    ``total`` (parameters not counted in ``activations``).
    """
    if len(input_shape) not in (4, 5):
        raise ValueError(f"input_shape: expected (B, T, C, H, W) or (B, C, H, W), got {input_shape}")
    batch, rest = input_shape[0], tuple(input_shape[1:])
    p = next(model.parameters())
    probes = [_saved_bytes(model, torch.zeros((b, *rest), dtype=p.dtype, device=p.device), n_steps, None) for b in (1, 2)]
    per_sample, fixed = probes[1][0] - probes[0][0], 2 * probes[0][0] - probes[1][0]
    full = fixed + per_sample * batch
    state = (probes[1][1] - probes[0][1]) * batch
    if checkpoint_every is not None:
        steps = n_steps if n_steps is not None else rest[0]
        delays = [c.max_delay for c in model.connections] + [a.t_recurrence for a in model.areas if a.recurrence is not None]
        kept = math.ceil(max(delays, default=0.0) / model.dt - 1e-6) + 2  # history + state per boundary
        # consecutive boundaries share history states: at most every state once
        kept_states = min(steps + 1, math.ceil(steps / checkpoint_every) * kept)
        full = kept_states * state + full * min(1.0, checkpoint_every / steps)
    param_bytes = sum(q.numel() * q.element_size() for q in model.parameters())
    out = {"activations": full / MB, "transients": 3 * state / MB, "parameters": param_bytes / MB,
           "gradients": param_bytes / MB}
    out["total"] = sum(out.values())
    return out
