"""DyRCNNx4 and the public API: shapes, registry, validation, recording, stability checks."""

import pytest
import torch

import dynacortex as dc

SMALL = dict(channels=(4, 5, 6, 7))


def test_parameter_count_pinned():
    """DynVision's DyRCNNx4 has 1,164,954 parameters (full, 10 classes): ours drops its 477 redundant
    recurrent biases and its 4 tau entries (a buffer here unless learn_tau)."""
    model = dc.create_model("dyrcnnx4")
    assert sum(p.numel() for p in model.parameters()) == 1_164_954 - 477 - 4


def test_registry():
    assert "dyrcnnx4" in dc.list_models()
    assert dc.list_models("dyrcnn*") == ["dyrcnnx4"]
    assert dc.list_models("cornet*") == ["cornet_rt"]
    info = dc.model_info("dyrcnnx4")
    assert info["parameters"] == 1_164_473 and info["areas"] == 4 and info["default_input"] == (3, 32, 32)
    with pytest.raises(ValueError, match=r"unknown model 'dyrcnx4'.*Did you mean \['dyrcnnx4'\]"):
        dc.create_model("dyrcnx4")


def test_forward_shapes():
    model = dc.create_model("dyrcnnx4", num_classes=7, **SMALL)
    assert model(torch.rand(2, 5, 3, 32, 32)).shape == (2, 5, 7)
    assert model(torch.rand(2, 3, 32, 32), n_steps=4).shape == (2, 4, 7)
    assert model(torch.rand(1, 3, 20, 28), n_steps=2).shape == (1, 2, 7)  # any size


def test_video_frames_are_held_per_step():
    """Frame n drives step n: a stimulus that starts at frame 3 changes nothing before t = 3 dt."""
    model = dc.create_model("dyrcnnx4", **SMALL)
    x = torch.zeros(1, 6, 3, 16, 16)
    x[:, 3:] = 1.0
    recs = []
    for stim in (torch.zeros_like(x), x):
        with dc.record(model, ["V1"]) as rec, torch.no_grad():
            model(stim)
        recs.append(rec["V1"])
    blank, flash = recs
    assert torch.equal(blank[:, :3], flash[:, :3])  # states at t = 1, 2, 3 dt
    assert not torch.allclose(blank[:, 3], flash[:, 3])  # frame 3 acts during step 3


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(dt=0.0), "dt"),
        (dict(dt=-1.0), "dt"),
        (dict(tau=0.0), "tau"),
        (dict(t_feedforward=-2.0), "t_feedforward"),
        (dict(t_recurrence=-1.0), "t_recurrence"),
        (dict(num_classes=0), "num_classes"),
        (dict(solver="rk5"), r"solver.*allowed values are"),
        (dict(activation="gelu"), r"activation.*allowed values are"),
        (dict(recurrence="conv"), "recurrence"),
        (dict(channels=(1, 2)), "channels"),
        (dict(tau=(1.0, 2.0)), "tau"),
        (dict(bogus=1), "bogus"),
        (dict(recurrence_kernel_size=4), "recurrence_kernel_size"),
    ],
)
def test_invalid_config_names_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dc.create_model("dyrcnnx4", **kwargs)


def test_bad_input_errors():
    model = dc.create_model("dyrcnnx4", **SMALL)
    with pytest.raises(ValueError, match="n_steps"):
        model(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="expected 3 channels, got 1"):
        model(torch.rand(1, 4, 1, 16, 16))
    with pytest.raises(ValueError, match=r"x: expected shape"):
        model(torch.rand(16, 16))
    with pytest.raises(ValueError, match="n_steps: 3 differs"):
        model(torch.rand(1, 4, 3, 16, 16), n_steps=3)


def test_stability_check_names_area_and_time():
    model = dc.create_model("dyrcnnx4", stability_check=True, **SMALL)
    with torch.no_grad():
        model.connections[1].op[1].weight.fill_(float("inf"))  # V2 -> V4 convolution
    with pytest.raises(dc.StabilityError, match=r"area 'V4' became NaN/Inf at t = 2 ms"):
        model(torch.rand(1, 3, 16, 16), n_steps=5)
    clean = dc.create_model("dyrcnnx4", stability_check=True, **SMALL)
    x = torch.rand(1, 3, 16, 16)
    x[0, 0, 0, 0] = float("nan")
    with pytest.raises(dc.StabilityError, match="stimulus contains NaN"):
        clean(x, n_steps=2)


def test_recording_shapes_and_no_graph():
    model = dc.create_model("dyrcnnx4", **SMALL)
    x = torch.rand(2, 3, 32, 32)
    with dc.record(model, ["V1", "IT"]) as rec:
        model(x, n_steps=6)
    assert rec["V1"].shape == (2, 6, 4, 32, 32)
    assert rec["IT"].shape == (2, 6, 7, 4, 4)
    assert not rec["IT"].requires_grad
    assert torch.allclose(rec.times, torch.arange(1, 7) * 2.0)
    with dc.record(model, ["IT"], keep_graph=True) as rec2:
        model(x, n_steps=2)
    assert rec2["IT"].requires_grad
    assert model._observers == []
    with pytest.raises(ValueError, match=r"areas: \['V3'\] do not exist.*V1"):
        with dc.record(model, ["V3"]):
            pass


def test_tau_variants():
    m = dc.create_model("dyrcnnx4", learn_tau=True, tau_per_channel=True, tau=(4.0, 5.0, 6.0, 7.0), **SMALL)
    assert m.areas[0].log_tau.shape == (4, 1, 1)
    assert torch.allclose(m.areas[3].tau, torch.full((7, 1, 1), 7.0))
    m(torch.rand(1, 3, 16, 16), n_steps=3).sum().backward()
    assert all(a.log_tau.grad is not None and a.log_tau.grad.abs().sum() > 0 for a in m.areas)
    fixed = dc.create_model("dyrcnnx4", **SMALL)
    assert "log_tau" not in dict(fixed.named_parameters())


def test_voltage_form_and_feedback_run():
    m = dc.create_model("dyrcnnx4", form="voltage", feedback=True, activation="supralinear", **SMALL)
    kinds = sorted(c.kind for c in m.connections)
    assert kinds.count("feedback") == 2 and kinds.count("skip") == 2
    out = m(torch.rand(1, 3, 16, 16), n_steps=25)
    assert torch.isfinite(out).all()


def test_feedback_arrives_after_t_feedback():
    """With feedback V4->V1 after 30 ms, V1 is identical to the no-feedback model until then."""
    x = torch.rand(1, 3, 16, 16)
    torch.manual_seed(0)
    with_fb = dc.create_model("dyrcnnx4", feedback=True, t_feedback=10.0, **SMALL)
    torch.manual_seed(0)
    without = dc.create_model("dyrcnnx4", **SMALL)
    without.load_state_dict({k: v for k, v in with_fb.state_dict().items() if k in without.state_dict()})
    fb_bias_free = [c for c in with_fb.connections if c.kind == "feedback"]
    with torch.no_grad():
        for c in fb_bias_free:
            c.op.conv.bias.zero_()
    recs = []
    for m in (with_fb, without):
        with dc.record(m, ["V1"]) as rec, torch.no_grad():
            m(x, n_steps=10)
        recs.append(rec["V1"])
    # V4 first moves at t = 2 dt (two areas down); feedback delay 10 ms = 5 steps; V1 then moves a step later
    assert torch.equal(recs[0][:, :6], recs[1][:, :6])
    assert not torch.allclose(recs[0][:, 9], recs[1][:, 9])
