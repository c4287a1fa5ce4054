"""Readings against human numbers can fail: a linear cascade is not called cortex-like, a phenomenon the twin shows
too is not credited to recurrence, seeds must separate, and a model near chance gets no conclusion."""

import numpy as np

from dynacortex.experiments import cortex
from dynacortex.experiments.readings import cortex_readings, verdicts
from dynacortex.experiments.reference import cortex_reference, load_reference, reference

AREAS = ["V1", "V2", "V4", "IT"]
T = np.arange(-100.0, 1200.0, 1.0)


def cascade(stimulus: np.ndarray, dt: float = 1.0) -> np.ndarray:
    """A parameter-free linear cascade: a biphasic filter (fast minus slow leaky stage) then three 5 ms leaky stages."""
    out = []
    stages = [0.0, 0.0, 0.0]
    f = s = 0.0
    for u in stimulus:
        f += dt / 5 * (u - f)
        s += dt / 20 * (u - s)
        x = f - 0.5 * s
        for i in range(3):
            stages[i] += dt / 5 * ((x if i == 0 else stages[i - 1]) - stages[i])
        out.append(stages[-1])
    return np.array(out)


def box(on: float, off: float, c: float = 1.0) -> np.ndarray:
    return c * ((T > on) & (T <= off)).astype(float)


def linear_metrics() -> dict:
    d = {dur: cascade(box(0, dur)) for dur in (17, 133, 267, 533)}
    gaps = [17.0, 533.0]
    pairs = np.stack([cascade(box(0, 133) + box(133 + g, 266 + g)) for g in gaps])
    rec = cortex.isi_recovery(T, d[133], pairs, gaps, 133.0)
    shift, _ = cortex.contrast_ttp_shift(T, cascade(box(0, 500, 0.0625)), cascade(box(0, 500)), 500.0, 1.0)
    values = {"onset_latency_ms": 10.0, "r_double": cortex.r_double(T, d[133], d[267]),
              "fwhm_ms": cortex.fwhm(T, d[17]), "contrast_ttp_shift_ms": shift, "isi_suppression": 1 - rec[0],
              "recovery_longest_gap": rec[-1], "recovery_time_ms": cortex.recovery_time(gaps, rec),
              "sustained_peak_ratio": cortex.sustained_peak_ratio(T, d[533])}
    return {a: dict(values) for a in AREAS}


def test_a_linear_cascade_is_not_called_cortex_like():
    lin = linear_metrics()
    assert abs(lin["V1"]["r_double"] - 1.0) < 0.01 and lin["V1"]["contrast_ttp_shift_ms"] is None
    table = verdicts([lin], [lin])
    for v in table["r_double"] + table["onset_latency_ms"]:
        assert not v.meets and "outside the human range" in v.conclusion()
    for v in table["isi_suppression"]:
        assert not v.meets and v.conclusion().startswith("misses the target")
    text = " ".join(cortex_readings([lin], [lin]))
    assert "attributable to the recurrent dynamics" not in text
    assert "Met by the recurrent model and not by its twin: none." in text


def test_only_what_the_twin_lacks_is_credited_to_recurrence():
    model = {a: {"r_double": 0.67, "isi_suppression": 0.5} for a in AREAS}
    twin = {a: {"r_double": 0.98, "isi_suppression": 0.5} for a in AREAS}
    table = verdicts([model], [twin], metrics=["r_double", "isi_suppression"])
    assert table["r_double"][0].attributable and "attributable" in table["r_double"][0].conclusion()
    assert not table["isi_suppression"][0].attributable
    assert "the twin meets it too" in table["isi_suppression"][0].conclusion()
    assert "meets the target" in table["isi_suppression"][0].conclusion()  # a target, not "as in cortex"
    assert "human range" not in table["isi_suppression"][0].conclusion()


