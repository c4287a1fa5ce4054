"""Run folders (<label>-<config hash>), resolved config + environment files, config loading and --set."""

import hashlib
import json

import pytest
import yaml

from dynacortex.config import apply_overrides, load_config
from dynacortex.runs import LOCATION_FIELDS, config_hash, run_folder, write_provenance, write_run_files
from dynacortex.training import TrainConfig


def _cfg(tmp_path, *sets):
    src = tmp_path / "cfg.yaml"
    src.write_text(yaml.safe_dump({"name": "t", "out_dir": str(tmp_path / "runs"), "model": {"name": "dyrcnnx4"}}))
    return TrainConfig.from_yaml(src, list(sets))


def test_hash_is_sha256_of_canonical_json_without_location_fields():
    config = {"b": {"y": 2, "x": 1}, "a": 1.5, "name": "label", "out_dir": "/scratch/me", "data": {"root": "/d"}}
    # recomputed by hand: keys sorted, no spaces, location fields removed (nested ones too)
    expected = hashlib.sha256(b'{"a":1.5,"b":{"x":1,"y":2},"data":{}}').hexdigest()[:8]
    assert config_hash(config) == expected
    assert {"name", "out_dir", "data.root"} <= set(LOCATION_FIELDS)


def test_equal_configs_share_a_folder_and_different_ones_do_not(tmp_path):
    base = _cfg(tmp_path)
    folder = base.run_dir
    assert folder.parent == tmp_path / "runs" and folder.name.startswith("t-")
    assert len(folder.name) == len("t-") + 8 and int(folder.name[2:], 16) >= 0
    # spelling out a default (the model's dt is 2 ms, Euler) is the same experiment
    assert _cfg(tmp_path, "model.dt=2.0", "model.solver=euler").run_dir == folder
    # where things are stored is not part of the identity: same hash, other label / base
    moved = _cfg(tmp_path, "out_dir=/elsewhere", "name=other", "trainer.progress_bar=false")
    assert moved.run_dir.name.split("-")[-1] == folder.name.split("-")[-1]
    # anything that changes the result changes the hash
    changed = {_cfg(tmp_path, s).run_dir.name for s in ("optim.lr=1e-3", "seed=1", "model.dt=1", "model.t_recurrence=4",
                                                        "model.recurrence=self", "trainer.max_epochs=3")}
    assert len(changed) == 6 and folder.name not in changed


def test_run_label_must_be_a_folder_name(tmp_path):
    with pytest.raises(ValueError, match="name: run label"):
        run_folder(tmp_path, "a/b", {})
    with pytest.raises(ValueError, match="name"):
        _cfg(tmp_path, "name=..").run_dir


def test_run_files_round_trip_and_record_the_environment(tmp_path):
    cfg = _cfg(tmp_path, "seed=7", "model.recurrence=self")
    write_run_files(cfg.run_dir, cfg.resolved(), cfg.seed)
    stored = yaml.safe_load((cfg.run_dir / "config.yaml").read_text())
    assert stored["model"]["tau"] == 5.0 and stored["model"]["recurrence"] == "self"  # defaults filled in
    reloaded = TrainConfig.model_validate(stored)
    assert reloaded.run_dir == cfg.run_dir  # the stored config names its own folder
    env = json.loads((cfg.run_dir / "environment.json").read_text())
    assert env["seed"] == 7
    assert {"python", "torch", "lightning", "dynacortex", "git_commit", "hostname"} <= set(env)
    assert not list(cfg.run_dir.glob(".*tmp*"))


def test_provenance_points_at_the_run_folder(tmp_path):
    cfg = _cfg(tmp_path)
    write_run_files(cfg.run_dir, cfg.resolved(), cfg.seed)
    ckpt = cfg.run_dir / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"")
    rec = json.loads(write_provenance(tmp_path / "out", ckpt, cfg.resolved(), {"k": 1}).read_text())
    assert rec["run_folder"] == str(cfg.run_dir.resolve()) and rec["settings"] == {"k": 1}
    assert rec["train_config"]["model"]["dt"] == 2.0


def test_toml_and_yaml_load_the_same_config(tmp_path):
    (tmp_path / "c.toml").write_text('name = "x"\n[optim]\nlr = 0.01\n[model]\nname = "dyrcnnx4"\ndt = 1.0\n')
    (tmp_path / "c.yaml").write_text("name: x\noptim: {lr: 0.01}\nmodel: {name: dyrcnnx4, dt: 1.0}\n")
    a, b = TrainConfig.from_yaml(tmp_path / "c.toml"), TrainConfig.from_yaml(tmp_path / "c.yaml")
    assert a == b and a.run_dir == b.run_dir and a.optim.lr == 0.01
    (tmp_path / "bad.toml").write_text("name = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        TrainConfig.from_yaml(tmp_path / "bad.toml")


@pytest.mark.parametrize("override, match", [
    ("optim.lrr=1", r"optim\.lrr: unknown field; did you mean 'lr'\? \(allowed in optim: optimizer, lr,"),
    ("optim.lr=-1", r"^optim\.lr: Input should be greater than 0 \(got -1\)$"),
    # non-finite numbers where finite ones belong (issue #24 G): refused, naming the field
    ("optim.lr=infinity", r"^optim\.lr: Input should be a finite number"),
    ("optim.lr=.inf", r"^optim\.lr: Input should be a finite number"),
    ("model.dt=.nan", r"^model\.dt: Input should be a finite number"),
    ("presentation.stimulus_ms=-.inf", r"^presentation\.stimulus_ms: Input should be a finite number"),
    ("model.foo=1", r"model\.foo"),
    ("optim.lr", "expected section.key=value"),
    ("optim..lr=1", "expected section.key=value"),
    ("name.x=1", "'name' is a value, not a section"),
    ("optim.lr=[1", "not valid YAML"),
    ("dynamics.dt=1", "fields of the model: use model.dt"),
])
def test_bad_overrides_name_the_field(tmp_path, override, match):
    with pytest.raises(ValueError, match=match):
        _cfg(tmp_path, override)


def test_overrides_parse_values_as_yaml():
    data = apply_overrides({}, ["a.b=[1, 2]", "a.c=true", "d=1.5e-3", "e=text"])
    assert data == {"a": {"b": [1, 2], "c": True}, "d": 1.5e-3, "e": "text"}
    from dynacortex.benchmark import BenchConfig

    assert load_config(BenchConfig, None, ["recurrence=[self]", "batch=2"]).batch == 2


@pytest.mark.parametrize("override, allowed", [
    ("optim.lrr=1", "allowed in optim: optimizer, lr, weight_decay, momentum, schedule"),
    ("model.foo=1", "allowed in model: name, num_classes, in_channels, dt, tau"),
    ("bogus=1", "allowed in the top level: name, out_dir, seed, model, data"),
])
def test_unknown_keys_list_the_allowed_ones(tmp_path, override, allowed):
    with pytest.raises(ValueError, match=allowed):
        _cfg(tmp_path, override)
