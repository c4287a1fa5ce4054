"""Command line: ``dynacortex demo``, ``dynacortex train CONFIG``, ``dynacortex experiment run|report``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .columns.cli import column_app

app = typer.Typer(help="dynacortex: continuous-time dynamical models of the visual cortex.", no_args_is_help=True)
app.add_typer(column_app, name="column")


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


experiment_app = typer.Typer(help="In-silico experiments (Groen et al. 2022 protocols) on a trained model.",
                              no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("run")
def experiment_run(
    checkpoint: Path = typer.Option(..., exists=True, dir_okay=False, help="Training checkpoint (.ckpt)."),
    protocol: Optional[List[str]] = typer.Option(
        None, help="duration, contrast, interval, response, memory, or a protocol YAML file; repeat for "
                   "several (default: all built-ins)."),
    out: Path = typer.Option(..., help="Folder for the recordings (<protocol>.zarr)."),
    per_class: int = typer.Option(10, help="Test images per class."),
    batch_size: int = typer.Option(64, help="Trials (conditions x images) simulated together."),
    n_units: int = typer.Option(128, help="Units per area recorded for decoding (memory and YAML protocols)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Protocol parameter, e.g. gaps_ms=[50,100] "
                                                                  "(with one built-in --protocol)."),
) -> None:
    """Run protocols on a trained model and stream the recordings to OUT/<protocol>.zarr.

    Example: dynacortex experiment run --checkpoint runs/demo/training/checkpoints/last.ckpt --protocol duration --out runs/exp
    """
    from .experiments.cli_support import resolve_protocols
    from .experiments.suite import load_trained, run_experiments, test_images

    protocols = resolve_protocols(protocol or [], set_ or [])
    model, cfg = load_trained(checkpoint)
    images, labels, ids = test_images(cfg.data, per_class, cfg.seed)
    attrs = {"model": cfg.model.model_dump(mode="json"), "data": cfg.data.model_dump(mode="json"),
             "checkpoint": str(checkpoint.resolve())}
    paths = run_experiments(model, images, labels, out, protocols, image_ids=ids, batch_size=batch_size,
                            n_units=n_units, attrs=attrs)
    for p in paths.values():
        typer.echo(f"recording: {p.resolve()}")
    typer.echo(f"next: dynacortex experiment report {out}")


@experiment_app.command("report")
def experiment_report(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of recordings.")) -> None:
    """Compute metrics.json, figures and report.html from the recordings in FOLDER."""
    from .experiments.report import write_experiment_report

    typer.echo(f"report: {write_experiment_report(folder).resolve()}")


@experiment_app.command("compare")
def experiment_compare(
    folders: List[str] = typer.Argument(..., help="LABEL=FOLDER (or FOLDER) of experiments with metrics.json."),
    out: Path = typer.Option(..., help="Folder for comparison.html/.json/.png."),
) -> None:
    """Put several experiments side by side (e.g. one model per recurrence type).

    Example: dynacortex experiment compare full=runs/full self=runs/self --out runs/compare
    """
    from .experiments.compare import compare_experiments

    pairs = dict(f.split("=", 1) if "=" in f else (Path(f).name, f) for f in folders)
    typer.echo(f"comparison: {compare_experiments(pairs, out).resolve()}")


from .cognitive.cli import app as task_app  # noqa: E402
app.add_typer(task_app, name="task")

if __name__ == "__main__":
    app()
