#!/usr/bin/env python
"""Forward+backward time of DyRCNNx4: dynacortex vs the bare floor loop vs DynVision 0.1.0, one run.

Reference configuration (the performance issue's): B16, T20, 3x32x32, dt 2, tau 5, t_feedforward 0,
t_recurrence 6, skip on, Euler. The three are interleaved repeat by repeat so that machine noise hits
them alike; medians are reported with ratios. DynVision runs in its own interpreter (default
``/tmp/anchor-venv/bin/python``, see ``shared/anchors/dynvision_bench.py`` for its install recipe)
and is skipped when absent.

    python benchmarks/bench_reference.py --recurrence full self depthpointwise --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from floor import floor_forward  # noqa: E402

import dynacortex as dc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = ROOT.parent / "shared" / "anchors" / "dynvision_bench.py"
# DynVision 0.1.0 does not have these two types
DYNVISION_TYPES = {"full", "self", "depthpointwise", "pointdepthwise", "local", "localdepthwise", "none"}


def time_fwd_bwd(forward, params, y, k):
    for p in params:
        p.grad = None
    t = time.perf_counter()
    out = forward()
    F.cross_entropy(out.reshape(-1, k), y.reshape(-1)).backward()
    return (time.perf_counter() - t) * 1e3


def dynvision_ms(python, rctype, args):
    cmd = [python, str(ANCHOR), "--rctype", rctype, "--repeats", "2", "--warmup", "2",
           "--batch", str(args.batch), "--tsteps", str(args.steps), "--size", str(args.size),
           "--threads", str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800).stdout
    m = re.search(r"fwd\+bwd median\s+([\d.]+) ms", out)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recurrence", nargs="+", default=["full"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dynvision-python", default=os.environ.get("DYNVISION_PYTHON", "/tmp/anchor-venv/bin/python"))
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "reference.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    have_dv = Path(args.dynvision_python).exists() and ANCHOR.exists()
    x = torch.rand(args.batch, args.steps, 3, args.size, args.size)
    y = torch.randint(0, 10, (args.batch, args.steps))
    rows = []
    for rc in args.recurrence:
        torch.manual_seed(0)
        model = dc.create_model("dyrcnnx4", recurrence=rc)
        params = list(model.parameters())
        runs = {"dynacortex": lambda: model(x), "floor": lambda: floor_forward(model, x)}
        times: dict[str, list[float]] = {name: [] for name in runs}
        times["dynvision"] = []
        for name, fwd in runs.items():  # warm-up
            time_fwd_bwd(fwd, params, y, 10)
        for _ in range(args.repeats):
            for name, fwd in runs.items():
                times[name].append(time_fwd_bwd(fwd, params, y, 10))
            if have_dv and rc in DYNVISION_TYPES:
                ms = dynvision_ms(args.dynvision_python, rc, args)
                if ms is not None:
                    times["dynvision"].append(ms)
        med = {k: statistics.median(v) for k, v in times.items() if v}
        row = {"recurrence": rc, "median_ms": med, "all_ms": times,
               "ratio_vs_floor": med["dynacortex"] / med["floor"]}
        if "dynvision" in med:
            row["ratio_vs_dynvision"] = med["dynacortex"] / med["dynvision"]
            row["floor_vs_dynvision"] = med["floor"] / med["dynvision"]
        rows.append(row)
        dv = f"{med['dynvision']:8.0f}" if "dynvision" in med else "     n/a"
        r_dv = f"{row['ratio_vs_dynvision']:.2f}" if "dynvision" in med else "n/a"
        print(f"{rc:>15} | dynacortex {med['dynacortex']:7.0f} ms | floor {med['floor']:7.0f} ms | "
              f"dynvision {dv} ms | ours/floor {row['ratio_vs_floor']:.2f} | ours/dynvision {r_dv}", flush=True)
    result = {
        "config": {k: v for k, v in vars(args).items() if k not in ("json",)} | {"dt": 2.0, "tau": 5.0,
                   "t_feedforward": 0.0, "t_recurrence": 6.0, "skip": True, "solver": "euler"},
        "machine": {"platform": platform.platform(), "torch": torch.__version__, "cpus": os.cpu_count()},
        "rows": rows,
    }
    result["config"]["dynvision_python"] = str(args.dynvision_python)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(args.json)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
