"""Task ``hopf``: a neural ODE learns the supercritical Hopf normal form with an input mu(t).

Ground truth (omega = 1), in polar form ``dr/dt = (mu - r^2) r``, ``dphi/dt = omega``:

    dx/dt = (mu(t) - x^2 - y^2) x - omega y
    dy/dt = (mu(t) - x^2 - y^2) y + omega x

For mu < 0 trajectories spiral into the origin; for mu > 0 onto the limit cycle of radius sqrt(mu).
The learned vector field is an MLP ``(x, y, mu(t)) -> (dx/dt, dy/dt)`` (the reference uses three
ReLU layers of 100; tanh layers of ``hidden`` units are smoother and train faster here). Training
trajectories start uniformly in [-2, 2]^2 under ``mu(t) = m0 + m1 sin(0.25 t + c)`` with
``m0 ~ U(-1, 1)``, ``m1 ~ U(0, mu_amplitude)``, ``c ~ U(-pi, pi)`` (the reference: m0 = 0, m1 = 1);
both systems are integrated by the engine's RK4 and compared by mean squared error.

Criterion: with constant mu = +0.5 the learned flow reaches radius sqrt(0.5) (within ``radius_tol``)
from inside (r0 = 0.2) and outside (r0 = 1.5) after ``eval_time``; with mu = -0.5 it decays to
r < ``radius_tol``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from ..integrate import sample_trajectory
from .common import TaskResult, fit, save_result, seeded

__all__ = ["HopfConfig", "HopfNormalForm", "HopfMLP", "train_hopf"]


class HopfConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    steps: int = Field(400, ge=1, description="optimizer steps")
    n_trajectories: int = Field(512, ge=1, description="training set size (drawn once)")
    batch_size: int = Field(32, ge=1)
    duration: float = Field(6.0, gt=0, description="length of a training trajectory (time units)")
    dt: float = Field(0.1, gt=0, description="RK4 step of the learned flow")
    hidden: int = Field(64, ge=1)
    lr: float = Field(1e-2, gt=0)
    omega: float = 1.0
    mu_amplitude: float = Field(0.5, ge=0)
    eval_time: float = Field(40.0, gt=0)
    radius_tol: float = Field(0.1, gt=0)
    seed: int = 0


class _Mu:
    """``mu(t) = m0 + m1 sin(0.25 t + c)`` per trajectory, ``(B, 1)``."""

    def __init__(self, m0: Tensor, m1: Tensor, c: Tensor) -> None:
        self.m0, self.m1, self.c = m0, m1, c

    def __call__(self, t: float) -> Tensor:
        return (self.m0 + self.m1 * torch.sin(0.25 * float(t) + self.c))[:, None]

    def __getitem__(self, idx: Tensor) -> "_Mu":
        return _Mu(self.m0[idx], self.m1[idx], self.c[idx])


class HopfNormalForm(nn.Module):
    """The true vector field (``mu`` set per batch)."""

    def __init__(self, mu: _Mu, omega: float = 1.0) -> None:
        super().__init__()
        self.mu, self.omega = mu, omega

    def forward(self, t: float, y: Tensor) -> Tensor:
        x, v = y[:, :1], y[:, 1:]
        g = self.mu(t) - x * x - v * v
        return torch.cat([g * x - self.omega * v, g * v + self.omega * x], dim=1)


class HopfMLP(nn.Module):
    """Learned vector field ``(x, y, mu(t)) -> (dx/dt, dy/dt)``."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 2))
        self.mu: Any = None

    def forward(self, t: float, y: Tensor) -> Tensor:
        return self.net(torch.cat([y, self.mu(t)], dim=1))


def _batch(cfg: HopfConfig, n: int, gen: torch.Generator) -> tuple[Tensor, _Mu, Tensor]:
    u = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731
    mu = _Mu(2 * u(n) - 1, cfg.mu_amplitude * u(n), math.pi * (2 * u(n) - 1))
    y0 = 4 * u(n, 2) - 2
    times = torch.arange(0, round(cfg.duration / cfg.dt) + 1, dtype=torch.float64) * cfg.dt
    with torch.no_grad():  # the truth at a 4x finer step
        truth = sample_trajectory(HopfNormalForm(mu, cfg.omega), y0, times, "rk4", cfg.dt / 4)
    return y0, mu, truth


