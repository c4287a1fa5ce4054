"""Recurrence types: gradients reach every parameter, documented parameter counts, the sheet."""

import pytest
import torch

import dynacortex as dc
from dynacortex.layers import LocalRecurrence, make_recurrence, recurrence_parameter_count, sheet_layout
from dynacortex.layers.recurrence import RECURRENCE_TYPES


@pytest.mark.parametrize("kind", RECURRENCE_TYPES)
def test_every_recurrence_type_trains(kind):
    """Forward + backward through DyRCNNx4 (non-square channel counts); every parameter gets a finite,
    non-zero gradient."""
    model = dc.create_model("dyrcnnx4", channels=(6, 10, 7, 12), recurrence=kind, t_recurrence=2.0, learn_tau=True)
    x = torch.rand(2, 3, 16, 16)
    logits = model(x, n_steps=8)
    assert logits.shape == (2, 8, 10)
    logits.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("kind", RECURRENCE_TYPES)
@pytest.mark.parametrize("channels", [36, 121, 64, 10])
def test_parameter_count_matches_documentation(kind, channels):
    module = make_recurrence(kind, channels, kernel_size=3, local_kernel_size=5)
    n = 0 if module is None else sum(p.numel() for p in module.parameters())
    assert n == recurrence_parameter_count(kind, channels, 3, 5)


@pytest.mark.parametrize("kind", ["none", "self", "full", "depthpointwise", "pointdepthwise", "local", "localdepthwise"])
@pytest.mark.parametrize("channels", [36, 256, 10])
@pytest.mark.parametrize("bias", [False, True])
def test_dynvision_layout_parameter_count(kind, channels, bias):
    module = make_recurrence(kind, channels, kernel_size=3, layout="dynvision", bias=bias)
    n = 0 if module is None else sum(p.numel() for p in module.parameters())
    assert n == recurrence_parameter_count(kind, channels, 3, layout="dynvision", bias=bias)
    if module is not None:
        x = torch.rand(2, channels, 3, 4)
        assert module(x).shape == x.shape


@pytest.mark.parametrize("kind", [k for k in RECURRENCE_TYPES if k != "none"])
def test_recurrence_preserves_shape(kind):
    module = make_recurrence(kind, 13, 3)
    x = torch.rand(2, 13, 5, 6)
    assert module(x).shape == x.shape


@pytest.mark.parametrize("channels", [1, 7, 10, 36, 64, 121])
def test_sheet_layout_is_a_permutation(channels):
    h, w = 3, 4
    index, sh, sw = sheet_layout(channels, h, w)
    assert index.numel() == sh * sw
    used = index[index >= 0]
    assert torch.equal(used.sort().values, torch.arange(channels * h * w))


def test_sheet_neighbouring_tiles_meet_at_matching_channels():
    """Mirrored tiles: across a tile border the sheet continues with the same channel."""
    c, h, w = 9, 2, 2
    index, sh, sw = sheet_layout(c, h, w)
    sheet = index.view(sh, sw)
    chan = lambda v: int(v) // (h * w)  # noqa: E731
    tile = 3
    for row in range(tile):
        assert chan(sheet[row, tile - 1]) == chan(sheet[row, tile])  # left/right border
    for col in range(tile):
        assert chan(sheet[tile - 1, col]) == chan(sheet[tile, col])  # top/bottom border


def test_local_recurrence_connects_sheet_neighbours_only():
    """An impulse in one channel at one position spreads to exactly its 3x3 sheet neighbourhood."""
    c, h, w = 10, 3, 3
    rec = LocalRecurrence(c, kernel_size=3)
    with torch.no_grad():
        rec.weight.fill_(1.0)
    x = torch.zeros(1, c, h, w)
    x[0, 4, 1, 1] = 1.0
    out = rec(x)
    index, sh, sw = sheet_layout(c, h, w)
    pos = int(torch.nonzero(index == 4 * h * w + 1 * w + 1))
    py, px = divmod(pos, sw)
    sheet = index.view(sh, sw)
    expected = {int(v) for v in sheet[py - 1:py + 2, px - 1:px + 2].flatten() if v >= 0}
    got = set(torch.nonzero(out.flatten()).flatten().tolist())
    assert got == expected


def test_unknown_recurrence_lists_allowed():
    with pytest.raises(ValueError, match=r"recurrence: Input should be .*'full'.* \(got 'fulll'\)"):
        dc.create_model("dyrcnnx4", recurrence="fulll")
    with pytest.raises(ValueError, match="unknown recurrence type 'x'; allowed values are"):
        make_recurrence("x", 4)
