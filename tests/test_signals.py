"""Population signals: the ECoG proxy's aperture, rectification and spatial selectivity; runs record it."""

import pytest
import torch
from pydantic import ValidationError

from dynacortex.experiments import get_protocol, open_recording, run_protocol
from dynacortex.experiments.metrics import compute_metrics
from dynacortex.experiments.signals import PopulationSignal, SignalConfig, aperture
from dynacortex.models import record

from .test_experiment_runs import linear_chain, positive_images


def test_aperture_is_a_normalised_gaussian_of_the_given_width():
    w = aperture(200, 200, (0.5, 0.5), 0.1)
    assert w.sum().item() == pytest.approx(1.0) and w[99:101, 99:101].min() == w.max()  # peak at the centre
    rows = (torch.arange(200, dtype=torch.float64) + 0.5) / 200 - 0.5
    assert (w.sum(1) * rows**2).sum().item() == pytest.approx(0.1**2, rel=1e-3)  # SD = radius
    coarse = aperture(4, 4, (0.5, 0.5), 0.1)  # same footprint on a coarse area: the four central pixels dominate
    assert coarse.sum().item() == pytest.approx(1.0) and coarse[1:3, 1:3].sum() > 0.9


def test_ecog_of_uniform_activity_is_that_rate_in_every_area_and_rectified():
    shapes = [torch.Size((3, 16, 16)), torch.Size((7, 4, 4)), torch.Size((5, 1, 1))]
    sig = PopulationSignal("ecog", shapes, torch.zeros(1))
    rates = [torch.full((2, *s), 0.7) for s in shapes]
    assert torch.allclose(sig(rates), torch.full((2, 3), 0.7, dtype=torch.float32))
    negative = [-r for r in rates]
    assert sig(negative).abs().max() == 0 and PopulationSignal("mean", shapes, torch.zeros(1))(negative).max() < 0


def test_ecog_sees_activity_under_the_electrode_only():
    shapes = [torch.Size((2, 32, 32))]
    ecog = PopulationSignal(SignalConfig(kind="ecog", radius=0.08), shapes, torch.zeros(1))
    mean = PopulationSignal("mean", shapes, torch.zeros(1))
    corner, centre = torch.zeros(1, 2, 32, 32), torch.zeros(1, 2, 32, 32)
    corner[..., :6, :6] = 1.0
    centre[..., 13:19, 13:19] = 1.0
    assert mean([corner]).item() == pytest.approx(mean([centre]).item())  # the mean cannot tell them apart
    assert ecog([corner]).item() < 1e-6 < 0.5 < ecog([centre]).item()
    moved = PopulationSignal(SignalConfig(kind="ecog", radius=0.08, center=(0.09, 0.09)), shapes, torch.zeros(1))
    assert moved([corner]).item() > 0.5  # an electrode over the corner


def test_protocol_run_with_the_ecog_proxy(tmp_path):
    model = linear_chain(3, tau=5.0, dt=1.0)
    images = positive_images(3, 8)
    images[:, :, :4] = 0.0  # the top half is blank
    proto = get_protocol("duration", durations_ms=[5, 10, 20, 40], idle_ms=60.0, tail_ms=60.0)
    cfg = SignalConfig(kind="ecog", center=(0.75, 0.5), radius=0.1)  # over the stimulated half
    path = run_protocol(model, proto, images, tmp_path / "duration.zarr", signal=cfg, n_units=0, progress=False)
    ds = open_recording(path)
    assert ds.attrs["signal"]["kind"] == "ecog" and "ECoG proxy" in ds.response.attrs["units"]
    frames = torch.stack([proto.timeline(1.0).frames(images, n) for n in range(ds.sizes["time_ms"])], dim=1)
    with record(model) as rec, torch.no_grad():
        model.run(frames)
    sig = PopulationSignal(cfg, [torch.Size((1, 8, 8))] * 3, torch.zeros(1))
    expected = torch.stack([sig([rec[a][:, n] for a in model.area_names]) for n in range(frames.shape[1])], dim=1)
    assert torch.allclose(torch.tensor(ds.response.values).flatten(0, 1), expected, atol=1e-6)
    mean = rec["A2"].flatten(2).mean(-1)
    assert float(ds.response.sel(area="A2").max()) > 1.5 * float(mean.max())  # the electrode sees the stimulated half only
    metrics = compute_metrics({"duration": ds})["duration"]
    assert set(metrics) == set(model.area_names)
    assert metrics["A0"]["summation_exponent"] == pytest.approx(1.0, abs=0.05)  # a linear chain sums linearly


def test_signal_errors_name_the_field():
    with pytest.raises(ValueError, match="signal: unknown signal 'lfp'.*mean.*ecog"):
        PopulationSignal("lfp", [torch.Size((1, 2, 2))], torch.zeros(1))
    with pytest.raises(ValidationError, match="radius"):
        SignalConfig(kind="ecog", radius=0)
    with pytest.raises(ValidationError, match="center"):
        SignalConfig(kind="ecog", center=(1.5, 0.5))
    with pytest.raises(ValidationError, match="kind"):
        SignalConfig(kind="bold")
