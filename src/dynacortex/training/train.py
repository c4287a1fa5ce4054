"""``train(config)``: one training run in its own folder, resumable, with results written atomically.

Run folder ``<out_dir>/<name>-<hash>/`` (:attr:`TrainConfig.run_dir`, see :mod:`dynacortex.runs`):
``config.yaml`` (resolved), ``environment.json`` (versions, seed, git commit), ``checkpoints/last.ckpt`` (every epoch, atomic), CSV / TensorBoard logs and
``metrics.json`` (test accuracy per step, wall time). ``resume=True`` continues from
``last.ckpt``; a run resumed at an epoch boundary ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from ..dynamics.denormals import warn_if_denormals_slow
from ..files import write_atomic
from ..runs import write_run_files
from .checkpoint import AtomicCheckpointIO
from .config import TrainConfig
from .datamodule import ImageDataModule
from .module import DynamicsModule

__all__ = ["train"]


def _warn_slow_precision(cfg: TrainConfig) -> None:
    t = cfg.trainer
    on_cpu = t.accelerator == "cpu" or (t.accelerator == "auto" and not torch.cuda.is_available())
    if on_cpu and t.precision == "bf16-mixed" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        warnings.warn("trainer.precision: bf16-mixed on this CPU (no AVX-512 BF16) falls back to slow "
                      "convolutions, about 10x slower than '32'; use precision '32' here", stacklevel=3)


def train(cfg: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Train, test, and return the metrics (also in ``metrics.json``)."""
    start = time.perf_counter()
    run_dir = cfg.run_dir
    ckpt_dir = run_dir / "checkpoints"
    last = ckpt_dir / "last.ckpt"
    if resume and not last.is_file():
        raise FileNotFoundError(f"resume: no checkpoint at {last}; start without --resume")
    write_run_files(run_dir, cfg.resolved(), cfg.seed)
    _warn_slow_precision(cfg)
    warn_if_denormals_slow("train")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    data = ImageDataModule(cfg.data, cfg.seed)
    data.setup()
    model_cfg = cfg.model.model_copy(update={"in_channels": data.in_channels, "num_classes": len(data.classes)})
    cfg = cfg.model_copy(update={"model": model_cfg})
    module = DynamicsModule(cfg.model_dump(mode="json"))
    t = cfg.trainer
    loggers: list[Any] = []
    if "csv" in t.loggers:
        loggers.append(CSVLogger(run_dir, name="logs", version=""))
    if "tensorboard" in t.loggers:
        loggers.append(TensorBoardLogger(run_dir, name="tensorboard", version=""))
    trainer = L.Trainer(
        default_root_dir=run_dir, max_epochs=t.max_epochs, precision=t.precision, accelerator=t.accelerator,
        devices=t.devices, num_nodes=t.num_nodes, deterministic=t.deterministic,
        # with delays, a short trial can leave parameters without gradient (their effect arrives after
        # the last read-out step); DDP must then look for unused parameters
        strategy="ddp_find_unused_parameters_true" if t.strategy == "ddp" else t.strategy,
        gradient_clip_val=t.gradient_clip if module.automatic_optimization else None,
        logger=loggers or False, enable_progress_bar=t.progress_bar, log_every_n_steps=t.log_every_n_steps,
        limit_train_batches=t.limit_train_batches, use_distributed_sampler=False, enable_model_summary=False,
        callbacks=[ModelCheckpoint(dirpath=ckpt_dir, save_last=True, save_top_k=0, every_n_epochs=1)],
        plugins=[AtomicCheckpointIO()],
    )
    trainer.fit(module, datamodule=data, ckpt_path=str(last) if resume else None)
    tested = trainer.test(module, datamodule=data, verbose=False)[0]
    curve = module.test_curve
    metrics = {
        "test_accuracy": float(tested["test_acc"]),
        "test_loss": float(tested["test_loss"]),
        "test_accuracy_per_step": [round(float(a), 5) for a in curve] if curve is not None else None,
        "step_times_ms": [round((n + 1) * module.model.dt, 6) for n in range(len(curve))] if curve is not None else None,
        "epochs": trainer.current_epoch,
        "world_size": trainer.world_size,
        "wall_time_s": round(time.perf_counter() - start, 2),
        "chance": 1.0 / len(data.classes),
    }
    if trainer.is_global_zero:
        write_atomic(run_dir / "metrics.json", json.dumps(metrics, indent=2))
    metrics["model"] = module.model
    return metrics
