"""The temporal phenomena on the definitions of Groen et al. (2022), per area: ``metrics.json["cortex"]``.

Groen, Piantoni, Montenegro, ..., Winawer (2022), J Neurosci 42(40):7562, and their analysis code
(github irisgroen/temporalECoG: ``tde_computeDerivedParamsData``, ``tde_computeISIrecovery``,
``tde_mkFigure4``). Notation as in :mod:`.measures`: ``t`` ms from the first onset (the end of each step),
``d`` the evoked population response (image average minus the pre-onset baseline; Groen divide by the
baseline instead, which scales ``d`` and leaves every ratio below unchanged).

- ``onset_latency_ms``: first time ``d`` reaches 20 % of its peak (:func:`.measures.latency`), for the
  longest (533 ms) stimulus of the duration protocol.
- ``r_double``: summed response to 267 ms over twice that to 133 ms, sums over ``0 < t <= 1000`` ms (Groen's
  summation window, Fig 2B): the analogue on Groen's durations of Zhou et al.'s (2018) R_double (200 ms over
  twice 100 ms). A linear system gives 1.
- ``fwhm_ms``: full width at half maximum of the response to the shortest (17 ms) stimulus: with
  ``half = (min + max) / 2`` over the record, from the first to the last time ``d >= half``
  (``tde_computeDerivedParamsData``), the crossings interpolated linearly between steps (Groen count whole
  samples at 512 Hz).
- ``contrast_ttp_shift_ms``: time to peak (argmax of the unsmoothed ``d`` over ``50 < t < 1000`` ms, as in
  ``tde_mkFigure4``) at the lowest minus at the highest contrast. Null unless both responses are transient
  (peak >= 1.1 x the mean over the last 50 ms of the stimulus), both peaks fall during the stimulus (not an
  offset response) and the shift exceeds 2 dt.
- ``isi_suppression`` and ``recovery_longest_gap``: from the recovery ratio of ``tde_computeISIrecovery``
  with the 'max' metric and a 300 ms window: the first-pulse response is the mean, at each time, of the
  single-pulse trial and of every two-pulse trial before its second onset; it is subtracted from each
  two-pulse trial, whose maximum over ``(onset_2, onset_2 + 300]`` is divided by the first-pulse response's
  maximum over ``(0, 300]``. Suppression is 1 minus the ratio at the shortest gap (17 ms; Groen's plots also
  show a gap of 0, the 267 ms single pulse).
- ``recovery_time_ms``: the gap at which the recovery ratio first reaches 0.8 (Groen's Fig 13D criterion),
  linear between the gaps measured; null when it never does.
- ``sustained_peak_ratio``: the 533 ms response at 500 ms over its peak, after a centred moving average of
  ~9.8 ms (Groen's 5 samples at 512 Hz).

Every value is null, with the reason in ``metrics.json["cortex_null_reasons"]``, where its response is too
small to measure: a peak below 1e-6 (absolute) or below 10 x the SD of the pre-onset baseline.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

from . import measures as m

__all__ = ["CORTEX_METRICS", "cortex_metrics", "fwhm", "isi_recovery", "r_double", "recovery_time",
           "sustained_peak_ratio", "ttp_window", "contrast_ttp_shift"]

CORTEX_METRICS = ("onset_latency_ms", "r_double", "fwhm_ms", "contrast_ttp_shift_ms", "isi_suppression",
                  "recovery_longest_gap", "recovery_time_ms", "sustained_peak_ratio")


def r_double(t: np.ndarray, d133: np.ndarray, d267: np.ndarray, window_ms: float = 1000.0) -> float:
    win = (t > 0) & (t <= window_ms)
    single = d133[win].sum()
    return float(d267[win].sum() / (2 * single)) if single > 0 else float("nan")


def fwhm(t: np.ndarray, d: np.ndarray) -> float:
    """Width (ms) between the first and last times ``d`` reaches ``(min + max) / 2`` (linear crossings)."""
    half = (d.min() + d.max()) / 2
    above = np.flatnonzero(d >= half)
    if above.size == 0 or d.max() <= d.min():
        return float("nan")
    i, j = above[0], above[-1]

    def cross(a: int, b: int) -> float:  # the time between steps a and b where d == half
        return float(t[a] + (half - d[a]) / (d[b] - d[a]) * (t[b] - t[a])) if d[b] != d[a] else float(t[b])

    start = cross(i - 1, i) if i > 0 else float(t[i])
    end = cross(j, j + 1) if j + 1 < len(d) else float(t[j])
    return end - start


def ttp_window(t: np.ndarray, d: np.ndarray, lo: float = 50.0, hi: float = 1000.0) -> float:
    win = np.flatnonzero((t > lo) & (t < hi))
    return float(t[win[int(np.argmax(d[win]))]])


def contrast_ttp_shift(t: np.ndarray, d_low: np.ndarray, d_high: np.ndarray, stimulus_ms: float,
                       dt: float) -> tuple[Optional[float], str]:
    """``(ttp(low) - ttp(high), "")`` or ``(None, reason)``."""
    for name, d in (("lowest", d_low), ("highest", d_high)):
        late = (t > stimulus_ms - 50.0) & (t <= stimulus_ms)
        peak, sustained = d[(t > 0) & (t <= stimulus_ms)].max(initial=0.0), d[late].mean()
        if not peak >= 1.1 * sustained:
            return None, (f"no transient at the {name} contrast (peak {peak:.3g} < 1.1 x sustained {sustained:.3g}): "
                          "the time to peak is the end of a plateau")
    peaks = {name: ttp_window(t, d) for name, d in (("lowest", d_low), ("highest", d_high))}
    for name, ttp in peaks.items():
        if ttp > stimulus_ms:
            return None, (f"the largest response at the {name} contrast follows the stimulus's offset ({ttp:.3g} ms): "
                          "an offset response, not the onset's peak")
    shift = peaks["lowest"] - peaks["highest"]
    if not abs(shift) > 2 * dt:
        return None, f"shift {shift:.3g} ms is within 2 dt ({2 * dt:g} ms): below the time resolution"
    return shift, ""


def isi_recovery(t: np.ndarray, d_single: np.ndarray, d_pairs: np.ndarray, gaps: list[float], pulse_ms: float,
                 window_ms: float = 300.0) -> list[float]:
    """Recovery ratio per gap (``tde_computeISIrecovery``, 'max'); ``d_pairs`` (gap, T)."""
    onsets = [pulse_ms + g for g in gaps]
    stacked = np.stack([d_single, *d_pairs])
    masked = stacked.copy()
    for i, onset in enumerate(onsets, start=1):
        masked[i, t > onset] = np.nan
    first = np.nanmean(masked, axis=0)
    ref = first[(t > 0) & (t <= window_ms)].max(initial=0.0)
    if not ref > 0:
        return [float("nan")] * len(gaps)
    out = []
    for i, onset in enumerate(onsets, start=1):
        second = np.where((t > onset) & (t <= onset + window_ms), stacked[i] - first, 0.0)
        out.append(float(second.max() / ref))
    return out


def recovery_time(gaps: list[float], recovery: list[float], level: float = 0.8) -> float:
    """The gap (ms) at which ``recovery`` first reaches ``level``, linear between gaps; NaN if never."""
    g, r = np.asarray(gaps, float), np.asarray(recovery, float)
    hit = np.flatnonzero(r >= level)
    if hit.size == 0:
        return float("nan")
    k = hit[0]
    if k == 0:
        return float(g[0])
    return float(g[k - 1] + (level - r[k - 1]) / (r[k] - r[k - 1]) * (g[k] - g[k - 1]))


def sustained_peak_ratio(t: np.ndarray, d: np.ndarray, at_ms: float = 500.0, smooth_ms: float = 9.8) -> float:
    dt = float(t[1] - t[0])
    n = max(1, int(round(smooth_ms / dt)))
    smooth = np.convolve(d, np.ones(n) / n, mode="same") if n > 1 else d
    peak = smooth.max()
    return float(smooth[int(np.argmin(np.abs(t - at_ms)))] / peak) if peak > 0 else float("nan")


def _noise_floor(t: np.ndarray, r: np.ndarray, baseline_ms: float = 100.0) -> float:
    pre = (t > -baseline_ms) & (t <= 0)
    return max(1e-6, 10 * float(r[pre].std())) if pre.any() else 1e-6


class _Area:
    """The metrics of one area, with a reason for every one that is null."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {k: None for k in CORTEX_METRICS}
        self.reasons: dict[str, str] = {}

    def put(self, key: str, value: Any, reason: str = "") -> None:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            self.values[key], self.reasons[key] = None, reason or "undefined for this response"
        else:
            self.values[key] = float(value)


