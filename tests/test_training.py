"""Training: learns above chance, resumes, presentation, config, DDP (gradients: test_training_gradients.py)."""

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

import dynacortex as dc
from dynacortex.training import (
    PresentationConfig, ReadoutConfig, TrainConfig, load_checkpoint, make_trial, present,
    temporal_cross_entropy, train,
)

TINY = [
    "model.channels=[16, 16, 16, 16]", "data.image_size=12", "data.batch_size=32", "trainer.progress_bar=false",
    "presentation.stimulus_ms=12", "trainer.loggers=[csv]", "optim.lr=0.005",
]


def tiny_config(tmp_path, *extra):
    src = tmp_path / "cfg.yaml"
    src.write_text(yaml.safe_dump({"name": "t", "out_dir": str(tmp_path / "runs"), "model": {"name": "dyrcnnx4"}}))
    return TrainConfig.from_yaml(src, [*TINY, *extra])


def test_short_training_beats_chance_and_writes_run_folder(tmp_path):
    cfg = tiny_config(tmp_path, "trainer.max_epochs=3")
    metrics = train(cfg)
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1
    run = cfg.run_dir
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert len(saved["test_accuracy_per_step"]) == 6
    assert yaml.safe_load((run / "config.yaml").read_text())["model"]["channels"] == [16, 16, 16, 16]
    assert json.loads((run / "environment.json").read_text())["seed"] == 0
    losses = [float(r.split(",")[-1]) for r in (run / "logs" / "metrics.csv").read_text().splitlines()[1:]
              if r.split(",")[-1] and "train_loss" in (run / "logs" / "metrics.csv").read_text().splitlines()[0]]
    assert losses, "no training loss logged"
    ckpt = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert ckpt["global_step"] == 3 * 45 and "state_dict" in ckpt  # 3 epochs of ceil(1438 / 32) batches
    # the normalisation travels with the weights (a Brain-Score plugin needs it without the data): the mean
    # gray of scikit-learn's digits (0-16), which upsampling keeps; their SD, which smoothing lowers
    from sklearn.datasets import load_digits

    saved, raw = ckpt["ImageDataModule"], load_digits().data / 16.0
    assert saved["classes"] == [str(i) for i in range(10)] and len(saved["mean"]) == len(saved["std"]) == 1
    assert abs(saved["mean"][0] - raw.mean()) < 0.005 and 0.2 < saved["std"][0] < raw.std()
    assert not list(run.rglob("*.tmp*")), "a temporary file was left behind"


def test_training_at_several_contrasts_scales_each_image(tmp_path):
    """data.contrast: each training image (normalised, so mean gray is 0) times its own contrast, drawn
    log-uniformly from [lo, hi] and the same for the same (seed, epoch, batch); evaluation images as stored."""
    from types import SimpleNamespace

    from dynacortex.training.datamodule import ImageDataModule

    cfg = tiny_config(tmp_path, "data.contrast=[0.0625, 1.0]").data
    dm = ImageDataModule(cfg, seed=3)
    dm.setup()
    images, labels = dm.train_set.images[:512], dm.train_set.labels[:512]
    plain = dm.normalize(images)

    def batch(training, ready=0):
        progress = SimpleNamespace(epoch_loop=SimpleNamespace(batch_progress=SimpleNamespace(
            current=SimpleNamespace(ready=ready))))
        dm.trainer = SimpleNamespace(training=training, current_epoch=1, fit_loop=progress)
        return dm.on_after_batch_transfer((images, labels), 0)[0]

    scaled = batch(True)
    c = (scaled.flatten(1) * plain.flatten(1)).sum(1) / (plain.flatten(1) ** 2).sum(1)  # per-image factor
    assert torch.allclose(scaled, c.view(-1, 1, 1, 1) * plain, atol=1e-5)
    assert c.min() >= 0.0625 - 1e-6 and c.max() <= 1 + 1e-6 and c.min() < 0.07 and c.max() > 0.9
    assert abs(float(c.log().mean()) - (torch.log(torch.tensor(0.0625)) / 2).item()) < 0.15  # log-uniform
    assert torch.equal(batch(True), scaled) and not torch.equal(batch(True, ready=1), scaled)
    assert torch.equal(batch(False), plain)


