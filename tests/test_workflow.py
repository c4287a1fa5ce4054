"""The Snakemake sweep: planned jobs (dry run), run folders equal to what `dynacortex train` computes,
the SLURM profile's resources, and (slow) a real run of two tiny variants."""

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dynacortex
from dynacortex.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "workflows"
pytestmark = pytest.mark.skipif(importlib.util.find_spec("snakemake") is None,
                                reason="snakemake not installed (pip install dynacortex[workflow])")


def snakemake(workdir, *args, timeout=300):
    env = dict(os.environ)  # the jobs must import this very dynacortex
    env["PYTHONPATH"] = os.pathsep.join([str(Path(dynacortex.__file__).parents[1]), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(WORKFLOW / "Snakefile"), "--directory",
                           str(workdir), *args], capture_output=True, text=True, timeout=timeout, env=env)


def job_counts(output):
    table = output.split("Job stats:")[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def test_dry_run_plans_the_sweep_with_the_cli_run_folders(tmp_path):
    done = snakemake(tmp_path, "-n", "-p", "--config", "recurrence=[full,self,none]", "seeds=[0,1]")
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout + done.stderr
    assert job_counts(out) == {"train": 6, "experiment": 6, "report": 6, "analyze": 6, "summary": 1, "all": 1,
                               "total": 26}
    planned = set(re.findall(r"results/sweep/train/([\w.-]+)/metrics\.json", out))
    assert len(planned) == 6 and {p.rsplit("-", 1)[0] for p in planned} == {
        f"{rc}-s{s}" for rc in ("full", "self", "none") for s in (0, 1)}
    # each planned train command, replayed through the CLI's own config loading, lands in its planned folder
    commands = [c for c in re.findall(r"^Shell command: (.*)$", out, flags=re.M) if " train " in c]
    assert len(commands) == 6
    for cmd in commands:
        argv = shlex.split(cmd.split(">")[0])
        config = argv[argv.index("train") + 1]
        sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
        assert TrainConfig.from_yaml(config, sets).run_dir.name in planned


def test_default_plan_reads_three_seeds_of_the_model_and_its_twin_against_human_numbers(tmp_path):
    done = snakemake(tmp_path, "-n", "-p")
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout + done.stderr
    assert job_counts(out)["train"] == 6 and job_counts(out)["cortex"] == 1
    cortex = [c for c in re.findall(r"^Shell command: (.*)$", out, flags=re.M) if " experiment cortex " in c]
    assert len(cortex) == 1 and cortex[0].count("--model ") == 3 and cortex[0].count("--twin ") == 3
    assert all(f"cortical-s{s}" in cortex[0] and f"twin-s{s}" in cortex[0] for s in (0, 1, 2))
    twin = [c for c in re.findall(r"^Shell command: (.*)$", out, flags=re.M) if " train " in c and "name=twin" in c]
    assert all("model.recurrence=none" in c and "model.adaptation=null" in c for c in twin)


@pytest.mark.slow  # another snakemake start-up (imports torch + lightning): ~20 s
def test_a_bad_override_fails_the_plan_naming_the_field(tmp_path):
    done = snakemake(tmp_path, "-n", "--config", "train_set=[optim.lrr=1]")
    assert done.returncode != 0 and "optim.lrr" in done.stdout + done.stderr


@pytest.mark.skipif(importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
                    reason="SLURM executor plugin not installed (pip install dynacortex[slurm])")
def test_slurm_profile_requests_a_gpu_for_training(tmp_path):
    done = snakemake(tmp_path, "-n", "--workflow-profile", str(WORKFLOW / "profiles" / "slurm"))
    assert done.returncode == 0, done.stderr[-3000:]
    blocks = re.findall(r"rule (\w+):\n(.*?)(?=\n\n|\Z)", done.stdout + done.stderr, flags=re.S)
    resources = {rule: re.search(r"resources: (.*)", body).group(1) for rule, body in blocks if "resources:" in body}
    assert "gres=gpu:1" in resources["train"] and "slurm_partition=gpu" in resources["train"]
    assert "gres" not in resources["analyze"] and "runtime=120" in resources["analyze"]


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_tiny_sweep_of_two_variants_runs_to_the_summary_figure(tmp_path):
    """A real run on CPU: the model and its twin x 1 seed, tiny models, to the summary figure and the cortex report."""
    cfg = yaml.safe_load((WORKFLOW / "config.yaml").read_text())
    cfg["seeds"] = [0]
    cfg["train_set"] = ["model.channels=[8, 8, 8, 8]", "data.image_size=8", "presentation.stimulus_ms=12",
                        "loss.readout_delay_ms=4", "trainer.max_epochs=1", "trainer.limit_train_batches=3",
                        "trainer.progress_bar=false"]
    cfg["experiment"] = {"protocols": ["duration"], "per_class": 1, "batch_size": 64}
    cfg["analyze_set"] = ["images=1", "eigs=3", "noise_per_class=1", "sigmas=[0, 1]"]
    cfg["train_config"] = str(WORKFLOW / cfg["train_config"])
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    done = snakemake(tmp_path, "--cores", "2", "--configfile", str(tmp_path / "tiny.yaml"), timeout=1500)
    assert done.returncode == 0, done.stderr[-5000:]
    out = tmp_path / "results" / "sweep"
    summary = json.loads((out / "summary" / "summary.json").read_text())
    assert set(summary) == {"cortical", "twin"}
    for variant, numbers in summary.items():  # the summary holds what each run's training measured
        runs = [r for r in (out / "train").iterdir() if r.name.startswith(f"{variant}-s")]
        accuracy = [json.loads((r / "metrics.json").read_text())["test_accuracy"] for r in runs]
        assert numbers["test_accuracy"]["values"] == accuracy and len(accuracy) == 1
    cortex = json.loads((out / "summary" / "cortex" / "metrics.json").read_text())
    assert set(cortex["cortex_controls"]) == {"feedforward", "dn"} and "V1" in cortex["cortex_reference"]
    assert "DN" in (out / "summary" / "cortex" / "report.html").read_text()
    assert (out / "summary" / "summary.svg").is_file() and (out / "summary" / "comparison.png").is_file()
    for run in (out / "train").iterdir():  # every run folder is named by the hash of the config it holds
        stored = TrainConfig.model_validate(yaml.safe_load((run / "config.yaml").read_text()))
        assert stored.run_dir.name == run.name
        prov = json.loads((out / "experiments" / run.name / "provenance.json").read_text())
        assert prov["run_folder"] == str(run.resolve())
