"""Model-vs-recording comparison over time, on synthetic recordings generated from a known model."""

import numpy as np
import pytest
import torch

import dynacortex as dc
from dynacortex.analysis.neural import align, load_neural, predictivity_over_time, rdm, rsa_over_time

from .helpers import chain


@pytest.fixture(scope="module")
def responses():
    torch.manual_seed(0)
    model = chain(3, 4, dt=1.0)
    images = torch.randn(40, 2, 8, 8)
    with dc.record(model) as rec, torch.no_grad():
        model(images, n_steps=12)
    return {a: rec[a].flatten(2).numpy().astype(float) for a in ("A1", "A2")}, rec.times.numpy()


def test_predictivity_finds_the_area_that_generated_the_recording(responses):
    feats, _ = responses
    rng = np.random.default_rng(0)
    src = feats["A2"]  # (40 stimuli, 12 steps, 16 units)
    mix = rng.normal(size=(src.shape[2], 10))
    neural = src @ mix + 0.05 * src.std() * rng.normal(size=(*src.shape[:2], 10))
    true = predictivity_over_time(src, neural)
    shuffled = predictivity_over_time(src[rng.permutation(40)], neural)
    assert true.shape == (12,) and true[5:].min() > 0.9 and true[-1] > 0.98  # once the area responds
    assert shuffled[3:].max() < 0.2  # no signal: at or below 0 (held-out folds bias r negative)


def test_rsa_is_one_for_the_same_geometry_and_low_for_shuffled_stimuli(responses):
    feats, _ = responses
    x = feats["A2"]
    assert rsa_over_time(x, 3.0 * x + 1.0)[2:] == pytest.approx(1.0)
    assert np.isnan(rsa_over_time(np.zeros_like(x), x)).all()  # no response yet: undefined, not 0
    shuffled = rsa_over_time(x[np.random.default_rng(1).permutation(40)], x)
    assert np.abs(shuffled[2:]).mean() < 0.2
    d = rdm(x[:, 5])
    assert d.shape == (40, 40) and np.allclose(np.diag(d), 0) and np.allclose(d, d.T)


def test_align_interpolates_to_recording_bins(responses):
    feats, times = responses
    lin = times[None, :, None] * np.ones((2, 1, 3))
    out = align(lin, times, [1.5, 4.25, 12.0])
    assert out[0, :, 0] == pytest.approx([1.5, 4.25, 12.0])
    with pytest.raises(ValueError, match="outside the model"):
        align(lin, times, [0.0, 20.0])


def test_load_neural_from_npz_and_netcdf(tmp_path):
    import xarray as xr

    data = np.random.default_rng(0).normal(size=(5, 4, 3))
    np.savez(tmp_path / "rec.npz", data=data, time_ms=np.array([10.0, 20, 30, 40]))
    da = load_neural(tmp_path / "rec.npz")
    assert da.dims == ("stimulus", "time_ms", "neuron") and da.time_ms.values[-1] == 40.0
    xr.DataArray(data, dims=("stimulus", "time_ms", "neuron"), name="spikes").transpose(
        "neuron", "stimulus", "time_ms").to_netcdf(tmp_path / "rec.nc")
    assert np.allclose(load_neural(tmp_path / "rec.nc").values, data)
    with pytest.raises(ValueError, match="no array 'rates'"):
        load_neural(tmp_path / "rec.npz", variable="rates")
    with pytest.raises(ValueError, match="unsupported file type"):
        (tmp_path / "rec.mat").write_text("x")
        load_neural(tmp_path / "rec.mat")
    with pytest.raises(ValueError, match="same stimuli and time bins"):
        predictivity_over_time(data, data[:4])
