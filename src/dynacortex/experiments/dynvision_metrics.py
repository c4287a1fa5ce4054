"""DynVision's three response metrics, computed as DynVision defines them, for continuity.

DynVision works on the raw population response ``r(t)`` (no baseline subtraction) over the whole
recorded trace after onset:

- normalized summed response (duration protocol): ``S(D) = sum_t r_D(t)``, divided by its maximum
  over the durations ``D``;
- peak time (contrast protocol): the time of the maximum of ``r`` (here from onset, in ms);
- peak ratio (interval protocol): of the two highest positive local maxima of the two-pulse trace that
  lie at least ``min_separation_ms`` (10) apart, the later one over the earlier one (0 with fewer
  than two).
The trace is averaged over images first (DynVision averages the per-image metric; with the
population means recorded here the difference is second order).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .metrics import json_safe, population

__all__ = ["peak_ratio", "dynvision_metrics"]


def peak_ratio(r: np.ndarray, min_separation: int) -> float:
    """Later / earlier of the two highest positive local maxima at least ``min_separation`` steps apart."""
    left = np.r_[True, r[1:] >= r[:-1]]
    right = np.r_[r[:-1] >= r[1:], True]
    peaks = np.flatnonzero(left & right & (r > 0))
    if peaks.size < 2:
        return 0.0
    order = peaks[np.argsort(-r[peaks], kind="stable")]
    first = order[0]
    far = [p for p in order[1:] if abs(p - first) >= min_separation]
    second = far[0] if far else order[1]
    a, b = sorted((first, second))
    return float(r[b] / r[a])


def dynvision_metrics(recordings: Mapping[str, Any], min_separation_ms: float = 10.0) -> dict[str, Any]:
    """``{"normalized_summed_response" | "peak_time_ms" | "peak_ratio": {area: {x: [...], "value": [...]}}}``."""
    out: dict[str, Any] = {}
    for name, ds in recordings.items():
        areas = [str(a) for a in ds.area.values]
        params = ds.attrs["protocol"]["params"]
        t, r = population(ds)
        after = t > 0
        if name == "duration":
            s = r[:, after].sum(axis=1)  # (condition, area)
            norm = s / np.where(s.max(axis=0) > 0, s.max(axis=0), np.nan)
            out["normalized_summed_response"] = {
                a: {"durations_ms": params["durations_ms"], "value": norm[:, k].tolist()} for k, a in enumerate(areas)}
        elif name == "contrast":
            ta = t[after]
            out["peak_time_ms"] = {a: {"contrasts": params["contrasts"],
                                       "value": [float(ta[np.argmax(r[i, after, k])]) for i in range(r.shape[0])]}
                                   for k, a in enumerate(areas)}
        elif name == "interval":
            sep = max(1, round(min_separation_ms / float(ds.attrs["dt_ms"])))
            out["peak_ratio"] = {a: {"gaps_ms": params["gaps_ms"],
                                     "value": [peak_ratio(r[i, after, k], sep) for i in range(1, r.shape[0])]}
                                 for k, a in enumerate(areas)}
    return json_safe(out)
