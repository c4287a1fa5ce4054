"""State noise: a linear area is an Ornstein-Uhlenbeck process with the closed-form stationary variance."""

import math

import pytest
import torch
from torch import nn

import dynacortex as dc
from dynacortex.layers import Area, Connection
from dynacortex.models import AreaNetwork


def ou_net(solver: str, dt: float, sigma: float, tau: float = 10.0, delay: float = 0.0) -> AreaNetwork:
    """Two linear areas (identity, no recurrence), A -> B with ``delay``; only A is noisy."""
    areas = [Area(n, 1, tau=tau, activation="identity", recurrence="none") for n in ("A", "B")]
    conn = nn.Conv2d(1, 1, 1, bias=False)
    nn.init.ones_(conn.weight)
    stem = nn.Conv2d(1, 1, 1, bias=False)
    nn.init.zeros_(stem.weight)
    return AreaNetwork(areas, stem, [Connection("A", "B", conn, delay)], None, in_channels=1, dt=dt, solver=solver,
                       noise=(sigma, 0.0)).double()


def stationary(net: AreaNetwork, steps: int, burn: int) -> tuple[float, float]:
    """Variance of A and B over 4096 independent units and the steps after ``burn``."""
    torch.manual_seed(0)
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    with net.observe(lambda t, y: seen.append((y[0].flatten(), y[1].flatten()))), torch.no_grad():
        net.run(torch.zeros(4096, 1, 1, 1, dtype=torch.float64), n_steps=steps)
    a = torch.stack([s[0] for s in seen[burn:]])
    b = torch.stack([s[1] for s in seen[burn:]])
    return float(a.var()), float(b.var())


def test_exponential_euler_gives_the_exact_ou_variance_at_any_step():
    """dr = -r/tau dt + sigma dW: stationary variance sigma^2 tau / 2 = 0.2 for sigma 0.2, tau 10 ms; the exact OU
    increment keeps it at dt = tau."""
    for dt in (1.0, 10.0):
        var, _ = stationary(ou_net("exp_euler", dt, 0.2), steps=round(400 / dt), burn=round(100 / dt))
        assert var == pytest.approx(0.2, rel=0.03), dt


def test_euler_maruyama_variance_is_the_discrete_one_and_converges():
    """Euler-Maruyama: sigma^2 tau / (2 - dt/tau): 0.2105 at dt 1, 0.2010 at dt 0.1 (continuous 0.2)."""
    var, _ = stationary(ou_net("euler", 1.0, 0.2), steps=400, burn=100)
    assert var == pytest.approx(0.04 * 10 / (2 - 0.1), rel=0.03) and var > 0.2 * 1.02
    var, _ = stationary(ou_net("euler", 0.1, 0.2), steps=4000, burn=1000)
    assert var == pytest.approx(0.2, rel=0.03)


def test_noise_travels_through_delays_and_only_where_asked():
    """B has no noise of its own: it low-passes A's delayed noise (variance sigma^2 tau / 4 for equal taus)."""
    var_a, var_b = stationary(ou_net("exp_euler", 1.0, 0.2, delay=3.0), steps=500, burn=100)
    assert var_a == pytest.approx(0.2, rel=0.03) and var_b == pytest.approx(0.1, rel=0.05)
    quiet = ou_net("exp_euler", 1.0, 0.0)
    assert stationary(quiet, 50, 10) == (0.0, 0.0)


def test_noise_is_validated_and_off_by_default():
    assert dc.create_model("dyrcnnx4").noise is None
    with pytest.raises(ValueError, match="noise: one sigma >= 0 or one per area"):
        dc.create_model("dyrcnnx4", channels=(2, 2, 2, 2), noise=(0.1, 0.2))(torch.rand(1, 3, 8, 8), n_steps=1)
    torch.manual_seed(0)
    a = dc.create_model("dyrcnnx4", channels=(2, 2, 2, 2), noise=0.05)
    x = torch.rand(1, 3, 8, 8)
    torch.manual_seed(1)
    first = a(x, n_steps=5)
    torch.manual_seed(1)
    assert torch.equal(first, a(x, n_steps=5))  # seeded: repeatable
    assert not torch.equal(first, a(x, n_steps=5))  # and a new draw each trial
