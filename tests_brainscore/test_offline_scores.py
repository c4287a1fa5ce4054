"""Offline proof: Brain-Score's own benchmarks (Kar2019-ost, MajajHong2015public.IT-temporal-pls) scored on
synthetic recordings of a known dynacortex model with state noise, served under Brain-Score's data ids.

The benchmark code runs unchanged (stimulus placement, the model's recordings through the BrainModel
interface, temporal alignment, cross-validation, metric, ceiling). One substitution: the OST decoder is
the deterministic logistic one (Brain-Score's trains a TensorFlow softmax regression, 40 epochs at lr 1e-4,
which stays near its random start on a few hundred images); the target OSTs were made with the same.
The model that made the data (new noise draws) must score high; the same model with its responses given
to the wrong images (shuffled) low; a static response in every bin (what a feedforward model gets) fails.
"""

import numpy as np
import pytest
from brainscore_vision import load_benchmark

from dynacortex.brainscore import as_brain_model
from dynacortex.brainscore import offline as off

from test_metrics_agree import _Logistic

KAR_BINS = [(t, t + 10) for t in range(70, 250, 10)]


class Memo:
    """Reuse recordings of the same request (the shuffled control reorders the generating model's)."""

    def __init__(self, brain_model):
        self.brain_model, self.cache, self.key = brain_model, {}, None
        self.identifier = brain_model.identifier

    def __getattr__(self, name):
        return getattr(self.brain_model, name)

    def start_recording(self, region, time_bins):
        self.key = (region, tuple(map(tuple, np.asarray(time_bins).tolist())))
        self.brain_model.start_recording(region, time_bins)

    def look_at(self, stimuli, number_of_trials=1, **kwargs):
        key = (self.key, tuple(stimuli["stimulus_id"]), number_of_trials, tuple(sorted(kwargs.items())))
        if key not in self.cache:
            self.cache[key] = self.brain_model.look_at(stimuli, number_of_trials=number_of_trials, **kwargs)
        return self.cache[key]


@pytest.fixture(scope="module")
def candidates():
    gen = Memo(as_brain_model(off.generating_model(0), identifier="generating", image_size=8, seed=7,
                              batch_size=512))
    return {"generating": gen, "shuffled": off.Shuffled(gen), "static": off.Static(gen)}


def _source():
    return as_brain_model(off.generating_model(0), identifier="data", image_size=8, seed=1, batch_size=512)


def test_kar2019_ost_offline(digits, candidates, monkeypatch):
    import brainscore_vision.metrics.ost.metric as ost_metric

    source = _source()
    source.start_recording("IT", KAR_BINS)
    target = off.ost_assembly(source.look_at(digits, number_of_trials=44), digits, threshold=2.5,
                              classifier="logistic")
    assert np.isnan(target.values).mean() < 0.2 and np.nanstd(target.values) > 10  # solution times spread out
    off.use_data(Kar2019=target)
    monkeypatch.setattr(ost_metric, "TFProbabilitiesClassifier", _Logistic)
    scores = {name: load_benchmark("Kar2019-ost")(model) for name, model in candidates.items()}
    raw = {k: float(s.raw.values) if "raw" in s.attrs else float("nan") for k, s in scores.items()}
    print("\nKar2019-ost offline (ceiled, raw):", {k: (round(float(s.values), 3), round(raw[k], 3))
                                                   for k, s in scores.items()})
    assert raw["generating"] > 0.2 and raw["generating"] > raw["shuffled"] + 0.15
    assert np.isnan(float(scores["static"].values))  # the benchmark's verdict on responses constant in time


def test_temporal_pls_offline(digits, candidates):
    """MajajHong2015's temporal IT metric (spantime PLS, stratified by object) on synthetic IT sites: recorded
    in 5 ms bins and brought to the benchmark's 10 ms bins with Brain-Score's temporal alignment."""
    from brainscore_vision import load_metric
    from brainscore_vision.model_helpers.brain_transformation.temporal import assembly_time_align

    bins = [(t, t + 10) for t in range(0, 240, 10)]
    source = _source()
    source.start_recording("IT", [(t, t + 5) for t in range(0, 240, 5)])
    fine = source.look_at(digits, number_of_trials=10)
    sites = np.sort(np.random.default_rng(0).choice(fine.sizes["neuroid"], 40, replace=False))
    target = assembly_time_align(fine.isel(neuroid=sites), bins)
    metric = load_metric("spantime_pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))
    results = {}
    for name, model in candidates.items():
        model.start_recording("IT", bins)
        raw = metric(model.look_at(digits, number_of_trials=50), target)
        late = raw.values[7:20]  # 70-200 ms, where the stimulus drives IT
        results[name] = float(np.nanmean(late))
    print("\nMajajHong2015 temporal IT PLS offline (mean r, 70-200 ms bins):",
          {k: round(v, 3) for k, v in results.items()})
    # the target's 10 noisy trials per image limit every model's r; the shuffled control is near 0
    assert results["generating"] > 0.1 and results["generating"] > results["shuffled"] + 0.1
