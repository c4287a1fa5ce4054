#!/usr/bin/env python
"""Peak memory and time of DyRCNNx4 forward+backward, with and without gradient checkpointing over time.

Memory: each variant runs in its own process; the peak of glibc's live heap bytes (``mallinfo2``:
in-use arena bytes plus mmapped blocks, sampled every 0.5 ms by a thread) during one forward+backward
pass, minus the live bytes before it (weights, input, after a warm-up pass): the activation memory
of the pass, compared with ``dynacortex.estimate_memory`` (activations + transients + gradients). The
final carry is not kept (as in training without truncated BPTT).
Time: all variants interleaved pass by pass in one process (so machine noise hits them alike), median
of ``--repeats`` passes. Reference configuration: B16, T20, 3x32x32, full recurrence. A variant is
``every`` or ``every:dtype`` (boundary states kept in low precision, ``checkpoint_dtype``).

    python benchmarks/bench_memory.py --variants 1 2 4 1:bfloat16 2:bfloat16 --steps 20 100
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from dynacortex.files import write_atomic

ROOT = Path(__file__).resolve().parents[1]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _live_bytes() -> int:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    m = libc.mallinfo2()
    return m.uordblks + m.hblkhd


def _parse(variant: str) -> tuple[int | None, str | None]:
    every, _, dtype = variant.partition(":")
    return int(every) or None, dtype or None


def _setup(batch: int, steps: int, size: int):
    import torch

    import dynacortex as dc

    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4")
    x = torch.rand(batch, steps, 3, size, size)

    def pass_(variant: str) -> float:
        every, dtype = _parse(variant)
        model.zero_grad(set_to_none=True)
        t = time.perf_counter()
        logits = model.run(x, checkpoint_every=every, checkpoint_dtype=dtype)[0]  # the final carry is not kept
        logits.square().mean().backward()
        return time.perf_counter() - t

    return model, x, pass_


def peak_mb(fn) -> float:
    """MB of live heap above the level before ``fn()``, at its peak while ``fn`` runs."""
    base, peak, stop = _live_bytes(), [0], threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _live_bytes())
            time.sleep(0.0005)

    sampler = threading.Thread(target=poll)
    sampler.start()
    fn()
    stop.set()
    sampler.join()
    return (peak[0] - base) / 2**20


def measure_memory(variant: str, batch: int, steps: int, size: int) -> dict:
    import dynacortex as dc

    model, x, pass_ = _setup(batch, steps, size)
    pass_(variant)  # warm-up
    activation_mb = peak_mb(lambda: pass_(variant))
    every, dtype = _parse(variant)
    est = dc.estimate_memory(model, tuple(x.shape), checkpoint_every=every, checkpoint_dtype=dtype)
    return {"activation_mb": activation_mb, "estimate_mb": est["activations"] + est["transients"] + est["gradients"]}


def measure_times(variants: list[str], batch: int, steps: int, size: int, repeats: int) -> dict[str, float]:
    _, _, pass_ = _setup(batch, steps, size)
    times: dict[str, list[float]] = {v: [] for v in variants}
    for v in variants:
        pass_(v)  # warm-up
    for _ in range(repeats):
        for v in variants:
            times[v].append(pass_(v))
    return {v: statistics.median(t) for v, t in times.items()}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", nargs="+", default=["1", "2", "4", "5", "1:bfloat16", "2:bfloat16", "1:float16"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, nargs="+", default=[20])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--times", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "memory.json")
    args = ap.parse_args()
    if args.child is not None:
        steps = args.steps[0]
        if args.times:
            print(json.dumps(measure_times(args.child.split(","), args.batch, steps, args.size, args.repeats)))
        else:
            print(json.dumps(measure_memory(args.child, args.batch, steps, args.size)))
        return
    rows = []
    variants = ["0", *args.variants]
    for steps in args.steps:
        sizes = ["--batch", str(args.batch), "--steps", str(steps), "--size", str(args.size)]
        times = _child(["--child", ",".join(variants), "--times", "--repeats", str(args.repeats), *sizes])
        for v in variants:
            every, dtype = _parse(v)
            rows.append({"steps": steps, "every": every, "dtype": dtype, "time_s": times[v],
                         **_child(["--child", v, *sizes])})
    for r in rows:
        full = next(f for f in rows if f["steps"] == r["steps"] and f["every"] is None)
        r["memory_ratio"] = r["activation_mb"] / full["activation_mb"]
        r["time_ratio"] = r["time_s"] / full["time_s"]
        print(f"T={r['steps']:>4} checkpoint_every={str(r['every']):>4} {r['dtype'] or '':>8} | activations "
              f"{r['activation_mb']:7.1f} MB ({r['memory_ratio']:.2f}x) | time {r['time_s']:.2f} s ({r['time_ratio']:.2f}x) | "
              f"estimate_memory {r['estimate_mb']:.1f} MB ({r['estimate_mb'] / r['activation_mb']:.2f}x measured)", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.json, json.dumps({"config": vars(args) | {"json": str(args.json)}, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
