"""The demo, the main job: a model on cortical time, its recurrence-free twin and the DN model, against human numbers.

1. Train DyRCNNx4 with the packaged ``configs/cortical.yaml`` (front-end latency, 10 ms per stage, full
   recurrence, adaptation and delayed normalization; exp_euler at dt 5 ms, 200 ms trials) on scikit-learn's
   digits (no download), in ``<out>/demo/training/model-<hash>/``.
2. Train its recurrence-free twin (the same config with ``recurrence=none`` and the mechanisms off; same data,
   seed and budget) in ``<out>/demo/training/twin-<hash>/``.
3. Run Groen et al.'s (2022) protocols (duration, contrast, interval) on both and on the DN model (Groen's
   ``x0``; :mod:`dynacortex.models.dn`) with the same test digits, and the long-stimulus protocol on the model
   (baseline check), streaming ``<out>/demo/{model,twin,dn}/<protocol>.zarr``.
4. Analyse the model as a dynamical system (fixed points, leading Jacobian eigenvalues, noise robustness).
5. Write ``<out>/demo/report.html`` (readings against human numbers, beside the twin and DN; overlaid time
   courses; every figure as PNG and SVG), ``metrics.json`` (with ``cortex``, ``cortex_controls``,
   ``cortex_reference``) and ``analysis.json``.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from .checkpoint_analysis import AnalyzeConfig, analyze_checkpoint
from .experiments.cortex_report import write_cortex_report
from .experiments.suite import run_dn_control, run_experiments, test_images
from .figures import save_figure
from .models import AreaNetwork
from .training import TrainConfig, train

__all__ = ["run_demo", "demo_config", "twin_config", "TWIN"]

GROEN = ["duration", "contrast", "interval"]
TWIN = ["model.recurrence=none", "model.adaptation=null", "model.normalization=null"]  # the twin lacks exactly these


def demo_config(out_dir: "str | Path" = "runs", overrides: Optional[list[str]] = None) -> TrainConfig:
    """The packaged cortical configuration (training in ``<out_dir>/demo/training/model-<hash>``, see
    :mod:`dynacortex.runs`), with ``section.key=value`` overrides."""
    with resources.as_file(resources.files("dynacortex") / "configs" / "cortical.yaml") as path:
        return TrainConfig.from_yaml(path, [f"out_dir={Path(out_dir) / 'demo' / 'training'}", "name=model",
                                            *(overrides or [])])


def twin_config(out_dir: "str | Path" = "runs", overrides: Optional[list[str]] = None) -> TrainConfig:
    """The recurrence-free twin of :func:`demo_config`: no recurrence, no adaptation, no normalization."""
    return demo_config(out_dir, [*(overrides or []), *TWIN, "name=twin"])


def _training_curve(run_dirs: dict[str, Path], path: Path) -> Optional[Path]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    drawn = False
    for label, run_dir in run_dirs.items():
        log = run_dir / "logs" / "metrics.csv"
        if not log.is_file():
            continue
        steps, losses = [], []
        with log.open() as f:
            for row in csv.DictReader(f):
                if row.get("train_loss"):
                    steps.append(int(row["step"]))
                    losses.append(float(row["train_loss"]))
        ax.plot(steps, losses, label=label)
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss")
    ax.legend()
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


def run_demo(out_dir: "str | Path" = "runs", overrides: Optional[list[str]] = None, per_class: int = 2) -> Path:
    """Train the model and its twin, run the experiments on them and on the DN model, report; return the report."""
    import matplotlib

    matplotlib.use("Agg")
    cfgs = {"model": demo_config(out_dir, overrides), "twin": twin_config(out_dir, overrides)}
    folder = Path(out_dir) / "demo"
    results = {label: train(cfg) for label, cfg in cfgs.items()}
    images, labels, ids = test_images(cfgs["model"].data, per_class, cfgs["model"].seed)
    for label, cfg in cfgs.items():
        model: AreaNetwork = results[label].pop("model").eval()
        attrs = {"model": cfg.model.model_dump(mode="json"), "data": cfg.data.model_dump(mode="json")}
        protocols = GROEN + (["response"] if label == "model" else [])
        run_experiments(model, images, labels, folder / label, protocols, image_ids=ids, attrs=attrs)
    run_dn_control(images, labels, folder / "dn", image_ids=ids)
    analysis = analyze_checkpoint(cfgs["model"].run_dir / "checkpoints" / "last.ckpt", folder, AnalyzeConfig())
    figures = [("Leading Jacobian eigenvalues at the fixed point of two test digits", folder / "eigenvalues.png"),
               ("Accuracy under Gaussian input noise: the recurrent model vs its feedforward counterpart",
                folder / "noise_robustness.png")]
    curve = _training_curve({k: c.run_dir for k, c in cfgs.items()}, folder / "training_loss.png")
    if curve is not None:
        figures.append(("Training loss of the model and its twin", curve))
    m, t = results["model"], results["twin"]
    notes = [f"Model: DyRCNNx4 on cortical time ({cfgs['model'].model.kwargs.get('recurrence')} recurrence, "
             f"adaptation and delayed normalization; dt {cfgs['model'].model.kwargs.get('dt')} ms), trained on "
             f"{cfgs['model'].data.name} at {cfgs['model'].data.image_size}x{cfgs['model'].data.image_size} for "
             f"{m['epochs']} epochs: test accuracy {100 * m['test_accuracy']:.1f}% (chance {100 * m['chance']:.0f}%), "
             f"{m['wall_time_s']:.0f} s. Twin (no recurrence, no mechanisms; same data, seed and budget): "
             f"{100 * t['test_accuracy']:.1f}%, {t['wall_time_s']:.0f} s. DN: Groen et al.'s starting parameters. "
             f"Experiments: {per_class} test digits per class, responses averaged over them.",
             _dynamics_note(analysis)]
    scalars = {"model_test_accuracy": round(m["test_accuracy"], 4), "twin_test_accuracy": round(t["test_accuracy"], 4),
               "chance": round(m["chance"], 4), "model_training_s": round(m["wall_time_s"]),
               "twin_training_s": round(t["wall_time_s"])}
    return write_cortex_report(folder, model=folder / "model", twin=folder / "twin", dn=folder / "dn",
                               title="dynacortex demo: cortical time", notes=notes, figures=figures, scalars=scalars,
                               accuracy=m["test_accuracy"], chance=m["chance"])
