"""Task ``parity``: areas of [8, 4, 1] columns tell even from odd (after ODE-Column ``scripts/parity_ode.py``).

Four input units (15 Hz when on) feed area 0 on L4e/L4i; the reference's fixed fan-in sends inputs
2, 3 to columns 0, 1, 6, 7 and inputs 0, 1 to columns 2-5 (generalised: the first and last quarter of
the columns get the second half of the inputs, the middle half the first; a single column gets all). Within areas of more than
one column: lateral inhibition L2/3e <- L2/3i and L5e <- L5i between every pair of columns (init -0.1,
kept <= 0). Between areas: feedforward (``params.network.feedforward``, init |N(w, 1)| * 4, kept >= 0)
with fan-in: the first half of the target columns listens to the first half of the source columns.
Read-out: ``sum_p w_p r_p`` over L2/3e, L5e, L6e of the last column, averaged over the last
``readout_s`` (w in [0, 1], init 1). Inputs (reference "fixed position" set): 0001, 0011, 0111, 1111;
target 20 Hz for an even count, 0 Hz for odd; loss ``mean |out - target|``; Adam (lr 0.1 in the reference).

Criterion: every pattern on the correct side of 10 Hz.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import Tensor, nn

from ..column import ColumnNetwork, StepStimulus
from .common import TaskResult, fit, run_rates, save_result, seeded

__all__ = ["ParityConfig", "ParityModel", "train_parity", "PARITY_INPUTS_HZ", "PARITY_TARGETS_HZ"]

PARITY_INPUTS_HZ = 15.0 * torch.tensor([[0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]], dtype=torch.float64)
PARITY_TARGETS_HZ = torch.tensor([0.0, 20.0, 0.0, 20.0], dtype=torch.float64)
THRESHOLD_HZ = 10.0


class ParityConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    columns_per_area: list[int] = Field(default_factory=lambda: [8, 4, 1])
    steps: int = Field(200, ge=1)
    lr: float = Field(0.1, gt=0, description="Adam step (reference 0.1)")
    pre_s: float = Field(0.2, gt=0, description="no-input phase (s); reference 0.5")
    stim_s: float = Field(0.3, gt=0, description="input phase (s); reference 0.5")
    readout_s: float = Field(0.1, gt=0, description="read-out window at the end (s); reference 0.1")
    method: str = "euler"
    dt: float = Field(5e-4, gt=0, description="step (s); the trained read-out agrees to 0.01 Hz at 1e-4")
    sample_s: float = Field(0.01, gt=0, description="sampling interval of the recorded rates (s)")
    early_stop: bool = False
    seed: int = 0

    @field_validator("columns_per_area")
    @classmethod
    def _areas(cls, v: list[int]) -> list[int]:
        if len(v) < 2 or v[-1] != 1 or any(n < 1 for n in v):
            raise ValueError(f"columns_per_area: needs >= 2 areas ending in a single column, got {v}")
        return v


def _fan_in(n_target: int, n_source: int) -> Any:
    """Target column c listens to the matching half of the sources (all of them for a single target)."""
    if n_target == 1 or n_source == 1:
        return lambda c: range(n_source)
    half = n_source // 2
    return lambda c: range(half) if c < n_target // 2 else range(half, n_source)


class ParityModel(nn.Module):
    """The column network plus the read-out weights of the last column."""

    def __init__(self, cfg: ParityConfig, gen: torch.Generator) -> None:
        super().__init__()
        cols = cfg.columns_per_area
        self.net = net = ColumnNetwork(cols, n_inputs=4)
        rnd = lambda: float(torch.randn(1, generator=gen))  # noqa: E731
        n0 = cols[0]
        for c in range(n0):
            outer = c < n0 / 4 or c >= 3 * n0 / 4
            for unit in (range(4) if n0 == 1 else (2, 3) if outer else (0, 1)):
                for pop, w in net.params.network.input:
                    net.connect_input(net.index(0, c, pop), unit, abs(w + 3 * rnd()) * 0.8)
        for area in range(len(cols)):
            if cols[area] > 1:
                net.connect_lateral(area)
        with torch.no_grad():
            net.weight.add_(0.0001 * torch.randn(net.weight.shape, generator=gen, dtype=net.weight.dtype) * net.mask)
        lateral = net.mask.clone()
        for area in range(1, len(cols)):
            src_of = _fan_in(cols[area], cols[area - 1])
            for c in range(cols[area]):
                for s in src_of(c):
                    for tgt, src, w in net.params.network.feedforward:
                        net.connect(net.index(area, c, tgt), net.index(area - 1, s, src), abs(w + rnd()) * 4)
        self.register_buffer("lateral_mask", lateral)
        self.readout_index = [net.index(len(cols) - 1, 0, p) for p in net.params.network.output]
        self.output_weight = nn.Parameter(torch.ones(len(self.readout_index), dtype=torch.float64))

    def output(self, rates: Tensor) -> Tensor:
        """Read-out (Hz) per trial from rates ``(T, B, P)`` over the read-out window."""
        return (rates[..., self.readout_index] * self.output_weight).sum(-1).mean(0)

    @torch.no_grad()
    def constrain(self) -> None:
        """Lateral weights <= 0, other weights >= 0, read-out weights in [0, 1] (as the reference)."""
        w = self.net.weight
        w.copy_(torch.where(self.lateral_mask.bool(), w.clamp(max=0.0), w.clamp(min=0.0)))
        self.net.input_weight.clamp_(min=0.0)
        self.output_weight.clamp_(0.0, 1.0)


def _rates(model: ParityModel, cfg: ParityConfig) -> Tensor:
    total = cfg.pre_s + cfg.stim_s
    return run_rates(model.net, StepStimulus(PARITY_INPUTS_HZ, cfg.pre_s), total, round(total / cfg.sample_s) + 1,
                     cfg.method, cfg.dt)


def _readout(model: ParityModel, rates: Tensor, cfg: ParityConfig) -> Tensor:
    return model.output(rates[-(round(cfg.readout_s / cfg.sample_s) + 1):])


def _classified(out_hz: Tensor) -> bool:
    return bool(((out_hz > THRESHOLD_HZ) == (PARITY_TARGETS_HZ > THRESHOLD_HZ)).all())


def _figure(model: ParityModel, rates: Tensor, cfg: ParityConfig, losses: list[float]) -> Any:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    times = torch.linspace(0, cfg.pre_s + cfg.stim_s, len(rates))
    out = (rates[..., model.readout_index] * model.output_weight.detach()).sum(-1)
    for k in range(4):
        axes[0].plot(times, out[:, k], label=f"{PARITY_INPUTS_HZ[k].div(15).int().tolist()} "
                                            f"(target {PARITY_TARGETS_HZ[k]:.0f} Hz)")
    axes[0].axhline(THRESHOLD_HZ, color="k", ls=":", lw=1)
    axes[0].set(title="read-out of the last column", xlabel="time (s)", ylabel="rate (Hz)")
    axes[0].legend(fontsize=7)
    axes[1].plot(losses)
    axes[1].set(title="training loss (Hz)", xlabel="step")
    fig.tight_layout()
    return fig


def train_parity(cfg: ParityConfig, out: Path | None = None, progress: bool = True) -> tuple[TaskResult, ParityModel]:
    gen = seeded(cfg.seed)
    model = ParityModel(cfg, gen)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    last: dict[str, Tensor] = {}

    def step(_: int) -> float:
        out_hz = last["out"] = _readout(model, _rates(model, cfg), cfg)
        loss = (out_hz - PARITY_TARGETS_HZ).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.constrain()
        return loss.item()

    losses, seconds = fit(step, cfg.steps, "parity", progress, stop=lambda _: cfg.early_stop and _classified(last["out"]))
    with torch.no_grad():
        rates = _rates(model, cfg)
        final = _readout(model, rates, cfg)
    result = TaskResult("parity", losses[-1], f"read-out on the correct side of {THRESHOLD_HZ} Hz for all four "
                        "patterns", _classified(final), seconds, len(losses),
                        {"readout_hz": dict(zip(["0001", "0011", "0111", "1111"], final.tolist())),
                         "columns_per_area": cfg.columns_per_area}, losses)
    if out is not None:
        result = save_result(result, model, cfg, out, _figure(model, rates, cfg, losses))
    return result, model
