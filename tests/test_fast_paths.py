"""Fast paths of the network vector field give the same numbers as the plain computation.

- ``scaled(t, y, h)`` is ``h * f(t, y)`` (Euler and exponential Euler add it without a multiply);
- reads that fall where the network was at rest use the connection's term of the zero state, computed
  once on one sample: outputs and gradients equal those of a run that does not know it started at
  rest (a carry with ``rest_until = -inf``), and the full-batch connection work is really skipped.
"""

import pytest
import torch
from torch import nn

import dynacortex as dc
from dynacortex.dynamics import denormals_flushed, flush_denormals
from dynacortex.dynamics.solvers import increment
from dynacortex.models import Carry
from dynacortex.models.field import NetworkField

from .helpers import chain


@pytest.mark.parametrize("form,activation", [("rate", "relu"), ("voltage", "softplus")])
def test_scaled_field_is_h_times_the_field(form, activation):
    net = chain(form=form, activation=activation, t_recurrence=2.0, delay=1.0).double()
    x = torch.rand(2, 4, 2, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        _, carry = net.run(x)
        field = NetworkField(net, net._drives(net._frames(x, None)[0]), carry, [])
        f = field(carry.t, carry.state)
        for h in (0.7, (0.5, 2.0, torch.full((4, 1, 1), 3.0, dtype=torch.float64))):
            hs = h if isinstance(h, tuple) else (h,) * 3
            for got, fi, hi in zip(increment(field, carry.t, carry.state, h), f, hs):
                assert torch.allclose(got, hi * fi, rtol=1e-12, atol=1e-15)
    assert increment(lambda t, y: y, 0.0, torch.ones(1), 1.0) is None  # a plain callable has none


def _run_both(model, x):
    """(logits, gradients) of a run from rest and of the same run from an explicit zero carry."""
    out = []
    for known_rest in (True, False):
        model.zero_grad()
        carry = None
        if not known_rest:
            with torch.no_grad():
                _, probe = model.run(x[:, :1])
            carry = Carry(tuple(torch.zeros_like(s) for s in probe.state), t=0.0)  # rest_until = -inf
        logits, _ = model.run(x, carry=carry)
        logits.square().mean().backward()
        out.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    return out


@pytest.mark.parametrize("solver", ["euler", "rk4", "exp_euler"])
@pytest.mark.parametrize("form", ["rate", "voltage"])
def test_rest_shortcut_is_exact(solver, form):
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7), solver=solver, form=form, activation="softplus",
                            t_feedforward=4.0, t_skip=2.0, t_recurrence=2.0, feedback=True, t_feedback=6.0)
    for m in model.modules():  # biases far from zero, so that a wrong rest term would show
        if isinstance(m, nn.Conv2d) and m.bias is not None:
            nn.init.uniform_(m.bias, 0.5, 1.0)
    model.double()
    (a, ga), (b, gb) = _run_both(model, torch.rand(3, 9, 3, 16, 16, dtype=torch.float64))
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)
    for (name, _), g1, g2 in zip(model.named_parameters(), ga, gb):
        assert torch.allclose(g1, g2, rtol=1e-10, atol=1e-12), name


def test_rest_shortcut_skips_the_batch_work():
    """t_feedforward 4 ms at dt 2 ms: each feedforward connection reads the rest at t = 0, 2, 4 ms, so it
    runs on the full batch in 7 of 10 Euler steps, plus once on one sample (the rest term)."""
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7), t_feedforward=4.0, t_skip=0.0, dt=2.0)
    x = torch.rand(3, 10, 3, 16, 16)
    model(x)  # the first run also probes the state shapes on one sample
    batches = {c.dst + "<-" + c.src: [] for c in model.connections}
    for c in model.connections:
        c.register_forward_hook(lambda mod, args, out, key=c.dst + "<-" + c.src: batches[key].append(args[0].shape[0]))
    model(x)
    assert sorted(batches["V2<-V1"]) == [1] + [3] * 7
    assert sorted(batches["V4<-V1"]) == [1] + [3] * 9  # the skip has no delay: only t = 0 is at rest


