"""Atomic checkpoints: written to a temporary file, flushed to disk, then renamed over the target.

A reader (or a resumed run) therefore sees either the previous complete checkpoint or the new one,
never a half-written file. Loading uses ``torch.load(weights_only=True)``: checkpoints hold tensors
and plain Python values only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

__all__ = ["AtomicCheckpointIO", "load_checkpoint"]


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: "str | Path", storage_options: Optional[Any] = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def load_checkpoint(self, path: "str | Path", map_location: Optional[Any] = None, weights_only: Optional[bool] = None) -> dict[str, Any]:
        return load_checkpoint(path, map_location)


def load_checkpoint(path: "str | Path", map_location: Optional[Any] = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (weights only); a missing or corrupt file raises a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises several types for truncated / foreign files
        raise ValueError(f"checkpoint: {path} is corrupt or not a dynacortex checkpoint ({type(e).__name__}: {e})") from e
