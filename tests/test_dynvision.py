"""DynVision 0.1.0 checkpoints load and reproduce DynVision's own outputs.

The fixtures were made by DynVision 0.1.0 itself (``tests/fixtures/make_dynvision_reference.py``, which needs
DynVision installed; these tests do not): its DyRCNNx4 per recurrence type with random weights, its state
dict (Lightning layout, DynVision's key names), and its per-area rates and logits at every step. Error
measure: per area and step, max |ours - DynVision| / max |DynVision| (an all-zero step must be exactly zero).
"""

from pathlib import Path

import pytest
import torch
from torch import nn

import dynacortex as dc
from dynacortex.layers import LocalRecurrence, sheet_layout
from dynacortex.layers.connections import Adapter
from dynacortex.models import load_dynvision
from dynacortex.models.dynvision import dynvision_options

FIXTURES = Path(__file__).parent / "fixtures"
TOL = 1e-5
REF = torch.load(FIXTURES / "dynvision_reference.pt")
CASES = REF["cases"]


def relative_error(ours: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Per step (dim 1): max |ours - ref| / max |ref| over batch and units (inf where ref is 0 and ours is not)."""
    diff = (ours.double() - ref.double()).abs().transpose(0, 1).flatten(1).amax(1)
    scale = ref.double().abs().transpose(0, 1).flatten(1).amax(1)
    return torch.where(diff == 0, torch.zeros_like(diff), diff / scale)


def source(name: str):
    case = CASES[name]
    return case["checkpoint"] if case["checkpoint"] is not None else FIXTURES / f"dynvision_{name}.ckpt"


def errors(model, name: str) -> dict[str, float]:
    case = CASES[name]
    with dc.record(model) as rec, torch.no_grad():
        logits = model(case["x"].float())
    errs = {area: relative_error(rec[area], r).max().item() for area, r in case["responses"].items()}
    errs["logits"] = relative_error(logits, case["logits"]).max().item()
    return errs


@pytest.mark.parametrize("name", list(CASES))
def test_dynvision_is_reproduced(name):
    """Every recurrence type DynVision has (and the delay cases): every area at every step, and the logits."""
    model = load_dynvision(source(name))
    errs = errors(model, name)
    assert max(errs.values()) <= TOL, errs
    assert model.ordering == "sequential" and all(a.update == "rectified" for a in model.areas)
    case = CASES[name]  # the stimulus and the recurrence matter: IT changes after the image goes off
    it = case["responses"]["IT"]
    assert relative_error(it[:, -1:], it[:, -2:-1]).max() > 1e-2


def test_the_fixtures_are_dynvision_outputs():
    """The fixture comes from DynVision 0.1.0 (not from this code) and covers all its recurrence types."""
    assert REF["dynvision"] == "0.1.0"
    kinds = {c["checkpoint"]["hyper_parameters"]["recurrence_type"] for c in CASES.values() if c["checkpoint"]}
    assert kinds == {"none", "self", "full", "depthpointwise", "pointdepthwise", "local", "localdepthwise"}
    full = torch.load(FIXTURES / "dynvision_localdepthwise_dyrcnnx4.ckpt")  # a genuine Lightning checkpoint
    assert "pytorch-lightning_version" in full and full["hyper_parameters"]["recurrence_type"] == "localdepthwise"


def _adapters(model):
    return [c.op for c in model.connections if isinstance(c.op, Adapter)]


def _off_update(m):
    for a in m.areas:
        a.update = "ode"


def _off_ordering(m):
    m.ordering = "simultaneous"


def _off_delays(m):
    m.ordering, m.delay_from = "simultaneous", "step_start"


def _off_start(m):
    m.start = "rest"


def _off_readout(m):
    m.readout_delay = 0.0


def _off_resample(m):
    for a in _adapters(m):
        a.mode = "area"


def _off_bias(m):
    with torch.no_grad():
        for a in m.areas:
            for mod in a.recurrence.modules():
                if getattr(mod, "bias", None) is not None:
                    mod.bias.zero_()


def _off_padding(m):
    for mod in m.modules():
        if isinstance(mod, LocalRecurrence):
            mod.padding = "zeros"


def _off_order(m):
    for a in m.areas:
        a.recurrence = nn.Sequential(a.recurrence[1], a.recurrence[0])


def _off_all(m):
    for f in (_off_update, _off_delays, _off_start, _off_readout, _off_resample):
        f(m)


ABLATIONS = {  # rule -> (how to turn it off on a loaded model, the case where it shows)
    "update='rectified'": (_off_update, "full"),
    "ordering='sequential'": (_off_ordering, "full"),
    "delay_from='step_end'": (_off_delays, "full"),
    "start='on_input'": (_off_start, "full"),
    "readout_delay": (_off_readout, "self_tff"),
    "resample='nearest'": (_off_resample, "full"),
    "recurrence_bias": (_off_bias, "full"),
    "local reflect padding": (_off_padding, "local"),
    "localdepthwise: sheet first": (_off_order, "localdepthwise"),
    "all conventions off (the ODE)": (_off_all, "full"),
}


@pytest.mark.parametrize("rule", list(ABLATIONS))
def test_each_rule_is_needed(rule):
    """Without any one of the options the numbers differ from DynVision's (by far more than the tolerance)."""
    off, name = ABLATIONS[rule]
    model = load_dynvision(source(name))
    off(model)
    errs = errors(model, name)
    assert max(errs.values()) > 1e-2, (rule, errs)


def test_sheet_layout_is_dynvision_mapping():
    """Our square sheet equals DynVision's own lookup table (``flat_plane_mapping``) for its square channel
    counts, and its inverse (``flat_layer_mapping``) picks each channel's own slot."""
    checked = 0
    for name in ("local", "localdepthwise"):
        ck = CASES[name]["checkpoint"]
        state, size = ck["state_dict"], ck["hyper_parameters"]["dim_y"]
        model = load_dynvision(ck)
        x = torch.zeros(1, 3, size, size)
        shapes = model.state_shapes(model._drives(x[:, None])[0].shape[2:])
        for area, shape in zip(model.areas, shapes):
            prefix = f"{area.name}.recurrence." + ("local_conv." if name == "localdepthwise" else "")
            c, h, w = shape
            index, _, _ = sheet_layout(c, h, w, layout="square")
            assert torch.equal(index, state[prefix + "flat_plane_mapping"]), (name, area.name)
            sheet = area.recurrence if name == "local" else area.recurrence[0]
            assert torch.equal(sheet._map(h, w, torch.device("cpu"))[1], state[prefix + "flat_layer_mapping"])
            checked += 1
    assert checked == 8


def test_square_layout_mirrors_channels():
    """For a non-square C the square sheet's extra slots hold channels C-1, C-2, ... (DynVision's
    ``extend_to_square_channel_number``); 10 channels -> 16 slots per tile, 6 copies."""
    c, h, w = 10, 2, 3
    index, sh, sw = sheet_layout(c, h, w, layout="square")
    assert (sh, sw) == (4 * h, 4 * w) and (index >= 0).all()
    tile = index.view(sh, sw)[:4, :4].flatten()  # position (0, 0): slot e holds channel e, then mirrored copies
    assert (tile // (h * w)).tolist() == list(range(10)) + [9, 8, 7, 6, 5, 4]
    rec = LocalRecurrence(c, 3, layout="square", padding="reflect", bias=True)
    x = torch.rand(2, c, h, w)
    assert rec(x).shape == x.shape


def test_loader_settings_and_refusals(tmp_path):
    ck = CASES["full_feedback"]["checkpoint"]
    hp = ck["hyper_parameters"]
    # a bare state dict records no times: DynVision's defaults unless given (short aliases accepted)
    bare = load_dynvision(ck["state_dict"], tff=hp["t_feedforward"], trc=hp["t_recurrence"], tfb=hp["t_feedback"],
                          tsk=hp["t_skip"])
    assert max(errors(bare, "full_feedback").values()) <= TOL
    torch.save(ck["state_dict"], tmp_path / "weights.pt")
    default = load_dynvision(tmp_path / "weights.pt")
    assert default.areas[0].t_recurrence == 6.0 and max(errors(default, "full_feedback").values()) > 1e-2
    with pytest.raises(ValueError, match="unknown settings"):
        load_dynvision(ck, t_feedforwrd=2.0)
    with pytest.raises(ValueError, match="recurrence_type='self', but the state dict holds a 'full'"):
        load_dynvision(ck, recurrence_type="self")
    with pytest.raises(ValueError, match="multiplicative feedback"):
        load_dynvision(ck, feedback_mode="multiplicative")
    with pytest.raises(ValueError, match="reads 3 steps back, but DynVision 0.1.0 keeps 2"):
        load_dynvision(ck, t_skip=3.0, t_recurrence=2.0, t_feedback=4.0)  # round(1.5) = 2 steps, 5 ms kept
    with pytest.raises(ValueError, match="not a DynVision DyRCNNx4"):
        load_dynvision({"layer1.conv.weight": torch.zeros(1)})
    with pytest.warns(UserWarning, match="idle_timesteps"):
        load_dynvision(ck, idle_timesteps=5)


def test_options_are_validated():
    with pytest.raises(ValueError, match="ordering='sequential': needs delay_from='step_end'"):
        dc.create_model("dyrcnnx4", ordering="sequential")
    with pytest.raises(ValueError, match="step conventions need 'euler'"):
        dc.create_model("dyrcnnx4", delay_from="step_end", solver="rk4")
    with pytest.raises(ValueError, match="update='rectified': needs solver='euler' and form='rate'"):
        dc.create_model("dyrcnnx4", update="rectified", form="voltage")
    with pytest.raises(ValueError, match="not a DynVision type"):
        dc.create_model("dyrcnnx4", recurrence="depthwise", recurrence_layout="dynvision")
    model = dc.create_model("dyrcnnx4", channels=(4, 9, 16, 25), **dynvision_options())
    with pytest.raises(ValueError, match="cannot take the discrete steps"):
        model.solver = "heun"


def test_on_input_onsets_follow_the_delays():
    """start='on_input': each area stays silent until its first input can arrive, and does not move before."""
    model = dc.create_model("dyrcnnx4", channels=(4, 9, 16, 25), skip=False, **dynvision_options(4.0))
    assert model.onsets() == [0.0, 4.0, 8.0, 12.0]
    with dc.record(model) as rec, torch.no_grad():
        logits = model(torch.rand(1, 3, 12, 12), n_steps=10)
    for k, name in enumerate(model.area_names):  # silent through t = onset: 2k steps of 2 ms
        assert (rec[name][:, :2 * k] == 0).all() and rec[name][:, 2 * k].abs().max() > 0
    assert logits[:, :8].abs().max() == 0 and logits[:, 8].abs().max() > 0  # IT read 4 ms late


def test_on_input_with_the_ode_conventions():
    """start='on_input' also works with the default step conventions: a read at the step's start, one step later."""
    model = dc.create_model("dyrcnnx4", channels=(4, 9, 16, 25), start="on_input", t_feedforward=4.0, skip=False)
    assert model.onsets() == [0.0, 6.0, 12.0, 18.0]
    with dc.record(model) as rec, torch.no_grad():
        model(torch.rand(1, 3, 12, 12), n_steps=12)
    for k, name in enumerate(model.area_names):
        assert (rec[name][:, :3 * k] == 0).all() and rec[name][:, 3 * k].abs().max() > 0
