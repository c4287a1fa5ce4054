"""Temporal phenomena: run Groen et al. (2022)'s duration and interval protocols on a model and read
the summation, latency and recovery metrics.

    python docs/tutorials/temporal_phenomena.py [--tiny] [OUT_DIR]

A trained model shows the phenomena of human visual cortex; this tutorial uses a freshly built
(untrained, gain-limited) one so that it runs in seconds. For a trained one, load a checkpoint:
``dynacortex.training.load_model(path)`` or ``dynacortex experiment run --checkpoint CKPT``.
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
    model = dc.create_model("dyrcnnx4", in_channels=1, channels=channels, recurrence="full", recurrence_gain=0.9,
                            dt=2.0, tau=5.0, t_feedforward=10.0, t_recurrence=6.0).eval()
    images = torch.randn(4 if tiny else 32, 1, 16, 16)

    # Every time is in ms and independent of dt; the protocol decides the frames.
    durations = [17, 67, 133] if tiny else [17, 33, 67, 133, 267, 533]
    duration = get_protocol("duration", durations_ms=durations, idle_ms=120, tail_ms=100)
    interval = get_protocol("interval", gaps_ms=[17, 133] if tiny else [17, 33, 67, 133, 267], pulse_ms=67,
                            idle_ms=120, tail_ms=100)
    recordings = {}
    for proto in (duration, interval):
        path = run_protocol(model, proto, images, out_dir / f"{proto.name}.zarr", progress=not tiny)
        recordings[proto.name] = open_recording(path)  # xarray: response (condition, image, time_ms, area)

    metrics = compute_metrics(recordings)
    it = metrics["duration"]["IT"]
    print("onset latency per area (ms):", metrics["latency_ms"])
    print("summed IT response per duration:", dict(zip(it["durations_ms"], it["summed_response"])))
    print("IT summation exponent (1 = linear, < 1 = sub-additive):", it["summation_exponent"])
    print("IT recovery ratio per gap:", dict(zip(metrics["interval"]["IT"]["gaps_ms"],
                                                metrics["interval"]["IT"]["recovery_ratio"])))
    t, d = evoked(recordings["duration"])  # baseline-subtracted population time courses (condition, T, area)
    return {"metrics": metrics, "durations_ms": durations, "time_ms": t, "evoked": d,
            "areas": list(recordings["duration"].area.values), "out_dir": out_dir}


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--tiny"]
    main(tiny="--tiny" in sys.argv, out_dir=Path(args[0]) if args else None)
