"""Estimate the memory of a forward+backward pass before running it at full size.

The activations autograd keeps are counted exactly on a small probe: a forward pass with batch 1 and
batch 2 (same steps and image size) under a saved-tensor hook that adds up the distinct storages
saved for backward, parameters excluded. Activation memory is linear in the batch, so the two probes
give ``a + b B``. The backward pass adds transient gradients: about three times the network state
(gradient of the state, of a stage and of a drive) plus one gradient per parameter; the forward pass
holds the stimulus drive of the frames being simulated (the stem's output, not saved for backward).

With ``checkpoint_every = k`` what stays is, per chunk boundary, the delay history (``ceil(D/dt) + 1``
states for the largest delay D, the last one the boundary's state; boundaries closer than that share
states, so at most all ``T + 1`` states), plus one chunk recomputed during backward: ``k / T`` of the
full activations. ``benchmarks/bench_memory.py`` compares these estimates with measured peaks.
With ``checkpoint_dtype`` the kept states take that dtype's bytes, and the recomputation adds
full-precision copies of the parts of one boundary it reads (about two states) to the transients.
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from .checkpointing import parse_checkpoint_dtype
from .network import AreaNetwork

__all__ = ["estimate_memory"]

MB = 2**20


def _saved_bytes(model: AreaNetwork, x: torch.Tensor, n_steps: Optional[int],
                 every: Optional[int]) -> tuple[int, int, int]:
    """(bytes saved for backward excluding parameters, bytes of the final state, bytes of the stimulus drives)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        _, carry = model.run(x, n_steps, checkpoint_every=every)
    with torch.no_grad():
        drives = model._drives(model._frames(x, n_steps)[0]).values()
    return (sum(seen.values()), sum(s.numel() * s.element_size() for s in carry.state),
            sum(d.numel() * d.element_size() for d in drives))


def estimate_memory(model: AreaNetwork, input_shape: tuple[int, ...], n_steps: Optional[int] = None,
                    checkpoint_every: Optional[int] = None,
                    checkpoint_dtype: "str | torch.dtype | None" = None) -> dict[str, float]:
    """Estimated memory (MB) of one forward+backward pass on input of ``input_shape``.

    ``input_shape`` is ``(B, T, C, H, W)`` or ``(B, C, H, W)`` (then ``n_steps`` is needed), as for the
    model's forward (``checkpoint_every`` and ``checkpoint_dtype`` as for ``model.run``). Returns
    ``activations``, ``transients``, ``parameters``, ``gradients`` and ``total`` (parameters not counted
    in ``activations``).
    """
    low = parse_checkpoint_dtype(checkpoint_dtype)
    if len(input_shape) not in (4, 5):
        raise ValueError(f"input_shape: expected (B, T, C, H, W) or (B, C, H, W), got {input_shape}")
    batch, rest = input_shape[0], tuple(input_shape[1:])
    p = next(model.parameters())
    probes = [_saved_bytes(model, torch.zeros((b, *rest), dtype=p.dtype, device=p.device), n_steps, None) for b in (1, 2)]
    per_sample, fixed = probes[1][0] - probes[0][0], 2 * probes[0][0] - probes[1][0]
    full = fixed + per_sample * batch
    state = (probes[1][1] - probes[0][1]) * batch
    drives = (probes[1][2] - probes[0][2]) * batch  # alive while the frames they belong to are simulated
    transients = 3 * state + drives
    if checkpoint_every is not None:
        steps = n_steps if n_steps is not None else rest[0]
        delays = [c.max_delay for c in model.connections] + [a.t_recurrence for a in model.areas if a.recurrence is not None]
        kept = math.ceil(max(delays, default=0.0) / model.dt - 1e-6) + 1  # the history (its last entry is the state)
        # consecutive boundaries share history states: at most every state once
        kept_states = min(steps + 1, math.ceil(steps / checkpoint_every) * kept)
        shrink = 1.0 if low is None else torch.finfo(low).bits / torch.finfo(p.dtype).bits
        chunk = min(1.0, checkpoint_every / steps)
        full = kept_states * state * shrink + full * chunk
        # two state gradients pending (measured: the third overlaps the boundary states freed in backward)
        transients = 2 * state + drives * (chunk if len(input_shape) == 5 else 1.0)
        if low is not None:
            transients += 2 * state  # the read parts of a boundary, back in full precision while it is recomputed
    param_bytes = sum(q.numel() * q.element_size() for q in model.parameters())
    out = {"activations": full / MB, "transients": transients / MB, "parameters": param_bytes / MB,
           "gradients": param_bytes / MB}
    out["total"] = sum(out.values())
    return out
