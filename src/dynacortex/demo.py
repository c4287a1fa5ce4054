"""The demo: an untrained DyRCNNx4 watching a few stimuli; a figure of each area's time course."""

from __future__ import annotations

from pathlib import Path

import torch

from .models import create_model, record
from .stimuli import disk, grating, presentation

__all__ = ["run_demo"]


def run_demo(out_dir: "str | Path" = "demo_output", dt: float = 1.0, solver: str = "rk4",
             duration_ms: float = 200.0, seed: int = 0) -> Path:
    """Simulate, plot mean rate per area over time for each stimulus, save PNG and SVG; return the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    torch.manual_seed(seed)
    model = create_model("dyrcnnx4", dt=dt, solver=solver, t_feedforward=4.0, t_recurrence=6.0,
                         feedback=True, stability_check=True).eval()
    stimuli = {
        "grating 0°": grating(orientation_deg=0.0),
        "grating 45°": grating(orientation_deg=45.0, cycles=6.0),
        "disk": disk(radius=0.3),
        "low-contrast disk": disk(radius=0.3, contrast=0.25),
    }
    onset, offset = 40.0, 140.0
    x = torch.stack([presentation(img, dt, duration_ms, onset, offset) for img in stimuli.values()])
    with record(model) as rec, torch.no_grad():
        model(x)
    t = rec.times.numpy()
    names = model.area_names
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), sharex=True)
    for ax, area in zip(axes, names):
        r = rec[area].mean(dim=(2, 3, 4))  # (stimulus, time)
        for k, label in enumerate(stimuli):
            ax.plot(t, r[k].numpy(), label=label)
        ax.axvspan(onset, offset, color="0.9", zorder=0)
        ax.set_title(area)
        ax.set_xlabel("time (ms)")
    axes[0].set_ylabel("mean rate (a.u.)")
    axes[-1].legend(fontsize=8)
    fig.suptitle(f"Untrained DyRCNNx4, {solver}, dt = {dt} ms (gray: stimulus on)")
    fig.tight_layout()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "demo_timecourses.png"
    for path in (png, png.with_suffix(".svg")):
        tmp = path.with_name(path.stem + ".tmp" + path.suffix)
        fig.savefig(tmp, dpi=120)
        tmp.replace(path)  # atomic: a reader never sees a half-written figure
    plt.close(fig)
    return png
