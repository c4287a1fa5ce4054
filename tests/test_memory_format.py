"""Channels-last memory order (the default) and bf16 autocast: same values, gradients everywhere."""

import copy

import pytest
import torch
from torch import Tensor

import dynacortex as dc
from tests.test_model_zoo import SIZE, SMALL

CL = torch.channels_last


def _models(name: str):
    """The same weights in channels-last fp32, NCHW fp32 and NCHW fp64 (the reference)."""
    torch.manual_seed(0)
    cl = dc.create_model(name, dt=1.0, **SMALL[name])
    torch.manual_seed(0)
    nchw = dc.create_model(name, dt=1.0, channels_last=False, **SMALL[name])
    return cl, nchw, copy.deepcopy(nchw).double()


def _error(a: Tensor, ref: Tensor) -> float:
    return float((a.detach().double() - ref.detach()).abs().max())


@pytest.mark.parametrize("name", sorted(SMALL))
def test_channels_last_is_as_accurate_as_nchw(name):
    """Against a float64 run, channels-last fp32 errs no more than NCHW fp32 (values and gradients).

    CORnet-RT's small setting has 4 channels per GroupNorm group: with 1 (GroupNorm(32, 32)) a group
    is one channel, nearly constant in the first steps (a weak input plus the conv bias), and GroupNorm
    divides its rounding by sqrt(eps): both fp32 orders are then up to 2 % off float64 in some gradients.
    """
    cl, nchw, ref = _models(name)
    assert cl.channels_last and not nchw.channels_last
    x = torch.rand(2, 3, SIZE[name], SIZE[name])
    states = []
    with cl.observe(lambda t, y: states.append(y)):
        out_cl = cl(x, n_steps=6)
    assert all(s.is_contiguous(memory_format=CL) for s in states[-1] if s.dim() == 4)
    out, out64 = nchw(x, n_steps=6), ref(x.double(), n_steps=6)
    tol = 1e-6 * float(out64.detach().abs().max())
    assert _error(out_cl, out64) <= 2 * _error(out, out64) + tol
    for y in (out_cl, out, out64):
        y.square().sum().backward()
    for (pname, p), q, r in zip(cl.named_parameters(), nchw.parameters(), ref.parameters()):
        assert (p.grad is None) == (q.grad is None) == (r.grad is None), pname
        if r.grad is not None:
            tol = 1e-6 * float(r.grad.abs().max()) + 1e-12
            assert _error(p.grad, r.grad) <= 2 * _error(q.grad, r.grad) + tol, pname


def test_switching_the_memory_order_converts_the_weights():
    model = dc.create_model("dyrcnnx4", **SMALL["dyrcnnx4"])
    weights = [p for p in model.parameters() if p.dim() == 4 and p.shape[1] > 1 and p.shape[-1] > 1]
    assert weights and all(p.is_contiguous(memory_format=CL) and not p.is_contiguous() for p in weights)
    model.channels_last = False
    assert all(p.is_contiguous() for p in weights)
    states = []
    with model.observe(lambda t, y: states.append(y)):
        model(torch.rand(2, 3, 32, 32), n_steps=2)
    assert all(s.is_contiguous() and not s.is_contiguous(memory_format=CL) for s in states[-1])


def test_bf16_autocast_tracks_fp32_and_trains_every_parameter():
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", recurrence="full", t_recurrence=6.0, **SMALL["dyrcnnx4"])
    x = torch.rand(4, 10, 3, 32, 32)
    with torch.no_grad():
        ref = model(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    assert out.dtype == torch.bfloat16  # autocast runs the readout's linear layer in bf16
    scale = ref.abs().max()
    assert (out - ref).abs().max() < 0.05 * scale  # bf16 has 8 mantissa bits: ~0.4 % per rounding
    torch.nn.functional.cross_entropy(out.flatten(0, 1), torch.randint(0, 10, (40,))).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, pname
