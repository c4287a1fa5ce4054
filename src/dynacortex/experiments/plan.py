"""What an experiment will simulate, and about how long it will take, before it starts.

    rows = plan(model, protocols, n_images=100, batch_size=64)
    seconds = estimate_seconds(model, rows, image_shape=(1, 16, 16))
    print(describe_plan(rows, seconds))

Per protocol: its conditions, the trials (conditions x images), the steps of one trial at the model's
dt and the simulations :func:`~.runner.run_protocol` runs (batches of images, all conditions
together). The estimate times a few steps of each simulation size on this machine (after a few
untimed ones) and scales by the steps to run; it leaves out writing the stores, which is small.
"""

from __future__ import annotations

import math
import time
from typing import Any, Sequence

import torch

from .protocols import Protocol

__all__ = ["plan", "estimate_seconds", "describe_plan"]


def plan(model: Any, protocols: Sequence[Protocol], n_images: int, batch_size: int) -> list[dict[str, int | str]]:
    """One row per protocol: ``name, conditions, images, trials, steps, simulations, size`` (trials per simulation)."""
    rows = []
    for p in protocols:
        n_cond = len(p.conditions)
        per_batch = max(1, batch_size // n_cond)
        rows.append({"name": p.name, "conditions": n_cond, "images": n_images, "trials": n_cond * n_images,
                     "steps": p.timeline(model.dt).n_steps, "simulations": math.ceil(n_images / per_batch),
                     "size": n_cond * min(per_batch, n_images)})
    return rows


def estimate_seconds(model: Any, rows: list[dict[str, Any]], image_shape: tuple[int, ...], probe_steps: int = 4,
                     warmup_steps: int = 10) -> float:
    """Seconds the rows will take on this machine, from ``probe_steps`` timed steps per simulation size
    (after ``warmup_steps`` untimed ones, so that delayed inputs have arrived as in a real trial)."""
    p = next(model.parameters())
    per_step: dict[int, float] = {}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for size in sorted({int(r["size"]) for r in rows}):
                x = torch.zeros(size, *image_shape, device=p.device, dtype=p.dtype)
                _, carry = model.run(x, n_steps=warmup_steps)
                start = time.perf_counter()
                model.run(x, n_steps=probe_steps, carry=carry)
                per_step[size] = (time.perf_counter() - start) / probe_steps
    finally:
        model.train(was_training)
    return sum(r["simulations"] * r["steps"] * per_step[int(r["size"])] for r in rows)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def describe_plan(rows: list[dict[str, Any]], seconds: float) -> str:
    """The plan as text, one line per protocol, and the estimated total time."""
    lines = [f"  {r['name']}: {_n(r['conditions'], 'condition')} x {_n(r['images'], 'image')} = "
             f"{_n(r['trials'], 'trial')} of {r['steps']} steps ({_n(r['simulations'], 'simulation')} of up to "
             f"{r['size']} trials)" for r in rows]
    total = sum(r["trials"] * r["steps"] for r in rows)
    return "\n".join(["planned:", *lines, f"  {total:,} trial-steps; estimated time on this machine: about "
                      f"{_duration(seconds)} (lower --per-class or pick --protocol for less)"])