def final_radius(model: HopfMLP, mu: float, r0: float, cfg: HopfConfig) -> float:
    """Radius of the learned flow after ``eval_time`` at constant ``mu`` from ``(r0, 0)``."""
    model.mu = _Mu(torch.tensor([mu]), torch.zeros(1), torch.zeros(1))
    times = torch.tensor([0.0, cfg.eval_time])
    with torch.no_grad():
        y = sample_trajectory(model, torch.tensor([[r0, 0.0]]), times, "rk4", cfg.dt)
    return float(y[-1].norm())


def _figure(model: HopfMLP, cfg: HopfConfig, losses: list[float]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    times = torch.arange(0, round(20 / cfg.dt) + 1, dtype=torch.float64) * cfg.dt
    for ax, mu in zip(axes[:2], (-0.5, 0.5)):
        m = _Mu(torch.full((2,), mu), torch.zeros(2), torch.zeros(2))
        y0 = torch.tensor([[0.2, 0.0], [1.5, 0.0]])
        model.mu = m
        with torch.no_grad():
            true = sample_trajectory(HopfNormalForm(m, cfg.omega), y0, times, "rk4", cfg.dt / 4)
            pred = sample_trajectory(model, y0, times, "rk4", cfg.dt)
        for k in range(2):
            ax.plot(true[:, k, 0], true[:, k, 1], "g-", lw=1, label="truth" if k == 0 else None)
            ax.plot(pred[:, k, 0], pred[:, k, 1], "b--", lw=1, label="learned" if k == 0 else None)
        if mu > 0:
            ax.add_patch(plt.Circle((0, 0), math.sqrt(mu), fill=False, ls=":", color="k"))
        ax.set(title=f"mu = {mu}", xlabel="x", ylabel="y", aspect="equal", xlim=(-2, 2), ylim=(-2, 2))
        ax.legend(loc="upper right", fontsize=8)
    axes[2].semilogy(losses)
    axes[2].set(title="training loss (MSE)", xlabel="step")
    fig.tight_layout()
    return fig


def train_hopf(cfg: HopfConfig, out: Path | None = None, progress: bool = True) -> tuple[TaskResult, HopfMLP]:
    """Train the MLP vector field; save model, metrics and plot under ``out/hopf`` (if given)."""
    gen = seeded(cfg.seed)
    model = HopfMLP(cfg.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    times = torch.arange(0, round(cfg.duration / cfg.dt) + 1, dtype=torch.float64) * cfg.dt
    y0_all, mu_all, truth_all = _batch(cfg, cfg.n_trajectories, gen)

    def step(_: int) -> float:
        idx = torch.randint(cfg.n_trajectories, (cfg.batch_size,), generator=gen)
        model.mu = mu_all[idx]
        loss = (sample_trajectory(model, y0_all[idx], times, "rk4", cfg.dt) - truth_all[:, idx]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        return loss.item()

    losses, seconds = fit(step, cfg.steps, "hopf", progress)
    target = math.sqrt(0.5)
    radii = {"mu=+0.5,r0=0.2": final_radius(model, 0.5, 0.2, cfg), "mu=+0.5,r0=1.5": final_radius(model, 0.5, 1.5, cfg),
             "mu=-0.5,r0=1.5": final_radius(model, -0.5, 1.5, cfg)}
    met = (abs(radii["mu=+0.5,r0=0.2"] - target) < cfg.radius_tol and abs(radii["mu=+0.5,r0=1.5"] - target)
           < cfg.radius_tol and radii["mu=-0.5,r0=1.5"] < cfg.radius_tol)
    result = TaskResult("hopf", losses[-1], f"radius at mu=+0.5 within {cfg.radius_tol} of sqrt(0.5)={target:.4f} "
                        f"from r0=0.2 and 1.5, and < {cfg.radius_tol} at mu=-0.5", met, seconds, len(losses),
                        {"final_radius": radii}, losses)
    if out is not None:
        result = save_result(result, model, cfg, out, _figure(model, cfg, losses))
    return result, model
