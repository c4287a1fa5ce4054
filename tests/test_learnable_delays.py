"""Learnable delays: gradients through the history's interpolation, bounds, recovery of a known delay.

The relay A -> B (linear, tau 5 ms, B reads A ``Delta`` late) has a closed-form solution for a stimulus held
constant over each ms: B is the stimulus filtered by a two-stage gamma kernel and shifted by ``Delta``,

    B(t) = sum_k x_k [G(t - Delta - k) - G(t - Delta - k - 1)],   G(u) = 1 - e^(-u/tau) (1 + u/tau)  (u > 0)

and so has its delay sensitivity, ``dB/dDelta = -sum_k x_k [g(t - Delta - k) - g(t - Delta - k - 1)]`` with
``g = G' = u/tau^2 e^(-u/tau)``: an independent reference for the gradients and the data.
"""

import math

import numpy as np
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


TAU = 5.0


def exact_relay(x: np.ndarray, times: np.ndarray, delay: float) -> tuple[np.ndarray, np.ndarray]:
    """B(t) and dB/dDelta at ``times`` (ms) for the stimulus ``x`` (one value per ms), in closed form."""
    u = times[:, None] - delay - np.arange(len(x))[None, :]

    def big_g(v):
        v = np.maximum(v, 0.0)
        return 1 - np.exp(-v / TAU) * (1 + v / TAU)

    def small_g(v):
        return np.where(v > 0, v / TAU**2 * np.exp(-np.maximum(v, 0) / TAU), 0.0)

    return (x * (big_g(u) - big_g(u - 1))).sum(1), -(x * (small_g(u) - small_g(u - 1))).sum(1)


def per_ms(model: dc.AreaNetwork, x: torch.Tensor) -> torch.Tensor:
    """B at every whole ms, for ``x`` given per ms and held over each ms at the model's step."""
    out: list[torch.Tensor] = []
    with model.observe(lambda t, y: out.append(y[1].flatten()) if abs(t - round(t)) < 1e-9 else None):
        model.run(x.repeat_interleave(round(1 / model.dt), dim=1))
    return torch.cat(out)


def test_delay_gradient_converges_to_the_continuous_sensitivity():
    """The gradient is the sensitivity of the discretised system; against the closed form of the continuous one
    (loss: squared distance to the data of a 7.3 ms delay, model at 5 ms) it converges at the solver's order.
    Measured relative errors at dt = 0.5 ... 0.0625 ms: Euler 5.6e-2 -> 7.3e-3, Heun 3.1e-3 -> 4.7e-5, RK4
    1.7e-6 -> 3.9e-10 (RK4's reads on a stored step take the one-sided slope of the segment their stage stands
    for; with the slope of the following segment everywhere it stalled at 1.1e-2)."""
    x = stimulus(batch=1, steps=60).double()
    times = np.arange(1.0, 61.0)
    data = torch.tensor(exact_relay(x.flatten().numpy(), times, 7.3)[0])
    b0, db0 = exact_relay(x.flatten().numpy(), times, 5.0)
    exact = float(np.mean(2 * (b0 - data.numpy()) * db0))
    dts = [0.5, 0.25, 0.125, 0.0625]
    for solver, (lo, hi) in {"euler": (0.9, 1.1), "heun": (1.9, 2.1), "rk4": (3.7, 4.3)}.items():
        errs = []
        for dt in dts:
            model = relay(5.0, (0.0, 20.0), solver=solver).double()
            model.dt = dt
            conn = model.connections[0]
            loss = (per_ms(model, x) - data).pow(2).mean()
            (grad,) = torch.autograd.grad(loss, conn.delay_logit)
            (dlogit,) = torch.autograd.grad(conn.delay, conn.delay_logit)
            errs.append(abs(float(grad / dlogit) / exact - 1))
        order = float(np.polyfit(np.log(dts), np.log(errs), 1)[0])
        assert lo <= order <= hi, (solver, errs, order)


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
    """B's closed-form trace under a 7.3 ms delay is the data; a model started at 2 ms finds the delay by L-BFGS."""
    x = stimulus(batch=1, steps=60).double()
    data = torch.tensor(exact_relay(x.flatten().numpy(), np.arange(1.0, 61.0), 7.3)[0])
    model = relay(2.0, (0.0, 20.0), solver="rk4").double()
    model.dt = 0.5
    conn = model.connections[0]
    opt = torch.optim.LBFGS([conn.delay_logit], max_iter=30, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (per_ms(model, x) - data).pow(2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    assert conn.delay.item() == pytest.approx(7.3, abs=1e-3)  # found: 7.30019


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
