"""Multi-area RNN on a vision front-end: the equation, Dale's law under training, frozen vs end-to-end gradients."""

import pytest
import torch
from pydantic import ValidationError

import dynacortex as dc
from dynacortex.cognitive import MultiAreaConfig, MultiAreaRNN, RNNAreaConfig

AREAS = [RNNAreaConfig(name="PPC", units=20, tau_ms=100.0), RNNAreaConfig(name="PFC", units=10, tau_ms=50.0)]


def frontend(**kw):
    torch.manual_seed(0)
    return dc.create_model("dyrcnnx4", channels=(4, 4, 4, 4), in_channels=1, dt=10.0, tau=10.0, t_recurrence=0.0, **kw)


def net(**kw):
    return MultiAreaRNN(frontend(), MultiAreaConfig(areas=AREAS, **kw), n_outputs=3)


def test_rnn_areas_follow_the_rate_equation_on_the_same_engine():
    """Euler at dt = 10 ms: r_k(t+dt) = r_k + dt/tau_k (-r_k + relu(W_in x + b + W_rec r_k + W_fb r_{k+1}))."""
    model = net(input_area="V2", input_pool=2)
    assert model.area_names == ["V1", "V2", "V4", "IT", "PPC", "PFC"] and model.dt == 10.0
    x = torch.rand(3, 12, 1, 8, 8)
    with dc.record(model) as rec, torch.no_grad():
        logits = model(x)
    assert logits.shape == (3, 12, 3)
    ppc, pfc, v2 = rec["PPC"].flatten(2), rec["PFC"].flatten(2), rec["V2"]
    conns = {(c.src, c.dst): c for c in model.connections}
    w_rec = model.areas[4].recurrence.weight
    w_in = conns[("V2", "PPC")].op
    w_fb = conns[("PFC", "PPC")].op.weight
    w_ff = conns[("PPC", "PFC")].op
    for n in range(5, 11):
        drive = w_in(v2[:, n]).flatten(1) + ppc[:, n] @ w_rec.T + pfc[:, n] @ w_fb.T
        expected = ppc[:, n] + 10.0 / 100.0 * (-ppc[:, n] + torch.relu(drive))
        assert torch.allclose(ppc[:, n + 1], expected, atol=1e-5)
        drive2 = w_ff(ppc[:, n, :, None, None]).flatten(1) + pfc[:, n] @ model.areas[5].recurrence.weight.T
        assert torch.allclose(pfc[:, n + 1], pfc[:, n] + 10.0 / 50.0 * (-pfc[:, n] + torch.relu(drive2)), atol=1e-5)
    readout = model.readout.linear
    assert torch.allclose(logits[:, -1], readout(pfc[:, -1, :8]), atol=1e-5)  # excitatory units: 80 % of 10


def test_feedback_delay_reads_the_history():
    model = net(t_feedback_ms=30.0)
    fb = next(c for c in model.connections if c.kind == "feedback" and c.dst == "PPC")
    assert fb.delay == 30.0
    x = torch.rand(2, 10, 1, 8, 8)
    a = model(x)
    fb.op.raw.data.zero_()  # without feedback only PFC's influence on PPC is gone
    b = model(x)
    assert not torch.allclose(a, b)
    model2 = net(t_feedback_ms=0.0)
    assert not torch.allclose(model2(x), a)  # the 30 ms delay changes the trajectory


def dale_ok(model):
    for area in model.areas[4:]:
        w, s = area.recurrence.weight, area.recurrence.signs
        if not ((w[:, s > 0] >= 0).all() and (w[:, s < 0] <= 0).all()):
            return False
    for c in model.connections[-2:]:  # PPC -> PFC and PFC -> PPC: only excitatory source units project
        src = model.dale_signs()[c.src]
        if not ((c.op.weight[:, src > 0] >= 0).all() and (c.op.weight[:, src <= 0] == 0).all()):
            return False
    return True


def test_dale_law_holds_after_training_steps():
    model = net()
    signs = model.dale_signs()
    assert int((signs["PPC"] > 0).sum()) == 16 and int((signs["PFC"] > 0).sum()) == 8
    assert dale_ok(model)
    opt = torch.optim.Adam(model.parameters(), lr=0.5)  # large steps: raw weights change sign freely
    x = torch.rand(4, 6, 1, 8, 8)
    before = model.areas[4].recurrence.raw.detach().clone()
    for _ in range(5):
        opt.zero_grad()
        (model(x)[:, -1] * torch.randn(4, 3)).sum().backward()
        opt.step()
    assert (torch.sign(model.areas[4].recurrence.raw) != torch.sign(before)).any()  # raw signs did flip
    assert dale_ok(model)  # the effective weights kept theirs
    rho = torch.linalg.eigvals(net().areas[4].recurrence.weight).abs().max()
    assert float(rho.detach()) == pytest.approx(0.9, rel=1e-4)  # spectral radius at initialisation


def loss_of(model):
    return model(torch.rand(4, 8, 1, 8, 8)).pow(2).mean()


def test_frozen_frontend_gets_no_gradient():
    model = net(freeze_frontend=True)
    front = model.frontend_parameters()
    assert front and all(not p.requires_grad for p in front)
    model.train()
    assert all(not a.training for a in model.areas[:4]) and not model.stem.training
    assert model.areas[4].training
    loss_of(model).backward()
    assert all(p.grad is None for p in front)
    own = [p for p in model.parameters() if p.requires_grad]
    assert own and all(p.grad is not None and p.grad.abs().sum() > 0 for p in own)


def test_end_to_end_gradient_reaches_every_parameter():
    model = net()
    loss_of(model).backward()
    names = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not names
    assert len(model.frontend_parameters()) > 0 and all(p.requires_grad for p in model.frontend_parameters())
    assert not any("readout.2" in n for n, _ in model.named_parameters())  # the front-end's own readout is dropped


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="input_area"):
        net(input_area="V9")
    with pytest.raises(ValueError, match="clash"):
        MultiAreaRNN(frontend(), MultiAreaConfig(areas=[RNNAreaConfig(name="IT")]), 3)
    with pytest.raises(ValidationError, match="unique"):
        MultiAreaConfig(areas=[RNNAreaConfig(name="A"), RNNAreaConfig(name="A")])
    with pytest.raises(ValidationError, match="excitatory_fraction"):
        MultiAreaConfig(excitatory_fraction=1.0)
    with pytest.raises(ValidationError, match="activation"):
        MultiAreaConfig(activation="nope")


def test_cordsnet_front_end():
    front = dc.create_model("cordsnet", channels=(8,) * 8, input_size=32, in_channels=1, dt=2.0)
    model = MultiAreaRNN(front, MultiAreaConfig(freeze_frontend=True), n_outputs=3)
    assert model.area_names[-3:] == ["A7", "PPC", "PFC"] and model.dt == 2.0
    assert model(torch.rand(2, 5, 1, 32, 32)).shape == (2, 5, 3)
