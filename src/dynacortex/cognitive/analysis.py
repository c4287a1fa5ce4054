"""Analysis of a task-trained network: fixed points in the delay period and the decision's dynamics.

Delay-period fixed points: with the screen held at the delay frame (the fixation dot alone, by
default), the whole network (front-end and RNN areas) is one autonomous system ``F(y) = dy/dt``
(:func:`dynacortex.analysis.vector_field`, every delay read as 0). Newton-Krylov
(:func:`dynacortex.analysis.fixed_point`) is started from the states the network actually reaches at
the end of the delay in trials of each condition, so each memory the network holds (e.g. the
sample's class) ends at its own attractor, or the starts fall onto one (no persistent memory).
Stability comes from the leading eigenvalues of the Jacobian there.

Decision dynamics: the last RNN area's excitatory rates projected over time on the choice axis
``w_2 - w_1`` (the difference of the two choice units' readout weights; for n choices, the correct
choice's weight minus the mean of the others), averaged per condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor

from ..analysis import FixedPoint, fixed_point, is_stable, jacobian_eigs, vector_field
from ..models import record
from .network import MultiAreaRNN
from .raster import TrialBatch, fixation_frame
from .spec import TaskSpec

__all__ = ["DelayFixedPoint", "delay_fixed_points", "choice_projection", "plot_decision_dynamics"]


@dataclass
class DelayFixedPoint:
    point: FixedPoint  # the full flat state (front-end and RNN areas), its residual |F| (rate/ms)
    rnn: dict[str, Tensor]  # the RNN areas' rates there, (N_k,) each
    condition: int  # the value of the start trials' condition
    stable: Optional[bool]  # all leading Jacobian eigenvalues have negative real part (None: not computed)


def _flat_states(model: MultiAreaRNN, batch: TrialBatch, step: int) -> Tensor:
    """Every trial's full state at the end of ``step`` (B, n), areas concatenated like the vector field."""
    with record(model) as rec, torch.no_grad():
        model(batch.x.to(next(model.parameters()).device))
    return torch.cat([rec[a][:, step].flatten(1) for a in model.area_names], dim=1)


def delay_fixed_points(model: MultiAreaRNN, spec: TaskSpec, batch: TrialBatch, condition: str,
                       period: str = "delay", image: Optional[Tensor] = None, tol: float = 1e-6,
                       eigs: int = 4) -> list[DelayFixedPoint]:
    """Fixed points of ``model`` with the screen held at ``image`` (default: the fixation frame), one
    Newton-Krylov search per value of ``batch.conditions[condition]``, started from the mean state of
    those trials at the last step of ``period``; ``eigs`` leading eigenvalues decide stability (0: skip)."""
    if condition not in batch.conditions:
        raise ValueError(f"condition: {condition!r} is not one of {sorted(batch.conditions)}")
    steps = batch.timeline.steps(period).nonzero().flatten()
    if len(steps) == 0:
        raise ValueError(f"period: {period!r} has no steps at dt = {batch.timeline.dt} ms")
    frame = fixation_frame(spec, batch.x.shape[2]) if image is None else image
    vf = vector_field(model, frame)
    states = _flat_states(model, batch, int(steps[-1]))
    values = batch.conditions[condition]
    found = []
    for v in values.unique().tolist():
        start = states[values == v].mean(dim=0)
        fp = fixed_point(vf, start=start, tol=tol)
        parts = vf.unflatten(fp.state)
        rnn = {n: parts[vf.area_names.index(n)].flatten() for n in model.rnn_area_names}
        stable = None
        if eigs > 0:
            vals, _ = jacobian_eigs(vf, None, fp.state, k=min(eigs, vf.n - 2))
            stable = is_stable(vals)
        found.append(DelayFixedPoint(fp, rnn, int(v), stable))
    return found


def choice_projection(model: MultiAreaRNN, batch: TrialBatch) -> Tensor:
    """The last RNN area's excitatory rates on the choice axis over time, (B, T)."""
    last = model.rnn_area_names[-1]
    readout = model.readout
    w = readout.linear.weight[1:]  # (n_choices, n_read): the choice units
    axis = w[1] - w[0] if len(w) == 2 else None
    with record(model, [last]) as rec, torch.no_grad():
        model(batch.x.to(w.device))
    rates = rec[last].flatten(2)[..., : readout.n_read]  # (B, T, n_read)
    if axis is not None:
        return rates @ axis.detach()
    correct = w[batch.choice.to(w.device)]  # (B, n_read)
    others = (w.sum(0, keepdim=True) - correct) / (len(w) - 1)
    return torch.einsum("btn,bn->bt", rates, (correct - others).detach())


def plot_decision_dynamics(model: MultiAreaRNN, batch: TrialBatch, path: Path, by: str = "coherence") -> Path:
    """Mean choice-axis projection over time per (choice, ``by``) condition, periods shaded; PNG + SVG."""
    import matplotlib.pyplot as plt

    from ..figures import save_figure

    if by not in batch.conditions:
        raise ValueError(f"by: {by!r} is not one of {sorted(batch.conditions)}")
    proj = choice_projection(model, batch).cpu()
    line = batch.timeline
    t_ms = (torch.arange(line.n_steps) + 1) * line.dt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, (name, (a, b)) in enumerate(zip(line.names, line.bounds_ms)):
        if i % 2:
            ax.axvspan(a, b, color="0.92", lw=0)
        ax.text((a + b) / 2, 1.0, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=8)
    values = batch.conditions[by]
    colours = plt.get_cmap("viridis")
    levels = values.unique()
    for choice in batch.choice.unique().tolist():
        for j, v in enumerate(levels.tolist()):
            sel = (batch.choice == choice) & (values == v)
            if sel.any():
                ax.plot(t_ms, proj[sel].mean(0), color=colours(j / max(1, len(levels) - 1)),
                        ls="-" if choice else "--", label=f"choice {choice}, {by} {v:g}")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("choice-axis projection")
    ax.legend(fontsize=7, frameon=False, ncol=2)
    fig.tight_layout()
    return save_figure(fig, Path(path))