def _index(labels: list[str], value: float, unit: str) -> Optional[int]:
    return labels.index(f"{value:g}{unit}") if f"{value:g}{unit}" in labels else None


def cortex_metrics(curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                   params: Mapping[str, dict[str, Any]], labels: Mapping[str, list[str]], areas: list[str],
                   dt: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(cortex, reasons)`` from ``curves[protocol] = (t, d (condition, T, area), r (condition, T, area))``."""
    out = {a: _Area() for a in areas}
    for k, a in enumerate(areas):
        res = out[a]
        if "duration" in curves:
            t, d, r = curves["duration"]
            lab = labels["duration"]
            floor = _noise_floor(t, r[:, :, k].mean(0))
            small = d[:, t > 0, k].max() < floor
            why = f"no response above the noise floor ({floor:.2g})" if small else ""
            i533, i133, i267, i17 = (_index(lab, v, "ms") for v in (533, 133, 267, 17))
            lack = "the duration protocol has no {} ms stimulus"
            res.put("onset_latency_ms", None if small or i533 is None else m.latency(t, d[i533, :, k]),
                    why or lack.format(533))
            res.put("sustained_peak_ratio", None if small or i533 is None else sustained_peak_ratio(t, d[i533, :, k]),
                    why or lack.format(533))
            res.put("r_double", None if small or i133 is None or i267 is None else
                    r_double(t, d[i133, :, k], d[i267, :, k]), why or lack.format("133 or 267"))
            res.put("fwhm_ms", None if small or i17 is None else fwhm(t, d[i17, :, k]), why or lack.format(17))
        if "contrast" in curves:
            t, d, r = curves["contrast"]
            floor = _noise_floor(t, r[:, :, k].mean(0))
            if d[-1, t > 0, k].max() < floor or d[0, t > 0, k].max() < floor:
                res.put("contrast_ttp_shift_ms", None, f"no response above the noise floor ({floor:.2g}) at the "
                        "lowest or highest contrast")
            else:
                res.put("contrast_ttp_shift_ms", *contrast_ttp_shift(t, d[0, :, k], d[-1, :, k],
                                                                     params["contrast"]["duration_ms"], dt))
        if "interval" in curves:
            t, d, r = curves["interval"]
            p = params["interval"]
            floor = _noise_floor(t, r[:, :, k].mean(0))
            if d[0, t > 0, k].max() < floor:
                for key in ("isi_suppression", "recovery_longest_gap", "recovery_time_ms"):
                    res.put(key, None, f"no response above the noise floor ({floor:.2g})")
            else:
                rec = isi_recovery(t, d[0, :, k], d[1:, :, k], p["gaps_ms"], p["pulse_ms"])
                res.put("isi_suppression", 1 - rec[0])
                res.put("recovery_longest_gap", rec[-1])
                res.put("recovery_time_ms", recovery_time(p["gaps_ms"], rec), "recovery never reaches 0.8")
    return ({a: v.values for a, v in out.items()},
            {a: v.reasons for a, v in out.items() if v.reasons})
