"""One figure per recurrence type: its connectivity footprint and an area's response to a point stimulus.

    python docs/scripts/recurrence_figures.py [OUT_DIR]      # default docs/figures

For every type an area of C = 9 channels on an 11 x 11 grid (tau 5 ms, ReLU, recurrence delay 2 ms,
Euler, dt 0.5 ms) gets all recurrence weights set to 1 and then scaled so that the impulse response of
``J`` sums to 0.8 (a nonnegative operator with that column sum cannot run away). The footprint is ``J``
applied to a unit impulse in channel 0 at the centre pixel; the response is the area driven by a 5 ms
pulse at the same unit. Channels are shown as a 3 x 3 montage of 11 x 11 maps (channel c at row c // 3,
column c % 3). Writes ``recurrence_<type>.png`` (+ .svg) per type.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import Tensor, nn

import dynacortex as dc
from dynacortex.figures import save_figure

TYPES = ("self", "full", "depthwise", "pointwise", "depthpointwise", "pointdepthwise", "local", "localdepthwise")
CHANNELS, SIZE, CENTRE = 9, 11, 5
DT_MS, TAU_MS, T_RECURRENCE_MS, PULSE_MS, DURATION_MS = 0.5, 5.0, 2.0, 5.0, 30.0
FOOTPRINT_SUM = 0.8


def impulse() -> Tensor:
    """A unit impulse in channel 0 at the centre pixel, shape (1, C, H, W)."""
    x = torch.zeros(1, CHANNELS, SIZE, SIZE)
    x[0, 0, CENTRE, CENTRE] = 1.0
    return x


def make_area(kind: str) -> dc.Area:
    """An area with recurrence ``kind``, every recurrence weight 1, scaled to a footprint sum of 0.8."""
    area = dc.Area("A", CHANNELS, tau=TAU_MS, recurrence=kind, t_recurrence=T_RECURRENCE_MS)
    weights = [p for p in area.recurrence.parameters()]
    with torch.no_grad():
        for w in weights:
            w.fill_(1.0)
        weights[0].mul_(FOOTPRINT_SUM / float(area.recurrence(impulse()).sum()))
    return area


def footprint(kind: str) -> Tensor:
    """``J`` applied to the unit impulse: (C, H, W)."""
    with torch.no_grad():
        return make_area(kind).recurrence(impulse())[0]


def response(kind: str) -> tuple[Tensor, Tensor]:
    """Rates (T, C, H, W) of the area driven by a 5 ms pulse at the impulse's unit, and the times (T,) in ms."""
    net = dc.AreaNetwork([make_area(kind)], nn.Identity(), [], None, in_channels=CHANNELS, dt=DT_MS)
    n_steps, n_pulse = round(DURATION_MS / DT_MS), round(PULSE_MS / DT_MS)
    frames = torch.zeros(1, n_steps, CHANNELS, SIZE, SIZE)
    frames[:, :n_pulse] = impulse()
    with torch.no_grad(), dc.record(net) as rec:
        net.run(frames)
    return rec["A"][0], rec.times


def montage(maps: Tensor) -> Tensor:
    """(C, H, W) -> a 3 x 3 grid of the channel maps with NaN gutters."""
    rows = cols = 3
    out = torch.full((rows * (SIZE + 1) - 1, cols * (SIZE + 1) - 1), float("nan"))
    for c in range(maps.shape[0]):
        r, q = divmod(c, cols)
        out[r * (SIZE + 1):r * (SIZE + 1) + SIZE, q * (SIZE + 1):q * (SIZE + 1) + SIZE] = maps[c]
    return out


def plot(kind: str, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    foot = footprint(kind)
    rates, times = response(kind)
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    snapshots = (PULSE_MS, 15.0)
    n = int((foot != 0).sum())
    panels = [(foot, f"footprint of J ({n} unit{'s' if n != 1 else ''})")]
    panels += [(rates[int(torch.argmin((times - t).abs()))], f"rates at t = {t:g} ms") for t in snapshots]
    for ax, (maps, title) in zip(axes, panels):
        im = ax.imshow(montage(maps).numpy(), cmap="magma", interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    stimulated = rates[:, 0, CENTRE, CENTRE]
    others = rates.flatten(1).sum(1) - stimulated
    ax = axes[-1]
    ax.plot(times, stimulated, label="stimulated unit")
    ax.plot(times, others, label="all other units (sum)")
    ax.axvspan(0, PULSE_MS, color="0.9", label="pulse")
    ax.set_xlabel("time (ms)"), ax.set_ylabel("rate")
    ax.legend(fontsize=8)
    fig.suptitle(f"recurrence = {kind!r}", fontsize=12)
    fig.tight_layout()
    return save_figure(fig, out_dir / f"recurrence_{kind}.png")


def main(out_dir: Path = Path(__file__).resolve().parents[1] / "figures") -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [plot(kind, out_dir) for kind in TYPES]


if __name__ == "__main__":
    for path in main(*(Path(a) for a in sys.argv[1:2])):
        print(path)
