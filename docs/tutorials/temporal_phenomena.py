"""Temporal phenomena: run Groen et al. (2022)'s duration and interval protocols on a model and on its
recurrence-free twin, and read the summation, latency and recovery metrics.

    python docs/tutorials/temporal_phenomena.py [--tiny] [OUT_DIR]

The model has what shapes cortex's dynamics in time: recurrence, slow adaptation and a delayed divisive
normalization pool (``dynacortex.layers.mechanisms``); its twin has none of them. Both are freshly built
(untrained) so that this runs in seconds; for a trained one, load a checkpoint with
``dynacortex.training.load_model(path)`` or run ``dynacortex experiment run --checkpoint CKPT``, and for the
readings against human numbers see ``make demo``'s report.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

import dynacortex as dc
from dynacortex.experiments import get_protocol, open_recording, run_protocol
from dynacortex.experiments.metrics import compute_metrics, evoked


def main(tiny: bool = False, out_dir: "Path | None" = None) -> dict:
    dc.flush_denormals()  # long simulations decay through denormal floats: flush them (README, "Semantics")
    torch.manual_seed(0)
    out_dir = Path(out_dir or tempfile.mkdtemp(prefix="dynacortex-tutorial-"))
    channels = (4, 8, 8, 16) if tiny else (36, 64, 121, 256)
    common = dict(in_channels=1, channels=channels, dt=2.0, tau=5.0, t_feedforward=10.0, t_skip=20.0)
    models = {
        "model": dc.create_model("dyrcnnx4", **common, recurrence="full", recurrence_gain=0.9, t_recurrence=6.0,
                                 adaptation={"tau": 200.0, "strength": 0.5}, normalization={"tau": 80.0, "sigma": 0.1}),
        "twin": dc.create_model("dyrcnnx4", **common, recurrence="none"),
    }
    images = torch.randn(4 if tiny else 32, 1, 16, 16)

    # Every time is in ms and independent of dt; the protocol decides the frames.
    durations = [17, 67, 133] if tiny else [17, 33, 67, 133, 267, 533]
    duration = get_protocol("duration", durations_ms=durations, idle_ms=120, tail_ms=100)
    interval = get_protocol("interval", gaps_ms=[17, 133] if tiny else [17, 33, 67, 133, 267], pulse_ms=67,
                            idle_ms=120, tail_ms=100)
    metrics, recordings = {}, {}
    for label, model in models.items():
        recordings[label] = {}
        for proto in (duration, interval):  # each trial starts from the model's state settled on a blank screen
            path = run_protocol(model.eval(), proto, images, out_dir / label / f"{proto.name}.zarr", progress=not tiny)
            recordings[label][proto.name] = open_recording(path)  # xarray: response (condition, image, time_ms, area)
        metrics[label] = compute_metrics(recordings[label])
        it = metrics[label]["duration"]["IT"]
        print(f"{label}: onset latency per area (ms):", metrics[label]["latency_ms"])
        print(f"{label}: IT summation exponent (1 = linear, < 1 = sub-additive):", it["summation_exponent"])
        print(f"{label}: IT recovery ratio per gap:", dict(zip(metrics[label]["interval"]["IT"]["gaps_ms"],
                                                            metrics[label]["interval"]["IT"]["recovery_ratio"])))
    t, d = evoked(recordings["model"]["duration"])  # baseline-subtracted time courses (condition, T, area)
    return {"metrics": metrics["model"], "twin_metrics": metrics["twin"], "durations_ms": durations, "time_ms": t,
            "evoked": d, "areas": list(recordings["model"]["duration"].area.values), "out_dir": out_dir}


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--tiny"]
    main(tiny="--tiny" in sys.argv, out_dir=Path(args[0]) if args else None)
