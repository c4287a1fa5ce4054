"""Figures of an experiment (matplotlib; each saved as PNG and SVG, atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..figures import save_figure

__all__ = ["plot_time_courses", "plot_summation", "plot_contrast_timing", "plot_recovery",
           "plot_latency", "plot_memory", "plot_overlay", "plot_cortex_metrics"]


def _log_ticks(ax: Any, values: Any) -> None:
    """Log x axis labelled at the protocol's own values."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ax.set_xticks(list(values))
    ax.set_xticklabels([f"{v:g}" for v in values], fontsize=7)
    ax.xaxis.set_minor_formatter(NullFormatter())


def _panels(n: int, width: float = 3.6, height: float = 3.0, sharey: bool = False) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False, sharey=sharey)
    return fig, axes[0]


def plot_time_courses(t: np.ndarray, d: np.ndarray, areas: list[str], conditions: list[str], contrast: np.ndarray,
                      title: str, path: Path, xlim: Optional[tuple[float, float]] = None,
                      ylabel: str = "evoked population rate (a.u.)") -> Path:
    """Evoked response (image mean minus baseline) per area (panel) and condition (line); the stimulus
    of each condition is drawn as a bar under the axis."""
    fig, axes = _panels(len(areas))
    colors = [f"C{i % 10}" for i in range(len(conditions))]
    for k, (ax, area) in enumerate(zip(axes, areas)):
        for i, cond in enumerate(conditions):
            ax.plot(t, d[i, :, k], color=colors[i], lw=1.2, label=cond)
        lo = min(0.0, float(d[..., k].min()))
        span = float(d[..., k].max()) - lo or 1.0
        for i in range(len(conditions)):
            on = contrast[i] > 0
            y = lo - span * (0.04 + 0.03 * i)
            ax.fill_between(t, y, y + span * 0.02, where=on, color=colors[i], step="pre", lw=0)
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_title(area)
        ax.set_xlabel("time from onset (ms)")
        if xlim:
            ax.set_xlim(*xlim)
    axes[0].set_ylabel(ylabel)
    axes[-1].legend(fontsize=7, loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_summation(metrics: dict[str, Any], path: Path) -> Path:
    """Summed response against duration (log-log) per area, with the fitted exponent and slope 1."""
    fig, axes = _panels(1, width=4.6, height=3.6)
    ax = axes[0]
    for i, (area, v) in enumerate(metrics.items()):
        x, y = np.array(v["durations_ms"]), np.array([np.nan if s is None else s for s in v["summed_response"]])
        ok = y > 0
        if not ok.any():
            continue
        n = v["summation_exponent"]
        ax.plot(x[ok], y[ok] / y[ok][-1], "o-", color=f"C{i}", label=f"{area}: n = {'n/a' if n is None else f'{n:.3f}'}")
    ref = np.array([min(v["durations_ms"]) for v in metrics.values()] + [max(v["durations_ms"]) for v in metrics.values()])
    xs = np.array([ref.min(), ref.max()])
    ax.plot(xs, xs / xs[-1], "k--", lw=0.8, label="linear (n = 1)")
    _log_ticks(ax, next(iter(metrics.values()))["durations_ms"])
    ax.set_yscale("log")
    ax.set_xlabel("stimulus duration (ms)")
    ax.set_ylabel("summed response (norm. to longest)")
    ax.legend(fontsize=7)
    ax.set_title("Temporal summation")
    fig.tight_layout()
    return save_figure(fig, path)


def _lines(metrics: dict[str, Any], xkey: str, ykey: str, xlabel: str, ylabel: str, title: str, path: Path,
           logx: bool = False, hline: Optional[float] = None) -> Path:
    fig, axes = _panels(1, width=4.6, height=3.6)
    ax = axes[0]
    for i, (area, v) in enumerate(metrics.items()):
        y = [np.nan if s is None else s for s in v[ykey]]
        ax.plot(v[xkey], y, "o-", color=f"C{i}", label=area)
    if hline is not None:
        ax.axhline(hline, color="0.5", ls="--", lw=0.8)
        lo, hi = ax.get_ylim()
        ax.set_ylim(min(lo, hline - 0.05 * abs(hline)), max(hi, hline + 0.05 * abs(hline)))  # show the reference level
    ax.ticklabel_format(axis="y", useOffset=False)
    if logx:
        _log_ticks(ax, next(iter(metrics.values()))[xkey])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_contrast_timing(metrics: dict[str, Any], path: Path) -> Path:
    return _lines(metrics, "contrasts", "time_to_peak_ms", "contrast", "time to peak (ms)",
                  "Time to peak vs contrast", path, logx=True)


def plot_recovery(metrics: dict[str, Any], path: Path) -> Path:
    return _lines(metrics, "gaps_ms", "recovery_ratio", "gap between pulses (ms)", "recovery ratio (2nd / 1st peak)",
                  "Recovery from adaptation", path, logx=True, hline=1.0)


def plot_memory(metrics: dict[str, Any], chance: float, path: Path) -> Path:
    return _lines(metrics, "time_after_offset_ms", "decoding_accuracy", "time after stimulus offset (ms)",
                  "decoding accuracy", "Short-term memory (linear decoding)", path, hline=chance)


def plot_latency(latency: dict[str, Any], path: Path) -> Path:
    fig, axes = _panels(1, width=4.0, height=3.4)
    ax = axes[0]
    areas = list(latency)
    ax.plot(areas, [np.nan if v is None else v for v in latency.values()], "o-", color="k")
    ax.set_xlabel("area")
    ax.set_ylabel("onset latency (ms)")
    ax.set_title("Latency along the hierarchy")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_overlay(t: np.ndarray, rows: list[tuple[str, dict[str, np.ndarray]]], areas: list[str], path: Path,
                 stimulus: Optional[list[np.ndarray]] = None) -> Path:
    """Time courses of several models overlaid: one row per condition (``rows = [(title, {model: d (T, area)})]``),
    one column per area; each curve divided by its model's peak over all rows of that area."""
    import matplotlib.pyplot as plt

    models = list(rows[0][1])
    peak = {m: np.nanmax(np.abs(np.stack([r[1][m] for r in rows])), axis=(0, 1)) for m in models}
    fig, axes = plt.subplots(len(rows), len(areas), figsize=(2.6 * len(areas), 1.9 * len(rows)), squeeze=False,
                             sharex=True, sharey=True)
    styles = {m: s for m, s in zip(models, ["-", "--", ":", "-."])}
    for i, (title, curves) in enumerate(rows):
        for k, area in enumerate(areas):
            ax = axes[i][k]
            for j, m in enumerate(models):
                scale = peak[m][k] if peak[m][k] > 0 else 1.0
                ax.plot(t, curves[m][:, k] / scale, styles[m], color=f"C{j}", lw=1.2, label=m)
            if stimulus is not None:
                ax.fill_between(t, -0.12, -0.06, where=stimulus[i] > 0, color="0.4", step="pre", lw=0)
            ax.axhline(0, color="0.7", lw=0.5)
            if i == 0:
                ax.set_title(area, fontsize=9)
            if k == 0:
                ax.set_ylabel(title, fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("time from onset (ms)", fontsize=8)
    axes[0][-1].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_cortex_metrics(table: dict[str, list[Any]], labels: dict[str, str], path: Path) -> Path:
    """One panel per metric: the model (mean +- SD), its twin and the DN model per area, with the human range
    (shaded; hatched for a target)."""
    import matplotlib.pyplot as plt

    metrics = list(table)
    cols = 4
    nrows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 2.8 * nrows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        vs = table[metric]
        x = np.arange(len(vs))
        for k, v in enumerate(vs):
            rng = None if v.ref is None else v.ref.get("range")
            if rng is not None:
                ax.fill_between([k - 0.35, k + 0.35], *(min(r, 1e4) for r in rng), color="0.85",
                                hatch="//" if v.target else None, lw=0)
        def val(a: Any) -> float:
            return np.nan if a is None else a
        ax.errorbar(x, [val(v.value) for v in vs], yerr=[val(v.sd) if v.sd else 0 for v in vs], fmt="o-", color="C0",
                    label="model", capsize=3)
        ax.plot(x, [val(v.twin) for v in vs], "s--", color="C1", label="twin")
        ax.plot(x, [val(v.dn) for v in vs], "^:", color="C2", label="DN")
        ax.set_xticks(x)
        ax.set_xticklabels([v.area for v in vs], fontsize=8)
        ax.set_title(labels[metric], fontsize=7)
        ax.ticklabel_format(axis="y", useOffset=False)
    for ax in axes.flat[len(metrics):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
