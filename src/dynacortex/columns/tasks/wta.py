"""Task ``wta``: two columns learn winner-take-all decisions (after ODE-Column ``scripts/wta_ode.py``).

Two columns (small mode: sizes / 2) receive inputs ``mu_A, mu_B`` (Hz) on L4e and L4i with the fixed
weights ``K_ff J``. Trainable (the reference's): lateral inhibition ``L2/3i(A) <- L2/3e(B)`` and
``L2/3i(B) <- L2/3e(A)`` (initialised at |N(0, 1e-4)|) and the L2/3e self-excitation of each column
(an additive change of ``W_int``, initialised at 0). Targets: the Wong & Wang (2006) rates
(wong_wang.py) divided by 20, with the reference's time compression: the 3 x 5 s of the decision model
(no input, input, no input) become 3 x ``phase_s`` of column time. Inputs: ``mu_low ~ U(15, 25)`` Hz
and ``mu_high = mu_low + U(10, 20)`` Hz, the high one on a random column. Loss: Huber (beta 1) on
the L2/3e rates of both columns over the whole trial.

Criterion (held-out inputs 20 / 35 Hz, both assignments): at the end of the input phase the winner's
L2/3e rate exceeds the loser's by at least ``margin_hz`` and the loser is suppressed below its rate
in the untrained network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from ..column import ColumnNetwork, StepStimulus
from .common import TaskResult, fit, run_rates, save_result, seeded
from .wong_wang import wong_wang_rates

__all__ = ["WtaConfig", "build_wta_network", "train_wta"]

TEST_INPUTS_HZ = torch.tensor([[20.0, 35.0], [35.0, 20.0]], dtype=torch.float64)


class WtaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    steps: int = Field(40, ge=1, description="optimizer steps")
    batch_size: int = Field(8, ge=1, description="input pairs per step")
    n_pairs: int = Field(128, ge=1, description="training set of input pairs (targets simulated once)")
    lr: float = Field(20.0, gt=0, description="Adam step (weights are ~1e2)")
    phase_s: float = Field(0.05, gt=0, description="column time per phase (s); reference 0.05")
    samples_per_phase: int = Field(25, ge=2, description="target samples per phase")
    method: str = Field("euler", description="engine solver (with noise_std > 0: torchsde srk)")
    dt: float = Field(2e-4, gt=0, description="step (s)")
    noise_std: float = Field(0.0, ge=0, description="SDE noise on V (reference: 100 with srk)")
    margin_hz: float = Field(0.3, gt=0)
    seed: int = 0


def build_wta_network(gen: torch.Generator) -> ColumnNetwork:
    net = ColumnNetwork((2,), n_inputs=2, small=True)
    w_in = {t: w for t, w in net.params.network.input}
    for col in (0, 1):
        for pop in ("L4e", "L4i"):
            net.connect_input(net.index(0, col, pop), col, w_in[pop])
        other = 1 - col
        net.connect(net.index(0, col, "L23i"), net.index(0, other, "L23e"),
                    float(torch.randn(1, generator=gen).abs()) * 1e-4)
        net.connect(net.index(0, col, "L23e"), net.index(0, col, "L23e"), 0.0)
    net.input_weight.requires_grad_(False)
    return net


def _targets(mu: torch.Tensor, cfg: WtaConfig) -> torch.Tensor:
    """Wong-Wang rates / 20 at the sample times, ``(T, B, 2)`` (T = 3 samples_per_phase + 1)."""
    rates = wong_wang_rates(mu) / 20.0
    stride = 5000 // cfg.samples_per_phase  # WW: 5000 samples (1 ms) per phase
    idx = (torch.arange(3 * cfg.samples_per_phase + 1) * stride).clamp(max=len(rates) - 1)
    return rates[idx]


def _l23e(net: ColumnNetwork, mu: torch.Tensor, cfg: WtaConfig) -> torch.Tensor:
    stim = StepStimulus(mu, cfg.phase_s, 2 * cfg.phase_s)
    rates = run_rates(net, stim, 3 * cfg.phase_s, 3 * cfg.samples_per_phase + 1, cfg.method, cfg.dt, cfg.noise_std)
    return rates[..., [0, 8]]


def _sample_inputs(n: int, gen: torch.Generator) -> torch.Tensor:
    low = 15 + 10 * torch.rand(n, generator=gen, dtype=torch.float64)
    high = low + 10 + 10 * torch.rand(n, generator=gen, dtype=torch.float64)
    swap = torch.rand(n, generator=gen) < 0.5
    return torch.stack([torch.where(swap, high, low), torch.where(swap, low, high)], dim=1)


def _figure(pred: torch.Tensor, true: torch.Tensor, times: torch.Tensor, losses: list[float]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for k, ax in enumerate(axes[:2]):
        for c, color in ((0, "C0"), (1, "C1")):
            ax.plot(times, true[:, k, c], "--", color=color, label=f"Wong-Wang / 20, column {'AB'[c]}")
            ax.plot(times, pred[:, k, c], "-", color=color, label=f"L2/3e column {'AB'[c]}")
        ax.set(title=f"inputs {TEST_INPUTS_HZ[k].tolist()} Hz", xlabel="time (s)", ylabel="rate (Hz)")
        ax.legend(fontsize=7)
    axes[2].plot(losses)
    axes[2].set(title="training loss (Huber)", xlabel="step")
    fig.tight_layout()
    return fig


def train_wta(cfg: WtaConfig, out: Path | None = None, progress: bool = True) -> tuple[TaskResult, ColumnNetwork]:
    gen = seeded(cfg.seed)
    net = build_wta_network(gen)
    opt = torch.optim.Adam([net.weight], lr=cfg.lr)
    huber = torch.nn.SmoothL1Loss(beta=1.0)
    end_of_input = 2 * cfg.samples_per_phase
    with torch.no_grad():
        untrained = _l23e(net, TEST_INPUTS_HZ, cfg)[end_of_input]

    mu_all = _sample_inputs(cfg.n_pairs, gen)
    targets_all = _targets(mu_all, cfg)

    def step(_: int) -> float:
        idx = torch.randint(cfg.n_pairs, (cfg.batch_size,), generator=gen)
        loss = huber(_l23e(net, mu_all[idx], cfg), targets_all[:, idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    losses, seconds = fit(step, cfg.steps, "wta", progress)
    with torch.no_grad():
        pred = _l23e(net, TEST_INPUTS_HZ, cfg)
    true = _targets(TEST_INPUTS_HZ, cfg)
    final = pred[end_of_input]
    winner = TEST_INPUTS_HZ.argmax(dim=1)
    idx = torch.arange(2)
    gap = final[idx, winner] - final[idx, 1 - winner]
    suppressed = final[idx, 1 - winner] < untrained[idx, 1 - winner]
    met = bool((gap >= cfg.margin_hz).all() and suppressed.all())
    w = (net.mask * net.weight).detach()
    metrics = {"winner_minus_loser_hz": gap.tolist(), "loser_hz": final[idx, 1 - winner].tolist(),
               "loser_untrained_hz": untrained[idx, 1 - winner].tolist(),
               "lateral_weights": [float(w[1, 8]), float(w[9, 0])], "self_excitation_change": [float(w[0, 0]), float(w[8, 8])]}
    result = TaskResult("wta", losses[-1], f"winner - loser >= {cfg.margin_hz} Hz at the end of the input and the "
                        "loser below its untrained rate (inputs 20/35 Hz, both ways)", met, seconds, len(losses),
                        metrics, losses)
    if out is not None:
        times = torch.linspace(0, 3 * cfg.phase_s, len(pred))
        result = save_result(result, net, cfg, out, _figure(pred, true, times, losses))
    return result, net
