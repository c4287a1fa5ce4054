"""Every registered model: forward/backward, gradients reach every parameter, every solver, pinned sizes."""

import pytest
import torch

import dynacortex as dc
from dynacortex.models.cornet import load_cornet_rt_weights

SMALL = {"dyrcnnx4": dict(channels=(4, 5, 6, 7)), "cornet_rt": dict(channels=(32, 32, 32, 32), norm_groups=8),
         "blt": dict(channels=(6, 8, 10, 12), stem_channels=4),
         "cordsnet": dict(channels=(4, 4, 6, 6, 8, 8, 10, 10), input_size=32),
         "rresnet": dict(recurrence="depthwise")}
SIZE = {"dyrcnnx4": 32, "cornet_rt": 64, "blt": 32, "cordsnet": 32, "rresnet": 32}  # CORnet-RT's IT is 1x1 at 32x32, too small for GroupNorm
PINNED = {("dyrcnnx4", 10): 1_164_473, ("cornet_rt", 10): 4_701_066, ("cornet_rt", 1000): 5_208_936,
          ("blt", 10): 6_256_394, ("cordsnet", 10): 11_966_420, ("cordsnet", 1000): 12_475_280,
          ("rresnet", 1000): 17_956_392}


def test_every_model_has_small_settings():
    # the SSN and the DN model have no readout (tests/test_ei.py, tests/test_cortex_metrics.py)
    assert set(dc.list_models()) == set(SMALL) | {"ssn", "dn"}


@pytest.mark.parametrize("name,classes", sorted(PINNED))
def test_parameter_counts_pinned(name, classes):
    model = dc.create_model(name, num_classes=classes)
    assert sum(p.numel() for p in model.parameters()) == PINNED[(name, classes)]


@pytest.mark.parametrize("solver", ["euler", "heun", "rk4", "exp_euler"])
@pytest.mark.parametrize("name", sorted(SMALL))
def test_forward_backward_with_every_solver(name, solver):
    model = dc.create_model(name, solver=solver, dt=1.0, tau=5.0, **SMALL[name])
    logits = model(torch.rand(2, 3, SIZE[name], SIZE[name]), n_steps=12)
    assert logits.shape == (2, 12, 10) and torch.isfinite(logits).all()
    logits[:, -1].logsumexp(-1).sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, pname


def test_cornet_rt_start_up_rule():
    """skip_input_at_rest (default): V2's first output is ReLU(norm1.bias), as CORnet-RT's (whose
    reproduction tests/test_published_weights.py checks); off: the ODE's Phi(inp(0)). Later steps run
    the input stage either way; learnable delays have no rest time and are refused with it."""
    x = torch.rand(2, 3, 64, 64)
    runs = {}
    for skip in (True, False):
        model = dc.create_model("cornet_rt", skip_input_at_rest=skip, **SMALL["cornet_rt"])
        with torch.no_grad():
            for p in model.parameters():
                p.normal_()
        with dc.record(model, ["V1", "V2"]) as rec, torch.no_grad():
            model(x, n_steps=2)
        runs[skip] = (model, rec["V1"], rec["V2"])
    model, v1, v2 = runs[True]
    bias = model.areas[1].phi[1].bias
    assert torch.equal(v2[:, 0], torch.relu(bias).view(1, -1, 1, 1).expand_as(v2[:, 0]))
    with torch.no_grad():
        plain = runs[False][0]
        first = plain.areas[1].phi(plain.connections[0].op(torch.zeros_like(v1[:, 0])))
        assert torch.allclose(runs[False][2][:, 0], first, atol=1e-5)
        second = model.areas[1].phi(model.connections[0].op(v1[:, 0]) + v2[:, 0])
    assert torch.allclose(v2[:, 1], second, atol=1e-5)
    assert not torch.allclose(runs[False][2][:, 0], v2[:, 0], atol=1e-2)
    with pytest.raises(ValueError, match="skip_input_at_rest"):
        dc.create_model("cornet_rt", learn_delays=True)
    dc.create_model("cornet_rt", learn_delays=True, skip_input_at_rest=False)


def published_cornet_state(classes=1000):
    """A synthetic state dict with the published CORnet-RT key names and shapes ('module.' prefix)."""
    chans, state = (3, 64, 128, 256, 512), {}
    for i, area in enumerate(("V1", "V2", "V4", "IT")):
        cin, c, k = chans[i], chans[i + 1], 7 if i == 0 else 3
        state |= {f"module.{area}.conv_input.weight": torch.randn(c, cin, k, k), f"module.{area}.conv_input.bias": torch.randn(c),
                  f"module.{area}.norm_input.weight": torch.randn(c), f"module.{area}.norm_input.bias": torch.randn(c),
                  f"module.{area}.conv1.weight": torch.randn(c, c, 3, 3),
                  f"module.{area}.norm1.weight": torch.randn(c), f"module.{area}.norm1.bias": torch.randn(c)}
    state |= {"module.decoder.linear.weight": torch.randn(classes, 512), "module.decoder.linear.bias": torch.randn(classes)}
    return {"epoch": 25, "state_dict": state}


