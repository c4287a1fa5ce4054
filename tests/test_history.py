"""The delay history: interpolated reads, pre-history, in-step reads, bounded memory."""

import pytest
import torch

from dynacortex import History


def ramp_history(dt=0.5, n=20, max_delay=3.0):
    """Commit y(t) = 2 t + 1 at t_k = k dt: linear in t, so interpolation is exact."""
    h = History(max_delay, dt)
    h.reset(0.0, (torch.tensor([1.0]),))
    for k in range(1, n + 1):
        h.push((torch.tensor([2 * k * dt + 1.0]),))
    return h


@pytest.mark.parametrize("delay", [0.5, 1.0, 1.3, 2.25, 3.0])
def test_reads_interpolate_linearly(delay):
    h = ramp_history()
    t = 10.0  # = last commit
    got = h.read(0, t - delay, t, torch.tensor([21.0]))
    assert torch.allclose(got, torch.tensor([2 * (t - delay) + 1.0]))


def test_read_before_start_is_initial_state():
    h = History(5.0, 1.0)
    h.reset(0.0, (torch.tensor([3.0]),))
    h.push((torch.tensor([4.0]),))
    assert h.read(0, -2.5, 1.0, torch.tensor([4.0])).item() == 3.0


def test_read_inside_current_step_uses_stage_value():
    h = History(4.0, 1.0)
    h.reset(0.0, (torch.tensor([0.0]),))
    h.push((torch.tensor([1.0]),))  # t = 1
    # a stage at t = 1.5 with value 2 and a delay of 0.25 reads t = 1.25: between (1, 1) and (1.5, 2)
    assert torch.allclose(h.read(0, 1.25, 1.5, torch.tensor([2.0])), torch.tensor([1.5]))


def test_memory_bounded_by_largest_delay():
    h = ramp_history(dt=0.5, n=200, max_delay=3.0)
    assert len(h._buf) == h.capacity <= 3.0 / 0.5 + 2
    with pytest.raises(RuntimeError, match="dropped"):
        h.read(0, 100.0 - 10.0, 100.0, torch.tensor([0.0]))


def test_only_requested_leaves_are_stored():
    h = History(1.0, 1.0, leaves=[1])
    h.reset(0.0, (torch.zeros(2), torch.ones(2)))
    assert h._buf[0][0] is None and h._buf[0][1] is not None


def test_invalid_arguments():
    with pytest.raises(ValueError, match="max_delay"):
        History(-1.0, 1.0)
    with pytest.raises(ValueError, match="dt"):
        History(1.0, 0.0)
