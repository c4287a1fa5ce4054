"""``dynacortex experiment run | report | compare | cortex``: in-silico experiments on a trained model.

``run`` checks everything (checkpoint, protocols and their parameters, signal) before it creates
``OUT``, then prints what it will simulate and an estimate of the time it takes, then runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import typer

from .cli_support import SET_METAVAR, TYPER, Command, usage_errors

experiment_app = typer.Typer(help="In-silico experiments on a trained model: the protocols of Groen and colleagues (2022).",
                             **TYPER)


@experiment_app.command("run")
def experiment_run(
    checkpoint: Path = typer.Option(..., exists=True, dir_okay=False, help="Training checkpoint (.ckpt)."),
    protocol: Optional[List[str]] = typer.Option(
        None, metavar="NAME", help="duration, contrast, interval, response, memory, or a protocol YAML file; repeat "
                                   "for several (default: all built-ins)."),
    out: Path = typer.Option(..., help="Folder for the recordings (<protocol>.zarr)."),
    per_class: int = typer.Option(10, min=1, help="Test images per class."),
    batch_size: int = typer.Option(64, min=1, help="Trials (conditions x images) simulated together."),
    n_units: int = typer.Option(128, min=0, help="Units per area recorded for decoding (memory and YAML protocols)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", metavar=SET_METAVAR,
                                             help="Protocol parameter, e.g. gaps_ms=[50,100] (with one built-in "
                                                  "--protocol)."),
    resume: bool = typer.Option(False, "--resume", help="Continue interrupted runs after their last complete "
                                                        "batch of images (same model, images and settings)."),
    signal: str = typer.Option("mean", help="Population signal per area: mean (all units) or ecog (rectified "
                                            "activity under a Gaussian electrode footprint)."),
    aperture_radius: float = typer.Option(0.25, help="ecog: footprint SD as a fraction of the image width."),
    aperture_center: Tuple[float, float] = typer.Option((0.5, 0.5), metavar="ROW COL",
                                                        help="ecog: electrode position, each in [0, 1]."),
    trusted: bool = typer.Option(False, "--trusted", help="Load a checkpoint that pickles objects other than "
                                                          "tensors (only for a file whose source you trust)."),
) -> None:
    """Run protocols on a trained model and stream the recordings to OUT/<protocol>.zarr.

    Before it starts it prints the planned work (trials and steps per protocol) and an estimate of the time it takes on this machine. OUT/provenance.json records the checkpoint, its training config and these settings.

    Examples:

      dynacortex experiment run --checkpoint runs/demo/training-*/checkpoints/last.ckpt --out runs/exp

      dynacortex experiment run --checkpoint CKPT --protocol duration --set "durations_ms=[17, 67]" --out runs/exp
    """
    from .experiments.cli_support import resolve_protocols
    from .experiments.plan import describe_plan, estimate_seconds, plan
    from .experiments.signals import SignalConfig
    from .experiments.suite import run_experiments, test_images
    from .runs import write_provenance
    from .training.load import load_trained

    with usage_errors():
        protocols = resolve_protocols(protocol or [], set_ or [])
    with usage_errors("--signal / --aperture-center / --aperture-radius"):
        population = SignalConfig(kind=signal, center=aperture_center, radius=aperture_radius)
    with usage_errors():
        model, cfg = load_trained(checkpoint, trusted)
    images, labels, ids = test_images(cfg.data, per_class, cfg.seed)
    rows = plan(model, protocols, len(images), batch_size)
    typer.echo(describe_plan(rows, estimate_seconds(model, rows, tuple(images.shape[1:]))))
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


@experiment_app.command("report", cls=Command)
def experiment_report(folder: Path = typer.Argument(..., exists=True, file_okay=False, metavar="FOLDER",
                                                    help="Folder of recordings.")) -> None:
    """Compute metrics.json, figures and report.html from the recordings in FOLDER.

    Example:

      dynacortex experiment report runs/exp
    """
    from .experiments.report import load_recordings, write_experiment_report

    with usage_errors():
        load_recordings(folder)  # no recordings: refused before anything is written
    typer.echo(f"report: {write_experiment_report(folder).resolve()}")


@experiment_app.command("compare", cls=Command)
def experiment_compare(
    folders: List[str] = typer.Argument(..., metavar="[LABEL=]FOLDER",
                                        help="Experiments with metrics.json, each optionally labelled."),
    out: Path = typer.Option(..., help="Folder for comparison.html/.json/.png."),
) -> None:
    """Put several experiments side by side (e.g. one model per recurrence type).

    Example:

      dynacortex experiment compare full=runs/full self=runs/self --out runs/compare
    """
    from .experiments.compare import compare_experiments

    pairs = dict(f.split("=", 1) if "=" in f else (Path(f).name, f) for f in folders)
    with usage_errors():
        missing = [f"{label}={folder}" for label, folder in pairs.items() if not (Path(folder) / "metrics.json").is_file()]
        if missing:
            raise FileNotFoundError(f"no metrics.json in {', '.join(missing)}; run `dynacortex experiment report "
                                    "FOLDER` on each first")
    typer.echo(f"comparison: {compare_experiments(pairs, out).resolve()}")


@experiment_app.command("cortex", cls=Command)
def experiment_cortex(
    out: Path = typer.Argument(..., metavar="OUT", help="Folder for report.html and metrics.json."),
    model: List[Path] = typer.Option(..., "--model", exists=True, file_okay=False,
                                     help="Recordings of the recurrent model (experiment run --out); repeat per seed."),
    twin: Optional[List[Path]] = typer.Option(None, "--twin", exists=True, file_okay=False,
                                              help="Recordings of its recurrence-free twin; repeat per seed."),
    dn: bool = typer.Option(True, "--dn/--no-dn", help="Run the DN model on the same images beside them."),
) -> None:
    """Read the temporal phenomena of a model against human numbers, beside its twin and the DN model.

    Several --model (and --twin) folders, one per seed, give mean +- SD; a phenomenon is credited to the recurrent model only where it meets the human reference, the twin does not, and their paired difference exceeds 2 SD across seeds.

    Example:

      dynacortex experiment cortex runs/cortex --model runs/exp-s0 --model runs/exp-s1 --twin runs/twin-s0 --twin runs/twin-s1
    """
    from .experiments.cortex_report import write_cortex_report
    from .experiments.report import provenance, load_recordings
    from .experiments.suite import recorded_images, run_dn_control

    with usage_errors():
        first = load_recordings(model[0])
        for folder in [*model[1:], *(twin or [])]:
            load_recordings(folder)
        dn_dir = None
        if dn:
            images, labels, ids = recorded_images(next(iter(first.values())))
            dn_dir = out / "dn"
            run_dn_control(images, labels, dn_dir, image_ids=ids)
    trained = [provenance(folder)[1:] for folder in model]  # (accuracy, chance) of each seed's training run
    known = [a for a in trained if a[0] is not None and a[1] is not None]
    accuracy = sum(a for a, _ in known) / len(known) if known else None
    chance = known[0][1] if known else None
    typer.echo(f"report: {write_cortex_report(out, model=model, twin=twin or None, dn=dn_dir, accuracy=accuracy, chance=chance).resolve()}")
