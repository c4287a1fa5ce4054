"""The phenomena a report reads off ``metrics.json``: per phenomenon one sentence stating the measured values,
one column of the per-area summary table and, where there is one, a figure. Whether a value is cortex-like is
judged against human numbers by :mod:`.readings` (on Groen et al.'s definitions), not here.

Each entry of :data:`PHENOMENA` handles one key of :func:`.metrics.compute_metrics`' schema; a report
walks the entries whose key is present, so adding a phenomenon is adding one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence


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
    parts = [f"{a} {fmt([v], ' ms')}" for a, v in lat.items()]
    return f"Onset latency (20 % of peak) per area: {', '.join(parts)}."


def _summation(duration: dict[str, Any], chance: Optional[float]) -> str:
    ex = {a: v["summation_exponent"] for a, v in duration.items()}
    return ("Summation exponent (slope of log summed response on log duration; 1 is linear): "
            + ", ".join(f"{a} {fmt([n])}" for a, n in ex.items()) + ".")


def _contrast(contrast: dict[str, Any], chance: Optional[float]) -> str:
    parts = [f"{a} {fmt([v['time_to_peak_ms'][0]])} -> {fmt([v['time_to_peak_ms'][-1]], ' ms')}" for a, v in contrast.items()]
    return f"Time to peak (argmax after onset) from the lowest to the highest contrast: {', '.join(parts)}."


def _recovery(interval: dict[str, Any], chance: Optional[float]) -> str:
    gaps = next(iter(interval.values()))["gaps_ms"]
    return (f"Recovery ratio per gap ({fmt(gaps, ' ms')}): "
            + "; ".join(f"{a}: {fmt(v['recovery_ratio'])}" for a, v in interval.items()) + ".")


def _adaptation(adaptation: dict[str, Any], chance: Optional[float]) -> str:
    return ("Adaptation index (1 - sustained/peak) during the 1000 ms stimulus: "
            + ", ".join(f"{a} {fmt([v['adaptation_index']])}" for a, v in adaptation.items()) + ".")


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
