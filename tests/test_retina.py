"""The retina stage: Weber scaling, contrast normalisation, transient channels, exact light adaptation."""

import math

import pytest
import torch
from pydantic import ValidationError

import dynacortex as dc
from dynacortex.layers import Retina, RetinaConfig


def grating(luminance: float, contrast: float, n: int = 32, period: int = 8) -> torch.Tensor:
    x = torch.arange(n, dtype=torch.float32)
    row = luminance * (1 + contrast * torch.sin(2 * math.pi * x / period))
    return row.view(1, 1, 1, n).expand(1, 1, n, n).clone()


def centre(out: torch.Tensor) -> float:
    """Peak ON-sustained response away from the image border."""
    return out[:, 0, 8:24, 8:24].amax().item()


def spot(luminance: float = 0.8, n: int = 16) -> torch.Tensor:
    x = torch.full((1, 1, n, n), 0.2)
    x[..., n // 2 - 2:n // 2 + 2, n // 2 - 2:n // 2 + 2] = luminance
    return x


def tiny_model(**retina) -> dc.AreaNetwork:
    return dc.create_model("dyrcnnx4", channels=(4, 4, 4, 4), in_channels=1, dt=1.0, solver="exp_euler",
                           t_recurrence=0.0, retina=retina)


def retina_states(model, frames: torch.Tensor) -> torch.Tensor:
    """Retina state at every step, (T, 4C, H, W) for batch element 0."""
    out = []
    with model.observe(lambda t, y: out.append(y[0][0].clone())), torch.no_grad():
        model.run(frames)
    return torch.stack(out)


def test_weber_scaling_and_compressive_contrast_response():
    ret = Retina(1, RetinaConfig(background=0.0))  # the input is the luminance itself
    peak = {(L, c): centre(ret.output(ret.steady_state(grating(L, c))))
            for L in (0.2, 0.8) for c in (0.05, 0.1, 0.4, 0.8)}
    for c in (0.05, 0.1, 0.4, 0.8):  # 4x the light, nearly the same response (raw centre-surround: 4x)
        assert 1.0 < peak[(0.8, c)] / peak[(0.2, c)] < 1.2
    assert peak[(0.2, 0.1)] / peak[(0.2, 0.05)] > 1.7  # near-linear below c50 = 0.1
    assert peak[(0.2, 0.8)] / peak[(0.2, 0.4)] < 1.4  # compressive above it
    no_gain = Retina(1, RetinaConfig(c50=1e3, background=0.0))  # gain control off (up to a scale)
    lin = [centre(no_gain.output(no_gain.steady_state(grating(0.2, c)))) for c in (0.4, 0.8)]
    assert lin[1] / lin[0] == pytest.approx(2.0, rel=0.02)


def test_uniform_light_gives_no_output_and_a_blank_screen_is_rest():
    model = tiny_model()
    states = retina_states(model, torch.full((1, 30, 1, 16, 16), 0.7))
    assert model.areas[0].output(states).abs().max() < 1e-6
    assert retina_states(model, torch.zeros(1, 5, 1, 16, 16)).abs().max() == 0  # adapted to the background


def test_light_adaptation_is_integrated_exactly():
    """The local mean luminance (minus the background) obeys tau_lum dm/dt = -m + x for a uniform step x:
    m(t) = x (1 - e^(-t/tau_lum)); exponential Euler with the stimulus held over each step is exact for it."""
    model = tiny_model(tau_luminance=40.0)
    states = retina_states(model, torch.full((1, 60, 1, 8, 8), 0.5))
    t = torch.arange(1, 61, dtype=torch.float64)
    exact = 0.5 * (1 - torch.exp(-t / 40.0))
    assert torch.allclose(states[:, 0, 4, 4].double(), exact, atol=1e-6)


def test_step_drives_transient_channels_that_decay_while_sustained_ones_stay():
    model = tiny_model(background=0.0)
    background = torch.full((1, 1, 1, 16, 16), 0.2)
    frames = torch.cat([background.expand(1, 300, 1, 16, 16), spot().unsqueeze(1).expand(1, 400, 1, 16, 16),
                        background.expand(1, 100, 1, 16, 16)], dim=1)  # light-adapted first, then a bright spot
    out = model.areas[0].output(retina_states(model, frames))[300:, :, 8, 8]  # ON/OFF sustained, ON/OFF transient
    on_s, on_t, off_t = out[:, 0], out[:, 2], out[:, 3]
    peak = int(on_t[:400].argmax())
    assert 5 <= peak <= 40  # ms after onset: tau 10 ms rise, tau_transient 30 ms decay
    assert on_t[399] < 0.02 * on_t[peak]  # transient gone
    assert on_s[399] > 0.2 * on_s[:400].max()  # sustained stays (after light/contrast adaptation)
    assert off_t[400:].max() > 3 * off_t[:400].max()  # the OFF-transient answers the offset


def test_simulation_settles_on_the_steady_state():
    model = tiny_model()
    model.dt = 5.0  # exponential Euler: stable at any step
    x = grating(0.5, 0.4, n=16, period=4)
    _, carry = model.run(x, n_steps=300)
    expected = model.areas[0].steady_state(x)
    assert torch.allclose(carry.state[0], expected, atol=1e-4 * expected.abs().max())


@pytest.mark.parametrize("name,kwargs,size", [("dyrcnnx4", {"channels": (4, 4, 4, 4)}, 16),
                                              ("cordsnet", {"channels": (4,) * 8, "input_size": 32}, 32)])
def test_models_with_a_retina_train(name, kwargs, size):
    model = dc.create_model(name, in_channels=3, retina={"channels": "luminance", "delay": 3.0}, **kwargs)
    assert model.area_names[0] == "retina"
    logits = model(torch.rand(2, 3, size, size), n_steps=12)  # 24 ms: the V1 recurrence (6 ms) reaches the readout
    assert logits.shape == (2, 12, 10)
    logits[:, -1].logsumexp(-1).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_retina_config_errors_name_the_field():
    with pytest.raises(ValueError, match="retina.tau"):  # create_model: a ConfigError naming the field
        dc.create_model("dyrcnnx4", retina={"tau": -1})
    with pytest.raises(ValidationError, match="sigma_surround"):
        RetinaConfig(sigma_center=0.4, sigma_surround=0.3)
    with pytest.raises(ValidationError, match="channels"):
        RetinaConfig(channels="rgb")
    with pytest.raises(ValidationError, match="tau_fast"):
        RetinaConfig(tau_fast=3)
