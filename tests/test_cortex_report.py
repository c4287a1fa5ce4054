"""The cortex report end to end on tiny models: the model with mechanisms, its twin, the DN model."""

import json
import re

import pytest
import torch

import dynacortex as dc
from dynacortex.experiments.suite import run_experiments
from dynacortex.experiments.cortex import CORTEX_METRICS
from dynacortex.experiments.cortex_report import write_cortex_report

TINY = dict(in_channels=1, channels=(2, 2, 3, 3), dt=5.0, solver="exp_euler", tau=(10.0, 12.0, 15.0, 20.0),
            t_feedforward=10.0, t_skip=20.0, t_recurrence=10.0, frontend={"tau": 5.0, "delay": 40.0})


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from dynacortex.dynamics import denormals_flushed, flush_denormals

    before = denormals_flushed()  # a module fixture runs outside conftest's per-test restore
    flush_denormals()
    out = tmp_path_factory.mktemp("cortex")
    torch.manual_seed(0)
    images, labels = torch.randn(2, 1, 8, 8), torch.tensor([0, 1])
    models = {
        "model": dc.create_model("dyrcnnx4", **TINY, adaptation={"tau": 200.0, "strength": 0.5},
                                 normalization={"tau": 80.0, "sigma": 0.1}),
        "twin": dc.create_model("dyrcnnx4", **TINY, recurrence="none"),
        "dn": dc.create_model("dn", in_channels=1, dt=5.0, contrast_unit=float(images.abs().mean())),
    }
    for label, model in models.items():
        run_experiments(model.eval(), images, labels, out / label, ["duration", "contrast", "interval"], progress=False)
    page = write_cortex_report(out, model=out / "model", twin=out / "twin", dn=out / "dn", accuracy=0.9, chance=0.5)
    flush_denormals(before)
    return out, page


def test_metrics_json_has_the_cortex_schema(report):
    out, _ = report
    m = json.loads((out / "metrics.json").read_text())
    areas = ["frontend", "V1", "V2", "V4", "IT"]
    assert list(m["cortex"]) == areas and set(m["cortex"]["V1"]) == set(CORTEX_METRICS)
    assert list(m["cortex_controls"]["feedforward"]) == areas
    assert m["cortex_controls"]["dn"]["IT"] == m["cortex_controls"]["dn"]["V1"]  # one DN response, every area
    assert m["cortex_reference"]["V1"]["r_double"] == [0.64, 0.69] and m["cortex_reference"]["frontend"]["r_double"] is None
    # the front-end relay is a linear low-pass: it sums linearly and does not adapt
    assert m["cortex"]["frontend"]["r_double"] == pytest.approx(1.0, abs=0.01)
    v1 = m["cortex"]["V1"]["onset_latency_ms"]
    assert 40.0 < v1 < m["cortex"]["IT"]["onset_latency_ms"]  # after the 40 ms front-end delay, rising up the areas


def test_the_report_reads_against_human_numbers_and_prints_no_float_noise(report):
    out, page = report
    text = page.read_text()
    assert "twin" in text and "DN" in text and "Zhou et al. 2018" in text
    assert "<table class=grid><caption>Cortex metrics" in text
    assert not re.search(r"<table[^>]*>\s*</table>", text)  # no empty table
    cells = re.findall(r"<td>([^<]*)</td>", text)
    for number in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", " ".join(cells)):
        digits = re.sub(r"[^0-9]", "", number.split("e")[0]).lstrip("0")
        assert len(digits) <= 4, number
    for name in ("cortex_overlay.png", "cortex_metrics.png", "cortex_metrics.svg"):
        assert (out / name).is_file()
