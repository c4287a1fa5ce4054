"""Measures of one population response time course (numpy), with the criteria written out.

Notation: ``t`` (T,) in ms from the first stimulus onset (the end of each step); ``r`` (T,) the
population response (mean rate over all units of an area, averaged over images); the baseline ``b``
is the mean of ``r`` over the last ``baseline_ms`` (100) before onset, as in Groen et al. 2022 (the
model has settled on the blank by then); ``d = r - b`` is the evoked response.

- latency: the first time after onset at which ``d`` reaches ``fraction`` (default 0.2) of its peak,
  linearly interpolated between steps. A deterministic model has no trial-to-trial noise, so the
  usual "baseline + k SD" criterion would be met by any change; a fraction of the peak is the
  noise-free analogue (as used for onset latencies in e.g. Schmolesky et al. 1998).
- time to peak, peak: the time and value of the maximum of ``d`` after onset.
- summed response: ``sum d dt`` from onset to the end of the record (ms x rate; the duration
  protocol records 1 s from onset, Groen et al.'s window).
- summation exponent n: the least-squares slope of log(summed response) against log(duration);
  n = 1 is linear summation, n < 1 subadditive (Groen et al. 2022, Zhou et al. 2019).
- adaptation index: ``1 - sustained / peak`` with ``sustained`` the mean of ``d`` over the last
  ``window_ms`` of a long stimulus; 0 means no adaptation, 1 full return to baseline.
- recovery ratio: the response to the second of two pulses, isolated by subtracting the response to
  the first pulse alone (``d_pair - d_single``, Groen et al.'s method), its peak within
  ``window_ms`` (300) of the second onset over the peak of the single response.
"""

from __future__ import annotations

import numpy as np

__all__ = ["baseline", "latency", "time_to_peak", "summed_response", "power_law_exponent", "adaptation_index",
           "recovery_ratio"]


def baseline(t: np.ndarray, r: np.ndarray, baseline_ms: float = 100.0) -> np.ndarray:
    """Mean of ``r`` over ``-baseline_ms < t <= 0`` along the first axis (time)."""
    pre = (t > -baseline_ms) & (t <= 0)
    if not pre.any():
        raise ValueError(f"baseline_ms: no step before onset within {baseline_ms} ms; give the protocol idle time")
    return r[pre].mean(axis=0)


def latency(t: np.ndarray, d: np.ndarray, fraction: float = 0.2) -> float:
    """First time after onset where ``d`` reaches ``fraction`` of its peak (NaN if it never rises)."""
    after = t > 0
    ta, da = t[after], d[after]
    peak = da.max(initial=0.0)
    if not peak > 0:
        return float("nan")
    thr = fraction * peak
    k = int(np.argmax(da >= thr))
    t0, d0 = (ta[k - 1], da[k - 1]) if k > 0 else (0.0, 0.0)  # at onset d = 0 by definition
    return float(t0 + (thr - d0) / (da[k] - d0) * (ta[k] - t0)) if da[k] != d0 else float(ta[k])


def time_to_peak(t: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    """``(time, value)`` of the maximum of ``d`` after onset."""
    after = np.flatnonzero(t > 0)
    k = after[int(np.argmax(d[after]))]
    return float(t[k]), float(d[k])


def summed_response(t: np.ndarray, d: np.ndarray, dt: float) -> float:
    return float(d[t > 0].sum() * dt)


def power_law_exponent(x: np.ndarray, y: np.ndarray) -> float:
    """Slope n of ``log y = a + n log x`` over the points with ``y > 0`` (NaN with fewer than two)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = (x > 0) & (y > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def adaptation_index(t: np.ndarray, d: np.ndarray, stimulus_ms: float, window_ms: float = 100.0) -> float:
    """``1 - mean(d over the last window_ms of the stimulus) / peak of d during it``."""
    on = (t > 0) & (t <= stimulus_ms)
    late = on & (t > stimulus_ms - window_ms)
    peak = d[on].max(initial=0.0)
    if not peak > 0 or not late.any():
        return float("nan")
    return float(1.0 - d[late].mean() / peak)


def recovery_ratio(t: np.ndarray, d_pair: np.ndarray, d_single: np.ndarray, second_onset_ms: float,
                   window_ms: float) -> float:
    """Peak of ``d_pair - d_single`` in ``(second_onset, second_onset + window_ms]`` over the peak of ``d_single``."""
    first = d_single[t > 0].max(initial=0.0)
    win = (t > second_onset_ms) & (t <= second_onset_ms + window_ms)
    if not first > 0 or not win.any():
        return float("nan")
    return float((d_pair - d_single)[win].max() / first)
