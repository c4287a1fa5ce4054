"""``dynacortex analyze``: the dynamical-systems check-up of a trained checkpoint.

For a few test images (each held as a static stimulus) the network ``tau dr/dt = -r + Phi(I + J r)``
is an autonomous ODE; for each image this finds its fixed point (relaxation, then Newton-Krylov),
the leading eigenvalues of the Jacobian there (largest real part; stable when all are < 0, and
``-1 / Re(lambda_1)`` is the slowest time constant in ms), and then measures the noise robustness
of the recurrent model against its feedforward counterpart over a full training trial. All of it
through :mod:`dynacortex.analysis`.

    summary = analyze_checkpoint("runs/demo/training-1a2b3c4d/checkpoints/last.ckpt", "runs/analysis")

Writes ``analysis.json``, ``eigenvalues.png/.svg``, ``noise_robustness.png/.svg`` and, last,
``provenance.json`` (checkpoint, training config, these settings, environment).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import torch
from pydantic import BaseModel, ConfigDict, Field

from .analysis import fixed_point, is_stable, jacobian_eigs, noise_robustness, plot_noise_robustness, vector_field
from .experiments.suite import test_images
from .figures import save_figure
from .files import write_atomic
from .runs import write_provenance
from .training.load import load_trained

__all__ = ["AnalyzeConfig", "analyze_checkpoint"]


class AnalyzeConfig(BaseModel):
    """Settings of ``dynacortex analyze`` (small defaults: about a minute on 2 CPU cores for the demo model)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    images: int = Field(2, ge=1, description="test images whose fixed point and spectrum are computed")
    eigs: int = Field(6, ge=1, description="leading eigenvalues (largest real part) per fixed point")
    tol: float = Field(1e-6, gt=0, description="fixed point: |F(r*)| tolerance")
    relax_ms: float = Field(200.0, ge=0, description="fixed point: relaxation from rest before Newton (ms)")
    noise_per_class: int = Field(5, ge=1, description="test images per class for noise robustness")
    sigmas: list[float] = Field([0.0, 0.5, 1.0, 2.0], min_length=1, description="input noise SDs (normalised units)")
    duration_ms: Optional[float] = Field(None, gt=0, description="noise trial length (default: the training trial)")
    seed: int = 0


def _plot_eigenvalues(per_image: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    for rec in per_image:
        ax.plot(rec["eigenvalues_real_per_ms"], rec["eigenvalues_imag_per_ms"], "o", ms=5, alpha=0.8,
                label=f"test image {rec['image_id']} (class {rec['label']})")
    ax.axvline(0.0, color="0.4", lw=0.8, ls="--")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(4))  # few, readable tick labels whatever the range
    ax.set_xlabel("Re(lambda) (1/ms)")
    ax.set_ylabel("Im(lambda) (1/ms)")
    ax.set_title("Leading eigenvalues at the fixed point")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def analyze_checkpoint(checkpoint: "str | Path", out: "str | Path", cfg: AnalyzeConfig = AnalyzeConfig(),
                       progress: bool = True, trusted: bool = False) -> dict[str, Any]:
    """Run the check-up (see the module docstring) and return what ``analysis.json`` holds. The
    checkpoint and settings are checked before ``out`` is created; ``trusted`` as in
    :func:`~dynacortex.files.load_checkpoint`."""
    import matplotlib
    from tqdm.auto import tqdm

    matplotlib.use("Agg")
    out = Path(out)
    model, tcfg = load_trained(checkpoint, trusted)
    images, labels, ids = test_images(tcfg.data, 1, tcfg.seed)
    if cfg.images > len(images):
        raise ValueError(f"images: at most {len(images)} (one per class), got {cfg.images}")
    out.mkdir(parents=True, exist_ok=True)
    per_image = []
    for img, label, idx in tqdm(list(zip(images, labels, ids))[:cfg.images], desc="fixed points + spectra",
                                unit="image", disable=not progress):
        vf = vector_field(model, img)
        fp = fixed_point(vf, tol=cfg.tol, relax_ms=cfg.relax_ms)
        vals, _ = jacobian_eigs(vf, None, fp.state, k=min(cfg.eigs, vf.n - 2))
        vals = vals.to(torch.complex128)  # the dense path returns real values when all are real
        rates = {name: float(r.mean()) for name, r in fp.areas(vf).items()}
        lead = float(vals.real[0])
        per_image.append({
            "image_id": int(idx), "label": int(label), "n_units": vf.n, "fixed_point_residual": fp.residual,
            "converged": fp.converged, "newton_iterations": fp.iterations, "mean_rate_per_area": rates,
            "eigenvalues_real_per_ms": [float(v) for v in vals.real], "eigenvalues_imag_per_ms": [float(v) for v in vals.imag],
            "stable": is_stable(vals), "slowest_time_constant_ms": -1.0 / lead if lead < 0 else None,
        })
    p = tcfg.presentation
    duration = cfg.duration_ms or (p.idle_ms + p.stimulus_ms + p.blank_ms)
    n_steps = max(1, round(duration / model.dt))
    noisy_x, noisy_y, _ = test_images(tcfg.data, cfg.noise_per_class, tcfg.seed)
    noise = noise_robustness(model, noisy_x, noisy_y, cfg.sigmas, n_steps, seed=cfg.seed)
    chance = 1.0 / noisy_y.unique().numel()
    summary = {
        "checkpoint": str(Path(checkpoint).resolve()), "model": tcfg.model.name, "dt_ms": model.dt,
        "fixed_points": per_image, "all_stable": all(r["stable"] for r in per_image),
        "noise_robustness": {**noise, "n_steps": n_steps, "duration_ms": n_steps * model.dt,
                             "images": len(noisy_x), "chance": chance},
        "figures": ["eigenvalues.png", "noise_robustness.png"],
    }
    _plot_eigenvalues(per_image, out / "eigenvalues.png")
    plot_noise_robustness(noise, out / "noise_robustness.png", chance)
    write_atomic(out / "analysis.json", json.dumps(summary, indent=2))
    write_provenance(out, checkpoint, tcfg.resolved(), cfg.model_dump(mode="json"))
    return summary
