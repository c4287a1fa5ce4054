#!/usr/bin/env python
"""Peak memory and time of DyRCNNx4 forward+backward, with and without gradient checkpointing over time.

Each variant runs in its own process (peak resident memory is per process) with glibc's mmap
threshold fixed (``MALLOC_MMAP_THRESHOLD_``), so freed tensors go back to the OS and the peak resident
size follows the live tensors. The baseline (weights, input, a warm-up pass) is measured before the
timed passes and subtracted: the numbers are the activation memory of a forward+backward pass.
Time is the median of 3 passes. Reference configuration: B16, T20, 3x32x32, full recurrence.

    python benchmarks/bench_memory.py --every 2 4 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(every: int | None, batch: int, steps: int, size: int) -> dict:
    import torch

    import dynacortex as dc

    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4")
    x = torch.rand(batch, steps, 3, size, size)
    model(x[:1, :2]).sum().backward()  # warm-up allocations outside the measured pass
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(3):
        model.zero_grad(set_to_none=True)
        t = time.perf_counter()
        logits, _ = model.run(x, checkpoint_every=every)
        logits.square().mean().backward()
        times.append(time.perf_counter() - t)
        del logits
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"every": every, "activation_mb": (peak - base) / 1024, "time_s": sorted(times)[1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, nargs="+", default=[2, 4, 5])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "memory.json")
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child or None, args.batch, args.steps, args.size)))
        return
    rows = []
    for every in [0, *args.every]:
        cmd = [sys.executable, __file__, "--child", str(every), "--batch", str(args.batch),
               "--steps", str(args.steps), "--size", str(args.size)]
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
        rows.append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout))
    full = rows[0]
    for r in rows:
        r["memory_ratio"] = r["activation_mb"] / full["activation_mb"]
        r["time_ratio"] = r["time_s"] / full["time_s"]
        print(f"checkpoint_every={str(r['every']):>4} | activations {r['activation_mb']:7.1f} MB "
              f"({r['memory_ratio']:.2f}x) | time {r['time_s']:.2f} s ({r['time_ratio']:.2f}x)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps({"config": vars(args) | {"json": str(args.json)}, "rows": rows}, indent=2))
    tmp.replace(args.json)


if __name__ == "__main__":
    main()
