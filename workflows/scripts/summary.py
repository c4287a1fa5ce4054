"""One figure comparing the variants of a sweep (used by the Snakefile's ``summary`` rule).

Per recurrence type (dots: seeds; bar: mean): test accuracy at the end of the trial, the leading
Jacobian eigenvalue at the fixed point (Re, 1/ms; < 0 is stable, closer to 0 is slower), and the
accuracy under the largest input noise, recurrent minus feedforward counterpart. Reads the files
that ``dynacortex train``, ``experiment report`` and ``analyze`` wrote; writes ``summary.png/.svg``
and ``summary.json``.

    python workflows/scripts/summary.py --out S --train T --experiments E --analysis A full-s0-1a2b3c4d=full ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dynacortex.figures import save_figure
from dynacortex.files import write_atomic

PANELS = {
    "test_accuracy": "test accuracy",
    "leading_eigenvalue_real_per_ms": "leading Re(lambda) at fixed point (1/ms)",
    "noise_advantage": "noise robustness at max sigma\n(recurrent - feedforward accuracy)",
}


def run_numbers(train: Path, analysis: Path) -> dict[str, float]:
    metrics = json.loads((train / "metrics.json").read_text())
    ana = json.loads((analysis / "analysis.json").read_text())
    noise = ana["noise_robustness"]
    return {"test_accuracy": metrics["test_accuracy"],
            "leading_eigenvalue_real_per_ms": max(fp["eigenvalues_real_per_ms"][0] for fp in ana["fixed_points"]),
            "noise_advantage": noise["recurrent"][-1] - noise["feedforward"][-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--train", type=Path, required=True)
    ap.add_argument("--experiments", type=Path, required=True)
    ap.add_argument("--analysis", type=Path, required=True)
    ap.add_argument("runs", nargs="+", help="RUN_FOLDER_NAME=VARIANT")
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_variant: dict[str, dict[str, list[float]]] = {}
    for item in args.runs:
        run, _, variant = item.partition("=")
        numbers = run_numbers(args.train / run, args.analysis / run)
        for key, value in numbers.items():
            per_variant.setdefault(variant, {}).setdefault(key, []).append(value)
    summary = {v: {k: {"mean": float(np.mean(x)), "values": x} for k, x in d.items()} for v, d in per_variant.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "summary.json", json.dumps(summary, indent=2))
    variants = list(per_variant)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.0 * len(PANELS), 3.4))
    for ax, (key, title) in zip(axes, PANELS.items()):
        means = [summary[v][key]["mean"] for v in variants]
        ax.bar(range(len(variants)), means, color="0.8")
        for i, v in enumerate(variants):
            ax.plot([i] * len(per_variant[v][key]), per_variant[v][key], "o", color="k", ms=4)
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.set_xticks(range(len(variants)), variants, rotation=30)
        ax.set_title(title, fontsize=9)
    axes[0].set_ylabel("value (dots: seeds)")
    fig.tight_layout()
    save_figure(fig, args.out / "summary.png")
    print(f"summary: {args.out / 'summary.png'}")


if __name__ == "__main__":
    main()
