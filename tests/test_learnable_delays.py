"""Learnable delays: gradients through the history's interpolation, bounds, recovery of a known delay."""

import math

import pytest
import torch
from pydantic import ValidationError

import dynacortex as dc
from dynacortex.layers import Area, Connection


def relay(delay: float, bounds=None, solver: str = "rk4") -> dc.AreaNetwork:
    """A -> B, one linear unit each (tau 5 ms); B reads A ``delay`` ms late."""
    a = Area("A", 1, tau=5.0, activation="identity", recurrence="none")
    b = Area("B", 1, tau=5.0, activation="identity", recurrence="none")
    w = torch.nn.Conv2d(1, 1, 1, bias=False)
    torch.nn.init.ones_(w.weight)
    w.weight.requires_grad_(False)
    return dc.AreaNetwork([a, b], torch.nn.Identity(), [Connection("A", "B", w, delay, delay_bounds=bounds)], None,
                          in_channels=1, dt=1.0, solver=solver)


def stimulus(batch: int = 4, steps: int = 120) -> torch.Tensor:
    t = torch.arange(steps, dtype=torch.float32)
    phase = torch.linspace(0, 3, batch).view(-1, 1)
    return (1 + torch.sin(2 * math.pi * t / 40 + phase) * torch.sin(2 * math.pi * t / 97)).view(batch, steps, 1, 1, 1)


def trajectory(model: dc.AreaNetwork, x: torch.Tensor) -> torch.Tensor:
    out = []
    with model.observe(lambda t, y: out.append(y[1])):
        model.run(x)
    return torch.stack(out, dim=1)


def loss_at(delay: float, target: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (trajectory(relay(delay, (0.0, 20.0)), x) - target).pow(2).mean()


@pytest.mark.parametrize("delay", [4.3, 6.0])  # between commits and exactly on one (dt = 1 ms)
def test_delay_gradient_matches_finite_differences(delay):
    x = stimulus()
    target = trajectory(relay(7.3), x).detach()
    model = relay(delay, (0.0, 20.0))
    loss = (trajectory(model, x) - target).pow(2).mean()
    (grad_logit,) = torch.autograd.grad(loss, model.connections[0].delay_logit)
    sig = (delay - 0.0) / 20.0
    grad = grad_logit / (20.0 * sig * (1 - sig))  # d loss / d delay
    h = 1e-3
    with torch.no_grad():
        fd = (loss_at(delay + h, target, x) - loss_at(delay - h, target, x)) / (2 * h)
    assert grad.item() < 0 and grad.item() == pytest.approx(fd.item(), rel=0.05)


def test_recovers_a_known_delay_from_data():
    """B's trace under a 7.3 ms delay is the data; a model started at 2 ms finds the delay by L-BFGS."""
    x = stimulus(steps=80)
    target = trajectory(relay(7.3, solver="euler"), x).detach()
    model = relay(2.0, (0.0, 20.0), solver="euler")
    conn = model.connections[0]
    opt = torch.optim.LBFGS([conn.delay_logit], max_iter=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (trajectory(model, x) - target).pow(2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    assert conn.delay.item() == pytest.approx(7.3, abs=0.01)


def test_delays_stay_in_bounds_and_the_history_covers_them():
    model = relay(2.0, (1.0, 6.0))
    conn = model.connections[0]
    with torch.no_grad():
        conn.delay_logit.fill_(50.0)  # pushed far past the upper bound
    assert conn.delay.item() <= 6.0 and conn.max_delay == 6.0
    trajectory(model, stimulus(steps=30))  # reads at t - 6 ms: the history keeps enough commits


def test_learn_delays_config_makes_every_connection_learnable():
    model = dc.create_model("dyrcnnx4", channels=(4, 4, 4, 4), learn_delays=True, delay_bounds=(0.0, 12.0),
                            t_feedforward=3.0, t_recurrence=0.0)
    logits = model(torch.rand(2, 3, 16, 16), n_steps=16)
    logits[:, -1].logsumexp(-1).sum().backward()
    for conn in model.connections:
        assert conn.delay_logit.grad is not None and conn.delay_logit.grad != 0, conn
    assert model.connections[0].delay.item() == pytest.approx(3.0, abs=1e-5)
    with pytest.raises(ValueError, match="delay_bounds"):  # create_model: a ConfigError naming the field
        dc.create_model("dyrcnnx4", learn_delays=True, delay_bounds=(5.0, 2.0))
    with pytest.raises(ValueError, match="outside delay_bounds"):
        dc.create_model("dyrcnnx4", learn_delays=True, delay_bounds=(0.0, 10.0), t_feedback=30.0, feedback=True)
