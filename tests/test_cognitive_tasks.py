"""Cognitive task specs: rasterisation at any dt (period boundaries, masks, targets, frames), validation, user tasks."""

import pytest
import torch
import yaml
from pydantic import ValidationError

from dynacortex.cognitive import (
    Period, TaskSpec, TrialSampler, TrialsConfig, fixation_frame, get_task, list_tasks, make_batch, register_task,
    timeline,
)
from dynacortex.training import masked_cross_entropy


def three_periods(**kw):
    return TaskSpec(name="t", periods=[
        Period(name="fixation", duration_ms=100, show=["fixation"]),
        Period(name="stimulus", duration_ms=250, show=["fixation", "stimulus"], **kw),
        Period(name="response", duration_ms=50, target="choice", loss_weight=4.0),
    ])


@pytest.mark.parametrize("dt, counts", [
    (10.0, [10, 25, 5]), (2.5, [40, 100, 20]), (1.0, [100, 250, 50]),
    # 400 / 7 = 57.1 -> 57 steps; step n starts at 7n ms: [0, 100) holds n = 0..14, [100, 350) n = 15..49
    (7.0, [15, 35, 7]),
    (30.0, [4, 8, 1]),  # 13 steps; starts 0..90 | 120..330 | 360
])
def test_period_boundaries_at_any_dt(dt, counts):
    line = timeline(three_periods(), dt)
    assert line.n_steps == round(400 / dt)
    assert [int(line.steps(n).sum()) for n in ("fixation", "stimulus", "response")] == counts
    start = torch.arange(line.n_steps) * dt
    for k, (a, b) in enumerate(line.bounds_ms):
        inside = (start >= a - 1e-9) & (start < b - 1e-9)
        assert torch.equal(line.period == k, inside)


def test_ranges_are_drawn_per_batch_and_midpoints_without_generator():
    spec = TaskSpec(name="r", periods=[Period(name="fixation", duration_ms=(100, 300), show=["fixation"]),
                                       Period(name="response", duration_ms=50, target="choice")])
    assert timeline(spec, 10.0).bounds_ms[0] == (0.0, 200.0)
    g = torch.Generator().manual_seed(0)
    drawn = [timeline(spec, 10.0, g).bounds_ms[0][1] for _ in range(50)]
    assert all(100 <= d <= 300 for d in drawn) and max(drawn) - min(drawn) > 100


def test_batch_frames_targets_and_mask():
    spec = three_periods(noise_std=0.5)
    sampler = TrialSampler(spec.trials, spec.image_size)
    b = make_batch(spec, sampler, 64, 5.0, torch.Generator().manual_seed(1), random_timing=False)
    line = b.timeline
    assert b.x.shape == (64, 80, 1, 16, 16) and b.target.shape == b.mask.shape == (64, 80)
    fix, stim, resp = (line.steps(n) for n in ("fixation", "stimulus", "response"))
    assert torch.equal(b.x[:, fix], fixation_frame(spec, 1).expand(64, int(fix.sum()), 1, 16, 16))
    assert torch.equal(b.x[:, resp], torch.zeros(64, int(resp.sum()), 1, 16, 16))  # fixation off = go
    assert (b.target[:, fix | stim] == 0).all() and torch.equal(b.target[:, resp], (1 + b.choice)[:, None].expand(-1, 10))
    assert (b.mask[:, fix | stim] == 1).all() and (b.mask[:, resp] == 4).all()
    clean = make_batch(three_periods(), sampler, 64, 5.0, torch.Generator().manual_seed(1), random_timing=False)
    assert torch.equal(clean.choice, b.choice)  # same trials: the noise is drawn last
    resid = b.x - clean.x
    assert (resid[:, ~stim] == 0).all()
    assert 0.45 < float(resid[:, stim].std()) < 0.55  # std 0.5
    assert torch.equal(resid[:, stim][:, 0], resid[:, stim][:, 1])  # one noise frame per 10 ms = two 5 ms steps
    assert not torch.equal(resid[:, stim][:, 1], resid[:, stim][:, 2])
    assert (clean.x[:, stim] >= fixation_frame(spec, 1)).all() and (clean.x[:, stim].sum((2, 3, 4)) > 5).all()
    assert torch.equal(b.conditions["class"], b.choice)  # classify: the choice is the class index


