"""Command line: ``dynacortex demo | train | experiment | analyze | bench | column | task`` (``--help`` on each).

Every command that takes a config takes ``--set a.b=c`` (repeatable; the value is parsed as YAML);
a bad key or value exits with status 2 and a message naming the field.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import typer

from .cognitive.cli import app as task_app
from .columns.cli import column_app

app = typer.Typer(help="dynacortex: continuous-time dynamical models of the visual cortex.", no_args_is_help=True)
app.add_typer(column_app, name="column")
app.add_typer(task_app, name="task")

SET_HELP = "Override a config field: section.key=value (value parsed as YAML); repeatable."


@contextmanager
def _config_errors() -> Iterator[None]:
    """Turn a config error (pydantic or ValueError, naming the field) into a usage error, not a traceback."""
    try:
        yield
    except ValueError as e:  # pydantic.ValidationError is a ValueError
        raise typer.BadParameter(str(e), param_hint="CONFIG / --set") from e


@app.callback()
def main() -> None:
    """dynacortex command line."""
    from .dynamics import flush_denormals

    flush_denormals()  # this process is ours: decaying rates must not reach slow denormal floats


@app.command()
def demo(
    out: Path = typer.Option(Path("runs"), help="Folder for the run (the report lands in OUT/demo/)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help=SET_HELP),
) -> None:
    """Train DyRCNNx4 on offline digits, plot its dynamics, and write OUT/demo/report.html.

    Examples:

      dynacortex demo

      dynacortex demo --set trainer.max_epochs=2 --set model.recurrence=self
    """
    from .demo import demo_config, run_demo

    with _config_errors():
        demo_config(out, set_)  # validate before any work
    report = run_demo(out, set_)
    typer.echo(f"report: {report.resolve()}")


@app.command("train")
def train_cmd(
    config: Path = typer.Argument(..., exists=True, dir_okay=False, help="Training config (YAML, or TOML)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help=SET_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run folder's last checkpoint."),
) -> None:
    """Train a model as described by CONFIG (see configs/) in the run folder OUT_DIR/NAME-HASH.

    HASH is 8 hex digits of the resolved config, so the same config always lands in the same folder; the folder holds config.yaml (resolved), environment.json, checkpoints/last.ckpt and metrics.json. The dynamics are model fields: --set model.dt=1 --set model.t_recurrence=6.

    Examples:

      dynacortex train configs/demo.yaml --set trainer.max_epochs=2 --set data.batch_size=32

      dynacortex train configs/demo.yaml --set model.recurrence=self --set seed=1 --set name=self-s1

      dynacortex train configs/demo.yaml --resume
    """
    from .training import TrainConfig, train

    with _config_errors():
        cfg = TrainConfig.from_yaml(config, set_)
    typer.echo(f"run folder: {cfg.run_dir}")
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
    resume: bool = typer.Option(False, "--resume", help="Continue interrupted runs after their last complete "
                                                        "batch of images (same model, images and settings)."),
    signal: str = typer.Option("mean", help="Population signal per area: mean (all units) or ecog (rectified "
                                            "activity under a Gaussian electrode footprint)."),
    aperture_radius: float = typer.Option(0.25, help="ecog: footprint SD as a fraction of the image width."),
    aperture_center: Tuple[float, float] = typer.Option((0.5, 0.5), help="ecog: electrode (row, column) in [0, 1]."),
) -> None:
    """Run protocols on a trained model and stream the recordings to OUT/<protocol>.zarr.

    OUT/provenance.json records the checkpoint, its training config and these settings.

    Examples:

      dynacortex experiment run --checkpoint runs/demo/training-*/checkpoints/last.ckpt --out runs/exp

      dynacortex experiment run --checkpoint CKPT --protocol duration --set "durations_ms=[17, 67]" --out runs/exp
    """
    from .experiments.cli_support import resolve_protocols
    from .experiments.signals import SignalConfig
    from .experiments.suite import load_trained, run_experiments, test_images
    from .runs import write_provenance

    protocols = resolve_protocols(protocol or [], set_ or [])
    try:
        population = SignalConfig(kind=signal, center=aperture_center, radius=aperture_radius)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--signal / --aperture-center / --aperture-radius") from e
    model, cfg = load_trained(checkpoint)
    images, labels, ids = test_images(cfg.data, per_class, cfg.seed)
    attrs = {"model": cfg.model.model_dump(mode="json"), "data": cfg.data.model_dump(mode="json"),
             "checkpoint": str(checkpoint.resolve())}
    paths = run_experiments(model, images, labels, out, protocols, image_ids=ids, batch_size=batch_size,
                            n_units=n_units, attrs=attrs, resume=resume, signal=population)
    write_provenance(out, checkpoint, cfg.resolved(), {
        "protocols": sorted(paths), "protocol_overrides": list(set_ or []), "per_class": per_class,
        "batch_size": batch_size, "n_units": n_units, "signal": population.model_dump(mode="json")})
    for p in paths.values():
        typer.echo(f"recording: {p.resolve()}")
    typer.echo(f"next: dynacortex experiment report {out}")


@experiment_app.command("report")
def experiment_report(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of recordings.")) -> None:
    """Compute metrics.json, figures and report.html from the recordings in FOLDER.

    Example:

      dynacortex experiment report runs/exp
    """
    from .experiments.report import write_experiment_report

    typer.echo(f"report: {write_experiment_report(folder).resolve()}")


@experiment_app.command("compare")
def experiment_compare(
    folders: List[str] = typer.Argument(..., help="LABEL=FOLDER (or FOLDER) of experiments with metrics.json."),
    out: Path = typer.Option(..., help="Folder for comparison.html/.json/.png."),
) -> None:
    """Put several experiments side by side (e.g. one model per recurrence type).

    Example:

      dynacortex experiment compare full=runs/full self=runs/self --out runs/compare
    """
    from .experiments.compare import compare_experiments

    pairs = dict(f.split("=", 1) if "=" in f else (Path(f).name, f) for f in folders)
    typer.echo(f"comparison: {compare_experiments(pairs, out).resolve()}")


@app.command()
def analyze(
    checkpoint: Path = typer.Option(..., exists=True, dir_okay=False, help="Training checkpoint (.ckpt)."),
    out: Path = typer.Option(..., help="Folder for analysis.json, figures and provenance.json."),
    config: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                          help="Analysis settings (YAML/TOML; fields as --set)."),
    set_: Optional[List[str]] = typer.Option(
        None, "--set", help="Override a setting: images, eigs, tol, relax_ms, noise_per_class, sigmas, "
                            "duration_ms, seed."),
) -> None:
    """Fixed points, leading Jacobian eigenvalues and noise robustness of a trained model.

    For a few test images (static stimuli): the fixed point (relaxation, then Newton-Krylov), the leading eigenvalues of the Jacobian there (stable when all Re < 0; -1/Re is the slowest time constant in ms); then accuracy under input noise, recurrent vs feedforward counterpart. Writes analysis.json, eigenvalues.png/.svg, noise_robustness.png/.svg and provenance.json.

    Examples:

      dynacortex analyze --checkpoint runs/demo/training-*/checkpoints/last.ckpt --out runs/analysis

      dynacortex analyze --checkpoint CKPT --out runs/analysis --set images=4 --set "sigmas=[0, 1, 2]"
    """
    from .checkpoint_analysis import AnalyzeConfig, analyze_checkpoint
    from .config import load_config

    with _config_errors():
        cfg = load_config(AnalyzeConfig, config, set_)
    summary = analyze_checkpoint(checkpoint, out, cfg)
    for rec in summary["fixed_points"]:
        tau = rec["slowest_time_constant_ms"]
        typer.echo(f"image {rec['image_id']}: |F| {rec['fixed_point_residual']:.1e}, leading Re(lambda) "
                   f"{rec['eigenvalues_real_per_ms'][0]:+.4f}/ms ({'stable' if rec['stable'] else 'UNSTABLE'}"
                   + (f", slowest tau {tau:.1f} ms)" if tau else ")"))
    typer.echo(f"analysis: {(out / 'analysis.json').resolve()}")


@app.command()
def bench(
    config: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                          help="Benchmark settings (YAML/TOML; fields as --set)."),
    set_: Optional[List[str]] = typer.Option(
        None, "--set", help="Override a setting: recurrence, batch, steps, size, repeats, threads, seed."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the full result as JSON here."),
) -> None:
    """Time forward+backward of DyRCNNx4 at the reference configuration: dynacortex vs the floor.

    Reference: batch 16, 20 steps, 3x32x32, dt 2 ms, tau 5 ms, t_feedforward 0, t_recurrence 6 ms, skips, Euler. The floor is a bare unrolled PyTorch loop doing the same arithmetic; the two are interleaved repeat by repeat. For DynVision alongside, run benchmarks/bench_reference.py.

    Examples:

      dynacortex bench

      dynacortex bench --set "recurrence=\\[full, self]" --set repeats=3 --json bench.json
    """
    from .benchmark import BenchConfig, bench as run_bench
    from .config import load_config
    from .files import write_atomic

    with _config_errors():
        cfg = load_config(BenchConfig, config, set_)
    result = run_bench(cfg)
    for row in result["rows"]:
        med = row["median_ms"]
        typer.echo(f"{row['recurrence']:>15} | dynacortex {med['dynacortex']:8.1f} ms | floor {med['floor']:8.1f} ms "
                   f"| ours/floor {row['ratio_vs_floor']:.2f}")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(json_out, json.dumps(result, indent=2))
        typer.echo(f"wrote {json_out}")


if __name__ == "__main__":
    app()
