#!/usr/bin/env python
"""Forward+backward time of DyRCNNx4: dynacortex vs the bare floor loop vs DynVision 0.1.0, one run.

Reference configuration (the performance issue's): B16, T20, 3x32x32, dt 2, tau 5, t_feedforward 0,
t_recurrence 6, skip on, Euler. The timing core is ``dynacortex.benchmark.bench`` (also behind
``dynacortex bench``, which leaves DynVision out); this script adds DynVision. The three are
interleaved repeat by repeat so that machine noise hits them alike; medians are reported with ratios. DynVision runs in its own interpreter (default
``/tmp/anchor-venv/bin/python``, see ``shared/anchors/dynvision_bench.py`` for its install recipe)
and is skipped when absent.

    python benchmarks/bench_reference.py --recurrence full self depthpointwise --repeats 5
    python benchmarks/bench_reference.py --precision bf16 --json benchmarks/results/bf16.json

DynVision always runs in fp32 (the issue's goals compare bf16 autocast against DynVision's fp32);
``--nchw`` runs dynacortex and the floor in the plain NCHW memory order (the before of channels-last).
``--device cuda`` times dynacortex and the floor on the first GPU (the DynVision anchor runs on the
CPU only, so it is left out there).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from pathlib import Path

from dynacortex.benchmark import BenchConfig, bench
from dynacortex.files import write_atomic

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = ROOT.parent / "shared" / "anchors" / "dynvision_bench.py"
# DynVision 0.1.0 does not have these two types
DYNVISION_TYPES = {"full", "self", "depthpointwise", "pointdepthwise", "local", "localdepthwise", "none"}


def dynvision_ms(python, rctype, cfg):
    if rctype not in DYNVISION_TYPES:
        return None
    cmd = [python, str(ANCHOR), "--rctype", rctype, "--repeats", "2", "--warmup", "2",
           "--batch", str(cfg.batch), "--tsteps", str(cfg.steps), "--size", str(cfg.size),
           "--threads", str(cfg.threads)]
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
    ap.add_argument("--precision", choices=["32", "bf16"], default="32")
    ap.add_argument("--nchw", action="store_true", help="plain NCHW memory order instead of channels-last")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--dynvision-python", default=os.environ.get("DYNVISION_PYTHON", "/tmp/anchor-venv/bin/python"))
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "reference.json")
    args = ap.parse_args()
    cfg = BenchConfig(recurrence=args.recurrence, batch=args.batch, steps=args.steps, size=args.size,
                      repeats=args.repeats, threads=args.threads, precision=args.precision,
                      channels_last=not args.nchw, device=args.device)
    have_dv = Path(args.dynvision_python).exists() and ANCHOR.exists() and args.device == "cpu"
    others = {"dynvision": lambda rc: dynvision_ms(args.dynvision_python, rc, cfg)} if have_dv else {}
    result = bench(cfg, others)
    for row in result["rows"]:
        med = row["median_ms"]
        dv = f"{med['dynvision']:8.0f}" if "dynvision" in med else "     n/a"
        r_dv = f"{row['ratio_vs_dynvision']:.2f}" if "dynvision" in med else "n/a"
        print(f"{row['recurrence']:>15} | dynacortex {med['dynacortex']:7.0f} ms | floor {med['floor']:7.0f} ms | "
              f"dynvision {dv} ms | ours/floor {row['ratio_vs_floor']:.2f} | ours/dynvision {r_dv}", flush=True)
    result["config"]["dynvision_python"] = str(args.dynvision_python)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.json, json.dumps(result, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
