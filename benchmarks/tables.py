#!/usr/bin/env python
"""The tables of ``docs/benchmarks.md``, made from ``benchmarks/results/*.json``.

Each table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->`` in the page; ``--write`` puts
the tables of the current results there (run it after a benchmark), and a test checks that the page
agrees with the results.

    python benchmarks/tables.py --write
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Callable

from dynacortex.files import write_atomic

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "benchmarks.md"


def _load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def _ms(v: "float | None") -> str:
    return "n/a" if v is None else f"{v:,.0f} ms"


def _ratio(v: "float | None") -> str:
    return "n/a" if v is None else f"{v:.2f}"


def speed(name: str) -> str:
    """dynacortex, the floor and DynVision per recurrence type (``reference.json``-like results)."""
    lines = ["| recurrence | dynacortex | floor | DynVision 0.1.0 (fp32) | ours / floor | ours / DynVision |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in _load(name)["rows"]:
        med = r["median_ms"]
        lines.append(f"| {r['recurrence']} | {_ms(med['dynacortex'])} | {_ms(med['floor'])} | "
                     f"{_ms(med.get('dynvision'))} | {_ratio(r['ratio_vs_floor'])} | {_ratio(r.get('ratio_vs_dynvision'))} |")
    return "\n".join(lines)


def memory() -> str:
    """Checkpointing over time: memory and time against the run without it (``memory.json``)."""
    lines = ["| T (steps) | `checkpoint_every` | `checkpoint_dtype` | activation memory | estimate | memory ratio | time ratio |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in _load("memory.json")["rows"]:
        lines.append(f"| {r['steps']} | {r['every'] or 'none'} | {r['dtype'] or 'float32'} | {r['activation_mb']:.1f} MB | "
                     f"{r['estimate_mb']:.1f} MB | {r['memory_ratio']:.2f} | {r['time_ratio']:.2f} |")
    return "\n".join(lines)


def matrix() -> str:
    """Every recurrence type x solver: time, time per right-hand-side evaluation vs Euler, memory (``matrix.json``)."""
    rows = _load("matrix.json")["rows"]
    solvers = list(dict.fromkeys(r["solver"] for r in rows))
    lines = ["| recurrence | " + " | ".join(solvers) + " | activation memory (" + " / ".join(solvers) + ") |",
             "| --- | " + " | ".join("---:" for _ in solvers) + " | ---: |"]
    for rc in dict.fromkeys(r["recurrence"] for r in rows):
        by = {r["solver"]: r for r in rows if r["recurrence"] == rc}
        cells = [f"{by[s]['median_ms']:,.0f} ms ({by[s].get('per_evaluation', float('nan')):.2f})" for s in solvers]
        mem = " / ".join(f"{by[s]['activation_mb']:.0f}" for s in solvers)
        lines.append(f"| {rc} | " + " | ".join(cells) + f" | {mem} MB |")
    return "\n".join(lines)


TABLES: dict[str, Callable[[], str]] = {
    "reference": lambda: speed("reference.json"),
    "reference_bf16": lambda: speed("reference_bf16.json"),
    "large": lambda: speed("large.json"),
    "memory": memory,
    "matrix": matrix,
}


def render(page: str) -> str:
    """``page`` with every marked table replaced by the one made from the current results."""
    def table(m: re.Match) -> str:
        return f"<!-- table:{m.group(1)} -->\n{TABLES[m.group(1)]()}\n<!-- /table -->"

    return re.sub(r"<!-- table:(\w+) -->\n.*?<!-- /table -->", table, page, flags=re.S)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help=f"update {PAGE.relative_to(ROOT)} in place")
    args = ap.parse_args()
    page = PAGE.read_text()
    new = render(page)
    if args.write:
        write_atomic(PAGE, new)
    else:
        print(new)


if __name__ == "__main__":
    main()