def test_match_and_context_trials():
    g = torch.Generator().manual_seed(0)
    match = TrialSampler(TrialsConfig(generator="match", classes=[0, 1, 2]), 16).sample(400, g)
    same = match.conditions["class"] == match.conditions["test_class"]
    assert torch.equal(match.choice, same.long()) and 0.4 < float(same.float().mean()) < 0.6
    ctx = TrialSampler(TrialsConfig(generator="context", classes=[0, 1]), 16).sample(200, g)
    c = ctx.conditions
    assert torch.equal(ctx.choice, torch.where(c["context"] == 0, c["class"], c["side"]))
    left = ctx.layers["stimulus"][:, :, :, :8].sum((1, 2, 3)) > 0
    right = ctx.layers["stimulus"][:, :, :, 8:].sum((1, 2, 3)) > 0
    assert torch.equal(right, c["side"] == 1) and torch.equal(left, c["side"] == 0)
    rows = ctx.layers["cue"][:, 0, 0, 4] == 1  # top row lit: context 0
    assert torch.equal(rows, c["context"] == 0)


@pytest.mark.parametrize("name", ["perceptual_decision", "delayed_match_to_sample", "context_categorisation"])
def test_builtin_tasks_rasterise(name):
    spec = get_task(name)
    b = make_batch(spec, TrialSampler(spec.trials, spec.image_size), 8, 20.0, torch.Generator().manual_seed(0))
    choice_steps = b.target[0] > 0
    assert choice_steps.any() and (b.mask[:, choice_steps] == 5).all()
    assert b.target.max() <= spec.trials.n_choices and spec.n_outputs == 1 + spec.trials.n_choices
    assert name in list_tasks()


def test_user_task_from_yaml_and_registry(tmp_path):
    path = tmp_path / "go.yaml"
    path.write_text(yaml.safe_dump({
        "name": "three_digits", "image_size": 12, "trials": {"generator": "classify", "classes": [3, 5, 8]},
        "periods": [{"name": "fixation", "duration_ms": [100, 200], "show": ["fixation"]},
                    {"name": "stimulus", "duration_ms": 200, "show": ["fixation", "stimulus"], "noise_std": 0.2},
                    {"name": "response", "duration_ms": 100, "target": "choice", "loss_weight": 5}]}))
    spec = get_task(path)
    assert spec.n_outputs == 4
    b = make_batch(spec, TrialSampler(spec.trials, 12), 4, 10.0, torch.Generator().manual_seed(0))
    assert b.x.shape[2:] == (1, 12, 12)
    register_task(spec.model_copy(update={"name": "three_digits_test"}))
    assert get_task("three_digits_test").trials.classes == [3, 5, 8]
    with pytest.raises(ValueError, match="already registered"):
        register_task(spec.model_copy(update={"name": "three_digits_test"}))


def test_invalid_specs_name_the_field():
    with pytest.raises(ValidationError, match="show"):
        TaskSpec(name="x", periods=[Period(name="a", duration_ms=10, show=["sample"]),
                                    Period(name="r", duration_ms=10, target="choice")])
    with pytest.raises(ValidationError, match="nothing to decide"):
        TaskSpec(name="x", periods=[Period(name="a", duration_ms=10)])
    with pytest.raises(ValidationError, match="duration_ms"):
        Period(name="a", duration_ms=(50, 10))
    with pytest.raises(ValidationError, match="classes"):
        TrialsConfig(generator="context", classes=[0, 1, 2])
    with pytest.raises(ValueError, match="built-in tasks"):
        get_task("no_such_task")


def test_masked_cross_entropy_weights_steps():
    logits = torch.randn(3, 5, 4)
    target = torch.randint(4, (3, 5))
    mask = torch.tensor([[0, 1, 2, 0, 1]] * 3, dtype=torch.float)
    ce = torch.nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none")
    expected = (ce * mask.flatten()).sum() / mask.sum()
    assert torch.allclose(masked_cross_entropy(logits, target, mask), expected)
    changed = logits.clone()
    changed[:, 0] += 100 * torch.randn(3, 4)  # masked-out step: no effect
    assert torch.allclose(masked_cross_entropy(changed, target, mask), expected)


def test_cli_lists_the_builtin_tasks():
    from typer.testing import CliRunner

    from dynacortex.cli import app

    result = CliRunner().invoke(app, ["task", "list"])
    assert result.exit_code == 0, result.output
    assert "delayed_match_to_sample: match, 2 choices" in result.output and "delay (200.0, 400.0) ms" in result.output
