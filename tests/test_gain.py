"""Gain-limited recurrence: the operator norm obeys the bound, and networks stay stable."""

import pytest
import torch
import torch.nn.functional as F

import dynacortex as dc
from dynacortex.layers import limit_gain, make_recurrence
from dynacortex.layers.gain import advance_gain_estimates
from dynacortex.layers.recurrence import RECURRENCE_TYPES


def operator_norm(module, channels, size=6):
    """Exact 2-norm of the linear map x -> module(x) on (channels, size, size) images (dense Jacobian)."""
    n = channels * size * size
    eye = torch.eye(n).view(n, channels, size, size)
    with torch.no_grad():
        jac = module(eye).reshape(n, n)
    return float(torch.linalg.matrix_norm(jac, ord=2))


@pytest.mark.parametrize("kind", [k for k in RECURRENCE_TYPES if k not in ("none", "identity")])
def test_limited_recurrence_obeys_the_bound(kind):
    torch.manual_seed(0)
    rec = make_recurrence(kind, 5, kernel_size=3)
    with torch.no_grad():
        for p in rec.parameters():
            p.mul_(50.0)  # far beyond the bound
    assert operator_norm(rec, 5) > 2.0
    limit_gain(rec, 0.8)
    for _ in range(30):  # power iteration converges over training simulations (one step each)
        advance_gain_estimates(rec)
    assert operator_norm(rec, 5) <= 0.8 * 1.05


def test_gain_limit_keeps_a_strongly_recurrent_network_stable():
    x = torch.rand(1, 3, 16, 16)
    finals = {}
    for gain in (None, 0.9):
        torch.manual_seed(0)
        model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7), recurrence_gain=gain)
        with torch.no_grad():
            for area in model.areas:
                w = area.recurrence.parametrizations.weight.original if gain else area.recurrence.weight
                w.mul_(30.0)
            for _ in range(20):
                model(x, n_steps=1)  # converge the norm estimates
            model.eval()
            with dc.record(model, ["IT"]) as rec:
                model(x, n_steps=300)
        finals[gain] = rec["IT"]
    assert not torch.isfinite(finals[None][:, -1]).all() or finals[None][:, -1].abs().max() > 1e6
    limited = finals[0.9]
    assert torch.isfinite(limited).all()
    assert (limited[:, -1] - limited[:, -2]).abs().max() < 1e-4  # settled to a fixed point


def test_gain_limited_model_trains():
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7), recurrence_gain=0.9, recurrence="depthpointwise")
    loss = F.cross_entropy(model(torch.rand(2, 3, 16, 16), n_steps=10)[:, -1], torch.tensor([1, 2]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_gain_on_identity_recurrence_is_refused():
    with pytest.raises(ValueError, match="recurrence_gain: cannot bound"):
        dc.create_model("dyrcnnx4", recurrence="identity", recurrence_gain=0.5)
    with pytest.raises(ValueError, match="recurrence_gain"):
        dc.create_model("dyrcnnx4", recurrence_gain=0.0)
