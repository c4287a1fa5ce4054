"""Command line: ``dynacortex task list`` and ``dynacortex task train CONFIG``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..cli_support import SET_HELP, SET_METAVAR, TYPER, Command, usage_errors

app = typer.Typer(help="Cognitive tasks from images: a multi-area RNN on a vision front-end.", **TYPER)


@app.command("list")
def list_cmd() -> None:
    """The built-in tasks and their periods (ms)."""
    from .tasks import get_task, list_tasks

    for name in list_tasks():
        spec = get_task(name)
        periods = ", ".join(f"{p.name} {p.duration_ms} ms" for p in spec.periods)
        typer.echo(f"{name}: {spec.trials.generator}, {spec.trials.n_choices} choices; {periods}")


@app.command("train", cls=Command)
def train_cmd(
    config: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="CONFIG",
                                  help="YAML task-training config (TaskTrainConfig)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", metavar=SET_METAVAR, help=SET_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run folder's last checkpoint."),
) -> None:
    """Train a multi-area RNN on a task.

    Example: dynacortex task train task.yaml --set task=delayed_match_to_sample --set network.freeze_frontend=true
    """
    from ..training.resume import resume_checkpoint
    from .config import TaskTrainConfig
    from .train import train_task

    with usage_errors():
        cfg = TaskTrainConfig.from_yaml(config, set_)
        if resume:
            resume_checkpoint(cfg)  # refused here, before any work
    metrics = train_task(cfg, resume=resume)
    typer.echo(f"held-out accuracy {100 * metrics['test_accuracy']:.1f}% (chance {100 * metrics['chance']:.0f}%) "
               f"-> {(cfg.run_dir / 'metrics.json').resolve()}")
