"""The phenomena a report reads off ``metrics.json``: per phenomenon one sentence (is it cortex-like?),
one column of the per-area summary table and, where there is one, a figure.

Each entry of :data:`PHENOMENA` handles one key of :func:`.metrics.compute_metrics`' schema; a report
walks the entries whose key is present, so adding a phenomenon is adding one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from . import plots

__all__ = ["Phenomenon", "PHENOMENA", "fmt"]


def fmt(values: Sequence[Any], unit: str = "") -> str:
    return ", ".join("n/a" if v is None else f"{v:.3g}{unit}" for v in values)


def _arrow(first: Any, last: Any) -> str:
    return fmt([first, last]).replace(", ", " -> ")


@dataclass(frozen=True)
class Phenomenon:
    key: str  # the metrics.json key
    column: str  # per-area summary-table header
    cell: Callable[[Any], Any]  # one area's metrics -> table cell
    reading: Callable[[dict[str, Any], Optional[float]], str]  # (metrics[key], chance) -> sentence
    figure: Optional[tuple[str, str, Callable[[dict[str, Any], Path, Optional[float]], Path]]] = None  # caption, file, plot


def _latency(lat: dict[str, Any], chance: Optional[float]) -> str:
    vals = [v for v in lat.values() if v is not None]
    rising = len(vals) == len(lat) and all(a < b for a, b in zip(vals, vals[1:]))
    return (f"Latency ({' < '.join(lat) if rising else ', '.join(lat)}): {fmt(lat.values(), ' ms')} - "
            + ("rises along the hierarchy, as in cortex." if rising else "does not rise monotonically along the hierarchy."))


def _summation(duration: dict[str, Any], chance: Optional[float]) -> str:
    ex = {a: v["summation_exponent"] for a, v in duration.items()}
    kind = ["n/a" if n is None else "subadditive" if n < 0.95 else "superadditive" if n > 1.05 else "linear"
            for n in ex.values()]
    return (f"Temporal summation exponents {fmt(ex.values())} ({', '.join(f'{a}: {k}' for a, k in zip(ex, kind))})"
            + (" - subadditive in every area, as in cortex (Groen et al. 2022)." if all(k == "subadditive" for k in kind)
               else " - not subadditive everywhere; cortex sums subadditively."))


def _contrast(contrast: dict[str, Any], chance: Optional[float]) -> str:
    parts, earlier = [], []
    for a, v in contrast.items():
        lo, hi = v["time_to_peak_ms"][0], v["time_to_peak_ms"][-1]
        parts.append(f"{a} {lo:.3g} -> {hi:.3g} ms")
        earlier.append(hi < lo - 1.0)  # by more than a millisecond
    return (f"Time to peak from lowest to highest contrast: {', '.join(parts)} - "
            + ("earlier peaks at high contrast in every area, as in cortex." if all(earlier) else
               f"earlier at high contrast in {sum(earlier)} of {len(earlier)} areas."))


def _recovery(interval: dict[str, Any], chance: Optional[float]) -> str:
    rising = []
    for v in interval.values():
        r = [x for x in v["recovery_ratio"] if x is not None]
        rising.append(len(r) > 1 and r[-1] > r[0] + 0.05 and np.corrcoef(np.arange(len(r)), r)[0, 1] > 0.5)
    gaps = next(iter(interval.values()))["gaps_ms"]
    return ("Recovery ratio per gap " + "; ".join(f"{a}: {fmt(v['recovery_ratio'])}" for a, v in interval.items())
            + f" (gaps {fmt(gaps, ' ms')}) - "
            + ("recovery rises with the gap in every area, as in cortex." if all(rising) else
               f"rises with the gap in {sum(rising)} of {len(rising)} areas."))


def _adaptation(adaptation: dict[str, Any], chance: Optional[float]) -> str:
    ai = [v["adaptation_index"] for v in adaptation.values()]
    adapts = [v is not None and v > 0.1 for v in ai]
    return (f"Adaptation index (1 - sustained/peak) {fmt(ai)} - "
            + ("the response adapts during a long stimulus in every area." if all(adapts) else
               f"clear adaptation (> 0.1) in {sum(adapts)} of {len(adapts)} areas; cortex adapts."))


def _memory(memory: dict[str, Any], chance: Optional[float]) -> str:
    parts = [f"{a} {v['decoding_accuracy'][0]:.2f} at offset, {v['decoding_accuracy'][-1]:.2f} after "
             f"{v['time_after_offset_ms'][-1]:.0f} ms" for a, v in memory.items()]
    return ("Linear decoding of the image's class after it is gone: " + "; ".join(parts)
            + (f" (chance {chance:.2f})." if chance is not None else "."))


PHENOMENA: tuple[Phenomenon, ...] = (
    Phenomenon("latency_ms", "latency (ms)", lambda v: v, _latency,
               ("Onset latency per area", "latency.png", lambda m, p, c: plots.plot_latency(m, p))),
    Phenomenon("duration", "summation exponent", lambda v: v["summation_exponent"], _summation,
               ("Summed response vs duration", "summation.png", lambda m, p, c: plots.plot_summation(m, p))),
    Phenomenon("contrast", "time to peak, low -> high contrast (ms)",
               lambda v: f"{v['time_to_peak_ms'][0]:.3g} -> {v['time_to_peak_ms'][-1]:.3g}", _contrast,
               ("Time to peak vs contrast", "contrast_timing.png", lambda m, p, c: plots.plot_contrast_timing(m, p))),
    Phenomenon("interval", "recovery, shortest -> longest gap",
               lambda v: _arrow(v["recovery_ratio"][0], v["recovery_ratio"][-1]), _recovery,
               ("Recovery ratio vs gap", "recovery.png", lambda m, p, c: plots.plot_recovery(m, p))),
    Phenomenon("adaptation", "adaptation index", lambda v: v["adaptation_index"], _adaptation),
    Phenomenon("memory", "decoding at offset -> end",
               lambda v: _arrow(v["decoding_accuracy"][0], v["decoding_accuracy"][-1]), _memory,
               ("Decoding accuracy after stimulus offset", "memory.png",
                lambda m, p, c: plots.plot_memory(m, c if c is not None else float("nan"), p))),
)
