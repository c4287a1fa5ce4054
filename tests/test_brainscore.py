"""Brain-Score glue that runs without Brain-Score: protocol and binning, OST / temporal PLS, the plugin
writer and the CLI. The tests against Brain-Score's own code are in tests_brainscore/ (make test-brainscore)."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import dynacortex as dc
from dynacortex.analysis.neural import (i1, object_solution_times, ost_correlation, pls_predictivity_over_time,
                                        solution_times)
from dynacortex.brainscore.bundle import load_bundle
from dynacortex.brainscore.protocol import BinRecorder, Protocol, TimeBins, load_images


def test_the_main_package_never_imports_brainscore():
    code = ("import sys, dynacortex, dynacortex.cli, dynacortex.analysis, dynacortex.brainscore.plugin, "
            "dynacortex.brainscore.bundle, dynacortex.brainscore.protocol, dynacortex.brainscore.cli\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('brainscore_vision', 'brainscore_core')]\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_segments_follow_the_training_presentation_convention():
    # step n covers [n dt, (n+1) dt) and shows the image when its start lies in [blank, blank + presentation)
    assert Protocol(100, 0).segments(2.0, 250) == [(True, 50), (False, 75)]
    assert Protocol(100, 10).segments(4.0, 60) == [(False, 3), (True, 15)]  # ends inside the image
    assert Protocol(5, 3).segments(2.0, 10) == [(False, 2), (True, 2), (False, 3)]
    with pytest.raises(ValueError, match="before the trial starts"):
        Protocol(100, 20).check([(-30, -10)])
    with pytest.raises(ValueError, match="start < end"):
        TimeBins([(80, 70)])
    assert TimeBins(np.array([[70, 80], [80, 90]])) == [(70.0, 80.0), (80.0, 90.0)]
    as_benchmarks_pass_them = np.empty(2, dtype=object)  # an assembly's time_bin values: tuples in an object array
    as_benchmarks_pass_them[:] = [(70, 80), (80, 90)]
    assert TimeBins(as_benchmarks_pass_them) == [(70.0, 80.0), (80.0, 90.0)]


class _Area:
    def output(self, y):
        return y


def test_bins_are_overlap_weighted_means_of_the_steps():
    rec = BinRecorder([(0, _Area())], [(0, 4), (1, 3), (3, 6)], onset_ms=0.0, dt=2.0)
    for k in range(1, 4):  # steps (0,2], (2,4], (4,6] carry the values 1, 2, 3
        rec(2.0 * k, (torch.full((1, 1), float(k)),))
    out = rec.result()[0, 0].tolist()
    assert out == pytest.approx([1.5, 1.5, (2 * 0.5 + 3 * 1) / 1.5])
    short = BinRecorder([(0, _Area())], [(0, 10)], onset_ms=0.0, dt=2.0)
    short(2.0, (torch.ones(1, 1),))
    with pytest.raises(ValueError, match="not covered"):
        short.result()


def test_images_are_resized_and_normalised(tmp_path):
    from PIL import Image

    a = np.zeros((4, 6, 3), np.uint8)
    a[..., 0] = 255
    Image.fromarray(a).save(tmp_path / "red.png")
    rgb = load_images([tmp_path / "red.png"], 8, 3, mean=(0.5,), std=(0.5,))
    assert rgb.shape == (1, 3, 8, 8) and rgb[0, 0].eq(1).all() and rgb[0, 1].eq(-1).all()
    gray = load_images([tmp_path / "red.png"], 5, 1, mean=(0.0,), std=(1.0,))
    assert gray.shape == (1, 1, 5, 5) and gray.flatten().sub(0.299).abs().max() < 0.01  # luminance of red


def test_solution_time_interpolates_from_the_best_subthreshold_bin():
    values = np.array([[0.5, 3.0], [0.2, 0.0], [1.5, 0.0], [2.0, 0.0]])  # (bins, images)
    ost = solution_times(values, [1.0, 1.0], [70, 80, 90, 100])
    # image 0: best sub-threshold 0.5 at 70, hit 1.5 at 90 -> line through both reaches 1.0 at 80
    assert ost[0] == pytest.approx(80.0) and ost[1] == 70.0
    assert np.isnan(solution_times(values, [5.0, 5.0], [70, 80, 90, 100])).all()


def test_i1_by_hand():
    p = np.array([[0.8, 0.2], [0.3, 0.7], [0.5, 0.5]])
    truth = np.array(["a", "b", "a"])
    from scipy.stats import norm

    far_b = np.mean([0.3 / 1.0])  # images of b: chance of choosing a over b
    far_a = np.mean([0.2 / 1.0, 0.5 / 1.0])
    expected = [norm.ppf(1 - 0.2) - norm.ppf(far_b), norm.ppf(1 - 0.3) - norm.ppf(far_a),
                norm.ppf(1 - 0.5) - norm.ppf(far_b)]
    assert i1(p, truth, ["a", "b"]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="not among"):
        i1(p, np.array(["a", "c", "a"]), ["a", "b"])


def _ramp_features(n=90, seed=0):
    """Images whose class signal grows at an image-specific speed: later solution for slower images."""
    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b", "c"])[np.arange(n) % 3]
    speed = rng.uniform(0.2, 1.0, n)
    t = np.arange(12)
    protos = rng.normal(size=(3, 20))
    signal = speed[:, None, None] * (t[None, :, None] / 11) * protos[np.arange(n) % 3][:, None, :] * 3
    return signal + rng.normal(size=(n, 12, 20)), labels, speed


def test_ost_follows_how_fast_images_are_solved():
    x, labels, speed = _ramp_features()
    starts = 70 + 10 * np.arange(12)
    ost = object_solution_times(x[:60], labels[:60], x[60:], labels[60:], np.full(30, 3.0), starts, "logistic")
    assert np.corrcoef(ost[~np.isnan(ost)], speed[60:][~np.isnan(ost)])[0, 1] < -0.3  # faster -> earlier
    target = 70 + 100 * (1 - speed)
    score = ost_correlation(x, labels, target, np.full(len(x), 3.0), starts, "logistic", splits=3, test_size=0.3)
    reverse = ost_correlation(x, labels, 170 - target + 70, np.full(len(x), 3.0), starts, "logistic", splits=3,
                              test_size=0.3)
    assert score > 0.4 and reverse == pytest.approx(-score)


def test_softmax_classifier_learns():
    x, labels, _ = _ramp_features(n=300)
    from dynacortex.analysis.ost import softmax_classifier

    proba, choices = softmax_classifier(x[:200, -1], labels[:200], x[200:, -1])
    assert proba.shape == (100, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert (choices[proba.argmax(1)] == labels[200:]).mean() > 0.45  # chance: 1/3


def test_temporal_pls_predicts_the_source_and_not_noise():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 4, 30))
    neural = features[..., :10] @ rng.normal(size=(10, 8)) + 0.5 * rng.normal(size=(60, 4, 8))
    good = pls_predictivity_over_time(features, neural, n_components=5, splits=3)
    bad = pls_predictivity_over_time(rng.normal(size=features.shape), neural, n_components=5, splits=3)
    assert good.shape == (4,) and (good > 0.7).all() and (bad < 0.4).all()
    with pytest.raises(ValueError, match="n_components"):
        pls_predictivity_over_time(features[..., :3], neural)


def _fake_checkpoint(tmp_path):
    from dynacortex.training import TrainConfig

    cfg = TrainConfig(name="tiny", model={"name": "dyrcnnx4", "channels": [4, 4, 4, 8], "in_channels": 1},
                      data={"name": "digits", "image_size": 8})
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", channels=(4, 4, 4, 8), in_channels=1)
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
                "hyper_parameters": {"config": cfg.model_dump(mode="json")}}, path)
    return path, model


def test_plugin_command_writes_a_brainscore_model_plugin(tmp_path):
    from typer.testing import CliRunner

    from dynacortex.cli import app

    ckpt, model = _fake_checkpoint(tmp_path)
    out = tmp_path / "plugin"
    res = CliRunner().invoke(app, ["brainscore", "plugin", "--checkpoint", str(ckpt), "--out", str(out),
                                   "--identifier", "dc-tiny", "--noise", "0.01", "--region", "IT=IT,V4"])
    assert res.exit_code == 0, res.output
    for name in ("__init__.py", "model.py", "test.py", "requirements.txt", "metadata.yaml", "weights.pt",
                 "dynacortex/models/network.py", "dynacortex/brainscore/model.py"):
        assert (out / name).is_file(), name
    assert "model_registry['dc-tiny']" in (out / "__init__.py").read_text()
    assert not (out / "dynacortex" / "training").exists()  # the runtime only
    loaded, settings = load_bundle(out / "weights.pt")
    assert settings["identifier"] == "dc-tiny" and settings["image_size"] == 8 and settings["classes"][0] == "0"
    assert settings["regions"] == {"IT": ["IT", "V4"]} and loaded.noise == 0.01
    x = torch.randn(2, 1, 8, 8)
    model.noise = loaded.noise = None
    assert torch.allclose(loaded(x, n_steps=3), model.eval()(x, n_steps=3))
    again = CliRunner().invoke(app, ["brainscore", "plugin", "--checkpoint", str(ckpt), "--out", str(out)])
    assert again.exit_code == 2 and "not empty" in again.output
    bad = CliRunner().invoke(app, ["brainscore", "plugin", "--checkpoint", str(ckpt), "--out", str(tmp_path / "p2"),
                                   "--region", "IT"])
    assert bad.exit_code == 2 and "REGION=AREA" in bad.output


def test_plugin_takes_the_normalisation_from_the_checkpoint_without_the_data(tmp_path, monkeypatch):
    import dynacortex.data.catalog as catalog
    from dynacortex.brainscore.bundle import bundle_from_checkpoint

    ckpt, _ = _fake_checkpoint(tmp_path)
    state = torch.load(ckpt, weights_only=True)
    state["ImageDataModule"] = {"mean": [0.31], "std": [0.27], "classes": list("abcdefghij")}
    torch.save(state, ckpt)

    def no_data(*args, **kwargs):
        raise FileNotFoundError("the training data are not on this machine")

    monkeypatch.setattr(catalog, "load_dataset", no_data)
    settings = bundle_from_checkpoint(ckpt)["settings"]
    assert settings["mean"] == [0.31] and settings["std"] == [0.27] and settings["classes"][0] == "a"
    assert bundle_from_checkpoint(ckpt, mean=[0.5], std=[0.2])["settings"]["mean"] == [0.5]
    del state["ImageDataModule"]  # an older checkpoint: computed from the data, which are needed then
    torch.save(state, ckpt)
    with pytest.raises(FileNotFoundError, match="not on this machine"):
        bundle_from_checkpoint(ckpt)
