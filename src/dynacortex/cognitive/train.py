"""``train_task(config)``: train a multi-area RNN on a cognitive task in its own run folder.

Run folder ``<out_dir>/<name>/``: ``config.yaml``, ``environment.json``, ``checkpoints/last.ckpt``
(every epoch, atomic; :class:`~dynacortex.training.LastCheckpoint`), CSV logs (appended on resume) and ``metrics.json`` (held-out choice accuracy, chance, wall time).
"""

from __future__ import annotations

import json
import time
from typing import Any

import lightning as L

from ..files import load_checkpoint, write_atomic
from ..runs import write_run_files
from ..training.checkpoint import AtomicCheckpointIO, LastCheckpoint
from ..training.logs import RunCSVLogger
from ..training.quiet import quiet_lightning
from ..training.resume import resume_checkpoint
from .config import TaskTrainConfig
from .module import TaskModule

__all__ = ["train_task"]


def train_task(cfg: TaskTrainConfig, resume: bool = False) -> dict[str, Any]:
    """Train, test on held-out trials, and return the metrics (also in ``metrics.json``) plus the module."""
    start = time.perf_counter()
    run_dir = cfg.run_dir
    last = resume_checkpoint(cfg) if resume else run_dir / "checkpoints" / "last.ckpt"
    L.seed_everything(cfg.seed, verbose=False)
    module = TaskModule(cfg.model_dump(mode="json"))
    write_run_files(run_dir, cfg.resolved(), cfg.seed)
    t = cfg.trainer
    resume_step = int(load_checkpoint(last)["global_step"]) if resume else None
    with quiet_lightning():
        trainer = L.Trainer(
            default_root_dir=run_dir, max_epochs=t.max_epochs, precision=t.precision, accelerator=t.accelerator,
            devices=t.devices, num_nodes=t.num_nodes, strategy=t.strategy, deterministic=t.deterministic,
            gradient_clip_val=t.gradient_clip, enable_progress_bar=t.progress_bar, log_every_n_steps=t.log_every_n_steps,
            logger=RunCSVLogger(run_dir, resume_step) if "csv" in t.loggers else False,
            limit_train_batches=t.limit_train_batches, enable_model_summary=False, num_sanity_val_steps=0,
            callbacks=[LastCheckpoint(last)], enable_checkpointing=False, plugins=[AtomicCheckpointIO()],
        )
        trainer.fit(module, ckpt_path=str(last) if resume else None)
        trainer.test(module, verbose=False)
    metrics = {
        "task": module.spec.name,
        "test_accuracy": module.test_accuracy,
        "chance": 1.0 / module.spec.trials.n_choices,
        "eval_trials": cfg.eval_trials,
        "epochs": trainer.current_epoch,
        "wall_time_s": round(time.perf_counter() - start, 2),
    }
    if trainer.is_global_zero:
        write_atomic(run_dir / "metrics.json", json.dumps(metrics, indent=2))
    return {**metrics, "module": module}
