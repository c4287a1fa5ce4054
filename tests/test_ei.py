"""E/I areas: Dale's law by parameterisation, per-population time constants, and the SSN regime."""

import math

import pytest
import torch
from pydantic import ValidationError

import dynacortex as dc
from dynacortex.layers import EIArea, SignedConv


def ssn_steady_state(h_e, h_i) -> torch.Tensor:
    """(E, I) rates (Hz) after 600 ms of constant input (h_E, h_I) in mV, one batch row per input."""
    model = dc.create_model("ssn")
    x = torch.tensor([h_e, h_i], dtype=torch.float32).T.reshape(-1, 2, 1, 1)
    with torch.no_grad():
        _, carry = model.run(x, n_steps=1200)
        y = carry.state[0]
        dy = model.delay_free_field(x)[0]((y,))[0]
    assert dy.abs().max() < 1e-3  # settled: a fixed point
    return y[:, :, 0, 0]


def test_ssn_supralinear_at_low_and_sublinear_at_high_input():
    """Rubin et al. 2015: weak drive -> r ~ h^2 (k = 0.04, n = 2); strong drive -> inhibition-stabilised, sublinear."""
    c = [1.0, 2.0, 20.0, 40.0, 0.5, 20.0]
    r = ssn_steady_state(c, c)[:, 0]
    assert r[1] / r[0] > 3.5  # doubling a weak input: ~4x the response
    assert r[3] / r[2] < 2.0  # doubling a strong one: less than 2x
    assert r[0] == pytest.approx(0.04 * 1.0**2, rel=0.1)  # recurrence negligible at h = 1 mV
    # response summation: the response to the sum of two inputs vs the sum of responses
    assert r[1] > 2 * r[0]  # supralinear summation when weak (1 + 1 mV)
    assert r[3] < 2 * r[2]  # sublinear summation when strong (20 + 20 mV)


def test_ssn_paradoxical_inhibitory_response_only_when_inhibition_stabilised():
    r = ssn_steady_state([40.0, 40.0, 2.0, 2.0], [40.0, 42.0, 2.0, 2.5])
    assert r[1, 1] < r[0, 1]  # strong drive: more input to I lowers the I rate (paradoxical)
    assert r[1, 0] < r[0, 0]
    assert r[3, 1] > r[2, 1]  # weak drive: the I rate rises with its input (not inhibition-stabilised)


def test_each_population_leaks_with_its_own_tau():
    area = EIArea("A", 2, 1, tau=20.0, tau_inhibitory=7.0, activation="identity", t_recurrence=0.0)
    area.recurrence.set_blocks(0, 0, 0, 0)
    net = dc.AreaNetwork([area], torch.nn.Identity(), [], None, in_channels=3, dt=1.0, solver="exp_euler")
    y0 = torch.ones(1, 3, 1, 1)
    _, carry = net.run(torch.zeros(1, 3, 1, 1), n_steps=10, carry=dc.Carry((y0,), 0.0))
    decay = carry.state[0][0, :, 0, 0]
    assert torch.allclose(decay, torch.tensor([math.exp(-10 / 20), math.exp(-10 / 20), math.exp(-10 / 7)]), atol=1e-6)
    assert area.output(y0).shape[1] == 2 and area.rates(y0).shape[1] == 3  # only E leaves the area


def test_dale_signs_hold_after_training_steps():
    model = dc.create_model("dyrcnnx4", populations="ei", channels=(6, 6, 6, 6), inhibitory_channels=(2, 2, 2, 2),
                            in_channels=1, feedback=True, t_feedback=4.0)
    opt = torch.optim.SGD(model.parameters(), lr=10.0)  # large steps: any sign flip would show
    for _ in range(3):
        opt.zero_grad()
        logits = model(torch.rand(4, 1, 16, 16), n_steps=20)
        (torch.randn_like(logits) * logits).sum().backward()
        opt.step()
    for area in model.areas:
        w = area.recurrence.weight
        assert (w[:, :6] >= 0).all() and (w[:, 6:] <= 0).all()  # from E >= 0, from I <= 0
    for conn in model.connections:
        convs = [m for m in conn.modules() if isinstance(m, torch.nn.Conv2d)]
        assert convs and all((m.weight >= 0).all() for m in convs)


def test_ei_dyrcnn_gradients_reach_every_parameter_and_it_learns():
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", populations="ei", channels=(8, 8, 8, 8), in_channels=1, num_classes=2,
                            tau_inhibitory=2.5, t_recurrence=2.0)
    x = torch.rand(16, 1, 16, 16)
    x[:8, :, :8] += 1.0  # class 0: bright top half
    x[8:, :, 8:] += 1.0
    labels = torch.tensor([0] * 8 + [1] * 8)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, n_steps=10)[:, -1], labels)
        loss.backward()
        if step == 0:
            assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_signed_conv_blocks_are_total_inputs():
    conv = SignedConv(2, 1, kernel_size=3)
    conv.set_blocks(1.25, 0.65, 1.2, 0.5)
    w = conv.weight.sum(dim=(2, 3))  # per target row: total input from each source channel
    assert torch.allclose(w[:2, :2].sum(1), torch.tensor([1.25, 1.25])) and torch.allclose(w[:2, 2], torch.tensor([-0.65, -0.65]))
    assert torch.allclose(w[2, :2].sum(), torch.tensor(1.2)) and torch.allclose(w[2, 2], torch.tensor(-0.5))
    with pytest.raises(ValueError, match="weights"):
        conv.set_blocks(-1, 0, 0, 0)


def test_ei_config_errors_name_the_field():
    with pytest.raises(ValueError, match="recurrence"):  # create_model: a ConfigError naming the field
        dc.create_model("dyrcnnx4", populations="ei", recurrence="self")
    with pytest.raises(ValueError, match="inhibitory_channels"):
        dc.create_model("dyrcnnx4", populations="ei", inhibitory_channels=(1, 2))
    with pytest.raises(ValueError, match="in_channels"):
        dc.create_model("ssn", in_channels=3)
    with pytest.raises(ValueError, match="tau_inhibitory"):
        EIArea("A", 2, 1, tau_inhibitory=-1.0)
