"""What every column task shares: the training loop with a progress bar, atomic saving of the model
and the metrics, and the result record."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from pydantic import BaseModel
from torch import nn

__all__ = ["TaskResult", "fit", "task_folder", "save_result", "seeded", "run_rates"]


@dataclass
class TaskResult:
    """Outcome of ``dynacortex column train TASK``."""

    task: str
    final_loss: float
    criterion: str  # what was checked, in words
    criterion_met: bool
    seconds: float
    steps: int
    metrics: dict[str, Any] = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def fit(step: Callable[[int], float], n_steps: int, desc: str, progress: bool = True,
        stop: Callable[[float], bool] | None = None) -> tuple[list[float], float]:
    """Run ``step(i) -> loss`` ``n_steps`` times behind a tqdm bar (stopping early once ``stop(loss)``);
    return the losses and the wall time (s)."""
    from tqdm.auto import tqdm

    losses: list[float] = []
    start = time.perf_counter()
    with tqdm(range(n_steps), desc=desc, disable=not progress, leave=False) as bar:
        for i in bar:
            loss = float(step(i))
            losses.append(loss)
            bar.set_postfix(loss=f"{loss:.4g}")
            if stop is not None and stop(loss):
                break
    return losses, time.perf_counter() - start


def task_folder(out: "str | Path", task: str, config: BaseModel) -> Path:
    """``OUT/<task>-<hash of the config>``: as training runs (:mod:`dynacortex.runs`), another config (steps,
    seed, any field) gets another folder, so a run never overwrites a different one."""
    from ...runs import run_folder

    return run_folder(out, task, config.model_dump(mode="json"))


def save_result(result: TaskResult, model: nn.Module, config: BaseModel, out: Path, figure: Any) -> TaskResult:
    """Write, in :func:`task_folder`, ``config.yaml`` and ``environment.json``, ``model.pt`` (state dict
    + config), ``metrics.json`` and ``<task>.png/.svg``, each atomically; return the result with the file
    paths filled in."""
    from ...figures import save_figure
    from ...files import atomic_open, write_atomic
    from ...runs import write_run_files

    folder = task_folder(out, result.task, config)
    write_run_files(folder, config.model_dump(mode="json"), getattr(config, "seed", None))
    model_path, metrics_path = folder / "model.pt", folder / "metrics.json"
    with atomic_open(model_path) as f:
        torch.save({"task": result.task, "config": config.model_dump(mode="json"),
                    "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}, f)
    plot_path = save_figure(figure, folder / f"{result.task}.png")
    result.files = {"model": str(model_path), "metrics": str(metrics_path), "plot": str(plot_path),
                    "plot_svg": str(plot_path.with_suffix(".svg"))}
    write_atomic(metrics_path, json.dumps(asdict(result), indent=2))
    return result


def seeded(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (and the global seed set, for torchsde's Brownian motion)."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def run_rates(net: Any, stimulus: Any, duration_s: float, n_samples: int, method: str, dt: float,
              noise_std: float = 0.0) -> torch.Tensor:
    """Rates (Hz, ``(T, B, P)``) of ``net`` from rest (V = A = 0) under ``stimulus``, sampled at
    ``n_samples`` equally spaced times over ``[0, duration_s]``; ``noise_std > 0`` uses torchsde."""
    from ..integrate import simulate

    net.set_stimulus(stimulus)
    times = torch.linspace(0.0, duration_s, n_samples, dtype=torch.float64)
    sde = noise_std > 0
    v, a = simulate(net, net.initial_state(stimulus.values.shape[0]), times, method="srk" if sde else method,
                    dt=dt, noise_std=noise_std)
    return net.rates(v, a)
