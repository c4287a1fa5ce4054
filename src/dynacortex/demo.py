"""The demo, the main job: train DyRCNNx4 on offline digits, run the in-silico experiments, report.

1. Train DyRCNNx4 (full recurrence; dt 2 ms, tau 5 ms, t_recurrence 6 ms) with the packaged
   ``configs/demo.yaml`` on scikit-learn's digits (no download), in ``<out>/demo/training-<hash>/``.
2. Run every Groen et al. (2022) protocol on it (duration, contrast, interval, response with 2 test
   digits per class; memory with 10 per class), streaming ``<out>/demo/<protocol>.zarr``.
3. Analyse it as a dynamical system (``dynacortex analyze``): fixed points and leading Jacobian
   eigenvalues for two test digits, accuracy under input noise against its feedforward counterpart.
4. Write ``<out>/demo/report.html`` (training curves, time courses, summation, contrast timing,
   recovery, latency, memory, spectrum, noise robustness; PNG and SVG), ``metrics.json`` (the
   experiment schema), ``dynvision_metrics.json`` and ``analysis.json``.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from .checkpoint_analysis import AnalyzeConfig, analyze_checkpoint
from .experiments.report import write_experiment_report
from .experiments.suite import run_experiments, test_images
from .figures import save_figure
from .models import AreaNetwork
from .training import TrainConfig, train

__all__ = ["run_demo", "demo_config"]


def demo_config(out_dir: "str | Path" = "runs", overrides: Optional[list[str]] = None) -> TrainConfig:
    """The packaged demo configuration (training in ``<out_dir>/demo/training-<hash>``, see
    :mod:`dynacortex.runs`), with ``section.key=value`` overrides."""
    with resources.as_file(resources.files("dynacortex") / "configs" / "demo.yaml") as path:
        return TrainConfig.from_yaml(path, [f"out_dir={Path(out_dir) / 'demo'}", "name=training", *(overrides or [])])


def _accuracy_over_time(metrics: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(metrics["step_times_ms"], [100 * a for a in metrics["test_accuracy_per_step"]], marker="o")
    ax.axhline(100 * metrics["chance"], color="0.5", ls="--", label="chance")
    ax.set_xlabel("time after stimulus onset (ms)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)


def _training_curve(run_dir: Path, path: Path) -> Optional[Path]:
    import matplotlib.pyplot as plt

    log = run_dir / "logs" / "metrics.csv"
    if not log.is_file():
        return None
    steps, losses = [], []
    with log.open() as f:
        for row in csv.DictReader(f):
            if row.get("train_loss"):
                steps.append(int(row["step"]))
                losses.append(float(row["train_loss"]))
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(steps, losses)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss")
    fig.tight_layout()
    return save_figure(fig, path)


def _dynamics_note(analysis: dict[str, Any]) -> str:
    taus = [r["slowest_time_constant_ms"] for r in analysis["fixed_points"]]
    noise = analysis["noise_robustness"]
    acc = "; ".join(f"SD {s:g}: {r:.2f} vs {f:.2f}" for s, r, f in
                    zip(noise["sigma"], noise["recurrent"], noise["feedforward"]))
    return (f"As a dynamical system: the fixed points of the test digits are "
            f"{'all stable' if analysis['all_stable'] else 'NOT all stable'}, slowest time constant "
            f"{', '.join('n/a' if t is None else f'{t:.1f}' for t in taus)} ms (see analysis.json). Accuracy under "
            f"input noise, recurrent vs feedforward counterpart: {acc}.")


def run_demo(out_dir: "str | Path" = "runs", overrides: Optional[list[str]] = None,
             per_class: int = 2, memory_per_class: int = 10) -> Path:
    """Train, run the experiments, report; return the report's path."""
    import matplotlib

    matplotlib.use("Agg")
    cfg = demo_config(out_dir, overrides)
    metrics = train(cfg)
    model: AreaNetwork = metrics.pop("model").eval()
    folder = cfg.run_dir.parent
    attrs = {"model": cfg.model.model_dump(mode="json"), "data": cfg.data.model_dump(mode="json")}
    for protocols, n in ((["duration", "contrast", "interval", "response"], per_class), (["memory"], memory_per_class)):
        images, labels, ids = test_images(cfg.data, n, cfg.seed)
        run_experiments(model, images, labels, folder, protocols, image_ids=ids, attrs=attrs)
    analysis = analyze_checkpoint(cfg.run_dir / "checkpoints" / "last.ckpt", folder, AnalyzeConfig())
    figures = [(f"Test accuracy at each read-out step of a {cfg.presentation.stimulus_ms:g} ms presentation",
                _accuracy_over_time(metrics, folder / "accuracy_over_time.png")),
               ("Leading Jacobian eigenvalues at the fixed point of two test digits", folder / "eigenvalues.png"),
               ("Accuracy under Gaussian input noise: the recurrent model vs its feedforward counterpart",
                folder / "noise_robustness.png")]
    curve = _training_curve(cfg.run_dir, folder / "training_loss.png")
    if curve is not None:
        figures.append(("Training loss", curve))
    notes = [f"DyRCNNx4 ({cfg.model.kwargs.get('recurrence', 'full')} recurrence, dt {model.dt} ms) trained on "
             f"{cfg.data.name} at {cfg.data.image_size}x{cfg.data.image_size} for {metrics['epochs']} epochs: "
             f"test accuracy {100 * metrics['test_accuracy']:.1f}% (chance {100 * metrics['chance']:.0f}%), "
             f"{metrics['wall_time_s']:.0f} s. Experiments: {per_class} test digits per class "
             f"({memory_per_class} for memory), responses averaged over them.", _dynamics_note(analysis)]
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
    return write_experiment_report(folder, "dynacortex demo", notes, figures, scalars)
