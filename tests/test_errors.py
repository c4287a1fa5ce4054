"""Bad input gets a clear error that names the field and what is allowed: one table, one message each."""

import pytest
import torch
from torch import nn

import dynacortex as dc
from dynacortex.data import load_dataset
from dynacortex.dynamics import History
from dynacortex.layers import Area, Connection, get_activation, make_recurrence
from dynacortex.training import PresentationConfig, TrainConfig, load_checkpoint

SMALL = dict(channels=(4, 5, 6, 7))


def small_model(**kw):
    return dc.create_model("dyrcnnx4", **SMALL, **kw)


CASES = [
    ("unknown model", lambda: dc.create_model("dyrcnx4"), r"unknown model 'dyrcnx4'.*Did you mean"),
    ("unknown solver", lambda: dc.get_solver("rk5"), r"solver: unknown solver 'rk5'; allowed values are"),
    ("unknown solver in config", lambda: small_model(solver="midpoint2"), r"solver[\s\S]*allowed values"),
    ("unknown activation", lambda: get_activation("gelu"), r"activation: unknown activation 'gelu'; allowed"),
    ("unknown recurrence", lambda: make_recurrence("conv", 4), r"recurrence: unknown recurrence type 'conv'; allowed"),
    ("dt zero", lambda: small_model(dt=0.0), r"dt[\s\S]*greater than 0"),
    ("dt negative on a model", lambda: setattr(small_model(), "dt", -1.0), r"dt: must be > 0 ms, got -1"),
    ("tau zero", lambda: small_model(tau=0.0), r"tau[\s\S]*must be > 0 ms"),
    ("tau per area count", lambda: small_model(tau=(1.0, 2.0, 3.0)), r"tau: must be one value or 4"),
    ("euler unstable", lambda: small_model(dt=12.0, tau=5.0), r"dt: dt/tau = 2.4 .*stability limit 2 of solver 'euler'.*allow_unstable"),
    ("rk4 unstable", lambda: small_model(dt=15.0, tau=5.0, solver="rk4"), r"stability limit 2.785 of solver 'rk4'"),
    ("negative feedforward delay", lambda: small_model(t_feedforward=-1.0), r"t_feedforward[\s\S]*greater than or equal to 0"),
    ("negative recurrence delay", lambda: small_model(t_recurrence=-2.0), r"t_recurrence"),
    ("negative skip delay", lambda: small_model(t_skip=-2.0), r"t_skip"),
    ("negative feedback delay", lambda: small_model(t_feedback=-2.0), r"t_feedback"),
    ("negative connection delay", lambda: Connection("A", "B", nn.Identity(), -1.0), r"delay of connection A->B: must be >= 0 ms"),
    ("num_classes zero", lambda: small_model(num_classes=0), r"num_classes[\s\S]*greater than or equal to 1"),
    ("channels count", lambda: dc.create_model("dyrcnnx4", channels=(4, 5)), r"channels[\s\S]*4 positive channel counts"),
    ("unknown config key", lambda: small_model(recurence="full"), r"recurence: unknown field; did you mean 'recurrence'.*allowed in dyrcnnx4: num_classes"),
    ("wrong type", lambda: small_model(skip="maybe"), r"skip[\s\S]*valid boolean"),
    ("even kernel", lambda: small_model(recurrence_kernel_size=2), r"recurrence_kernel_size: must be odd"),
    ("static image without n_steps", lambda: small_model()(torch.rand(1, 3, 16, 16)), r"n_steps: a static image"),
    ("wrong channel count", lambda: small_model()(torch.rand(1, 2, 1, 16, 16)), r"x: expected 3 channels, got 1"),
    ("uint8 image", lambda: small_model()(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), n_steps=2),
     r"x: expected floating-point images, got torch.uint8; convert uint8 images with x.float\(\) / 255"),
    ("wrong rank", lambda: small_model()(torch.rand(3, 16, 16)), r"x: expected shape \(B, T, C, H, W\) or \(B, C, H, W\)"),
    ("n_steps disagrees", lambda: small_model()(torch.rand(1, 4, 3, 8, 8), n_steps=2), r"n_steps: 2 differs from the 4 frames"),
    ("n_steps zero", lambda: small_model()(torch.rand(1, 3, 8, 8), n_steps=0), r"n_steps: must be >= 1"),
    ("NaN stimulus", lambda: small_model(stability_check=True)(torch.full((1, 3, 8, 8), float("nan")), n_steps=2), r"stimulus contains NaN or Inf"),
    ("record unknown area", lambda: dc.record(small_model(), ["V3"]).__enter__(), r"areas: \['V3'\] do not exist; this model's areas are"),
    ("checkpoint_every zero", lambda: small_model().run(torch.rand(1, 2, 3, 8, 8), checkpoint_every=0), r"checkpoint_every: must be >= 1"),
    ("history negative delay", lambda: History(-1.0, 1.0), r"max_delay: must be >= 0 ms"),
    ("area bad form", lambda: Area("A", 4, form="spiking"), r"form: 'spiking' is not one of \['rate', 'voltage'\]"),
    ("area bad operation", lambda: Area("A", 4, operations=("dropout",)), r"operations: \['dropout'\] not allowed"),
    ("supralinear exponent", lambda: get_activation("supralinear", n=0.5), r"supralinear exponent n: must be >= 1"),
    ("unknown dataset", lambda: load_dataset("mnist"), r"dataset: unknown dataset 'mnist'; allowed values are"),
    ("dataset split", lambda: load_dataset("digits", split="val"), r"split: 'val' is not one of \['train', 'test'\]"),
    ("cifar without root", lambda: load_dataset("cifar10"), r"root: dataset 'cifar10' is read from disk"),
    ("pulse spec", lambda: PresentationConfig(pulses=[(0.0, 5.0)]), r"pulses: need a non-empty list"),
    ("training config section", lambda: TrainConfig.model_validate({"optimiser": {}}), r"optimiser[\s\S]*Extra inputs"),
    ("missing checkpoint", lambda: load_checkpoint("/nonexistent/last.ckpt"), r"checkpoint: /nonexistent/last.ckpt does not exist"),
    ("gain on identity", lambda: small_model(recurrence="identity", recurrence_gain=0.5), r"recurrence_gain: cannot bound"),
    ("training contrasts", lambda: TrainConfig.model_validate({"data": {"contrast": [0.5, 0.1]}}),
     r"contrast: need \[lo, hi\] with 0 < lo <= hi, got \[0.5, 0.1\]"),
]


