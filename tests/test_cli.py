"""The command line: every command's --help has examples, every mistake is a one-paragraph usage error
that leaves nothing behind, analyze and bench."""

import json
import re
import warnings

import pytest
import torch
from typer.testing import CliRunner

from dynacortex.cli import app
from dynacortex.training import train

from .test_training import tiny_config

COMMANDS = [["demo"], ["train"], ["analyze"], ["bench"], ["experiment", "run"], ["experiment", "report"],
            ["experiment", "compare"]]
ALL_COMMANDS = [*COMMANDS, ["column", "rest"], ["column", "train"], ["task", "list"], ["task", "train"]]


def _run(*args):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example(command):
    res = _run(*command, "--help")
    assert res.exit_code == 0, res.output
    assert "Example" in res.output
    assert f"dynacortex {' '.join(command)} " in res.output  # the example invokes this very command


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=" ".join)
def test_help_shows_no_type_placeholders(command):
    """No `--resume <bool>`, `--help <bool>`, `<list[str]>` or `{config}`: flags stand alone, lists name their items."""
    res = _run(*command, "--help")
    assert res.exit_code == 0, res.output
    for junk in ("<bool>", "<list[", "{", "}"):
        assert junk not in res.output, (junk, res.output)


def _one_paragraph_error(res) -> str:
    """The message of a usage error (exit status 2, no traceback, one paragraph); returns it flattened."""
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output and res.output.count("Error:") == 1, res.output
    message = res.output.split("Error:", 1)[1].strip()
    assert "\n\n" not in message, message
    for leak in ("input_value=", "errors.pydantic.dev", "[type="):
        assert leak not in message, message
    return " ".join(message.split())


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A trained run's checkpoint (1 epoch of 2 batches)."""
    cfg = tiny_config(tmp_path_factory.mktemp("ckpt"), "trainer.max_epochs=1", "trainer.limit_train_batches=2")
    train(cfg)
    return cfg.run_dir / "checkpoints" / "last.ckpt"


MISTAKES = [  # (command line, what the message must say); {out} is a fresh folder that must stay empty
    (["train", "configs/demo.yaml", "--set", "out_dir={out}", "--set", "model.dt=12"],
     r"model\.dt: dt/tau = 2\.4 exceeds the stability limit 2 of solver 'euler' \(accuracy limit 1\)"),
    (["train", "configs/demo.yaml", "--set", "out_dir={out}", "--set", "model.recurence=full"],
     r"model\.recurence: unknown field; did you mean 'recurrence'"),
    (["train", "configs/demo.yaml", "--set", "out_dir={out}", "--set", "optim.lr=infinity"],
     r"optim\.lr: Input should be a finite number"),
    (["train", "configs/demo.yaml", "--set", "out_dir={out}", "--resume"],
     r"--resume: no checkpoint at .*; start it without --resume"),
    (["train", "configs/demo.yaml", "--set", "out_dir={out}", "--from", "{out}/nothing"],
     r"--from: .*nothing is not a trained run folder"),
    (["experiment", "run", "--checkpoint", "{ckpt}", "--out", "{out}/exp", "--protocol", "durration"],
     r"unknown protocol 'durration'; did you mean 'duration'\? \(allowed: duration, contrast, interval, response, memory\)"),
    (["experiment", "run", "--checkpoint", "{ckpt}", "--out", "{out}/exp", "--protocol", "interval", "--set", "gap_ms=[50]"],
     r"protocol 'interval': unknown parameter 'gap_ms'; did you mean 'gaps_ms'.* \(parameters of interval: gaps_ms=\[17, 33"),
    (["experiment", "run", "--checkpoint", "{ckpt}", "--out", "{out}/exp", "--set", "gaps_ms=[50]"],
     r"--set: protocol parameters apply to exactly one built-in protocol, named with --protocol"),
    (["experiment", "run", "--checkpoint", "configs/demo.yaml", "--out", "{out}/exp", "--protocol", "duration"],
     r"configs/demo\.yaml is not a PyTorch checkpoint"),
    (["experiment", "report", "{out}"], r"no recordings \(\*\.zarr\) in .*; run `dynacortex experiment run` first"),
    (["experiment", "compare", "{out}", "--out", "{out}/cmp"], r"no metrics\.json in out=.*; run `dynacortex experiment report"),
    (["task", "train", "configs/demo.yaml", "--set", "out_dir={out}"], r"^model, data, presentation, loss: unknown fields \(allowed in the top level: name, out_dir, seed, task,"),
    (["column", "train", "xor", "--out", "{out}", "--set", "stim_s=.inf"], r"stim_s: Input should be a finite number"),
    (["analyze", "--checkpoint", "configs/demo.yaml", "--out", "{out}/x"],
     r"^checkpoint: configs/demo\.yaml is not a PyTorch checkpoint \(neither a zip archive nor a pickle: another "
     r"kind of file, or corrupt\); a training run's checkpoint is <run folder>/checkpoints/last\.ckpt$"),
    (["analyze", "--checkpoint", "{ckpt}", "--out", "{out}/x", "--set", "images=50"], r"images: at most 10"),
    (["analyze", "--checkpoint", "{foreign}", "--out", "{out}/x"],
     r"holds Python objects other than tensors .* --trusted on the command line\)$"),
]


