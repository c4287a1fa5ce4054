"""Training on cognitive tasks through Lightning, delay-period fixed points, decision-dynamics plot."""

import json
from pathlib import Path

import pytest
import torch

from dynacortex.analysis import vector_field
from dynacortex.analysis.spectrum import dense_jacobian
from dynacortex.cognitive import Period, TaskSpec, TrialsConfig, get_task, make_batch
from dynacortex.cognitive.raster import fixation_frame
from dynacortex.cognitive.analysis import choice_projection, delay_fixed_points, plot_decision_dynamics
from dynacortex.cognitive.config import TaskTrainConfig
from dynacortex.cognitive.module import TaskModule
from dynacortex.cognitive.train import train_task
from dynacortex.training import load_checkpoint

from .helpers import single_thread

# one torch thread in every test here, set and restored per test (see conftest.one_thread): the results and the
# time of a test must not depend on which tests ran before it
pytestmark = pytest.mark.usefixtures("one_thread")

# tiny settings: 8-channel DyRCNNx4 front-end (frozen, random), dt = tau = 20 ms, RNN reads V1 pooled 4x4
TINY = {
    "frontend": {"name": "dyrcnnx4", "channels": [8, 8, 8, 8], "dt": 20.0, "tau": 20.0, "t_recurrence": 0.0},
    "network": {"input_area": "V1", "input_pool": 4, "freeze_frontend": True},
    "optim": {"lr": 0.01, "schedule": "none", "weight_decay": 0.0},
    "trainer": {"max_epochs": 1, "progress_bar": False, "accelerator": "cpu"},
    "batch_size": 32, "eval_trials": 128,
}

# perceptual decision at easier settings than the built-in (noise 0.3, coherence 0.5 and 1, 200 ms stimulus)
EASY_DECISION = TaskSpec(
    name="decision_tiny", trials=TrialsConfig(generator="classify", classes=[0, 1], coherence=[0.5, 1.0]),
    periods=[Period(name="fixation", duration_ms=(60, 140), show=["fixation"]),
             Period(name="stimulus", duration_ms=200, show=["fixation", "stimulus"], noise_std=0.3),
             Period(name="response", duration_ms=100, target="choice", loss_weight=5.0)])


@pytest.fixture(scope="module")
def decision_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    cfg = TaskTrainConfig.model_validate({**TINY, "name": "pd", "out_dir": str(out), "batches_per_epoch": 100,
                                          "task": EASY_DECISION.model_dump(mode="json")})
    with single_thread():  # a module fixture: it cannot use the per-test one_thread
        return cfg, train_task(cfg)


