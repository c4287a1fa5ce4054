"""Train the demo DyRCNNx4 once per recurrence type, run every experiment on each, put them side by side.

    python examples/compare_recurrence.py --out runs/recurrence --types full self none

Each type gets the packaged demo configuration (digits 16x16, 40 ms trials, energy term) with only
``model.recurrence`` changed, its own ``<out>/<type>/demo/report.html``, and the comparison lands in
``<out>/comparison.html`` (one summary number per phenomenon, area and type).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dynacortex.demo import run_demo
from dynacortex.experiments.compare import compare_experiments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/recurrence"))
    parser.add_argument("--types", nargs="+", default=["full", "self", "depthwise", "pointwise", "depthpointwise",
                                                       "local", "none"])
    args = parser.parse_args()
    folders = {}
    for kind in args.types:
        report = run_demo(args.out / kind, [f"model.recurrence={kind}", "trainer.progress_bar=false"])
        folders[kind] = report.parent
        print(f"{kind}: {report}", flush=True)
    print(f"comparison: {compare_experiments(folders, args.out)}")


if __name__ == "__main__":
    main()
