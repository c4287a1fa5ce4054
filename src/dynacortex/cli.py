"""Command line: ``dynacortex demo | train | experiment | analyze | bench | column | task | brainscore`` (``--help`` on each).

Every command that takes a config takes ``--set a.b=c`` (repeatable; the value is parsed as YAML).
A mistake (a bad key or value, a missing checkpoint, ...) exits with status 2 and a one-paragraph
message naming the field, before anything is created (:mod:`dynacortex.cli_support`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from .brainscore.cli import brainscore_app
from .cli_experiment import experiment_app
from .cli_support import SET_HELP, SET_METAVAR, TYPER, Command, short_warnings, usage_errors
from .cognitive.cli import app as task_app
from .columns.cli import column_app

app = typer.Typer(help="dynacortex: continuous-time dynamical models of the visual cortex.", **TYPER)
app.add_typer(column_app, name="column")
app.add_typer(task_app, name="task")
app.add_typer(experiment_app, name="experiment")
app.add_typer(brainscore_app, name="brainscore")

TRUSTED_HELP = ("Load a checkpoint that pickles objects other than tensors (this can run code: only for a file "
                "whose source you trust).")


@app.callback()
def main() -> None:
    """dynacortex command line."""
    from .dynamics import flush_denormals

    flush_denormals()  # this process is ours: decaying rates must not reach slow denormal floats
    short_warnings()


@app.command()
def demo(
    out: Path = typer.Option(Path("runs"), help="Folder for the run (the report lands in OUT/demo/)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", metavar=SET_METAVAR, help=SET_HELP),
) -> None:
    """Train DyRCNNx4 on offline digits, plot its dynamics, and write OUT/demo/report.html.

    Examples:

      dynacortex demo

      dynacortex demo --set trainer.max_epochs=2 --set model.recurrence=self
    """
    from .demo import demo_config, run_demo

    with usage_errors():
        demo_config(out, set_)  # validate before any work
    report = run_demo(out, set_)
    typer.echo(f"report: {report.resolve()}")


@app.command("train", cls=Command)
def train_cmd(
    config: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="CONFIG",
                                  help="Training config (YAML, or TOML)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", metavar=SET_METAVAR, help=SET_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue this config's run from its last checkpoint "
                                                        "(after a kill): it ends as the uninterrupted run would."),
    from_: Optional[Path] = typer.Option(None, "--from", metavar="RUN_DIR", file_okay=False,
                                         help="Start a new run from the trained weights of RUN_DIR (fresh optimizer "
                                              "and schedule over trainer.max_epochs): to train a finished run further."),
) -> None:
    """Train a model as described by CONFIG (see configs/) in the run folder OUT_DIR/NAME-HASH.

    HASH is 8 hex digits of the resolved config, so the same config always lands in the same folder; the folder holds config.yaml (resolved), environment.json, checkpoints/last.ckpt (after every epoch, and every N steps with --set trainer.save_every_n_steps=N), logs/metrics.csv and metrics.json. The dynamics are model fields: --set model.dt=1 --set model.t_recurrence=6.

    Examples:

      dynacortex train configs/demo.yaml --set trainer.max_epochs=2 --set data.batch_size=32

      dynacortex train configs/demo.yaml --set model.recurrence=self --set seed=1 --set name=self-s1

      dynacortex train configs/demo.yaml --resume

      dynacortex train configs/demo.yaml --from runs/demo-3e7d5981 --set trainer.max_epochs=5
    """
    from .training import TrainConfig, train
    from .training.resume import resume_checkpoint, start_from
    from .validation import ConfigError

    with usage_errors():
        cfg = TrainConfig.from_yaml(config, set_)
        if from_ is not None:
            cfg = cfg.model_copy(update={"start_from": start_from(from_)})
        last = resume_checkpoint(cfg) if resume else None  # refused here, before any work
    typer.echo(f"run folder: {cfg.run_dir}" + (f" (resuming from {last.name})" if last else ""))
    with usage_errors(types=(ConfigError, FileNotFoundError)):  # what train() refuses before it creates the
        metrics = train(cfg, resume=resume)                         # folder, e.g. --from weights that do not fit
    metrics.pop("model")
    resumed = metrics["resumed_from_step"]
    typer.echo((f"resumed at step {resumed}; " if resumed is not None else "") + f"trained to step "
               f"{metrics['global_step']}, test accuracy {100 * metrics['test_accuracy']:.2f}% -> "
               f"{(cfg.run_dir / 'metrics.json').resolve()}")


@app.command()
def analyze(
    checkpoint: Path = typer.Option(..., exists=True, dir_okay=False, help="Training checkpoint (.ckpt)."),
    out: Path = typer.Option(..., help="Folder for analysis.json, figures and provenance.json."),
    config: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                          help="Analysis settings (YAML/TOML; fields as --set)."),
    set_: Optional[List[str]] = typer.Option(
        None, "--set", metavar=SET_METAVAR, help="Override a setting: images, eigs, tol, relax_ms, noise_per_class, "
                                                 "sigmas, duration_ms, seed."),
    trusted: bool = typer.Option(False, "--trusted", help=TRUSTED_HELP),
) -> None:
    """Fixed points, leading Jacobian eigenvalues and noise robustness of a trained model.

    For a few test images (static stimuli): the fixed point (relaxation, then Newton-Krylov), the leading eigenvalues of the Jacobian there (stable when all Re < 0; -1/Re is the slowest time constant in ms); then accuracy under input noise, recurrent vs feedforward counterpart. Writes analysis.json, eigenvalues.png/.svg, noise_robustness.png/.svg and provenance.json.

    Examples:

      dynacortex analyze --checkpoint runs/demo/training-*/checkpoints/last.ckpt --out runs/analysis

      dynacortex analyze --checkpoint CKPT --out runs/analysis --set images=4 --set "sigmas=[0, 1, 2]"
    """
    from .checkpoint_analysis import AnalyzeConfig, analyze_checkpoint
    from .config import load_config

    with usage_errors():  # a bad setting, not a checkpoint, more images than the test set: before OUT exists
        cfg = load_config(AnalyzeConfig, config, set_)
        summary = analyze_checkpoint(checkpoint, out, cfg, trusted=trusted)
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
        None, "--set", metavar=SET_METAVAR,
        help="Override a setting: recurrence, batch, steps, size, repeats, threads, seed."),
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

    with usage_errors():
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