def test_load_published_cornet_rt_weights(tmp_path):
    ckpt = published_cornet_state()
    torch.save(ckpt, tmp_path / "cornet_rt.pth")
    model = dc.create_model("cornet_rt", num_classes=1000)
    load_cornet_rt_weights(model, tmp_path / "cornet_rt.pth")
    sd = ckpt["state_dict"]
    assert torch.equal(model.stem[0].weight, sd["module.V1.conv_input.weight"])
    assert torch.equal(model.connections[2].op[1].bias, sd["module.IT.norm_input.bias"])
    assert torch.equal(model.areas[1].phi[0].weight, sd["module.V2.conv1.weight"])
    assert torch.equal(model.readout[2].weight, sd["module.decoder.linear.weight"])
    ten = dc.create_model("cornet_rt")  # ImageNet body into a 10-class model
    with pytest.raises(ValueError, match="decoder.linear.weight has shape"):
        load_cornet_rt_weights(ten, tmp_path / "cornet_rt.pth")
    load_cornet_rt_weights(ten, tmp_path / "cornet_rt.pth", strict_decoder=False)
    assert torch.equal(ten.areas[3].phi[0].weight, sd["module.IT.conv1.weight"])


def test_load_cornet_weights_errors(tmp_path):
    model = dc.create_model("cornet_rt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_cornet_rt_weights(model, tmp_path / "missing.pth")
    torch.save({"state_dict": {"module.V1.conv.weight": torch.zeros(1)}}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not a CORnet-RT state dict"):
        load_cornet_rt_weights(model, tmp_path / "other.pth")
    (tmp_path / "broken.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        load_cornet_rt_weights(model, tmp_path / "broken.pth")


def test_cornet_config_validation():
    with pytest.raises(ValueError, match="norm_groups"):
        dc.create_model("cornet_rt", channels=(30, 32, 32, 32))
    with pytest.raises(ValueError, match="tau"):
        dc.create_model("cornet_rt", tau=(1.0, 2.0))


def test_blt_variants_differ_by_lateral_and_top_down_convolutions():
    """B, BL, BT, BLT: L adds C_n^2 9 per area, T adds C_{n+1} C_n 9 per pair (no biases)."""
    count = {(lat, td): sum(p.numel() for p in dc.create_model("blt", lateral=lat, top_down=td).parameters())
             for lat in (False, True) for td in (False, True)}
    c = (64, 128, 256, 512)
    lateral = sum(ch * ch * 9 for ch in c)
    top_down = sum(c[i] * c[i + 1] * 9 for i in range(3))
    assert count[(True, False)] - count[(False, False)] == lateral
    assert count[(False, True)] - count[(False, False)] == top_down
    assert count[(True, True)] == count[(False, False)] + lateral + top_down


def test_blt_top_down_reaches_v1_after_t_feedback():
    """V2's state first moves at 4 ms; with t_feedback = 8 ms its top-down drive reaches V1 at 12 ms,
    so V1's state differs from the run without top-down weights from t = 14 ms on."""
    x = torch.rand(1, 3, 32, 32)
    m = dc.create_model("blt", t_feedback=8.0, **SMALL["blt"])
    recs = []
    for _ in range(2):
        with dc.record(m, ["V1"]) as rec, torch.no_grad():
            m(x, n_steps=10)
        recs.append(rec["V1"])
        with torch.no_grad():
            for c in m.connections:
                if c.kind == "feedback":
                    c.op.conv.weight.zero_()
    assert torch.equal(recs[0][:, :6], recs[1][:, :6])  # t = 2 ... 12 ms
    assert not torch.allclose(recs[0][:, 6], recs[1][:, 6])  # t = 14 ms


def test_cordsnet_is_the_synchronous_update_of_the_paper():
    """Euler with zero delays: r <- (1 - alpha) r + alpha ReLU(W_rec r + b + W_in h), every area from the
    previous step's rates, h with ResNet-18's skips."""
    model = dc.create_model("cordsnet", **SMALL["cordsnet"])
    with torch.no_grad():
        for area in model.areas:
            area.phi[0].bias.normal_()  # non-zero spatial biases
    x = torch.rand(2, 3, 32, 32)
    alpha = model.dt / 10.0
    with torch.no_grad():
        logits = model(x, n_steps=6)
        stem = model.stem(x)
        w_in = [model.stimulus_paths["A0"]] + [c.op for c in model.connections if c.kind == "feedforward"]
        s_in = model.stimulus_paths["A1"][0]
        skips = [c.op[0] for c in model.connections if c.kind == "skip" and isinstance(c.op, torch.nn.Sequential)]
        r = [torch.zeros(2, a.channels, *a.phi[0].bias.shape[1:]) for a in model.areas]
        outs = []
        for _ in range(6):
            h = [stem, r[0] + s_in(stem), r[1] + r[0], r[2] + skips[0](r[1]), r[3] + r[2], r[4] + skips[1](r[3]),
                 r[5] + r[4], r[6] + skips[2](r[5])]
            r = [(1 - alpha) * ri + alpha * torch.relu(a.recurrence(ri) + a.phi[0].bias + w(hi))
                 for ri, a, w, hi in zip(r, model.areas, w_in, h)]
            outs.append(model.readout(r[6], r[7]))
    assert torch.allclose(logits, torch.stack(outs, 1), atol=1e-5)


@pytest.mark.parametrize("depth,count", [(18, 11_689_512), (34, 21_797_672)])
def test_rresnet_without_recurrence_is_a_resnet(depth, count):
    """torchvision's resnet18/34 counts (GroupNorm has BatchNorm's affine parameters), and with dt = tau
    the top block after L steps equals the feed-forward ResNet."""
    model = dc.create_model("rresnet", depth=depth, recurrence="none", num_classes=1000, tau=2.0)
    assert sum(p.numel() for p in model.parameters()) == count
    if depth == 34:
        return
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        logits = model(x, n_steps=len(model.areas))
        h = torch.relu(model.stem(x))
        for conn in model.connections:
            h = torch.relu(conn.op(h))
        assert torch.allclose(logits[:, -1], model.readout(h), atol=1e-4)
