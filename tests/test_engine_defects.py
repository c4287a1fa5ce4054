"""Regression tests for engine defects found by an outside check (issue #24, A-F)."""

import copy

import pytest
import torch
from torch import nn

import dynacortex as dc
from dynacortex.layers import Area, Connection, EIArea
from dynacortex.models import AreaNetwork, Carry


def _gain_model():
    torch.manual_seed(0)
    return dc.create_model("dyrcnnx4", in_channels=1, channels=(2, 3, 4, 5), num_classes=3, t_recurrence=2.7,
                           dt=0.5, solver="rk4", recurrence_gain=0.9).double().train()


def test_a_checkpointing_with_a_gain_limit_in_training_is_exact():
    """A: the gain limit's power iteration advances once per simulation, so the recomputation of checkpointed
    chunks sees the forward's weights (before: logits 6.4e-4 apart, stem gradient 1.5 %, 21 % in float64)."""
    model = _gain_model()
    state = copy.deepcopy(model.state_dict())
    x = torch.rand(2, 20, 1, 16, 16, dtype=torch.float64)
    results = []
    for every in (None, 5):
        model.load_state_dict(state)
        model.zero_grad()
        logits, _ = model.run(x, checkpoint_every=every)
        logits.square().mean().backward()
        results.append((logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}))
    (a, ga), (b, gb) = results
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
    for name in ga:
        assert torch.allclose(ga[name], gb[name], rtol=1e-9, atol=1e-14), name


def test_a_gain_estimate_advances_once_per_training_run():
    model = _gain_model()
    limit = next(m for m in model.modules() if isinstance(m, dc.layers.gain.ConvGainLimit))
    before = limit.u.clone()
    model.run(torch.rand(1, 4, 1, 16, 16, dtype=torch.float64), checkpoint_every=2)
    after_one = limit.u.clone()
    assert not torch.equal(before, after_one)
    model.eval()
    with torch.no_grad():
        model.run(torch.rand(1, 4, 1, 16, 16, dtype=torch.float64))
    assert torch.equal(limit.u, after_one)  # evaluation never changes it


def _one_area(dt=0.5, t_rec=3.0, solver="euler"):
    area = Area("A", 1, tau=5.0, activation="identity", recurrence="self", t_recurrence=t_rec)
    with torch.no_grad():
        area.recurrence.weight.fill_(0.5)
    stem = nn.Conv2d(1, 1, 1, bias=False)
    nn.init.ones_(stem.weight)
    return AreaNetwork([area], stem, [], None, in_channels=1, dt=dt, solver=solver).double()


@pytest.mark.parametrize("solver", ["euler", "rk4"])
def test_b_a_carry_can_be_continued_twice(solver):
    """B: continuing a carry does not use it up (before: the second continuation was 6.9e-4 off, or raised)."""
    net = _one_area(solver=solver)
    x = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    with torch.no_grad():
        _, carry = net.run(x, n_steps=6)
        _, once = net.run(x, n_steps=6, carry=carry)
        _, twice = net.run(x, n_steps=6, carry=carry)
        _, whole = net.run(x, n_steps=12)
    assert torch.equal(once.state[0], twice.state[0])
    assert torch.allclose(once.state[0], whole.state[0], rtol=1e-14)


def test_c_continuing_after_changing_dt_resamples_the_history():
    """C: one area with a 3 ms self-recurrence run to 4 ms at dt 0.5, then to 8 ms at dt 0.25: the result lies
    between those of dt 0.5 and dt 0.25 throughout. Before, the past was replaced by the current state, which
    put it 0.006 off where the two differ by 0.0008."""
    x = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    with torch.no_grad():
        net = _one_area(0.5)
        _, c1 = net.run(x, n_steps=8)
        net.dt = 0.25
        _, mixed = net.run(x, n_steps=16, carry=c1)
        _, fine = _one_area(0.25).run(x, n_steps=32)
        _, coarse = _one_area(0.5).run(x, n_steps=16)
    m, f, c = (float(s.state[0]) for s in (mixed, fine, coarse))
    assert min(f, c) < m < max(f, c), (m, f, c)
    resampled = c1.history.resampled(3.0, 0.25, [0], hermite=False)
    for k in range(3):  # on the old commits the values are the stored ones, between them interpolated
        assert torch.equal(resampled.at(resampled.n - 2 * k, 0), c1.history.at(c1.history.n - k, 0))
    mid = resampled.at(resampled.n - 1, 0)
    assert torch.allclose(mid, (c1.history.at(c1.history.n, 0) + c1.history.at(c1.history.n - 1, 0)) / 2)