def test_the_table_is_large():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name,call,match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_named(name, call, match):
    with pytest.raises((ValueError, FileNotFoundError, FloatingPointError), match=match):
        call()


def _config_classes():
    import importlib
    import pkgutil

    from pydantic import BaseModel

    for mod in pkgutil.walk_packages(dc.__path__, "dynacortex."):
        if mod.name.startswith("dynacortex.brainscore."):
            continue  # the Brain-Score adapter lives in its own environment (tests_brainscore/)
        importlib.import_module(mod.name)
    found, todo = [], [BaseModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("dynacortex."):
                found.append(sub)
    return found


def test_every_config_refuses_non_finite_numbers():
    """Issue #24 G: no config accepts inf or nan where a number belongs (pydantic's allow_inf_nan=False)."""
    classes = _config_classes()
    assert len(classes) >= 30
    lax = [c.__qualname__ for c in classes if c.model_config.get("allow_inf_nan", True)]
    assert lax == []
    with pytest.raises(ValueError, match=r"tau: Input should be a finite number \(got inf\)"):
        small_model(tau=float("inf"))


def test_corrupt_checkpoint(tmp_path):
    bad = tmp_path / "last.ckpt"
    bad.write_bytes(b"\x80\x02 truncated")
    with pytest.raises(ValueError, match=r"checkpoint: .*last.ckpt is corrupt"):
        load_checkpoint(bad)


def test_nan_in_state_names_area_and_time():
    model = small_model(stability_check=True)
    with torch.no_grad():
        model.areas[2].recurrence.weight.fill_(float("nan"))
    # the recurrence (delay 6 ms) first reads a non-rest state in the step from 8 to 10 ms
    with pytest.raises(dc.StabilityError, match=r"area 'V4' became NaN/Inf at t = 10 ms \(step 5\)"):
        model(torch.rand(1, 3, 16, 16), n_steps=6)