def _uncached(self, op, key, j, delay, t, y, outs, own=False, affine=False):
    return op(self._read(j, delay, t, y, outs, own))


@pytest.mark.parametrize("solver", ["heun", "rk4"])
@pytest.mark.parametrize("t_recurrence", [4.0, 2.6])  # on the step grid, and off it (dt 2 ms): w = 0.3, 0.8
@pytest.mark.parametrize("form", ["rate", "voltage"])
def test_commit_terms_are_exact(solver, t_recurrence, form, monkeypatch):
    """Reusing delayed terms of committed states (and combining a linear J's / an affine adapter's terms, and
    those of the slopes for RK4's Hermite reads, between commits) gives the outputs and gradients of evaluating
    every stage's read. In voltage form the history interpolates v, and the output is Phi of that (the cached
    path once interpolated Phi(v): 8.8e-7 apart at dt 0.5)."""
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7), solver=solver, t_feedforward=2.0, t_skip=2.0,
                            t_recurrence=t_recurrence, feedback=True, t_feedback=5.4, activation="tanh",
                            form=form).double()
    x = torch.rand(2, 10, 3, 16, 16, dtype=torch.float64)
    results = []
    for cached in (True, False):
        if not cached:
            monkeypatch.setattr(NetworkField, "_delayed", _uncached)
        model.zero_grad()
        logits, _ = model.run(x)
        logits.square().mean().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (a, ga), (b, gb) = results
    assert torch.allclose(a, b, rtol=1e-11, atol=1e-13)
    for (name, _), g1, g2 in zip(model.named_parameters(), ga, gb):
        assert torch.allclose(g1, g2, rtol=1e-9, atol=1e-12), name


def test_rk4_evaluates_a_delayed_recurrence_once_per_step():
    """t_recurrence 6 ms, dt 2 ms: RK4's stages read J at t - 6, t - 5 (twice) and t - 4 ms. From t = 6 ms on
    (before that the recurrence reads the rest and is skipped) each step needs J of one new commit and of its
    slope (the Hermite read at t - 5 ms combines the terms of two commits and their slopes): 16 evaluations in
    10 steps instead of 27."""
    model = dc.create_model("dyrcnnx4", channels=(4, 5, 6, 7), solver="rk4", t_recurrence=6.0, dt=2.0)
    calls = []
    model.areas[0].recurrence.register_forward_hook(lambda *a: calls.append(1))
    model(torch.rand(2, 3, 16, 16), n_steps=10)  # a static image (a new frame costs RK4 one more evaluation)
    assert len(calls) == 16



def test_flush_denormals_switches_the_mode(monkeypatch):
    """flush_denormals() makes a product below float32's smallest normal number (1.2e-38) 0, not a denormal
    (on x86 every operation on denormals is 10-100x slower, and decaying rates reach them); importing
    dynacortex does not change the mode, and the library warns once where it is off."""
    import subprocess
    import sys

    import dynacortex.dynamics.denormals as dn

    probe = "import torch, dynacortex; print((torch.tensor([1e-30]) * 1e-10).item() > 0)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "True"
    flush_denormals(False)
    assert not denormals_flushed() and (torch.tensor([1e-30]) * 1e-10).item() > 0.0
    monkeypatch.setattr(dn, "_warned", [False])
    with pytest.warns(RuntimeWarning, match="call dynacortex.flush_denormals"):
        dn.warn_if_denormals_slow("run_protocol")
    assert flush_denormals(True) and denormals_flushed()
    assert (torch.tensor([1e-30]) * 1e-10).item() == 0.0
    assert (torch.tensor([1e-30]) * 1e-5).item() > 0.0  # 1e-35 is a normal float32


def test_the_command_line_flushes_denormals():
    from typer.testing import CliRunner

    from dynacortex.cli import app

    flush_denormals(False)
    res = CliRunner().invoke(app, ["bench", "--set", "batch=1", "--set", "steps=1", "--set", "size=8",
                                   "--set", "repeats=1"])
    assert res.exit_code == 0, res.output
    assert denormals_flushed()