def test_perceptual_decision_trains_above_chance_with_lightning(decision_run):
    cfg, metrics = decision_run
    assert metrics["chance"] == 0.5
    assert metrics["test_accuracy"] > 0.8  # measured 1.0 on 128 held-out trials (test-split digits)
    saved = json.loads((cfg.run_dir / "metrics.json").read_text())
    assert saved["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    ckpt = load_checkpoint(cfg.run_dir / "checkpoints" / "last.ckpt")
    assert ckpt["global_step"] == 100
    assert not any("areas.0." in k and ".log_tau" not in k for k in ckpt["optimizer_states"][0]["param_groups"][0])
    assert not list(cfg.run_dir.rglob("*.tmp*"))


def test_decision_dynamics_separate_the_choices(decision_run, tmp_path):
    _, metrics = decision_run
    module = metrics["module"]
    spec = module.spec
    batch = make_batch(spec, module.test_trials, 64, module.model.dt, torch.Generator().manual_seed(5), False)
    proj = choice_projection(module.model, batch)
    assert proj.shape == (64, batch.timeline.n_steps)
    resp = batch.timeline.steps("response")
    mean = proj[:, resp].mean(1)
    assert mean[batch.choice == 1].mean() > mean[batch.choice == 0].mean()  # choice 1 lies up the w_2 - w_1 axis
    path = plot_decision_dynamics(module.model, batch, tmp_path / "decision.png")
    assert path.is_file() and path.with_suffix(".svg").is_file()


def test_delay_fixed_points_have_small_residual():
    spec = get_task("delayed_match_to_sample")
    spec = spec.model_copy(update={"trials": TrialsConfig(generator="match", classes=[0, 1]), "image_size": 8})
    small = {**TINY["frontend"], "channels": [4, 4, 4, 4]}  # 8 x 8 images: 468 state variables in all
    module = TaskModule({**TINY, "frontend": small, "task": spec.model_dump(mode="json")})
    batch = make_batch(spec, module.test_trials, 16, module.model.dt, torch.Generator().manual_seed(0), False)
    points = delay_fixed_points(module.model, spec, batch, condition="class", eigs=4)
    assert sorted(p.condition for p in points) == [0, 1]
    vf = vector_field(module.model, fixation_frame(spec, batch.x.shape[2]))
    for p in points:
        assert p.point.converged and p.point.residual < 1e-6  # |F| in rate/ms over all units
        assert set(p.rnn) == {"PPC", "PFC"} and p.rnn["PPC"].shape == (64,)
        leading = torch.linalg.eigvals(dense_jacobian(vf, p.point.state)).real.max()  # all 468 eigenvalues
        assert p.stable == bool(leading < 0)  # the check from 4 iterative eigenvalues agrees with the dense one
        assert p.stable  # untrained: leaky units, recurrent spectral radius 0.9
    with pytest.raises(ValueError, match="condition"):
        delay_fixed_points(module.model, spec, batch, condition="nope")


@pytest.mark.parametrize("name", ["delayed_match_to_sample", "context_categorisation"])
def test_other_tasks_run_through_the_module(name):
    spec = get_task(name)
    small = {**TINY["frontend"], "channels": [4, 4, 4, 4]}
    module = TaskModule({**TINY, "frontend": small, "batch_size": 4, "task": name})
    batch = module.batch(0, "train")
    loss, logits = module._loss(batch)
    assert logits.shape == (4, batch.timeline.n_steps, spec.n_outputs)
    loss.backward()
    assert all(p.grad is not None for p in module.model.parameters() if p.requires_grad)
    held_out = module.batch(0, "test")
    assert torch.equal(held_out.x, module.batch(0, "test").x)  # fixed held-out trials
    assert not torch.equal(batch.x, module.batch(1, "train").x)  # fresh training trials per batch


# context categorisation at shorter periods, one unconstrained area of 128 units (two Dale areas did not
# learn it within a few hundred batches; see docs/cognitive.md)
EASY_CONTEXT = TaskSpec(
    name="context_tiny", trials=TrialsConfig(generator="context", classes=[0, 1]),
    periods=[Period(name="fixation", duration_ms=40, show=["fixation"]),
             Period(name="cue", duration_ms=60, show=["fixation", "cue"]),
             Period(name="stimulus", duration_ms=160, show=["fixation", "cue", "stimulus"]),
             Period(name="response", duration_ms=60, target="choice", loss_weight=5.0)])


def test_context_categorisation_trains_above_chance(tmp_path):
    network = {**TINY["network"], "dale": False, "areas": [{"name": "R", "units": 128}]}
    cfg = TaskTrainConfig.model_validate({**TINY, "name": "ctx", "out_dir": str(tmp_path), "network": network,
                                          "batches_per_epoch": 150, "task": EASY_CONTEXT.model_dump(mode="json")})
    metrics = train_task(cfg)
    assert metrics["test_accuracy"] > 0.65  # chance 0.5; measured 0.86 on 128 held-out trials (19 s, 1 thread)


def test_comparison_with_recordings_finds_a_linear_readout_of_the_model():
    """Synthetic 'recordings': 30 of PFC's units with random gains plus 1% noise, in 40 ms bins. Predictivity and
    RSA are high once the conditions differ; shuffling the recording's condition labels destroys the match."""
    import numpy as np
    import xarray as xr

    from dynacortex.cognitive.recordings import compare_with_recordings, condition_averages

    spec = get_task("delayed_match_to_sample").model_copy(update={"image_size": 8})
    small = {**TINY["frontend"], "channels": [4, 4, 4, 4]}
    torch.manual_seed(0)
    module = TaskModule({**TINY, "frontend": small, "task": spec.model_dump(mode="json")})
    batch = make_batch(spec, module.test_trials, 180, module.model.dt, torch.Generator().manual_seed(0), False)
    by = ("class", "test_class")
    avg = condition_averages(module.model, batch, "PFC", by)
    assert avg.dims == ("condition", "time_ms", "unit") and avg.sizes["condition"] == 9 and avg.sizes["unit"] == 64
    rng = np.random.default_rng(0)
    times = np.arange(700.0, 881.0, 40.0)  # test and response periods: the conditions differ
    mixed = avg.interp(time_ms=times).values[..., rng.permutation(64)[:30]] * rng.uniform(0.5, 2.0, size=30)
    data = mixed + 0.01 * mixed.std() * rng.normal(size=mixed.shape)
    recording = xr.DataArray(data, dims=("condition", "time_ms", "neuron"),
                             coords={"condition": avg.condition.values, "time_ms": times})
    scores = compare_with_recordings(module.model, batch, recording, "PFC", by, folds=3)
    assert (scores.predictivity > 0.8).all() and float(scores.rsa.mean()) > 0.6  # measured 0.93-0.97 and 0.73
    shuffled = recording.copy(data=data[rng.permutation(9)])
    assert float(compare_with_recordings(module.model, batch, shuffled, "PFC", by, folds=3).rsa.mean()) < 0.3  # -0.2
    with pytest.raises(ValueError, match="conditions"):
        compare_with_recordings(module.model, batch, recording.assign_coords(condition=[f"x{i}" for i in range(9)]),
                                "PFC", by)


# Delayed match-to-sample at short periods: configs/tasks/dms_short.yaml (also run by benchmarks/bench_dms.py over
# seeds 0-4). Match is the XOR of the sample's and the test's class; supralinear units (k relu(x)^2) multiply
# the remembered sample's drive with the test's. With W_in at gain 1 the front-end's small rates left those units
# near zero and the network on a plateau at the majority answer (seed 2 only passed here; seeds 1, 3 and 4 had not
# left it after 600 batches); input_gain 4 with lr 0.003 leaves it after 190-290 batches (seeds 0-4: all 1.00).
DMS_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "tasks" / "dms_short.yaml"


def test_delayed_match_to_sample_trains_above_chance(tmp_path):
    cfg = TaskTrainConfig.from_yaml(DMS_CONFIG, ["seed=3", f"out_dir={tmp_path}"])
    metrics = train_task(cfg)
    assert metrics["test_accuracy"] > 0.75  # chance 0.5; measured 1.00 on 128 held-out trials (seed 3)
