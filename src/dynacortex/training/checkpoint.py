"""Atomic checkpoints (:mod:`dynacortex.atomic`): written to a temporary file, flushed, renamed over the target.

A reader (or a resumed run) therefore sees either the previous complete checkpoint or the new one,
never a half-written file. Loading (:func:`dynacortex.files.load_checkpoint`) is weights-only:
checkpoints hold tensors and plain Python values only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from ..files import atomic_open, load_checkpoint

__all__ = ["AtomicCheckpointIO", "load_checkpoint"]


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: "str | Path", storage_options: Optional[Any] = None) -> None:
        with atomic_open(path) as f:
            torch.save(checkpoint, f)
