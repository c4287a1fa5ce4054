#!/usr/bin/env python
"""Peak memory and time of DyRCNNx4 forward+backward, with and without gradient checkpointing over time.

Each variant runs in its own process. Memory is the peak of glibc's live heap bytes (``mallinfo2``:
in-use arena bytes plus mmapped blocks, sampled every 0.5 ms by a thread) during one forward+backward
pass, minus the live bytes before it (weights, input, after a warm-up pass): the activation memory
of the pass, compared with ``dynacortex.estimate_memory`` (activations + transients + gradients).
Time is the median of 3 passes. Reference configuration: B16, T20, 3x32x32, full
recurrence.

    python benchmarks/bench_memory.py --every 2 4 5
"""

from __future__ import annotations

import argparse
import ctypes
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _live_bytes() -> int:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    m = libc.mallinfo2()
    return m.uordblks + m.hblkhd


def measure(every: int | None, batch: int, steps: int, size: int) -> dict:
    import torch

    import dynacortex as dc

    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4")
    x = torch.rand(batch, steps, 3, size, size)

    def pass_() -> float:
        model.zero_grad(set_to_none=True)
        t = time.perf_counter()
        logits, _ = model.run(x, checkpoint_every=every)
        logits.square().mean().backward()
        return time.perf_counter() - t

    pass_()  # warm-up
    base, peak, stop = _live_bytes(), [0], threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _live_bytes())
            time.sleep(0.0005)

    sampler = threading.Thread(target=poll)
    sampler.start()
    first = pass_()
    stop.set()
    sampler.join()
    times = sorted([first, pass_(), pass_()])
    est = dc.estimate_memory(model, tuple(x.shape), checkpoint_every=every)
    return {"every": every, "activation_mb": (peak[0] - base) / 2**20, "time_s": times[1],
            "estimate_mb": est["activations"] + est["transients"] + est["gradients"]}


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
        rows.append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))
    full = rows[0]
    for r in rows:
        r["memory_ratio"] = r["activation_mb"] / full["activation_mb"]
        r["time_ratio"] = r["time_s"] / full["time_s"]
        print(f"checkpoint_every={str(r['every']):>4} | activations {r['activation_mb']:7.1f} MB "
              f"({r['memory_ratio']:.2f}x) | time {r['time_s']:.2f} s ({r['time_ratio']:.2f}x) | "
              f"estimate_memory {r['estimate_mb']:.1f} MB ({r['estimate_mb'] / r['activation_mb']:.2f}x measured)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps({"config": vars(args) | {"json": str(args.json)}, "rows": rows}, indent=2))
    tmp.replace(args.json)


if __name__ == "__main__":
    main()
