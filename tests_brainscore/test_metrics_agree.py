"""Our OST and temporal PLS (dynacortex.analysis.neural) against Brain-Score's own metrics on the same
assemblies: equal to 1e-6. The OST decoder is held fixed on both sides (the deterministic logistic one):
Brain-Score trains its decoder with TensorFlow, whose random draws no other implementation reproduces."""

import numpy as np
import pytest
from brainscore_core.supported_data_standards.brainio.assemblies import (BehavioralAssembly, DataAssembly,
                                                                         NeuroidAssembly, array_is_element,
                                                                         walk_coords)
from brainscore_vision import load_metric

from dynacortex.analysis.neural import i1, ost_correlation, pls_predictivity_over_time
from dynacortex.analysis.ost import logistic_classifier


def _assembly(values, ids, labels, bins):
    return NeuroidAssembly(values.transpose(0, 2, 1), dims=["presentation", "neuroid", "time_bin"], coords={
        "stimulus_id": ("presentation", ids), "image_label": ("presentation", labels),
        "object_name": ("presentation", labels), "truth": ("presentation", labels),
        "neuroid_id": ("neuroid", [f"n{i}" for i in range(values.shape[2])]), "region": ("neuroid", ["IT"] * values.shape[2]),
        "time_bin_start": ("time_bin", bins), "time_bin_end": ("time_bin", bins + 10)})


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    s, t = 240, 6
    labels = np.array(["a", "b", "c"])[np.arange(s) % 3]
    ids = np.array([f"img{i:03d}" for i in rng.permutation(s)])
    protos = rng.normal(size=(3, 30))
    speed = rng.uniform(0.2, 1, s)
    features = (speed[:, None, None] * np.linspace(0, 1, t)[None, :, None] * protos[np.arange(s) % 3][:, None] * 3
                + rng.normal(size=(s, t, 30)))
    neural = features[..., :12] @ rng.normal(size=(12, 9)) + rng.normal(size=(s, t, 9))
    return ids, labels, features, neural, 70 + 10 * np.arange(t), speed


def test_temporal_pls_equals_brainscores(data):
    ids, labels, features, neural, bins, _ = data
    source, target = _assembly(features, ids, labels, bins), _assembly(neural, ids, labels, bins)
    theirs = load_metric("spantime_pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))(source,
                                                                                                          target)
    ours = pls_predictivity_over_time(features, neural, stratify=labels)
    theirs = theirs.sortby("time_bin_start") if "time_bin_start" in theirs.coords else theirs
    assert np.abs(np.asarray(theirs.values, float) - ours).max() < 1e-6
    print(f"\ntemporal PLS per bin, ours {np.round(ours, 4)}; max |ours - Brain-Score| "
          f"{np.abs(np.asarray(theirs.values, float) - ours).max():.1e}")


class _Logistic:
    """Brain-Score's OST decoder interface around our logistic classifier."""

    def fit(self, x, y):
        self.x, self.y = np.asarray(x.values), np.asarray(y.values)

    def predict_proba(self, x):
        p, choices = logistic_classifier(self.x, self.y, np.asarray(x.values))
        coords = {c: (d, v) for c, d, v in walk_coords(x) if array_is_element(d, x.dims[0])}
        return BehavioralAssembly(p, coords={**coords, "choice": list(choices)}, dims=[x.dims[0], "choice"])

    def close(self):
        pass


def test_i1_equals_brainscores(data):
    ids, labels, features, *_ = data
    p, choices = logistic_classifier(features[:60, -1], labels[:60], features[60:, -1])
    proba = BehavioralAssembly(p, dims=["presentation", "choice"], coords={
        "stimulus_id": ("presentation", ids[60:]), "truth": ("presentation", labels[60:]), "choice": list(choices)})
    theirs = load_metric("ost").i1(proba)
    assert np.abs(theirs.values - i1(p, labels[60:], choices)).max() < 1e-6


def test_ost_equals_brainscores(data, monkeypatch):
    import brainscore_vision.metrics.ost.metric as ost_metric

    ids, labels, features, _, bins, speed = data
    monkeypatch.setattr(ost_metric, "TFProbabilitiesClassifier", _Logistic)
    target_ost, thresholds = 70 + 60 * (1 - speed), np.full(len(ids), 2.0)
    target = DataAssembly(target_ost, dims=["presentation"], coords={
        "stimulus_id": ("presentation", ids), "image_label": ("presentation", labels),
        "truth": ("presentation", labels), "i1": ("presentation", thresholds)})
    theirs = load_metric("ost")(_assembly(features, ids, labels, bins), target)
    ours, per_split = ost_correlation(features, labels, target_ost, thresholds, bins, "logistic", return_splits=True)
    assert np.isfinite(ours) and abs(float(theirs.values) - ours) < 1e-6
    print(f"\nOST score ours {ours:.6f}, Brain-Score {float(theirs.values):.6f}")
