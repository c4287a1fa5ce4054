"""estimate_memory: counts what autograd keeps (the benchmark compares it with measured peaks)."""

import pytest

import dynacortex as dc


def test_estimate_is_linear_in_batch_and_counts_parameters():
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7))
    small = dc.estimate_memory(model, (2, 6, 3, 16, 16))
    large = dc.estimate_memory(model, (8, 6, 3, 16, 16))
    assert large["activations"] == pytest.approx(4 * small["activations"], rel=0.05)
    assert small["parameters"] == pytest.approx(sum(p.numel() for p in model.parameters()) * 4 / 2**20)
    assert small["total"] == pytest.approx(sum(v for k, v in small.items() if k != "total"))


def test_checkpointing_estimate_is_smaller_on_long_runs():
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7))
    full = dc.estimate_memory(model, (4, 3, 16, 16), n_steps=40)
    ckpt = dc.estimate_memory(model, (4, 3, 16, 16), n_steps=40, checkpoint_every=8)
    assert ckpt["activations"] < 0.6 * full["activations"]


def test_estimate_input_shape_validated():
    with pytest.raises(ValueError, match="input_shape"):
        dc.estimate_memory(dc.create_model("dyrcnnx4"), (3, 32, 32))


def test_checkpointing_every_step_keeps_each_state_once():
    """With k = 1 the boundaries' delay histories overlap: the estimate counts every state once, so it is
    below the full estimate (measured 0.48x at the reference configuration, benchmarks/results/memory.json)."""
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7))
    full = dc.estimate_memory(model, (4, 3, 16, 16), n_steps=20)
    every = [dc.estimate_memory(model, (4, 3, 16, 16), n_steps=20, checkpoint_every=k)["activations"] for k in (1, 2, 4)]
    assert every[0] < every[1] < every[2] < full["activations"]
