"""Command line: ``dynacortex demo`` and ``dynacortex train CONFIG``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(help="dynacortex: continuous-time dynamical models of the visual cortex.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """dynacortex command line."""


@app.command()
def demo(
    out: Path = typer.Option(Path("runs"), help="Folder for the run (the report lands in OUT/demo/)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a config field: section.key=value."),
) -> None:
    """Train DyRCNNx4 on offline digits, plot its dynamics, and write OUT/demo/report.html.

    Example: dynacortex demo --set trainer.max_epochs=2
    """
    from .demo import run_demo

    report = run_demo(out, set_)
    typer.echo(f"report: {report.resolve()}")


@app.command("train")
def train_cmd(
    config: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML training config."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a config field: section.key=value."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run folder's last checkpoint."),
) -> None:
    """Train a model as described by CONFIG (see configs/).

    Example: dynacortex train configs/demo.yaml --set trainer.max_epochs=2 --set data.batch_size=32
    """
    from .training import TrainConfig, train

    cfg = TrainConfig.from_yaml(config, set_)
    metrics = train(cfg, resume=resume)
    metrics.pop("model")
    typer.echo(f"test accuracy {100 * metrics['test_accuracy']:.2f}% -> {(cfg.run_dir / 'metrics.json').resolve()}")


if __name__ == "__main__":
    app()
