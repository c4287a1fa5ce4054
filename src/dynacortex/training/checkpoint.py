"""Training checkpoints: ``checkpoints/last.ckpt`` after every epoch (and every N steps), written atomically.

:class:`LastCheckpoint` saves the full training state (weights, optimizer, schedule, loop progress,
the data loader's position) to ``last.ckpt`` at the end of every training epoch and, with
``every_n_steps``, after every N-th optimizer step. :class:`AtomicCheckpointIO` writes each one to a
temporary file, flushes it and renames it over the target, so a reader (or a resumed run) sees
either the previous complete checkpoint or the new one, never a half-written file. Loading
(:func:`dynacortex.files.load_checkpoint`) is weights-only: checkpoints hold tensors and plain Python
values only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.plugins.io import TorchCheckpointIO

from ..files import atomic_open, load_checkpoint

__all__ = ["AtomicCheckpointIO", "LastCheckpoint", "load_checkpoint"]


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: "str | Path", storage_options: Optional[Any] = None) -> None:
        with atomic_open(path) as f:
            torch.save(checkpoint, f)


class LastCheckpoint(Callback):
    """Save ``path`` at the end of every training epoch and, if ``every_n_steps``, every N optimizer steps.

    Lightning's ``ModelCheckpoint(save_top_k=0, save_last=True)`` writes ``last.ckpt`` only when
    training ends; this callback writes it as training goes, so a killed run loses at most one epoch
    (or N steps). The loggers are flushed first, so that the log on disk reaches the checkpoint. Every
    rank calls ``trainer.save_checkpoint`` (rank 0 writes).
    """

    def __init__(self, path: "str | Path", every_n_steps: Optional[int] = None) -> None:
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError(f"every_n_steps: must be >= 1, got {every_n_steps}")
        self.path, self.every_n_steps = Path(path), every_n_steps

    def _save(self, trainer: L.Trainer) -> None:
        for logger in trainer.loggers:  # the log on disk reaches as far as the checkpoint: a resume continues it
            logger.save()
        trainer.save_checkpoint(self.path)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        n = self.every_n_steps
        if n and trainer.global_step % n == 0 and not trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._save(trainer)  # the epoch's last batch: saved by on_train_epoch_end

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save(trainer)
