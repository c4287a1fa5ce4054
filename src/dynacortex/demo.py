"""The demo, the main job: train DyRCNNx4 on offline digits, show its dynamics, write a report.

1. Train DyRCNNx4 (full recurrence; dt 2 ms, tau 5 ms, t_recurrence 6 ms) with the packaged
   ``configs/demo.yaml`` on scikit-learn's digits (no download).
2. Plot test accuracy over time within a trial, the training loss, and each area's mean rate for a
   few test digits shown for 20 ms after 20 ms of blank, followed by 260 ms of blank (reported: how
   far activity grows beyond the trained window).
3. Write ``<out>/demo/report.html`` (with its PNG/SVG figures) and ``<out>/demo/metrics.json``.
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path
from typing import Any, Optional

import torch

from .models import AreaNetwork, record
from .report import write_report
from .training import PresentationConfig, ReadoutConfig, TrainConfig, make_trial, present, train
from .training.datamodule import ImageDataModule
from .training.train import write_atomic

__all__ = ["run_demo", "demo_config"]


def demo_config(out_dir: "str | Path" = "runs", overrides: Optional[list[str]] = None) -> TrainConfig:
    """The packaged demo configuration, with ``out_dir`` and ``section.key=value`` overrides."""
    with resources.as_file(resources.files("dynacortex") / "configs" / "demo.yaml") as path:
        return TrainConfig.from_yaml(path, [f"out_dir={out_dir}", *(overrides or [])])


def _save(fig: Any, path: Path) -> Path:
    for p in (path, path.with_suffix(".svg")):
        tmp = p.with_name(f".{p.stem}.tmp{p.suffix}")
        fig.savefig(tmp, dpi=110)
        tmp.replace(p)
    return path


def _time_courses(model: AreaNetwork, data: ImageDataModule, dt: float, path: Path) -> tuple[Path, float]:
    """Figure of each area's mean rate for 4 digits (20 ms blank, 20 ms digit, 260 ms blank), and the
    ratio of IT's mean rate at the end to its value at stimulus offset (> 1: activity keeps growing)."""
    import matplotlib.pyplot as plt

    assert data.test_set is not None
    x, y = data.test_set.images, data.test_set.labels
    picks = [int(torch.nonzero(y == c)[0]) for c in range(4)]
    images = data.normalize(x[picks])
    trial = make_trial(PresentationConfig(idle_ms=20, stimulus_ms=20, blank_ms=260), ReadoutConfig(), dt)
    with record(model) as rec, torch.no_grad():
        model(present(images, trial))
    t = rec.times.numpy()
    it = rec["IT"].mean(dim=(0, 2, 3, 4))
    growth = float(it[-1] / it[round(40 / dt) - 1].clamp_min(1e-12))
    fig, axes = plt.subplots(1, len(model.area_names), figsize=(4 * len(model.area_names), 3.2), sharex=True)
    for ax, area in zip(axes, model.area_names):
        r = rec[area].mean(dim=(2, 3, 4))
        for k, idx in enumerate(picks):
            ax.plot(t, r[k].numpy(), label=f"digit {int(y[idx])}")
        ax.axvspan(20, 40, color="0.9", zorder=0)
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_title(area)
        ax.set_xlabel("time (ms)")
    axes[0].set_ylabel("mean rate (a.u.)")
    axes[-1].legend(fontsize=8)
    fig.suptitle("Trained DyRCNNx4: area time courses (gray: stimulus on)")
    fig.tight_layout()
    out = _save(fig, path)
    plt.close(fig)
    return out, growth


def _accuracy_over_time(metrics: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(metrics["step_times_ms"], [100 * a for a in metrics["test_accuracy_per_step"]], marker="o")
    ax.axhline(100 * metrics["chance"], color="0.5", ls="--", label="chance")
    ax.set_xlabel("time after stimulus onset (ms)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend()
    fig.tight_layout()
    out = _save(fig, path)
    plt.close(fig)
    return out


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
    out = _save(fig, path)
    plt.close(fig)
    return out


def run_demo(out_dir: "str | Path" = "runs", overrides: Optional[list[str]] = None) -> Path:
    """Train, plot, report; return the report's path."""
    import matplotlib

    matplotlib.use("Agg")
    cfg = demo_config(out_dir, overrides)
    metrics = train(cfg)
    model: AreaNetwork = metrics.pop("model").eval()
    run_dir = cfg.run_dir
    data = ImageDataModule(cfg.data, cfg.seed)
    data.setup()
    courses, growth = _time_courses(model, data, model.dt, run_dir / "area_time_courses.png")
    metrics["it_rate_end_over_offset"] = round(growth, 4)
    figures = [
        ("Test accuracy at each step of a 20 ms presentation", _accuracy_over_time(metrics, run_dir / "accuracy_over_time.png")),
        ("Each area's mean rate (symlog scale) for four test digits: 20 ms blank, 20 ms digit (gray), 260 ms blank",
         courses),
    ]
    curve = _training_curve(run_dir, run_dir / "training_loss.png")
    if curve is not None:
        figures.append(("Training loss", curve))
    write_atomic(run_dir / "metrics.json", json.dumps(metrics, indent=2))
    notes = [f"DyRCNNx4 ({cfg.model.kwargs.get('recurrence', 'full')} recurrence, dt {model.dt} ms) trained on "
             f"{cfg.data.name} at {cfg.data.image_size}x{cfg.data.image_size} for {metrics['epochs']} epochs: "
             f"test accuracy {100 * metrics['test_accuracy']:.1f}% (chance {100 * metrics['chance']:.0f}%), "
             f"{metrics['wall_time_s']:.0f} s.",
             f"Stability beyond the trained 20 ms: IT's mean rate 260 ms after offset is {growth:.3g} x its value at "
             "offset" + (" - the trained recurrence is unstable over long times (training saw 20 ms trials only)."
                         if growth > 1.5 else " - activity decays back towards baseline.")]
    return write_report(run_dir / "report.html", "dynacortex demo", metrics, figures, notes)
