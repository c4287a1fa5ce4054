"""Checkpointing over time with low-precision boundary states (``checkpoint_dtype``).

The forward pass is the full-precision one (logits equal a run without checkpointing); backward starts
its recomputation from rounded states, so gradients agree to the rounding of the kept states, and only
the low-precision copies stay alive between forward and backward.
"""

import gc

import pytest
import torch

import dynacortex as dc
from dynacortex.training import EnergyMeter, TrainConfig


def _model(solver="heun"):
    torch.manual_seed(0)
    return dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7), solver=solver, t_feedforward=2.0,
                           t_recurrence=4.0, feedback=True, t_feedback=6.0)


def _pass(model, x, every, dtype):
    model.zero_grad()
    with EnergyMeter(model) as meter:
        logits, _ = model.run(x, checkpoint_every=every, checkpoint_dtype=dtype)
    (logits.square().mean() + meter.value).backward()
    return logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("dtype,tol", [("float16", 2e-3), ("bfloat16", 1e-2), (torch.bfloat16, 1e-2)])
@pytest.mark.parametrize("every", [1, 3])
def test_forward_exact_gradient_within_rounding(dtype, tol, every):
    model, x = _model(), torch.rand(2, 11, 3, 16, 16)
    exact_logits, exact = _pass(model, x, None, None)
    logits, grads = _pass(model, x, every, dtype)
    assert torch.allclose(logits, exact_logits, rtol=0, atol=1e-6)
    errors = {n: float((grads[n] - g).norm() / g.norm()) for n, g in exact.items() if g.norm() > 0}
    assert max(errors.values()) < tol, errors
    assert 0 < sum(errors.values())  # the rounding is real: a test that would pass on exact gradients proves nothing


def test_only_low_precision_copies_stay_alive():
    """Between forward and backward, the boundary states are held as float16 copies, one per state."""
    model = dc.create_model("dyrcnnx4", channels=(3, 7, 11, 13), t_recurrence=4.0)  # shapes no other test makes
    x = torch.rand(2, 10, 3, 24, 24)
    shapes = None

    def alive(dtype):
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is torch.Tensor and o.dtype == dtype
                   and tuple(o.shape) in shapes)

    _, probe = model.run(x[:, :1])
    shapes = {tuple(s.shape) for s in probe.state}
    del probe
    logits, carry = model.run(x, checkpoint_every=1, checkpoint_dtype="float16")
    del carry
    assert alive(torch.float16) >= 4 * 10  # 4 areas x (the 10 states of the trial, shared by the boundaries)
    assert alive(torch.float16) <= 4 * 11
    assert alive(torch.float32) == 0
    logits.sum().backward()


def test_checkpoint_dtype_validated():
    model, x = _model(), torch.rand(1, 3, 3, 8, 8)
    with pytest.raises(ValueError, match=r"checkpoint_dtype: 'int8' is not one of \[None, 'bfloat16', 'float16'\]"):
        model.run(x, checkpoint_every=1, checkpoint_dtype="int8")
    with pytest.raises(ValueError, match="checkpoint_dtype: applies to checkpointed runs only"):
        model.run(x, checkpoint_dtype="float16")
    with pytest.raises(ValueError, match="checkpoint_dtype"):
        TrainConfig.model_validate({"trainer": {"checkpoint_dtype": "float16"}})
    assert TrainConfig.model_validate({"trainer": {"precision": 32}}).trainer.precision == "32"


def test_estimate_counts_the_smaller_states():
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7))
    shape = (4, 20, 3, 16, 16)
    fp32 = dc.estimate_memory(model, shape, checkpoint_every=1)
    half = dc.estimate_memory(model, shape, checkpoint_every=1, checkpoint_dtype="bfloat16")
    assert half["activations"] < fp32["activations"]
    assert half["transients"] > fp32["transients"]  # one boundary back in float32 while it is recomputed
