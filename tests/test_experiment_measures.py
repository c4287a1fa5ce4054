"""Measures against curves with known answers."""

import math

import numpy as np
import pytest

from dynacortex.experiments import measures as m
from dynacortex.experiments.dynvision_metrics import peak_ratio
from dynacortex.experiments.metrics import decoding_accuracy

T = np.arange(-100, 400, 0.01) + 0.01


def test_latency_of_a_first_order_rise_is_analytic():
    tau = 7.0
    d = np.where(T > 0, 1 - np.exp(-np.clip(T, 0, None) / tau), 0.0)
    assert m.latency(T, d, fraction=0.2) == pytest.approx(-tau * math.log(0.8), abs=1e-3)
    assert m.latency(T, d, fraction=0.5) == pytest.approx(tau * math.log(2), abs=1e-3)
    assert math.isnan(m.latency(T, -d))  # no rise: no latency


def test_time_to_peak_of_an_alpha_function():
    tau = 12.0
    tp = np.clip(T, 0, None)
    t_peak, peak = m.time_to_peak(T, tp / tau * np.exp(1 - tp / tau))
    assert t_peak == pytest.approx(tau, abs=0.01) and peak == pytest.approx(1.0, abs=1e-6)


def test_baseline_summed_response_and_power_law():
    r = np.where(T > 0, 3.0, 2.0)
    assert m.baseline(T, r) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="baseline_ms"):
        m.baseline(T[T > 0], r[T > 0])
    box = ((T > 0) & (T <= 50)).astype(float)
    assert m.summed_response(T, box, 0.01) == pytest.approx(50.0, rel=1e-6)
    x = np.array([17, 33, 67, 133, 267, 533.0])
    assert m.power_law_exponent(x, 4.0 * x ** 0.62) == pytest.approx(0.62, abs=1e-9)
    assert math.isnan(m.power_law_exponent(x, -x))


def test_adaptation_index():
    on = (T > 0) & (T <= 300)
    d = np.where(on, 0.4 + 0.6 * np.exp(-np.clip(T, 0, None) / 20.0), 0.0)  # peak 1 at onset, sustained 0.4
    assert m.adaptation_index(T, d, stimulus_ms=300.0) == pytest.approx(0.6, abs=1e-3)
    assert m.adaptation_index(T, np.where(on, 1.0, 0.0), 300.0) == pytest.approx(0.0)


def test_recovery_ratio_isolates_the_second_response():
    def pulse(t0):
        tt = np.clip(T - t0, 0, None)
        return tt / 10 * np.exp(1 - tt / 10)

    single = pulse(0.0)
    paired = single + 0.7 * pulse(150.0)  # second response 70% of the first, riding on the first's tail
    assert m.recovery_ratio(T, paired, single, 150.0, 300.0) == pytest.approx(0.7, abs=1e-3)


def test_dynvision_peak_ratio():
    r = np.array([0, 1, 0.5, 0.2, 0.1, 0, 0.1, 0.8, 0.3, 0])
    assert peak_ratio(r, min_separation=5) == pytest.approx(0.8)  # later (0.8) / earlier (1)
    assert peak_ratio(np.array([0, 1.0, 0]), 5) == 0.0


def test_decoding_accuracy_follows_signal_to_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 20)
    pattern = rng.normal(size=(4, 16))[labels]  # one pattern per class
    decay = np.exp(-np.arange(0, 200, 20) / 20.0)  # signal fades with time
    feats = pattern[:, None, :] * decay[None, :, None]
    acc = decoding_accuracy(feats, labels, noise_sd=0.3)
    assert acc[0] > 0.95 and acc[-1] < 0.5
    assert all(b <= a + 0.15 for a, b in zip(acc, acc[1:]))  # falls (up to CV noise)
    noiseless = decoding_accuracy(feats, labels, noise_sd=0.0)
    assert min(noiseless) > 0.95  # without noise a scaled pattern stays decodable: why noise is added
    with pytest.raises(ValueError, match="memory: decoding needs"):
        decoding_accuracy(feats[:1], labels[:1])


def test_phenomenon_readings_state_values_and_leave_judgement_to_human_numbers():
    """The per-phenomenon sentences state the measured numbers; whether they are cortex-like is judged only against
    human ranges (tests/test_readings.py), so that a direction alone (a feedforward filter has one) claims nothing."""
    from dynacortex.experiments.report import readings

    areas = ["V1", "V2"]
    metrics = {
        "latency_ms": {"V1": 30.0, "V2": 45.0},
        "duration": {a: {"durations_ms": [17, 533], "summed_response": [1, 5], "summation_exponent": 0.6} for a in areas},
        "contrast": {a: {"contrasts": [0.1, 1], "time_to_peak_ms": [180, 120], "peak": [0.1, 1]} for a in areas},
        "interval": {a: {"gaps_ms": [17, 133, 533], "recovery_ratio": [0.3, 0.6, 0.9]} for a in areas},
        "adaptation": {a: {"adaptation_index": 0.5} for a in areas},
        "memory": {a: {"time_after_offset_ms": [0, 100], "decoding_accuracy": [0.9, 0.2]} for a in areas},
    }
    text = readings(metrics, chance=0.1)
    assert len(text) == 6 and not any("cortex" in t for t in text)
    assert "V1 30 ms" in text[0] and "V2 0.6" in text[1] and "180 -> 120 ms" in text[2] and "0.3, 0.6, 0.9" in text[3]
