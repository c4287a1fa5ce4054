"""Running protocols: the streamed record equals one plain simulation, stores are atomic, metrics
of analytic networks come out as theory says, and the report and CLI produce their files."""

import json
import re

import numpy as np
import pytest
import torch
from torch import nn

from dynacortex.experiments import Condition, Protocol, Segment, get_protocol, open_recording, run_protocol
from dynacortex.experiments.dynvision_metrics import dynvision_metrics
from dynacortex.experiments.metrics import SCHEMA_KEYS, baseline_drift, compute_metrics
from dynacortex.experiments.report import load_recordings, write_experiment_report
from dynacortex.experiments.suite import run_experiments
from dynacortex.layers import Area, Connection
from dynacortex.models import AreaNetwork, record
from dynacortex.training import train

from .helpers import chain


def linear_chain(n=3, tau=5.0, dt=0.5, inhibition=None, t_inhibition=20.0):
    """Identity-activation areas in a chain with positive 1x1 weights: a linear time-invariant system.
    ``inhibition=w``: the first area inhibits itself with weight -w after ``t_inhibition`` ms (ReLU)."""
    areas = []
    for i in range(n):
        if i == 0 and inhibition is not None:
            a = Area("A0", 1, tau=tau, activation="relu", recurrence="self", t_recurrence=t_inhibition)
            with torch.no_grad():
                a.recurrence.weight.fill_(-inhibition)
        else:
            a = Area(f"A{i}", 1, tau=tau, activation="identity", recurrence="none")
        areas.append(a)
    stem = nn.Conv2d(1, 1, 1, bias=False)
    conns = [Connection(f"A{i}", f"A{i + 1}", nn.Conv2d(1, 1, 1, bias=False)) for i in range(n - 1)]
    for conv in [stem] + [c.op for c in conns]:
        nn.init.constant_(conv.weight, 1.0)
    return AreaNetwork(areas, stem, conns, None, in_channels=1, dt=dt, solver="rk4")


def positive_images(n=4, size=4):
    return 0.5 + torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(0))


def short(name, **kw):
    base = {"duration": dict(durations_ms=[5, 10, 20, 40, 80]), "contrast": dict(duration_ms=60),
            "interval": dict(gaps_ms=[5, 20, 80], pulse_ms=20), "response": dict(duration_ms=150),
            "memory": dict(duration_ms=20, tail_ms=200)}[name]
    return get_protocol(name, **{**base, "idle_ms": 110.0, **kw})


def test_streamed_record_equals_one_plain_simulation(tmp_path):
    model = chain(3, 4, delay=3.0, t_recurrence=2.0, dt=1.0)
    proto = Protocol(name="ab", idle_ms=5, tail_ms=10, conditions=(
        Condition(label="A", segments=(Segment(on_ms=7, off_ms=4, contrast=0.5), Segment(on_ms=6))),
        Condition(label="AB", segments=(Segment(on_ms=3), Segment(on_ms=9, stimulus=1)))))
    images = torch.randn(3, 2, 8, 8)
    path = run_protocol(model, proto, images, tmp_path / "ab.zarr", chunk_steps=4, n_units=5, batch_size=4,
                        progress=False, settle_ms=6.0)
    ds = open_recording(path)
    tl = proto.timeline(1.0)
    frames = torch.stack([tl.frames(images, n) for n in range(tl.n_steps)], dim=1)  # (cond*B, T, C, H, W)
    frames = torch.cat([torch.zeros_like(frames[:, :6]), frames], dim=1)  # the 6 ms of settling on blank
    with record(model) as rec, torch.no_grad():
        logits = model(frames)[:, 6:]
    for k, area in enumerate(model.area_names):
        plain = rec[area][:, 6:].flatten(2)  # (cond*B, T, units)
        got = torch.tensor(ds.response.isel(area=k).values).flatten(0, 1)
        assert torch.allclose(got, plain.mean(-1), atol=1e-6)
        idx = torch.tensor(ds[f"unit_{area}"].values)
        assert torch.allclose(torch.tensor(ds[f"units_{area}"].values).flatten(0, 1), plain[..., idx], atol=1e-6)
    assert torch.allclose(torch.tensor(ds.logits.values).flatten(0, 1), logits, atol=1e-6)
    assert ds.response.dims == ("condition", "image", "time_ms", "area")
    assert list(ds.condition.values) == ["A", "AB"] and ds.attrs["protocol"]["name"] == "ab"
    assert ds.attrs["tau_ms"] == {"A0": 5.0, "A1": 5.0, "A2": 5.0} and ds.attrs["solver"] == "euler"
    assert ds.contrast.sel(condition="A").values.max() == 1.0


