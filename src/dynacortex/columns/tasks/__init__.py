"""Column tasks: ``hopf``, ``wta``, ``xor``, ``parity`` (each: config, ``train_*`` -> TaskResult, model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from .common import TaskResult

__all__ = ["TASKS", "TaskResult", "task_entry", "task_config", "train_task", "run_task"]

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


def task_config(name: str, overrides: dict[str, Any]) -> BaseModel:
    """The task's config from ``overrides``; a bad field raises a ``ConfigError`` naming it."""
    from ...validation import ConfigError, describe

    config_cls, _ = task_entry(name)
    try:
        return config_cls(**overrides)
    except ValidationError as e:
        raise ConfigError(describe(e, config_cls, overrides)) from None


def train_task(name: str, config: BaseModel, out: Path | None, progress: bool = True) -> TaskResult:
    """Train task ``name`` with its validated ``config``; results in ``OUT/<name>-<hash>`` (see ``task_folder``)."""
    return task_entry(name)[1](config, out, progress)[0]


def run_task(name: str, out: Path | None, overrides: dict[str, Any], progress: bool = True) -> TaskResult:
    """Validate ``overrides`` against the task's config and train."""
    return train_task(name, task_config(name, overrides), out, progress)
