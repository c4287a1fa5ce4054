"""The cortex report: a recurrent model, its recurrence-free twin and the DN model through the same protocols,
read against human numbers.

``write_cortex_report(out, model=DIR, twin=DIR, dn=DIR)`` reads each folder's recordings (``<protocol>.zarr``,
see :func:`.suite.run_experiments`), computes their metrics, and writes into ``out``:

- ``metrics.json``: the model's metrics (:func:`.metrics.compute_metrics`) plus ``cortex_controls``
  (``{"feedforward": twin per area, "dn": DN per area}``, the DN's one response given to every area) and
  ``cortex_reference`` (``{area: {metric: [lo, hi] or null}}``, from :mod:`.reference`);
- ``cortex_overlay.png``: the three models' time courses overlaid per area, ``cortex_metrics.png``: every
  metric per area against the human range;
- ``report.html`` with the readings of :mod:`.readings` and a table of every value.

Several seeds: ``model`` and ``twin`` may be lists of folders (one per seed); values are then mean +- SD.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..files import write_atomic
from ..report import Table, write_report
from . import plots
from .cortex import CORTEX_METRICS
from .metrics import compute_metrics, evoked, json_safe
from .readings import LABELS, cortex_readings, fmt, verdicts
from .reference import cortex_reference
from .report import experiment_figures, load_recordings

__all__ = ["write_cortex_report", "cortex_controls"]

Folders = "str | Path | Sequence[str | Path]"


def _folders(x: Any) -> list[Path]:
    return [] if x is None else [Path(x)] if isinstance(x, (str, Path)) else [Path(p) for p in x]


def cortex_controls(twin: Optional[dict[str, Any]], dn: Optional[dict[str, Any]], areas: list[str]) -> dict[str, Any]:
    """``metrics.json["cortex_controls"]`` from the twin's and the DN model's metrics."""
    out: dict[str, Any] = {}
    if twin is not None:
        out["feedforward"] = twin["cortex"]
    if dn is not None:
        values = dn["cortex"]["DN"]
        out["dn"] = {a: dict(values) for a in areas}
    return out


def _overlay(recs: dict[str, dict[str, Any]], areas: list[str], path: Path) -> Optional[Path]:
    """Rows: the 533 ms stimulus, two pulses 67 ms apart, the lowest and highest contrast; each model's evoked
    response resampled onto the first model's time axis (their steps may differ)."""
    picks = [("duration", "533ms", "533 ms"), ("interval", "67ms", "2 x 133 ms, gap 67"),
             ("contrast", "c0.0625", "contrast 6.25 %"), ("contrast", "c1", "contrast 100 %")]
    rows, stim, axis = [], [], None
    for protocol, cond, title in picks:
        if not all(protocol in r and cond in [str(c) for c in r[protocol].condition.values] for r in recs.values()):
            continue
        curves = {}
        for label, r in recs.items():
            ds = r[protocol]
            t, d = evoked(ds)
            i = [str(c) for c in ds.condition.values].index(cond)
            names = [str(a) for a in ds.area.values]
            cols = [names.index("DN" if label == "DN" else a) for a in areas]
            if axis is None:
                axis = t
            curves[label] = np.stack([np.interp(axis, t, d[i][:, k]) for k in cols], axis=1)
            if len(stim) == len(rows):
                stim.append(np.interp(axis, t, ds.contrast.values[i]))
        rows.append((title, curves))
    if not rows or axis is None:
        return None
    return plots.plot_overlay(axis, rows, areas, path, stim)


def _table(table: dict[str, list[Any]]) -> Table:
    rows = []
    for metric, vs in table.items():
        for v in vs:
            rng = None if v.ref is None else v.ref.get("range")
            rows.append([LABELS[metric], v.area, fmt(v.value, v.sd), fmt(v.twin, v.twin_sd), fmt(v.dn),
                         "direction only" if v.ref is not None and rng is None else
                         "–" if rng is None else f"{fmt(rng[0])}-{fmt(rng[1])}" + (" (target)" if v.target else ""),
                         v.conclusion() or "–"])
    return ("Cortex metrics: model, twin, DN, human reference",
            ["metric", "area", "model", "twin", "DN", "reference", "reading"], rows)


def write_cortex_report(out: "str | Path", model: Folders, twin: Optional[Folders] = None,
                        dn: "str | Path | None" = None, title: str = "dynacortex: cortical time",
                        notes: Sequence[str] = (), figures: Sequence[tuple[str, Path]] = (),
                        scalars: Optional[dict[str, Any]] = None, accuracy: Optional[float] = None,
                        chance: Optional[float] = None) -> Path:
    """Write the cortex report into ``out`` (see the module docstring); return ``report.html``."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_recs = [load_recordings(f) for f in _folders(model)]
    twin_recs = [load_recordings(f) for f in _folders(twin)]
    dn_recs = load_recordings(dn) if dn is not None else None
    model_m = [compute_metrics(r) for r in model_recs]
    twin_m = [compute_metrics(r) for r in twin_recs]
    dn_m = compute_metrics(dn_recs) if dn_recs is not None else None
    areas = list(model_m[0]["cortex"])
    metrics = dict(model_m[0])
    metrics["cortex_controls"] = cortex_controls(twin_m[0] if twin_m else None, dn_m, areas)
    metrics["cortex_reference"] = cortex_reference(areas, list(CORTEX_METRICS))
    if len(model_m) > 1:
        metrics["cortex_seeds"] = {"model": [m["cortex"] for m in model_m], "feedforward": [m["cortex"] for m in twin_m]}
    write_atomic(out / "metrics.json", json.dumps(json_safe(metrics), indent=2))
    dn_values = None if dn_m is None else dn_m["cortex"]["DN"]
    reasons = model_m[0].get("cortex_null_reasons", {})
    table = verdicts([m["cortex"] for m in model_m], [m["cortex"] for m in twin_m], dn_values, reasons=reasons)
    readings = cortex_readings([m["cortex"] for m in model_m], [m["cortex"] for m in twin_m], dn_values,
                               accuracy, chance, reasons)
    figs = list(figures)
    judged = [v.area for v in next(iter(table.values()))]  # the areas compared with human numbers
    overlay = _overlay({"model": model_recs[0], **({"twin": twin_recs[0]} if twin_recs else {}),
                        **({"DN": dn_recs} if dn_recs is not None else {})}, judged, out / "cortex_overlay.png")
    if overlay is not None:
        figs.append(("Evoked responses of the model, its recurrence-free twin and the DN model, each divided by its "
                     "peak per area (bars: stimulus on)", overlay))
    figs.append(("Every cortex metric per area: model, twin, DN; grey: the human range (hatched: a target)",
                 plots.plot_cortex_metrics(table, LABELS, out / "cortex_metrics.png")))
    figs += experiment_figures(model_recs[0], model_m[0], out, chance)
    if accuracy is not None and chance is not None:
        seeds = f", mean over {len(model_m)} seeds" if len(model_m) > 1 else ""
        notes = [*notes, f"Test accuracy of the model {accuracy:.3f} (chance {chance:.3f}{seeds})."]
    return write_report(out / "report.html", title, scalars or {}, figs, [*notes, *readings], [_table(table)])