def test_c_a_history_too_short_for_the_new_delays_is_refused():
    net = _one_area(0.5, t_rec=1.0)
    x = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    with torch.no_grad():
        _, carry = net.run(x, n_steps=20)  # 10 ms: the history holds 1 ms
        net.areas[0].t_recurrence = 3.0
        with pytest.raises(ValueError, match=r"carry: its delay history holds 1 ms of the past.*reads 3 ms back"):
            net.run(x, n_steps=2, carry=carry)
        # while everything before the history's start is still its pre-history, longer delays are fine
        net.areas[0].t_recurrence = 1.0
        _, short = net.run(x, n_steps=1)
        net.areas[0].t_recurrence = 3.0
        net.run(x, n_steps=2, carry=short)


def test_d_areas_sharing_a_recurrence_module_get_their_own_terms():
    """D: two areas with one shared J and different states: each reads its own delayed J r (before: 1.6e-3 off)."""
    def build(shared):
        torch.manual_seed(0)
        a = Area("A", 2, tau=5.0, activation="tanh", recurrence="full", t_recurrence=1.5)
        b = Area("B", 2, tau=5.0, activation="tanh", recurrence=a.recurrence if shared else "full", t_recurrence=1.5)
        if not shared:
            b.recurrence.load_state_dict(a.recurrence.state_dict())
        conn = Connection("A", "B", nn.Conv2d(2, 2, 3, padding=1), 1.0)
        return AreaNetwork([a, b], nn.Conv2d(1, 2, 3, padding=1), [conn], None, in_channels=1, dt=0.5,
                           solver="heun").double()
    shared, separate = build(True), build(False)
    separate.stem.load_state_dict(shared.stem.state_dict())
    separate.connections[0].load_state_dict(shared.connections[0].state_dict())
    x = torch.rand(1, 1, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        ys = shared.run(x, n_steps=20)[1].state
        yp = separate.run(x, n_steps=20)[1].state
    for a, b in zip(ys, yp):
        assert torch.allclose(a, b, rtol=1e-14, atol=1e-16)


def test_f_time_constants_and_delays_stay_exact_in_float64():
    """F: log tau and the delay logit are created in float32; converted to float64 they hold the exact value."""
    area = Area("A", 3, tau=5.0, learn_tau=True, tau_per_channel=True).double()
    assert area.log_tau.dtype == torch.float64 and torch.allclose(area.tau, torch.tensor(5.0, dtype=torch.float64),
                                                                  rtol=1e-15)
    ei = EIArea("E", 2, 1, tau=5.0, tau_inhibitory=7.0).double()
    assert torch.allclose(ei.tau.flatten(), torch.tensor([5.0, 5.0, 7.0], dtype=torch.float64), rtol=1e-15)
    conn = Connection("a", "b", nn.Conv2d(1, 1, 1), delay=3.0).double()
    conn.learn_delay((1.0, 7.0))
    assert conn.delay_logit.dtype == torch.float64 and abs(float(conn.delay.detach()) - 3.0) < 1e-14
    conn = Connection("a", "b", nn.Conv2d(1, 1, 1), delay=3.0, delay_bounds=(1.0, 7.0)).double()
    assert abs(float(conn.delay.detach()) - 3.0) < 1e-14
    trained = Area("A", 1, tau=5.0, learn_tau=True)
    with torch.no_grad():
        trained.log_tau.add_(0.1)  # a trained value converts as it is
    value = float(trained.log_tau.detach())
    assert float(trained.double().log_tau.detach()) == value
