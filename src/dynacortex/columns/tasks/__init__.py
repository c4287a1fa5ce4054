"""Column tasks: ``hopf``, ``wta``, ``xor``, ``parity`` (each: config, ``train_*`` -> TaskResult, model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel

from .common import TaskResult

__all__ = ["TASKS", "TaskResult", "task_entry", "run_task"]

TASKS = ("hopf", "wta", "xor", "parity")


def task_entry(name: str) -> tuple[type[BaseModel], Callable[..., tuple[TaskResult, Any]]]:
    """``(ConfigClass, train_fn)`` of a task; ``train_fn(cfg, out: Path | None, progress: bool)``."""
    if name == "hopf":
        from .hopf import HopfConfig, train_hopf
        return HopfConfig, train_hopf
    if name == "wta":
        from .wta import WtaConfig, train_wta
        return WtaConfig, train_wta
    if name == "xor":
        from .xor import XorConfig, train_xor
        return XorConfig, train_xor
    if name == "parity":
        from .parity import ParityConfig, train_parity
        return ParityConfig, train_parity
    raise ValueError(f"task: unknown task {name!r}; allowed values are {list(TASKS)}")


def run_task(name: str, out: Path | None, overrides: dict[str, Any], progress: bool = True) -> TaskResult:
    """Validate ``overrides`` against the task's config and train."""
    config_cls, train = task_entry(name)
    return train(config_cls(**overrides), out, progress)[0]
