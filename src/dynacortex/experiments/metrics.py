"""From recordings to the experiment's metrics (``metrics.json``), per area in hierarchy order.

Each protocol's recording gives the population time course per condition and area, averaged over
images and baseline-subtracted (see :mod:`.measures` for every criterion). Then:

- ``latency_ms``: onset latency of the response to the longest full-contrast stimulus available
  (``response`` protocol, else the longest ``duration``, else the highest ``contrast``);
- ``duration``: summed response per duration and the summation exponent;
- ``contrast``: time to peak and peak per contrast;
- ``interval``: recovery ratio per gap (second response isolated with the single-pulse trial);
- ``adaptation``: adaptation index of the long stimulus;
- ``cortex`` (and ``cortex_null_reasons``): the phenomena on the definitions of Groen et al. (2022), see
  :mod:`.cortex`;
- ``memory``: cross-validated accuracy of a linear (logistic-regression) decoder of the image's
  label from the recorded unit subset, at times after stimulus offset. The model is noiseless, so a
  decaying but still distinct pattern would stay decodable down to float precision; the decoder
  therefore sees the units plus fixed Gaussian noise of SD ``noise_fraction`` (0.1) times the units'
  across-image SD at offset: memory lasts while the image-specific signal stands above that noise.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Optional

import numpy as np

from . import measures as m
from .cortex import cortex_metrics

__all__ = ["population", "evoked", "baseline_drift", "compute_metrics", "decoding_accuracy", "json_safe", "SCHEMA_KEYS"]

SCHEMA_KEYS = ("latency_ms", "duration", "contrast", "interval", "adaptation", "memory", "cortex")


def population(ds: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(time_ms (T,), r (condition, T, area))``: the population response averaged over images."""
    t = ds.time_ms.values.astype(float)
    return t, ds.response.mean("image").transpose("condition", "time_ms", "area").values.astype(float)


