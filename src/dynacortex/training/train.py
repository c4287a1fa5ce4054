"""``train(config)``: one training run in its own folder, resumable, with results written atomically.

Run folder ``<out_dir>/<name>-<hash>/`` (:attr:`TrainConfig.run_dir`, see :mod:`dynacortex.runs`):
``config.yaml`` (resolved), ``environment.json`` (versions, seed, git commit),
``checkpoints/last.ckpt`` (after every epoch and, with ``trainer.save_every_n_steps``, every n steps;
atomic), ``logs/metrics.csv`` (and TensorBoard logs) and ``metrics.json`` (test accuracy per step,
wall time). ``resume=True`` continues from ``last.ckpt`` and appends to the log: a run killed at any
checkpoint and resumed ends with the same weights as an uninterrupted one. A config with
``start_from`` (``--from RUN_DIR``) starts from that run's weights (see :mod:`.resume`).

Everything that can be refused (the config, a missing checkpoint, weights that do not fit) is checked
before the run folder is created.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from typing import Any, Optional

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from ..dynamics.denormals import warn_if_denormals_slow
from ..files import load_checkpoint, write_atomic
from ..runs import write_run_files
from ..validation import ConfigError
from .checkpoint import AtomicCheckpointIO, LastCheckpoint
from .config import TrainConfig
from .datamodule import ImageDataModule
from .logs import RunCSVLogger
from .module import DynamicsModule
from .quiet import quiet_lightning
from .resume import resume_checkpoint, start_weights

__all__ = ["train"]


def _warn_slow_precision(cfg: TrainConfig) -> None:
    t = cfg.trainer
    on_cpu = t.accelerator == "cpu" or (t.accelerator == "auto" and not torch.cuda.is_available())
    if on_cpu and t.precision == "bf16-mixed" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        warnings.warn("trainer.precision: bf16-mixed on this CPU (no AVX-512 BF16) falls back to slow "
                      "convolutions, about 10x slower than '32'; use precision '32' here", stacklevel=3)


def _module(cfg: TrainConfig, data: ImageDataModule, resuming: bool) -> DynamicsModule:
    """The training module, its model sized for ``data`` and, with ``start_from`` (unless resuming: the
    run's own checkpoint holds its weights then), holding those weights."""
    model_cfg = cfg.model.model_copy(update={"in_channels": data.in_channels, "num_classes": len(data.classes)})
    module = DynamicsModule(cfg.model_copy(update={"model": model_cfg}).model_dump(mode="json"))
    weights = None if resuming else start_weights(cfg.start_from)
    if weights is not None:
        try:
            module.model.load_state_dict(weights)
        except RuntimeError as e:
            raise ConfigError(f"start_from: the weights of {cfg.start_from.run} do not fit this model "
                             f"({str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else e})") from e
    return module


def _loggers(cfg: TrainConfig, resume_step: Optional[int]) -> list[Any]:
    loggers: list[Any] = []
    if "csv" in cfg.trainer.loggers:
        loggers.append(RunCSVLogger(cfg.run_dir, resume_step))
    if "tensorboard" in cfg.trainer.loggers:
        loggers.append(TensorBoardLogger(cfg.run_dir, name="tensorboard", version=""))
    return loggers


def train(cfg: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Train, test, and return the metrics (also in ``metrics.json``) plus the trained ``model``."""
    start = time.perf_counter()
    run_dir = cfg.run_dir
    last = resume_checkpoint(cfg) if resume else None
    _warn_slow_precision(cfg)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    data = ImageDataModule(cfg.data, cfg.seed)
    data.setup()
    module = _module(cfg, data, resuming=last is not None)
    write_run_files(run_dir, cfg.resolved(), cfg.seed)
    warn_if_denormals_slow("train")
    t = cfg.trainer
    world = t.devices * t.num_nodes if isinstance(t.devices, int) else 1
    n_batches = math.ceil(len(data.train_set) / world / cfg.data.batch_size)
    n_batches = min(n_batches, t.limit_train_batches or n_batches)
    resume_step = int(load_checkpoint(last)["global_step"]) if last is not None else None
    with quiet_lightning():
        trainer = L.Trainer(
            default_root_dir=run_dir, max_epochs=t.max_epochs, precision=t.precision, accelerator=t.accelerator,
            devices=t.devices, num_nodes=t.num_nodes, deterministic=t.deterministic,
            # with delays, a short trial can leave parameters without gradient (their effect arrives after
            # the last read-out step); DDP must then look for unused parameters
            strategy="ddp_find_unused_parameters_true" if t.strategy == "ddp" else t.strategy,
            gradient_clip_val=t.gradient_clip if module.automatic_optimization else None,
            logger=_loggers(cfg, resume_step) or False, enable_progress_bar=t.progress_bar,
            log_every_n_steps=min(t.log_every_n_steps, n_batches),  # at least one training-loss row per epoch
            limit_train_batches=t.limit_train_batches, use_distributed_sampler=False, enable_model_summary=False,
            callbacks=[LastCheckpoint(run_dir / "checkpoints" / "last.ckpt", t.save_every_n_steps)],
            enable_checkpointing=False, plugins=[AtomicCheckpointIO()],
        )
        trainer.fit(module, datamodule=data, ckpt_path=str(last) if last is not None else None)
        tested = trainer.test(module, datamodule=data, verbose=False)[0]
    curve = module.test_curve
    metrics = {
        "test_accuracy": float(tested["test_acc"]),
        "test_loss": float(tested["test_loss"]),
        "test_accuracy_per_step": [round(float(a), 5) for a in curve] if curve is not None else None,
        "step_times_ms": [round((n + 1) * module.model.dt, 6) for n in range(len(curve))] if curve is not None else None,
        "epochs": trainer.current_epoch,
        "global_step": trainer.global_step,
        "resumed_from_step": resume_step,
        "world_size": trainer.world_size,
        "wall_time_s": round(time.perf_counter() - start, 2),
        "chance": 1.0 / len(data.classes),
    }
    if trainer.is_global_zero:
        write_atomic(run_dir / "metrics.json", json.dumps(metrics, indent=2))
    metrics["model"] = module.model
    return metrics