def _train_cli(*args):
    return subprocess.Popen([sys.executable, "-m", "dynacortex.cli", "train", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _config_file(tmp_path, name, *extra):
    cfg = tiny_config(tmp_path, *extra, f"name={name}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    return cfg, path


def test_killed_run_resumes_through_the_cli_to_the_same_result(tmp_path):
    """SIGKILL a CLI training mid-epoch, just after its first step checkpoint; `--resume` ends with the
    uninterrupted run's weights (bitwise), test accuracy and training log.

    3 epochs of 15 batches; checkpoints every 5 steps (trainer.save_every_n_steps) and every epoch.
    Random trial timing and augmentation make the batches differ by epoch and batch, so a resume that
    replayed the wrong batches, or restarted the epoch, would end elsewhere (skipping no batches: 4e-2
    off in the weights)."""
    extra = ["trainer.max_epochs=3", "trainer.limit_train_batches=15", "trainer.log_every_n_steps=2",
             "data.augment=true", "presentation.random_idle_ms=[0, 6]"]
    straight, straight_file = _config_file(tmp_path, "straight", *extra)
    killed, killed_file = _config_file(tmp_path, "killed", *extra)
    assert killed.run_dir.name[-8:] == straight.run_dir.name[-8:]  # the same experiment, another label
    done = _train_cli(straight_file)
    assert done.wait(600) == 0, done.stderr.read()[-3000:]

    proc = _train_cli(killed_file, "--set", "trainer.save_every_n_steps=5")
    last = killed.run_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while not last.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert alive, "the run ended before it could be killed"
    step = load_checkpoint(last)["global_step"]
    assert step in (5, 10), step  # killed mid-epoch 1 of 3 (15 steps an epoch), after a step checkpoint
    assert not (killed.run_dir / "metrics.json").exists()

    resumed = _train_cli(killed_file, "--resume")
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err[-3000:]
    assert f"resumed at step {step}; trained to step 45" in out, out
    a = load_checkpoint(straight.run_dir / "checkpoints" / "last.ckpt")
    b = load_checkpoint(last)
    assert a["global_step"] == b["global_step"] == 45
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for name, p in a["state_dict"].items():
        assert torch.equal(p, b["state_dict"][name]), name
    ma, mb = (json.loads((c.run_dir / "metrics.json").read_text()) for c in (straight, killed))
    assert ma["test_accuracy"] == mb["test_accuracy"] and mb["resumed_from_step"] == step
    # the training log continues: the rows logged before the kill are kept, none is repeated
    log_a, log_b = ((c.run_dir / "logs" / "metrics.csv").read_text() for c in (straight, killed))
    assert log_a == log_b and log_a.count("\n") > 20


def test_resume_without_checkpoint_is_refused_and_names_the_run_to_continue(tmp_path):
    with pytest.raises(FileNotFoundError, match="--resume: no checkpoint at .*start it without --resume"):
        train(tiny_config(tmp_path), resume=True)
    assert not (tmp_path / "runs").exists()  # refused before the run folder is made
    done = tiny_config(tmp_path, "trainer.max_epochs=1", "trainer.limit_train_batches=2")
    train(done)
    more = tiny_config(tmp_path, "trainer.max_epochs=2", "trainer.limit_train_batches=2")
    with pytest.raises(FileNotFoundError, match=rf"{done.run_dir} holds the same config trained for "
                                                r"trainer.max_epochs=1 .* --from"):
        train(more, resume=True)
    assert not more.run_dir.exists()


def test_a_finished_run_continues_with_from(tmp_path):
    """`--from RUN_DIR`: a new run (its own folder) that starts from the finished run's trained weights."""
    from typer.testing import CliRunner

    from dynacortex.cli import app

    first, first_file = _config_file(tmp_path, "first", "trainer.max_epochs=1", "trainer.limit_train_batches=3")
    trained = train(first)["model"]
    # a learning rate of 1e-12 moves no weight by more than ~1e-11: the run ends where it started
    res = CliRunner().invoke(app, ["train", str(first_file), "--from", str(first.run_dir), "--set", "optim.lr=1e-12"])
    assert res.exit_code == 0, res.output
    (second,) = [p for p in (tmp_path / "runs").iterdir() if p != first.run_dir]
    stored = yaml.safe_load((second / "config.yaml").read_text())
    assert stored["start_from"] == {"run": str(first.run_dir), "config_hash": first.run_dir.name[-8:], "global_step": 3}
    state = load_checkpoint(second / "checkpoints" / "last.ckpt")["state_dict"]
    for name, p in trained.state_dict().items():
        assert torch.allclose(state[f"model.{name}"], p, rtol=0, atol=1e-9), name
    # weights that do not fit the model are refused, before a folder is made
    res = CliRunner().invoke(app, ["train", str(first_file), "--from", str(first.run_dir),
                                   "--set", "model.channels=[8, 8, 8, 8]"])
    assert res.exit_code == 2 and "do not fit this model" in res.output, res.output
    assert len(list((tmp_path / "runs").iterdir())) == 2
    # the continuation's stored config names its own folder, and --resume needs only its own checkpoint
    again = TrainConfig.from_yaml(second / "config.yaml")
    assert again.run_dir == second
    shutil.rmtree(first.run_dir)
    assert train(again, resume=True)["resumed_from_step"] == 3


def test_load_model_from_a_run_folder_or_its_checkpoint(tmp_path):
    """The documented one-line route from a CLI run to a model: dynacortex.training.load_model."""
    from dynacortex.training import load_model, load_trained

    cfg = tiny_config(tmp_path, "trainer.max_epochs=1", "trainer.limit_train_batches=2")
    trained = train(cfg)["model"].eval()
    x = torch.rand(2, 1, 12, 12)  # digits: one channel
    with torch.no_grad():
        expected = trained(x, n_steps=3)
    for path in (cfg.run_dir, cfg.run_dir / "checkpoints" / "last.ckpt"):
        model = load_model(path)
        assert not model.training
        with torch.no_grad():
            assert torch.equal(model(x, n_steps=3), expected)
    _, loaded_cfg = load_trained(cfg.run_dir)
    assert loaded_cfg.model.kwargs["channels"] == [16, 16, 16, 16]
    with pytest.raises(ValueError, match="is not a PyTorch checkpoint"):
        load_model(cfg.run_dir / "config.yaml")
    # the line the tutorials cite works right after `import dynacortex as dc` (training is imported on use)
    line = f"import dynacortex as dc; m = dc.training.load_model({str(cfg.run_dir)!r}); print(type(m).__name__)"
    done = subprocess.run([sys.executable, "-c", line], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == type(trained).__name__, done.stderr[-2000:]


def test_training_prints_nothing_the_user_cannot_act_on(tmp_path, capfd):
    """No Lightning tip, no "GPU available", no torch `_pytree` deprecation, and no log_every_n_steps warning
    for an epoch shorter than the logging interval (the interval is shortened to the epoch instead)."""
    import warnings

    cfg = tiny_config(tmp_path, "trainer.max_epochs=1", "trainer.limit_train_batches=2", "trainer.log_every_n_steps=10")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        train(cfg)
    messages = [str(w.message) for w in seen]
    assert not [m for m in messages if "LeafSpec" in m or "log_every_n_steps" in m], messages
    err = capfd.readouterr().err
    for noise in ("Tip:", "GPU available", "TPU available", "`Trainer.fit` stopped"):
        assert noise not in err, err
    rows = (cfg.run_dir / "logs" / "metrics.csv").read_text()
    assert "train_loss" in rows.splitlines()[0] and len(rows.splitlines()) >= 3  # the epoch's loss was logged


def test_trial_masks():
    p = PresentationConfig(idle_ms=10, stimulus_ms=20, blank_ms=10)
    trial = make_trial(p, ReadoutConfig(readout="after", readout_delay_ms=6), dt=2.0)
    assert trial.n_steps == 20
    assert trial.stimulus.nonzero().flatten().tolist() == list(range(5, 15))
    assert trial.readout.nonzero().flatten().tolist() == list(range(7, 20))  # steps ending >= 16 ms
    last = make_trial(p, ReadoutConfig(readout="last", last_k=4), dt=2.0)
    assert last.readout.nonzero().flatten().tolist() == [16, 17, 18, 19]
    x = present(torch.ones(2, 1, 3, 3), trial)
    assert x.shape == (2, 20, 1, 3, 3) and x[:, 5:15].eq(1).all() and x[:, :5].eq(0).all()
    g = torch.Generator().manual_seed(0)
    rnd = make_trial(PresentationConfig(random_idle_ms=(0, 20), stimulus_ms=10), ReadoutConfig(), 2.0, generator=g)
    assert 5 <= rnd.n_steps <= 15
    with pytest.raises(ValueError, match="no step is read out"):
        make_trial(PresentationConfig(stimulus_ms=4), ReadoutConfig(readout="after", readout_delay_ms=50), dt=2.0)


def test_pulse_sequences():
    p = PresentationConfig(idle_ms=4, pulses=[(4, 6), (2, 0)], blank_ms=4)
    trial = make_trial(p, ReadoutConfig(readout="all"), dt=2.0)
    assert trial.n_steps == 10
    assert trial.stimulus.nonzero().flatten().tolist() == [2, 3, 7]
    assert trial.readout.nonzero().flatten().tolist() == list(range(2, 10))
    with pytest.raises(ValueError, match="pulses"):
        PresentationConfig(pulses=[(0, 5)])
    with pytest.raises(ValueError, match="pulses"):
        PresentationConfig(pulses=[(5, 5)], random_stimulus_ms=(1, 2))


def test_temporal_cross_entropy_uses_only_read_steps():
    logits = torch.zeros(1, 3, 2)
    logits[0, 2] = torch.tensor([10.0, -10.0])
    read = torch.tensor([False, False, True])
    assert temporal_cross_entropy(logits, torch.tensor([0]), read) < 1e-6


@pytest.mark.parametrize(
    "override,match",
    [
        ("optim.lr=-1", "lr"),
        ("optim.optimizer=adamax", "optimizer"),
        ("data.name=mnist", "data.name"),
        ("model.recurrence=bogus", "recurrence"),
        ("model.name=resnet", "unknown model"),
        ("trainer.precision=8", "precision"),
        ("bogus.key=1", "bogus"),
        ("data.name=cifar10", "root"),
    ],
)
def test_config_errors_name_the_field(tmp_path, override, match):
    with pytest.raises(ValueError, match=match):
        tiny_config(tmp_path, override)


def test_bad_yaml_is_reported(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        TrainConfig.from_yaml(bad)


# Each rank saves its weights at the end of fit (train()'s model is not it: the test that follows wraps the
# model in DDP again, which copies rank 0's weights to every rank). Lightning's DDP launcher starts the other
# rank by running this file again (a script, not `python -c`).
DDP_DRIVER = """
import os, sys
import torch
from dynacortex.training import DynamicsModule, TrainConfig, train


def on_train_end(self):
    torch.save({"state_dict": self.model.state_dict(), "world_size": self.trainer.world_size},
               os.path.join(sys.argv[2], f"rank{self.global_rank}.pt"))


DynamicsModule.on_train_end = on_train_end
train(TrainConfig.from_yaml(sys.argv[1]))
"""


def test_ddp_on_two_cpu_processes(tmp_path):
    """Lightning DDP (gloo) with 2 CPU processes: both replicas end training with the same weights (bitwise),
    those of rank 0's checkpoint. The ranks train on disjoint shards of the data, so replicas whose gradients
    were not averaged would end apart (checked by switching off DDP's gradient sync: the test fails)."""
    from dynacortex.data.tensor_dataset import EpochShuffleSampler

    cfg = tiny_config(tmp_path, "name=ddp", "trainer.max_epochs=1", "trainer.limit_train_batches=3",
                      "trainer.strategy=ddp", "trainer.devices=2", "trainer.accelerator=cpu")
    cfg_file, driver = tmp_path / "ddp.yaml", tmp_path / "ddp_driver.py"
    cfg_file.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    driver.write_text(DDP_DRIVER)
    done = subprocess.run([sys.executable, str(driver), str(cfg_file), str(tmp_path)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((cfg.run_dir / "metrics.json").read_text())["world_size"] == 2
    ckpt = load_checkpoint(cfg.run_dir / "checkpoints" / "last.ckpt")
    assert ckpt["global_step"] == 3
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    a, b = (r["state_dict"] for r in ranks)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
        assert torch.equal(a[name], ckpt["state_dict"][f"model.{name}"]), name
    shards = [set(EpochShuffleSampler(1438, seed=0, num_replicas=2, rank=r)) for r in (0, 1)]
    assert not shards[0] & shards[1]  # 1438 training images (see test_short_training...), no overlap


@pytest.mark.parametrize("path", sorted(__import__("pathlib").Path(__file__).resolve().parents[1].glob("configs/*.yaml")))
def test_example_configs_validate(path):
    cfg = TrainConfig.from_yaml(path)
    assert cfg.model.name in dc.list_models()
