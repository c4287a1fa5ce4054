"""Turn a folder of recordings into ``metrics.json``, figures and ``report.html`` with a reading of each.

``write_experiment_report(DIR)`` reads every ``DIR/<protocol>.zarr`` and writes:
``metrics.json`` (the schema of :func:`.metrics.compute_metrics`), ``dynvision_metrics.json``,
``<protocol>_time_courses.png`` per recording, ``summation.png``, ``contrast_timing.png``,
``recovery.png``, ``latency.png``, ``memory.png`` (each also as SVG) and ``report.html``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..report import Table, write_report
from ..runs import write_atomic
from . import plots
from .dynvision_metrics import dynvision_metrics
from .metrics import baseline_drift, compute_metrics, evoked
from .protocols import list_protocols
from .store import open_recording

__all__ = ["load_recordings", "readings", "write_experiment_report"]


def load_recordings(folder: "str | Path") -> dict[str, Any]:
    """``{protocol: Dataset}`` for every ``<protocol>.zarr`` in ``folder`` (built-ins first, in order)."""
    folder = Path(folder)
    found = {p.name[:-5]: p for p in folder.glob("*.zarr") if not p.name.startswith(".")}
    if not found:
        raise FileNotFoundError(f"experiment: no recordings (*.zarr) in {folder}; run `dynacortex experiment run` first")
    order = [n for n in list_protocols() if n in found] + sorted(set(found) - set(list_protocols()))
    return {n: open_recording(found[n]) for n in order}


def _fmt(values: Sequence[Any], unit: str = "") -> str:
    return ", ".join("n/a" if v is None else f"{v:.3g}{unit}" for v in values)


def readings(metrics: dict[str, Any], chance: Optional[float] = None) -> list[str]:
    """One plain sentence per phenomenon: what was measured, and whether it looks like cortex."""
    out = []
    if "latency_ms" in metrics:
        lat = metrics["latency_ms"]
        vals = [v for v in lat.values() if v is not None]
        rising = len(vals) == len(lat) and all(a < b for a, b in zip(vals, vals[1:]))
        out.append(f"Latency ({' < '.join(lat) if rising else ', '.join(lat)}): {_fmt(lat.values(), ' ms')} - "
                   + ("rises along the hierarchy, as in cortex." if rising else "does not rise monotonically along the hierarchy."))
    if "duration" in metrics:
        ex = {a: v["summation_exponent"] for a, v in metrics["duration"].items()}
        kind = ["n/a" if n is None else "subadditive" if n < 0.95 else "superadditive" if n > 1.05 else "linear"
                for n in ex.values()]
        sub = all(k == "subadditive" for k in kind)
        out.append(f"Temporal summation exponents {_fmt(ex.values())} ({', '.join(f'{a}: {k}' for a, k in zip(ex, kind))})"
                   + (" - subadditive in every area, as in cortex (Groen et al. 2022)." if sub else
                      " - not subadditive everywhere; cortex sums subadditively."))
    if "contrast" in metrics:
        parts, earlier = [], []
        for a, v in metrics["contrast"].items():
            lo, hi = v["time_to_peak_ms"][0], v["time_to_peak_ms"][-1]
            parts.append(f"{a} {lo:.3g} -> {hi:.3g} ms")
            earlier.append(hi < lo - 1.0)  # by more than a millisecond
        out.append(f"Time to peak from lowest to highest contrast: {', '.join(parts)} - "
                   + ("earlier peaks at high contrast in every area, as in cortex." if all(earlier) else
                      f"earlier at high contrast in {sum(earlier)} of {len(earlier)} areas."))
    if "interval" in metrics:
        rising = []
        for a, v in metrics["interval"].items():
            r = [x for x in v["recovery_ratio"] if x is not None]
            rising.append(len(r) > 1 and r[-1] > r[0] + 0.05 and np.corrcoef(np.arange(len(r)), r)[0, 1] > 0.5)
        first = next(iter(metrics["interval"].values()))
        out.append("Recovery ratio per gap " + "; ".join(f"{a}: {_fmt(v['recovery_ratio'])}" for a, v in metrics["interval"].items())
                   + f" (gaps {_fmt(first['gaps_ms'], ' ms')}) - "
                   + ("recovery rises with the gap in every area, as in cortex." if all(rising) else
                      f"rises with the gap in {sum(rising)} of {len(rising)} areas."))
    if "adaptation" in metrics:
        ai = {a: v["adaptation_index"] for a, v in metrics["adaptation"].items()}
        adapts = [v is not None and v > 0.1 for v in ai.values()]
        out.append(f"Adaptation index (1 - sustained/peak) {_fmt(ai.values())} - "
                   + ("the response adapts during a long stimulus in every area." if all(adapts) else
                      f"clear adaptation (> 0.1) in {sum(adapts)} of {len(adapts)} areas; cortex adapts."))
    if "memory" in metrics:
        parts = []
        for a, v in metrics["memory"].items():
            acc = v["decoding_accuracy"]
            parts.append(f"{a} {acc[0]:.2f} at offset, {acc[-1]:.2f} after {v['time_after_offset_ms'][-1]:.0f} ms")
        out.append("Linear decoding of the image's class after it is gone: " + "; ".join(parts)
                   + (f" (chance {chance:.2f})." if chance is not None else "."))
    return out


def _summary_table(metrics: dict[str, Any]) -> Table:
    areas = list(next(iter(metrics.values())))
    header = ["area"]
    columns: list[list[Any]] = []

    def col(name: str, fn: Any, key: str) -> None:
        if key in metrics:
            header.append(name)
            columns.append([fn(metrics[key][a]) for a in areas])

    col("latency (ms)", lambda v: v, "latency_ms")
    col("summation exponent", lambda v: v["summation_exponent"], "duration")
    col("time to peak, low -> high contrast (ms)", lambda v: f"{v['time_to_peak_ms'][0]:.3g} -> {v['time_to_peak_ms'][-1]:.3g}",
        "contrast")
    col("recovery, shortest -> longest gap", lambda v: _fmt([v["recovery_ratio"][0], v["recovery_ratio"][-1]]).replace(", ", " -> "),
        "interval")
    col("adaptation index", lambda v: v["adaptation_index"], "adaptation")
    col("decoding at offset -> end", lambda v: _fmt([v["decoding_accuracy"][0], v["decoding_accuracy"][-1]]).replace(", ", " -> "),
        "memory")
    return "Per-area summary", header, [[a, *(c[i] for c in columns)] for i, a in enumerate(areas)]


def experiment_figures(recordings: dict[str, Any], metrics: dict[str, Any], folder: Path,
                       chance: Optional[float]) -> list[tuple[str, Path]]:
    """All figures for ``recordings`` / ``metrics`` written into ``folder``: ``[(caption, png)]``."""
    figs = []
    for name, ds in recordings.items():
        t, d = evoked(ds)
        conds = [str(c) for c in ds.condition.values]
        figs.append((f"{name}: evoked population response per area and condition (bars: stimulus on)",
                     plots.plot_time_courses(t, d, [str(a) for a in ds.area.values], conds, ds.contrast.values,
                                             f"{name} protocol", folder / f"{name}_time_courses.png", xlim=(-50, t[-1]))))
    if "latency_ms" in metrics:
        figs.append(("Onset latency per area", plots.plot_latency(metrics["latency_ms"], folder / "latency.png")))
    if "duration" in metrics:
        figs.append(("Summed response vs duration", plots.plot_summation(metrics["duration"], folder / "summation.png")))
    if "contrast" in metrics:
        figs.append(("Time to peak vs contrast", plots.plot_contrast_timing(metrics["contrast"], folder / "contrast_timing.png")))
    if "interval" in metrics:
        figs.append(("Recovery ratio vs gap", plots.plot_recovery(metrics["interval"], folder / "recovery.png")))
    if "memory" in metrics:
        figs.append(("Decoding accuracy after stimulus offset",
                     plots.plot_memory(metrics["memory"], chance if chance is not None else float("nan"), folder / "memory.png")))
    return figs


def write_experiment_report(folder: "str | Path", title: str = "dynacortex experiment",
                            notes: Sequence[str] = (), figures: Sequence[tuple[str, Path]] = (),
                            scalars: Optional[dict[str, Any]] = None) -> Path:
    """Compute metrics from ``folder``'s recordings and write the report there; return ``report.html``.
    ``notes``/``figures``/``scalars`` (e.g. from training) are placed before the experiment's own."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    recordings = load_recordings(folder)
    metrics = compute_metrics(recordings)
    write_atomic(folder / "metrics.json", json.dumps(metrics, indent=2))
    write_atomic(folder / "dynvision_metrics.json", json.dumps(dynvision_metrics(recordings), indent=2))
    chance = None
    if "memory" in recordings and "label" in recordings["memory"].coords:
        chance = 1.0 / len(np.unique(recordings["memory"].label.values))
    figs = [*figures, *experiment_figures(recordings, metrics, folder, chance)]
    tables = [_summary_table(metrics)] if metrics else []
    checks = []
    if "response" in recordings:
        drift = baseline_drift(recordings["response"])
        worst = max(drift, key=lambda a: np.nan_to_num(drift[a]))
        checks.append(f"Baseline check: the blank trial stays within {100 * drift[worst]:.2g}% of the evoked peak "
                      f"({worst})" + (" - settled." if drift[worst] < 0.05 else
                                      " - the model had not settled during the idle time; lengthen idle_ms."))
    return write_report(folder / "report.html", title, scalars or {}, figs,
                        [*notes, *readings(metrics, chance), *checks], tables)