def test_a_twin_without_the_phenomenon_is_shown_and_credits_recurrence_only_in_every_seed():
    model = [{"V1": {"contrast_ttp_shift_ms": 15.0}}, {"V1": {"contrast_ttp_shift_ms": 20.0}}]
    twin = [{"V1": {"contrast_ttp_shift_ms": None}}] * 2  # no transient at any contrast: not measurable
    v = verdicts(model, twin, metrics=["contrast_ttp_shift_ms"])["contrast_ttp_shift_ms"][0]
    assert "twin n/a" in v.describe() and v.attributable and "the twin has none: attributable" in v.conclusion()
    partial = [model[0], {"V1": {"contrast_ttp_shift_ms": None}}]
    v = verdicts(partial, twin, metrics=["contrast_ttp_shift_ms"])["contrast_ttp_shift_ms"][0]
    assert v.meets and not v.attributable and "only in 1 of 2 seeds" in v.conclusion()
    short = [{"V1": {"contrast_ttp_shift_ms": 5.0}}] * 2  # misses the target: nothing to credit
    assert not verdicts(short, twin, metrics=["contrast_ttp_shift_ms"])["contrast_ttp_shift_ms"][0].attributable
    alone = verdicts(model, (), metrics=["contrast_ttp_shift_ms"])["contrast_ttp_shift_ms"][0]
    assert not alone.attributable and "twin" not in alone.describe()  # no twin run: nothing said of one


def test_seeds_must_separate_by_two_sd():
    model = [{"V1": {"r_double": v}} for v in (0.66, 0.665, 0.67)]
    twin = [{"V1": {"r_double": v}} for v in (0.95, 0.96, 0.97)]
    v = verdicts(model, twin, metrics=["r_double"])["r_double"][0]
    assert v.meets and v.separated and v.attributable and v.sd is not None
    noisy = [{"V1": {"r_double": v}} for v in (0.65, 0.68, 0.66)]
    noisy_twin = [{"V1": {"r_double": v}} for v in (0.70, 0.62, 0.80)]  # mean 0.707: outside; differences 0.1 SD
    v = verdicts(noisy, noisy_twin, metrics=["r_double"])["r_double"][0]
    assert not v.separated and "not separated" in v.conclusion()


def test_a_model_near_chance_gets_no_conclusion():
    model = {a: {"r_double": 0.67} for a in AREAS}
    text = cortex_readings([model], [model], accuracy=0.117, chance=0.1)
    assert "near chance" in text[0]
    assert not any("human range" in line for line in text[1:])


def test_every_reference_cites_a_source_and_maps_the_areas():
    ref = load_reference()
    for metric, groups in ref["metrics"].items():
        for group, entry in groups.items():
            assert entry["status"] in ("measured", "figure", "unverified", "target"), (metric, group)
            assert all(k in ref["sources"] for k in (s.strip() for s in entry["source"].split(","))), (metric, group)
            assert entry["how"], (metric, group)
    assert reference("r_double", "V1")["range"] == [0.64, 0.69]  # Zhou et al. 2018 Fig 6C, V1-V3
    assert reference("r_double", "IT")["range"] == [0.50, 0.61]  # LO, TO, IPS
    assert reference("r_double", "DN") is None
    assert cortex_reference(["V1"], ["onset_latency_ms", "fwhm_ms"]) == {"V1": {"onset_latency_ms": [50.0, 70.0],
                                                                               "fwhm_ms": None}}


def test_the_docs_reference_table_is_the_shipped_file():
    from pathlib import Path
    import re

    page = (Path(__file__).parents[1] / "docs" / "cortical_time.md").read_text()
    rows = re.findall(r"^\| (\w+) \| (\w+) \| ([0-9.]+)-([0-9.]+) \| (\w+) \|", page, flags=re.M)
    assert len(rows) >= 10
    metrics = load_reference()["metrics"]
    for metric, group, lo, hi, status in rows:
        entry = metrics[metric][group]
        assert entry["range"] == [float(lo), float(hi)] and entry["status"] == status, (metric, group)
