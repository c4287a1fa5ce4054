"""Task ``xor``: three columns classify exclusive-or (after ODE-Column ``scripts/xor_ode.py``).

Columns A and B (area 0, small mode: sizes / 2) both receive the two binary inputs (0 or 20 Hz) on
L4e and L4i (weights initialised at ``K_ff J`` = 25.9 and 16.3, plus |N(0, 0.1)|); the L2/3e rates of
A and B drive column C (area 1) on L4e and L4i with weights ``10 w``, w initialised at 25.9 / 16.3
(the reference multiplies the source rate by 10). Trainable: input -> A, B and A, B -> C.

Trial: ``pre_s`` without input, then ``stim_s`` with input. Read-out: C's L2/3e rate at the end;
target 1 Hz when exactly one input is on, 0.25 Hz otherwise (reference targets); loss
``mean |r - target|``. Criterion: every one of the four inputs lands on the correct side of 0.625 Hz.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from ..column import ColumnNetwork, StepStimulus
from .common import TaskResult, fit, run_rates, save_result, seeded

__all__ = ["XorConfig", "build_xor_network", "train_xor", "XOR_INPUTS_HZ", "XOR_TARGETS_HZ"]

XOR_INPUTS_HZ = torch.tensor([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]], dtype=torch.float64)
XOR_TARGETS_HZ = torch.tensor([0.25, 1.0, 1.0, 0.25], dtype=torch.float64)
THRESHOLD_HZ = 0.625


class XorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    steps: int = Field(60, ge=1, description="optimizer steps (each on all four inputs)")
    lr: float = Field(0.5, gt=0, description="Adam step on input weights; A,B->C weights use 10x")
    pre_s: float = Field(0.1, gt=0, description="no-input phase (s); reference 0.5")
    stim_s: float = Field(0.3, gt=0, description="input phase (s); reference 0.5")
    method: str = Field("euler", description="engine solver")
    dt: float = Field(2.5e-4, gt=0, description="step (s)")
    lr_decay: float = Field(0.9, gt=0, le=1, description="learning rate factor per step (reference: 0.8)")
    early_stop: bool = Field(True, description="stop once all four inputs are classified")
    seed: int = 0


def build_xor_network(gen: torch.Generator) -> ColumnNetwork:
    net = ColumnNetwork((2, 1), n_inputs=2, small=True)
    jitter = lambda: float(torch.randn(1, generator=gen).abs()) * 0.1  # noqa: E731
    w_in = {t: w for t, w in net.params.network.input}
    for col in (0, 1):
        for unit in (0, 1):
            for pop in ("L4e", "L4i"):
                net.connect_input(net.index(0, col, pop), unit, w_in[pop] + jitter())
    for src in (0, 1):
        for pop in ("L4e", "L4i"):
            net.connect(net.index(1, 0, pop), net.index(0, src, "L23e"), 10 * (w_in[pop] + jitter()))
    return net


def _output(net: ColumnNetwork, cfg: XorConfig, samples: int = 2) -> torch.Tensor:
    """Rates (T, 4, P) for the four inputs."""
    stim = StepStimulus(XOR_INPUTS_HZ, cfg.pre_s)
    return run_rates(net, stim, cfg.pre_s + cfg.stim_s, samples, cfg.method, cfg.dt)


def _classified(out_hz: torch.Tensor) -> bool:
    return bool(((out_hz > THRESHOLD_HZ) == (XOR_TARGETS_HZ > THRESHOLD_HZ)).all())


def _figure(rates: torch.Tensor, times: torch.Tensor, losses: list[float]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for k, (x, tgt) in enumerate(zip(XOR_INPUTS_HZ.tolist(), XOR_TARGETS_HZ.tolist())):
        axes[0].plot(times, rates[:, k, 0], label=f"A, in={x}")
        axes[1].plot(times, rates[:, k, 16], label=f"in={x}, target {tgt} Hz")
    axes[1].axhline(THRESHOLD_HZ, color="k", ls=":", lw=1)
    axes[0].set(title="column A, L2/3e", xlabel="time (s)", ylabel="rate (Hz)")
    axes[1].set(title="column C, L2/3e (read-out)", xlabel="time (s)")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    axes[2].plot(losses)
    axes[2].set(title="training loss (Hz)", xlabel="step")
    fig.tight_layout()
    return fig


def train_xor(cfg: XorConfig, out: Path | None = None, progress: bool = True) -> tuple[TaskResult, ColumnNetwork]:
    gen = seeded(cfg.seed)
    net = build_xor_network(gen)
    opt = torch.optim.Adam([{"params": [net.input_weight], "lr": cfg.lr},
                            {"params": [net.weight], "lr": 10 * cfg.lr}])
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, cfg.lr_decay)

    last: dict[str, torch.Tensor] = {}

    def step(_: int) -> float:
        out_hz = last["out"] = _output(net, cfg)[-1, :, 16]
        loss = (out_hz - XOR_TARGETS_HZ).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        return loss.item()

    def solved(_: float) -> bool:  # checked before the update of this step took effect: conservative
        return cfg.early_stop and _classified(last["out"])

    losses, seconds = fit(step, cfg.steps, "xor", progress, stop=solved)
    with torch.no_grad():
        n = round((cfg.pre_s + cfg.stim_s) / 0.01) + 1  # one sample per 10 ms
        rates = _output(net, cfg, n)
    final = rates[-1, :, 16]
    met = _classified(final)
    result = TaskResult("xor", losses[-1], f"C's L2/3e rate on the correct side of {THRESHOLD_HZ} Hz for all four "
                        "inputs", met, seconds, len(losses),
                        {"final_rates_hz": dict(zip(["00", "10", "01", "11"], final.tolist()))}, losses)
    if out is not None:
        times = torch.linspace(0, cfg.pre_s + cfg.stim_s, n)
        result = save_result(result, net, cfg, out, _figure(rates, times, losses))
    return result, net