def test_store_is_written_in_blocks_and_published_atomically(tmp_path, monkeypatch):
    model = chain(2, 3, dt=1.0)
    images = torch.randn(2, 2, 6, 6)
    target = tmp_path / "duration.zarr"
    run_protocol(model, short("duration"), images, target, progress=False)
    before = open_recording(target).response.values.copy()
    calls = {"n": 0}
    original = AreaNetwork.run

    def failing_run(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt("stopped")
        return original(self, *a, **kw)

    monkeypatch.setattr(AreaNetwork, "run", failing_run)
    with pytest.raises(KeyboardInterrupt):
        run_protocol(model, short("duration", contrast=0.5), images, target, chunk_steps=20, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["duration.zarr"]  # no partial store left behind
    np.testing.assert_array_equal(open_recording(target).response.values, before)  # old one intact
    with pytest.raises(FileNotFoundError, match="not a complete zarr store"):
        open_recording(tmp_path / "missing.zarr")


def test_linear_network_sums_linearly_recovers_fully_and_does_not_adapt(tmp_path):
    model = linear_chain()
    images = positive_images()
    protos = [short(n) for n in ("duration", "contrast", "interval", "response")]
    run_experiments(model, images, torch.arange(4), tmp_path, protos, progress=False)
    recordings = load_recordings(tmp_path)
    met = compute_metrics(recordings)
    assert [k for k in met if not k.startswith("cortex")] == ["latency_ms", "duration", "contrast", "interval",
                                                             "adaptation"] and "cortex" in met
    dv = dynvision_metrics(recordings)  # raw sums (zero baseline here): D / D_max
    durations = np.array(dv["normalized_summed_response"]["A2"]["durations_ms"])
    assert dv["normalized_summed_response"]["A2"]["value"] == pytest.approx(durations / durations.max(), rel=1e-3)
    lat = list(met["latency_ms"].values())
    assert lat[0] == pytest.approx(-5.0 * np.log(0.8), abs=0.05)  # first-order rise, 20% criterion
    assert lat[0] < lat[1] < lat[2]
    for area in ("A0", "A1", "A2"):
        assert met["duration"][area]["summation_exponent"] == pytest.approx(1.0, abs=1e-3)
        assert met["interval"][area]["recovery_ratio"] == pytest.approx([1.0] * 3, abs=1e-3)
        assert met["adaptation"][area]["adaptation_index"] == pytest.approx(0.0, abs=1e-3)
        ttp = met["contrast"][area]["time_to_peak_ms"]
        assert max(ttp) - min(ttp) <= 0.5  # a linear system's timing does not depend on contrast
        peaks = np.array(met["contrast"][area]["peak"])
        assert peaks / peaks[-1] == pytest.approx(np.array(met["contrast"][area]["contrasts"]), rel=1e-3)


def test_baseline_drift_flags_a_model_that_has_not_settled(tmp_path):
    settled, drifting = linear_chain(tau=5.0), linear_chain(tau=40.0)
    drifting.stem = nn.Conv2d(1, 1, 1)  # a constant drive from the gray screen: the rest state moves
    nn.init.constant_(drifting.stem.weight, 1.0)
    nn.init.constant_(drifting.stem.bias, 1.0)
    for name, model, settle in (("settled", settled, 0.0), ("drifting", drifting, 0.0), ("presettled", drifting, 1000.0)):
        run_protocol(model, short("response"), positive_images(), tmp_path / name / "response.zarr", progress=False,
                     settle_ms=settle)
    assert max(baseline_drift(open_recording(tmp_path / "settled" / "response.zarr")).values()) < 1e-6
    assert max(baseline_drift(open_recording(tmp_path / "drifting" / "response.zarr")).values()) > 0.1
    # 1000 ms of blank before each batch (the default) lets it settle: 25 time constants
    assert max(baseline_drift(open_recording(tmp_path / "presettled" / "response.zarr")).values()) < 1e-6


def test_delayed_self_inhibition_adapts_and_sums_subadditively(tmp_path):
    model = linear_chain(n=2, inhibition=1.0)
    protos = [short("duration"), short("response"), short("interval")]
    run_experiments(model, positive_images(), torch.arange(4), tmp_path, protos, progress=False)
    met = compute_metrics(load_recordings(tmp_path))
    # tau dr/dt = -r + relu(I - r(t - 20)): peak ~I before the inhibition arrives, then I/2
    assert met["adaptation"]["A0"]["adaptation_index"] == pytest.approx(0.5, abs=0.05)
    assert met["duration"]["A0"]["summation_exponent"] < 0.85
    rec = met["interval"]["A0"]["recovery_ratio"]
    assert rec[0] < rec[-1]  # a second pulse soon after the first is suppressed


def test_memory_lasts_longer_with_slower_areas(tmp_path):
    images = torch.cat([positive_images(8), positive_images(8).flip(-1)])
    images[8:, :, :, :2] += 1.0  # two classes with different spatial patterns
    labels = torch.tensor([0] * 8 + [1] * 8)
    spans = []
    for tau in (5.0, 40.0):
        model = linear_chain(n=1, tau=tau)
        run_experiments(model, images, labels, tmp_path / f"tau{tau}", [short("memory")], n_units=16, progress=False)
        mem = compute_metrics(load_recordings(tmp_path / f"tau{tau}"))["memory"]["A0"]
        acc = np.array(mem["decoding_accuracy"])
        assert acc[0] >= 0.9
        spans.append(np.array(mem["time_after_offset_ms"])[acc >= 0.75].max())
    assert spans[1] > spans[0] + 40


def test_report_files_and_schema(tmp_path):
    model = chain(3, 4, dt=1.0)
    images = torch.randn(8, 2, 8, 8)
    labels = torch.arange(8) % 2
    protos = [short(n) for n in ("duration", "contrast", "interval", "response", "memory")]
    run_experiments(model, images, labels, tmp_path, protos, n_units=8, progress=False)
    report = write_experiment_report(tmp_path)
    met = json.loads((tmp_path / "metrics.json").read_text())
    assert tuple(k for k in met if k != "cortex_null_reasons") == SCHEMA_KEYS
    assert list(met["latency_ms"]) == ["A0", "A1", "A2"]
    assert set(met["duration"]["A1"]) == {"durations_ms", "summed_response", "summation_exponent"}
    assert set(met["contrast"]["A1"]) == {"contrasts", "time_to_peak_ms", "peak"}
    assert set(met["interval"]["A1"]) == {"gaps_ms", "recovery_ratio"}
    assert set(met["adaptation"]["A1"]) == {"adaptation_index"}
    m = met["memory"]["A2"]
    assert len(m["time_after_offset_ms"]) == len(m["decoding_accuracy"]) and m["time_after_offset_ms"][0] == 0
    dv = json.loads((tmp_path / "dynvision_metrics.json").read_text())
    assert set(dv) == {"normalized_summed_response", "peak_time_ms", "peak_ratio"}
    assert len(dv["peak_ratio"]["A2"]["value"]) == 3
    for png in ("duration_time_courses", "summation", "contrast_timing", "recovery", "latency", "memory"):
        assert (tmp_path / f"{png}.png").stat().st_size > 5000
    page = report.read_text()
    assert "Baseline check" in page
    assert "Summation exponent (slope of log summed response" in page and "summation.png" in page and "Per-area summary" in page
    assert not re.search(r"<table[^>]*>\s*(<caption>[^<]*</caption>)?\s*</table>", page)  # no empty table
    for cell in re.findall(r"<td>([^<]*)</td>", page):  # numbers as measured, not float noise
        for number in re.findall(r"-?\d+\.\d+", cell):
            assert len(number.replace("-", "").replace(".", "").lstrip("0")) <= 4, cell


def test_cli_runs_protocols_on_a_checkpoint_and_reports(tmp_path):
    from typer.testing import CliRunner

    from dynacortex.cli import app

    from .test_training import tiny_config

    cfg = tiny_config(tmp_path, "trainer.max_epochs=1", "trainer.limit_train_batches=2")
    train(cfg)
    ckpt = cfg.run_dir / "checkpoints" / "last.ckpt"
    out = tmp_path / "exp"
    runner = CliRunner()
    common = ["experiment", "run", "--checkpoint", str(ckpt), "--out", str(out), "--per-class", "1"]
    res = runner.invoke(app, [*common, "--protocol", "duration", "--set", "durations_ms=[10, 20]",
                              "--set", "idle_ms=110", "--set", "tail_ms=20"])
    assert res.exit_code == 0, res.output
    # the plan and an estimate come first: 2 conditions x 10 digits, (110 + 20 + 20) ms / 2 ms = 75 steps
    plan = res.output.index("planned:\n  duration: 2 conditions x 10 images = 20 trials of 75 steps (1 simulation of up to 20 trials)")
    assert plan < res.output.index("estimated time on this machine: about") < res.output.index("recording:")
    ds = open_recording(out / "duration.zarr")
    assert ds.sizes["condition"] == 2 and ds.sizes["image"] == 10  # one digit per class
    assert ds.attrs["model"]["name"] == "dyrcnnx4" and ds.attrs["dt_ms"] == cfg.model.kwargs.get("dt", 2.0)
    res = runner.invoke(app, ["experiment", "report", str(out)])
    assert res.exit_code == 0, res.output
    assert set(json.loads((out / "metrics.json").read_text())) == {"latency_ms", "duration", "cortex",
                                                                   "cortex_null_reasons"}
    page = (out / "report.html").read_text()
    assert "Recorded from" in page and "last.ckpt" in page and "test accuracy" in page  # what was recorded
    assert "near chance" in page  # a 2-batch model: values reported, no conclusion about cortex drawn
    bad = runner.invoke(app, [*common, "--protocol", "flicker"])
    assert bad.exit_code == 2 and "unknown protocol 'flicker'" in bad.output


def test_compare_puts_experiments_side_by_side(tmp_path):
    from typer.testing import CliRunner

    from dynacortex.cli import app

    for name, inhibition in (("linear", None), ("inhibited", 1.0)):
        run_experiments(linear_chain(n=2, inhibition=inhibition), positive_images(), torch.arange(4),
                        tmp_path / name, [short("duration"), short("response")], progress=False)
        write_experiment_report(tmp_path / name)
    res = CliRunner().invoke(app, ["experiment", "compare", f"linear={tmp_path / 'linear'}",
                                   str(tmp_path / "inhibited"), "--out", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    table = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert set(table) == {"linear", "inhibited"}
    assert table["inhibited"]["A0"]["adaptation_index"] > 0.4 > table["linear"]["A0"]["adaptation_index"]
    assert "summation_exponent" in table["linear"]["A1"] and (tmp_path / "cmp" / "comparison.png").is_file()


def test_protocols_record_what_retina_and_ei_areas_send_on(tmp_path):
    """Units and responses are those of each area's output: the retina's ON/OFF channels (fewer than its
    states without transient channels) and the E populations of E/I areas."""
    import dynacortex as dc

    model = dc.create_model("dyrcnnx4", channels=(4, 4, 4, 4), in_channels=1, populations="ei", dt=2.0,
                            retina={"transient": False})
    proto = get_protocol("duration", durations_ms=[10], idle_ms=10, tail_ms=10)
    images = positive_images(2, 8)
    ds = open_recording(run_protocol(model, proto, images, tmp_path / "d.zarr", n_units=10_000, progress=False,
                                     settle_ms=0.0))
    assert ds.sizes["unit_retina"] == 2 * 8 * 8 and ds.sizes["unit_V1"] == 4 * 8 * 8  # ON/OFF; E only
    frames = torch.stack([proto.timeline(2.0).frames(images, n) for n in range(ds.sizes["time_ms"])], dim=1)
    with record(model) as rec, torch.no_grad():
        model(frames)
    for k, area in enumerate(model.area_names):
        got = torch.tensor(ds.response.isel(area=k).values).flatten(0, 1)
        assert torch.allclose(got, rec[area].flatten(2).mean(-1), atol=1e-6)
