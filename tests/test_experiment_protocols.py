"""Protocols in ms: rasterisation at any dt, pieces, frames, and errors."""

import pytest
import torch

from dynacortex.experiments import Condition, Protocol, Segment, get_protocol, list_protocols
from dynacortex.experiments.cli_support import resolve_protocols


@pytest.mark.parametrize("dt", [0.5, 1.0, 2.0])
def test_duration_steps_and_time_axis(dt):
    proto = get_protocol("duration", durations_ms=[10, 40], idle_ms=20, tail_ms=30)
    tl = proto.timeline(dt)
    assert tl.n_steps == round((20 + 40 + 30) / dt)
    assert (tl.contrast > 0).sum(1).tolist() == [round(10 / dt), round(40 / dt)]
    first_on = int(torch.nonzero(tl.contrast[0])[0])
    assert tl.time_ms[first_on].item() == pytest.approx(dt)  # step ends dt after onset
    assert tl.time_ms[first_on - 1].item() == pytest.approx(0.0)


def test_interval_pulses_and_single_reference():
    proto = get_protocol("interval", gaps_ms=[10, 30], pulse_ms=20, idle_ms=10, tail_ms=0)
    tl = proto.timeline(1.0)
    assert [c.label for c in proto.conditions] == ["single", "10ms", "30ms"]
    on = tl.contrast > 0
    assert on[0].sum() == 20 and on[1].sum() == 40 and on[2].sum() == 40
    # second pulse of the 30 ms gap starts at 10 + 20 + 30 = 60 ms
    assert not on[2, 59] and on[2, 60] and not on[2, 50]


def test_pieces_cover_all_steps_and_never_cross_a_change():
    tl = get_protocol("interval", gaps_ms=[17, 33]).timeline(2.0)
    pieces = tl.pieces(max_steps=25)
    assert pieces[0][0] == 0 and pieces[-1][1] == tl.n_steps
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    for a, b in pieces:
        assert b - a <= 25
        assert (tl.contrast[:, a:b] == tl.contrast[:, a:a + 1]).all()


def test_frames_scale_contrast_and_pick_the_stimulus():
    proto = Protocol(name="ab", idle_ms=0, tail_ms=0, conditions=(
        Condition(label="AB", segments=(Segment(on_ms=2, contrast=0.5), Segment(on_ms=2, stimulus=1))),))
    tl = proto.timeline(1.0)
    images = torch.arange(3.0).view(3, 1, 1, 1) + 1  # images 1, 2, 3
    assert tl.frames(images, 0).flatten().tolist() == [0.5, 1.0, 1.5]
    assert tl.frames(images, 2).flatten().tolist() == [2.0, 3.0, 1.0]  # the next image (wrapping)


def test_contrast_and_response_protocols():
    c = get_protocol("contrast")
    assert c.params["contrasts"] == [0.0625, 0.125, 0.25, 0.5, 1.0]  # Groen et al. 2022: five contrasts
    assert len(get_protocol("duration").conditions) == 6
    r = get_protocol("response").timeline(2.0)
    assert (r.contrast[1] == 0).all() and (r.contrast[0] > 0).sum() == 500  # 1000 ms long; blank trial
    assert set(list_protocols()) == {"duration", "contrast", "interval", "response", "memory"}


@pytest.mark.parametrize("call, match", [
    (lambda: get_protocol("flicker"), r"protocol: unknown protocol 'flicker' \(allowed: duration, contrast,"),
    (lambda: get_protocol("durration"), r"unknown protocol 'durration'; did you mean 'duration'\?"),
    (lambda: get_protocol("duration", bogus=1), r"protocol 'duration': unknown parameter 'bogus' \(parameters of "
                                                r"duration: durations_ms=\[17, 33, 67, 133, 267, 533\], contrast=1.0"),
    (lambda: get_protocol("interval", gap_ms=[50]), r"unknown parameter 'gap_ms'; did you mean 'gaps_ms'"),
    (lambda: get_protocol("interval", gaps_ms="abc"), r"protocol 'interval': gaps_ms: "),
    (lambda: get_protocol("contrast", contrasts=[float("inf")]), r"contrasts.0: Input should be a finite number"),
    (lambda: Segment(on_ms=0), "on_ms"),
    (lambda: Segment(on_ms=5, contrast=-1), "contrast"),
    (lambda: Protocol(name="x", conditions=(Condition(label="a"), Condition(label="a"))), "labels must be unique"),
    (lambda: Protocol(name="x", conditions=()), "at least one condition"),
    (lambda: get_protocol("duration").timeline(0.0), "dt: must be > 0"),
    (lambda: resolve_protocols(["duration", "contrast"], ["gaps_ms=[1]"]), "exactly one built-in"),
    (lambda: resolve_protocols(["interval"], ["gaps_ms"]), "expected key=value"),
])
def test_bad_protocols_name_the_field(call, match):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        call()


def test_resolve_protocols_with_overrides_and_yaml(tmp_path):
    (p,) = resolve_protocols(["interval"], ["gaps_ms=[50, 100]"])
    assert p.params["gaps_ms"] == [50.0, 100.0]
    f = tmp_path / "mine.yaml"
    f.write_text("name: mine\nidle_ms: 50\nconditions:\n  - label: twice\n    segments:\n"
                 "      - {on_ms: 20, off_ms: 10, contrast: 0.5}\n      - {on_ms: 20, stimulus: 1}\n")
    (q,) = resolve_protocols([str(f)], [])
    assert q.name == "mine" and q.conditions[0].segments[1].stimulus == 1
    assert [x.name for x in resolve_protocols([], [])] == list_protocols()
