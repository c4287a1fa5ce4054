"""Side-by-side comparison of several experiments (e.g. one model per recurrence type).

``compare_experiments({"full": "runs/full", "self": "runs/self"}, "runs/compare")`` reads each
folder's ``metrics.json`` and writes ``comparison.json`` (one row per model and area),
``comparison.png`` (each phenomenon's summary number per area, one line per model) and
``comparison.html``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..report import write_report
from ..files import write_atomic
from .metrics import json_safe
from ..figures import save_figure

__all__ = ["summary_numbers", "compare_experiments"]

# summary number per phenomenon and its cortex-like direction
COLUMNS = {
    "latency_ms": "onset latency (ms)",
    "summation_exponent": "summation exponent (< 1 subadditive)",
    "contrast_ttp_shift_ms": "time to peak, high - low contrast (ms; < 0 cortex-like)",
    "recovery_gain": "recovery, longest - shortest gap (> 0 cortex-like)",
    "adaptation_index": "adaptation index (> 0 cortex-like)",
    "memory_accuracy_100ms": "decoding accuracy 100 ms after offset",
}


def summary_numbers(metrics: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{area: {column: value}}``: one number per phenomenon from a ``metrics.json`` dictionary."""
    areas = list(next(iter(metrics.values())))
    out: dict[str, dict[str, Any]] = {a: {} for a in areas}
    for a in areas:
        row = out[a]
        if "latency_ms" in metrics:
            row["latency_ms"] = metrics["latency_ms"][a]
        if "duration" in metrics:
            row["summation_exponent"] = metrics["duration"][a]["summation_exponent"]
        if "contrast" in metrics:
            ttp = metrics["contrast"][a]["time_to_peak_ms"]
            row["contrast_ttp_shift_ms"] = ttp[-1] - ttp[0]
        if "interval" in metrics:
            r = metrics["interval"][a]["recovery_ratio"]
            row["recovery_gain"] = None if None in (r[0], r[-1]) else r[-1] - r[0]
        if "adaptation" in metrics:
            row["adaptation_index"] = metrics["adaptation"][a]["adaptation_index"]
        if "memory" in metrics:
            m = metrics["memory"][a]
            k = int(np.argmin(np.abs(np.array(m["time_after_offset_ms"]) - 100.0)))
            row["memory_accuracy_100ms"] = m["decoding_accuracy"][k]
    return out


def compare_experiments(folders: Mapping[str, "str | Path"], out: "str | Path") -> Path:
    """Compare the experiments in ``folders`` (label -> folder with ``metrics.json``); return the HTML path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    numbers = {}
    for label, folder in folders.items():
        path = Path(folder) / "metrics.json"
        if not path.is_file():
            raise FileNotFoundError(f"compare: {path} does not exist; run `dynacortex experiment report {folder}` first")
        numbers[label] = summary_numbers(json.loads(path.read_text()))
    write_atomic(out / "comparison.json", json.dumps(json_safe(numbers), indent=2))
    cols = [c for c in COLUMNS if any(c in row for rows in numbers.values() for row in rows.values())]
    areas = list(next(iter(numbers.values())))
    ncols = min(3, len(cols))  # at most 3 panels a row: readable titles
    nrows = -(-len(cols) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax in axes.flat[len(cols):]:
        ax.axis("off")
    for ax, col in zip(axes.flat, cols):
        for i, (label, rows) in enumerate(numbers.items()):
            ax.plot(areas, [np.nan if rows[a].get(col) is None else rows[a][col] for a in areas], "o-",
                    color=f"C{i}", label=label)
        ax.set_title(COLUMNS[col], fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    png = save_figure(fig, out / "comparison.png")
    header = ["model", "area", *(COLUMNS[c] for c in cols)]
    rows = [[label, a, *(numbers[label][a].get(c) for c in cols)] for label in numbers for a in areas]
    return write_report(out / "comparison.html", "dynacortex: experiments side by side", {},
                        [("Summary numbers per area and model", png)], tables=[("Side by side", header, rows)])