def evoked(ds: Any, baseline_ms: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """``(time_ms (T,), d (condition, T, area))``: image-averaged response minus its pre-onset baseline."""
    t, r = population(ds)
    b = np.stack([m.baseline(t, rc, baseline_ms) for rc in r])  # (condition, area)
    return t, r - b[:, None, :]


def _params(ds: Any) -> dict[str, Any]:
    return ds.attrs["protocol"]["params"]


def _per_area(areas: list[str], fn: Any) -> dict[str, Any]:
    return {a: fn(k) for k, a in enumerate(areas)}


def json_safe(x: Any) -> Any:
    """JSON-safe: NaN -> None, numpy scalars -> float, rounded to 6 significant digits."""
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(f"{float(x):.6g}")
    return x


def decoding_accuracy(features: np.ndarray, labels: np.ndarray, noise_sd: float = 0.0, folds: int = 5,
                      seed: int = 0) -> list[float]:
    """Cross-validated accuracy of a logistic-regression decoder at each time: features (N, T, U),
    with Gaussian noise of SD ``noise_sd`` added (seeded, the same draw at every time)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _, counts = np.unique(labels, return_counts=True)
    k = min(folds, int(counts.min()))
    if k < 2 or len(counts) < 2:
        raise ValueError(f"memory: decoding needs >= 2 classes with >= 2 images each, got counts {counts.tolist()}")
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    noise = np.random.default_rng(seed).normal(0.0, noise_sd, size=(features.shape[0], features.shape[2]))
    out = []
    for j in range(features.shape[1]):
        x = features[:, j] + noise
        if np.ptp(x, axis=0).max(initial=0.0) == 0:  # silent units: nothing to decode
            out.append(float(np.max(counts) / counts.sum()))
            continue
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(float(cross_val_score(clf, x, labels, cv=cv).mean()))
    return out


def _memory(ds: Any, areas: list[str], step_ms: float, noise_fraction: float) -> dict[str, Any]:
    if "label" not in ds.coords:
        raise ValueError("memory: the recording has no image labels to decode")
    t = ds.time_ms.values.astype(float)
    on = np.flatnonzero(ds.contrast.isel(condition=0).values > 0)
    after = t - t[on[-1]]  # from the end of the last stimulus step
    tail = after.max()
    wanted = np.arange(0.0, tail + 1e-9, step_ms)
    idx = [int(np.argmin(np.abs(after - w))) for w in wanted]
    labels = ds.label.values
    result = {}
    for a in areas:
        var = f"units_{a}"
        if var not in ds:
            raise ValueError(f"memory: the recording has no unit subset for {a} (run with n_units > 0)")
        x = ds[var].isel(condition=0, time_ms=idx).values.astype(float)  # (image, time, unit)
        sd = noise_fraction * float(x[:, 0].std(axis=0).mean())
        result[a] = {"time_after_offset_ms": [float(after[i]) for i in idx],
                     "decoding_accuracy": decoding_accuracy(x, labels, sd)}
    return result


def compute_metrics(recordings: Mapping[str, Any], latency_fraction: float = 0.2, baseline_ms: float = 100.0,
                    memory_step_ms: float = 20.0, noise_fraction: float = 0.1) -> dict[str, Any]:
    """The ``metrics.json`` dictionary for the protocols present in ``recordings`` (name -> Dataset)."""
    out: dict[str, Any] = {}
    curves = {name: evoked(ds, baseline_ms) for name, ds in recordings.items() if name != "memory"}
    any_ds = next(iter(recordings.values()))
    areas = [str(a) for a in any_ds.area.values]
    source = _latency_source(recordings)
    if source is not None:
        t, d = curves[source[0]]
        out["latency_ms"] = _per_area(areas, lambda k: m.latency(t, d[source[1], :, k], latency_fraction))
    if "duration" in recordings:
        t, d = curves["duration"]
        durs = _params(recordings["duration"])["durations_ms"]
        dt = float(recordings["duration"].attrs["dt_ms"])

        def dur(k: int) -> dict[str, Any]:
            s = [m.summed_response(t, d[i, :, k], dt) for i in range(len(durs))]
            return {"durations_ms": durs, "summed_response": s, "summation_exponent": m.power_law_exponent(durs, s)}
        out["duration"] = _per_area(areas, dur)
    if "contrast" in recordings:
        t, d = curves["contrast"]
        cs = _params(recordings["contrast"])["contrasts"]

        def con(k: int) -> dict[str, Any]:
            peaks = [m.time_to_peak(t, d[i, :, k]) for i in range(len(cs))]
            return {"contrasts": cs, "time_to_peak_ms": [p[0] for p in peaks], "peak": [p[1] for p in peaks]}
        out["contrast"] = _per_area(areas, con)
    if "interval" in recordings:
        t, d = curves["interval"]
        p = _params(recordings["interval"])
        gaps, pulse = p["gaps_ms"], p["pulse_ms"]
        out["interval"] = _per_area(areas, lambda k: {"gaps_ms": gaps, "recovery_ratio": [
            m.recovery_ratio(t, d[1 + i, :, k], d[0, :, k], pulse + g, 300.0) for i, g in enumerate(gaps)]})
    if "response" in recordings:
        t, d = curves["response"]
        dur_ms = _params(recordings["response"])["duration_ms"]
        out["adaptation"] = _per_area(areas, lambda k: {"adaptation_index": m.adaptation_index(t, d[0, :, k], dur_ms)})
    if "memory" in recordings:
        out["memory"] = _memory(recordings["memory"], areas, memory_step_ms, noise_fraction)
    groen = [n for n in ("duration", "contrast", "interval") if n in recordings]
    if groen:
        cortex, reasons = cortex_metrics(
            {n: (*curves[n], population(recordings[n])[1]) for n in groen}, {n: _params(recordings[n]) for n in groen},
            {n: [str(c) for c in recordings[n].condition.values] for n in groen}, areas,
            float(recordings[groen[0]].attrs["dt_ms"]))
        out["cortex"] = cortex
        if reasons:
            out["cortex_null_reasons"] = reasons
    return json_safe(out)


def baseline_drift(ds: Any, baseline_ms: float = 100.0) -> dict[str, float]:
    """Per area, the largest deviation of the blank trial from its pre-onset baseline relative to the
    peak evoked response of the stimulus trial (``response`` protocol): near 0 when the idle time
    let the model settle; large values mean the baseline was still moving."""
    t, d = evoked(ds, baseline_ms)
    blank = [str(c) for c in ds.condition.values].index("blank")
    after = t > 0
    peak = np.abs(d[0, after]).max(axis=0)
    drift = np.abs(d[blank, after]).max(axis=0) / np.where(peak > 0, peak, np.nan)
    return {str(a): float(v) for a, v in zip(ds.area.values, drift)}


def _latency_source(recordings: Mapping[str, Any]) -> Optional[tuple[str, int]]:
    """(protocol, condition index) of the longest full-contrast single stimulus available."""
    if "response" in recordings:
        return "response", 0
    if "duration" in recordings:
        return "duration", len(recordings["duration"].condition) - 1
    if "contrast" in recordings:
        return "contrast", len(recordings["contrast"].condition) - 1
    return None