@pytest.mark.parametrize("args, says", MISTAKES, ids=lambda v: " ".join(v)[:60] if isinstance(v, list) else None)
def test_a_mistake_is_one_paragraph_exit_2_and_leaves_nothing(args, says, tmp_path, checkpoint):
    out = tmp_path / "out"
    out.mkdir()
    foreign = tmp_path / "foreign.pt"
    torch.save({"w": torch.ones(1), "meta": warnings.WarningMessage}, foreign)  # a class: not weights-only
    res = _run(*[a.format(out=out, ckpt=checkpoint, foreign=foreign) for a in args])
    message = _one_paragraph_error(res)
    assert re.search(says, message), message
    assert list(out.iterdir()) == [], "the command left files behind"


def test_trusted_is_a_flag_where_a_checkpoint_is_loaded():
    for command in (["analyze"], ["experiment", "run"]):
        assert "--trusted" in _run(*command, "--help").output


@pytest.mark.parametrize("command, override, field", [
    (["train", "configs/demo.yaml"], "optim.lrr=1", "optim.lrr"),
    (["train", "configs/demo.yaml"], "trainer.max_epochs=0", "trainer.max_epochs"),
    (["demo"], "optim.lrr=1", "optim.lrr"),
    (["demo"], "trainer.max_epochs=0", "trainer.max_epochs"),
    (["bench"], "repeats=0", "repeats"),
    (["bench"], "device=gpu", "device"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_bad_set_is_a_usage_error_naming_the_field(command, override, field, tmp_path):
    extra = ["--out", str(tmp_path)] if command == ["demo"] else []
    res = _run(*command, *extra, "--set", override)
    assert field in _one_paragraph_error(res)
    assert not (tmp_path / "demo").exists()  # nothing was started


def test_analyze_a_trained_checkpoint(tmp_path):
    # 8 channels per area at 8x8 pixels: 680 units, small enough for the dense eigenvalue path
    # without recurrence the Jacobian is -I/tau plus a nilpotent feedforward part (V1 -> V2 -> V4 -> IT, skips):
    # every eigenvalue is exactly -1/tau = -0.2 /ms, whatever the trained weights
    cfg = tiny_config(tmp_path, "trainer.max_epochs=1", "trainer.limit_train_batches=4", "model.recurrence=none",
                      "model.channels=[8, 8, 8, 8]", "data.image_size=8")
    metrics = train(cfg)
    model = metrics["model"].eval()
    ckpt = cfg.run_dir / "checkpoints" / "last.ckpt"
    out = tmp_path / "analysis"
    res = _run("analyze", "--checkpoint", str(ckpt), "--out", str(out), "--set", "images=1", "--set", "eigs=3",
               "--set", "noise_per_class=2", "--set", "sigmas=[0, 3]")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "analysis.json").read_text())
    (fp,) = summary["fixed_points"]
    assert fp["converged"] and fp["fixed_point_residual"] <= 1e-6
    assert set(fp["mean_rate_per_area"]) == {"V1", "V2", "V4", "IT"}
    re, im = fp["eigenvalues_real_per_ms"], fp["eigenvalues_imag_per_ms"]
    assert len(re) == 3 and re == sorted(re, reverse=True)  # largest real part first
    # eig of a defective matrix (Jordan chains up to 4 long) is accurate to ~eps^(1/4) ~ 1e-4
    assert re == pytest.approx([-0.2] * 3, abs=2e-3) and im == pytest.approx([0.0] * 3, abs=2e-3)
    assert fp["stable"] and summary["all_stable"]
    assert fp["slowest_time_constant_ms"] == pytest.approx(5.0, rel=1e-2)
    noise = summary["noise_robustness"]
    # the trial of the training config: 12 ms of stimulus at dt 2 ms
    assert noise["n_steps"] == 6 and noise["images"] == 20 and noise["chance"] == 0.1
    # at sigma 0 the accuracy is the model's own accuracy on those test images, recomputed here directly
    from dynacortex.experiments.suite import test_images

    x, y, _ = test_images(cfg.data, 2, cfg.seed)
    with torch.no_grad():
        direct = (model(x, n_steps=6)[:, -1].argmax(-1) == y).float().mean().item()
    assert noise["recurrent"][0] == pytest.approx(direct)
    for name in ("eigenvalues", "noise_robustness"):
        assert (out / f"{name}.png").stat().st_size > 3000 and (out / f"{name}.svg").is_file()
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["run_folder"] == str(cfg.run_dir.resolve()) and prov["settings"]["eigs"] == 3


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without a GPU")
def test_bench_on_cuda_without_gpu_is_refused():
    res = _run("bench", "--set", "device=cuda")
    assert res.exit_code == 2 and "device" in res.output and "torch sees no GPU" in res.output, res.output


def test_bench_times_ours_and_the_floor(tmp_path):
    out = tmp_path / "bench.json"
    res = _run("bench", "--set", "batch=1", "--set", "steps=2", "--set", "size=8", "--set", "repeats=2",
               "--set", "recurrence=[full, none]", "--json", str(out))
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert [r["recurrence"] for r in result["rows"]] == ["full", "none"]
    assert result["config"]["dt"] == 2.0 and result["config"]["t_recurrence"] == 6.0 and result["config"]["batch"] == 1
    for row in result["rows"]:
        assert len(row["all_ms"]["dynacortex"]) == 2 and all(t > 0 for t in row["all_ms"]["floor"])
        assert row["ratio_vs_floor"] == pytest.approx(row["median_ms"]["dynacortex"] / row["median_ms"]["floor"])
        assert row["trials_per_s"]["floor"] == pytest.approx(1e3 / row["median_ms"]["floor"])  # batch 1
    assert result["config"]["device"] == "cpu" and result["machine"]["gpu"] is None
    assert "ours/floor" in res.output
