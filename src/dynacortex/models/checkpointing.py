"""Gradient checkpointing over time for an :class:`~dynacortex.models.AreaNetwork`.

The simulation runs in chunks of ``k`` steps. Each chunk keeps only what it starts from, its carry
(the state and the delay history, ``ceil(D/dt) + 1`` states for the largest delay ``D``; consecutive
chunks share these states), and is recomputed from it during backward. Memory falls to about the
``T`` states of the trial plus one chunk's activations, at the cost of one more forward pass.

``dtype=torch.bfloat16`` (or ``float16``) keeps those boundary states as low-precision copies, one per
state: the forward pass is computed in full precision and gives exactly the values of a run without
checkpointing, while the recomputation in backward starts from the rounded states, so gradients are
approximate (relative error about 1e-3 in float16, 1e-2 in bfloat16; see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Optional

import torch
from torch import Tensor
from torch.nn.utils import parametrize
from torch.utils.checkpoint import checkpoint

from .carry import Carry

if TYPE_CHECKING:
    from .network import AreaNetwork

__all__ = ["CHECKPOINT_DTYPES", "parse_checkpoint_dtype", "run_checkpointed"]

CHECKPOINT_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


def parse_checkpoint_dtype(value: "str | torch.dtype | None") -> Optional[torch.dtype]:
    """The storage dtype for checkpoint boundaries from a name or a dtype (``None``: full precision)."""
    if value is None or value in CHECKPOINT_DTYPES.values():
        return value  # type: ignore[return-value]
    if isinstance(value, str) and value in CHECKPOINT_DTYPES:
        return CHECKPOINT_DTYPES[value]
    raise ValueError(f"checkpoint_dtype: {value!r} is not one of {[None, *CHECKPOINT_DTYPES]}")


class _Compact:
    """Low-precision copies of boundary states, one per tensor however many carries share it. It holds
    no tensor itself, so each copy is freed with the last chunk that starts from it, as backward goes."""

    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype
        self._copies: dict[int, tuple[weakref.ref, weakref.ref]] = {}  # original -> its copy
        self._source: dict[int, tuple[weakref.ref, torch.dtype, bool]] = {}  # copy -> the original's dtype, grad

    def pack(self, t: Tensor) -> Tensor:
        original, low = self._copies.get(id(t), (None, None))
        if original is not None and original() is t and low() is not None:
            return low()
        copy = t.detach().to(self.dtype)
        self._copies[id(t)] = (weakref.ref(t), weakref.ref(copy))
        self._source[id(copy)] = (weakref.ref(copy), t.dtype, t.requires_grad)
        return copy

    def unpack(self, carry: Carry) -> Carry:
        """The full-precision carry a recomputation starts from: its history tensors are converted when read,
        each once (they must require grad like the originals, so that they save the same tensors)."""
        done: dict[int, Tensor] = {}

        def full(low: Tensor) -> Tensor:
            if id(low) not in done:
                ref, dtype, requires_grad = self._source[id(low)]
                assert ref() is low
                done[id(low)] = low.to(dtype).requires_grad_(requires_grad)
            return done[id(low)]

        history = None if carry.history is None else carry.history.decoded(full)
        drive = None if carry.last_drive is None else {i: full(d) for i, d in carry.last_drive.items()}
        return replace(carry, state=tuple(full(s) for s in carry.state), history=history, last_drive=drive)


def _chunk(net: "AreaNetwork", exact: Optional[Carry], unpack: Optional[Callable[[Carry], Carry]]):
    """A chunk simulation that can run twice (forward, then recomputation in backward): it works on a copy
    of the history, and its second run replays the observers without side effects. With ``exact`` the
    first run starts from that carry (full precision) and the recomputation from its argument, unpacked."""
    calls = [0]
    observers = list(net._observers)
    replays = [getattr(o, "replay", None) for o in observers]
    start_from = [exact]

    def chunk(frames: Tensor, n_steps: int, carry: Carry) -> tuple[Optional[Tensor], Carry]:
        calls[0] += 1
        if start_from[0] is not None:
            carry, start_from[0] = start_from[0], None  # drop it: only the packed copy is kept
        elif unpack is not None:
            carry = unpack(carry)
        with parametrize.cached():  # the forward and the recomputation each evaluate the weights once
            return net._simulate(frames, n_steps, carry, observers if calls[0] == 1 else replays)

    return chunk


def run_checkpointed(net: "AreaNetwork", frames: Tensor, n_steps: int, carry: Carry, every: int,
                     dtype: Optional[torch.dtype] = None) -> tuple[Optional[Tensor], Carry]:
    """``net._simulate`` in checkpointed chunks of ``every`` steps (boundaries stored in ``dtype``)."""
    compact = _Compact(dtype) if dtype is not None else None
    parts = []
    for s in range(0, n_steps, every):
        n = min(every, n_steps - s)
        part = frames[:, s:s + n] if frames.shape[1] > 1 else frames
        if compact is None:
            fn, arg = _chunk(net, None, None), carry
        else:
            fn, arg = _chunk(net, carry, compact.unpack), carry.map(compact.pack)
        logits, carry = checkpoint(fn, part, n, arg, use_reentrant=False, preserve_rng_state=False)
        parts.append(logits)
    return (torch.cat(parts, dim=1) if parts[0] is not None else None), carry
