"""Feedforward counterpart and noise robustness, end to end on a small trained model."""

import pytest
import torch

import dynacortex as dc
from dynacortex.analysis import noise_robustness, plot_noise_robustness
from dynacortex.experiments.suite import test_images as pick_test_images
from dynacortex.training import train


def test_feedforward_pass_is_the_steady_state_without_recurrence():
    model = dc.create_model("dyrcnnx4", recurrence="none", dt=5.0, tau=5.0, channels=[8, 8, 8, 8], in_channels=1)
    x = torch.randn(3, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x, n_steps=6)[:, -1], model.feedforward(x), atol=1e-6)  # skips included
        fb = dc.create_model("dyrcnnx4", recurrence="full", feedback=True, channels=[8, 8, 8, 8], in_channels=1)
        assert fb.feedforward(x).shape == (3, 10)


def test_noise_robustness_end_to_end(tmp_path):
    from .test_training import tiny_config

    cfg = tiny_config(tmp_path, "trainer.max_epochs=2")
    model = train(cfg)["model"]
    images, labels, _ = pick_test_images(cfg.data, per_class=20)
    n_steps = round(cfg.presentation.stimulus_ms / model.dt)
    res = noise_robustness(model, images, labels, sigmas=[0.0, 1.0, 4.0], n_steps=n_steps)
    with torch.no_grad():
        clean = (model(images, n_steps=n_steps)[:, -1].argmax(-1) == labels).float().mean().item()
    assert res["recurrent"][0] == pytest.approx(clean)
    assert res["recurrent"][0] > 0.5 and res["recurrent"][-1] < res["recurrent"][0]
    assert res["feedforward"][-1] <= res["feedforward"][0]
    assert plot_noise_robustness(res, tmp_path / "noise.png", chance=0.1).stat().st_size > 5000
    with pytest.raises(ValueError, match="sigmas"):
        noise_robustness(model, images, labels, sigmas=[-1.0], n_steps=2)
