"""An independent reference for delay equations, written for the tests (it shares no code with the engine).

A three-area network, built here from plain torch modules so that the engine and the reference use the same
weights and nothing else:

    tau_i dy_i/dt = -y_i + tanh(I_i),   I_0 = stem(x) + J_0 y_0(t - d_rc),
    I_1 = J_1 y_1(t - d_rc) + W_01 y_0(t - d_01),   I_2 = J_2 y_2(t - d_rc) + W_12 y_1(t - d_12) + S_02 y_0(t - d_02)

from rest (y = 0 for t <= 0), with the image ``x`` shown from 0 to ``off`` ms (a blank, 0, after it). The reference integrates it with classical RK4 on a mesh that holds every
breakpoint of the solution (0 and ``off`` plus sums of up to three delays: where a derivative of low order
jumps), and
reads delayed states from a cubic Hermite interpolant over that mesh. With the breakpoints in the mesh the
method is of order 4 for any delays (Bellen & Zennaro, Numerical Methods for Delay Differential Equations,
2003, ch. 3-4); at a step of 1/128 ms its error is far below the engine's at the steps the tests use.
"""

from __future__ import annotations

import bisect
import itertools

import torch
from torch import nn

from dynacortex.layers import Area, Connection
from dynacortex.models import AreaNetwork

TAUS = (4.0, 5.0, 6.0)


def parts(seed: int = 0, channels: int = 3) -> dict[str, nn.Module]:
    """The network's operations, with couplings strong enough for nonlinear dynamics."""
    torch.manual_seed(seed)
    c = channels
    mods = {
        "stem": nn.Conv2d(2, c, 3, padding=1),
        "J0": nn.Conv2d(c, c, 3, padding=1, bias=False), "J1": nn.Conv2d(c, c, 3, padding=1, bias=False),
        "J2": nn.Conv2d(c, c, 3, padding=1, bias=False),
        "W01": nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.AvgPool2d(2)),
        "W12": nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.AvgPool2d(2)),
        "S02": nn.Sequential(nn.AvgPool2d(4), nn.Conv2d(c, c, 1)),
    }
    with torch.no_grad():
        for m in mods.values():
            for p in m.parameters():
                p.mul_(2.0)
    return {k: m.double() for k, m in mods.items()}


def engine_network(mods: dict[str, nn.Module], delays: dict[str, float], dt: float, solver: str) -> AreaNetwork:
    """The same network as a dynacortex AreaNetwork."""
    areas = [Area(f"A{i}", mods["J0"].in_channels, tau=TAUS[i], activation="tanh", recurrence=mods[f"J{i}"],
                  t_recurrence=delays["rc"]) for i in range(3)]
    conns = [Connection("A0", "A1", mods["W01"], delays["01"]), Connection("A1", "A2", mods["W12"], delays["12"]),
             Connection("A0", "A2", mods["S02"], delays["02"], kind="skip")]
    return AreaNetwork(areas, mods["stem"], conns, None, in_channels=2, dt=dt, solver=solver).double()


class Reference:
    """RK4 with breakpoints in the mesh and a cubic Hermite history (see the module docstring)."""

    def __init__(self, mods: dict[str, nn.Module], delays: dict[str, float], x: torch.Tensor, h: float, t_end: float,
                 off: float = float("inf")):
        self.m, self.d, self.h, self.off = mods, delays, h, off
        with torch.no_grad():
            self.s0, self.blank = mods["stem"](x), mods["stem"](torch.zeros_like(x))
        self.shapes = [self.s0.shape, (*self.s0.shape[:2], *(n // 2 for n in self.s0.shape[2:])),
                       (*self.s0.shape[:2], *(n // 4 for n in self.s0.shape[2:]))]
        changes = [0.0] + ([off] if off < t_end else [])
        marks = set(changes)
        values = list(delays.values())
        for r in (1, 2, 3):
            marks |= {c + sum(ds) for c in changes for ds in itertools.combinations_with_replacement(values, r)}
        grid = {round(k * h, 12) for k in range(int(round(t_end / h)) + 1)}
        mesh = sorted(grid | {round(m, 12) for m in marks if m < t_end})
        self.mesh = [t for i, t in enumerate(mesh) if i == 0 or t - mesh[i - 1] > 1e-9]
        self.times: list[float] = []
        self.ys: list[tuple[torch.Tensor, ...]] = []
        self.fs: list[tuple[torch.Tensor, ...]] = []
        self.lefts: dict[int, tuple[torch.Tensor, ...]] = {}  # slopes from the left where the stimulus changes
        self.left = True

    def read(self, i: int, s: float) -> torch.Tensor:
        if s <= 1e-12:
            return torch.zeros(self.shapes[i], dtype=torch.float64)
        k = bisect.bisect_right(self.times, s) - 1
        if k == len(self.times) - 1:
            assert abs(s - self.times[k]) < 1e-12, "a read inside the current step"
            return self.ys[k][i]
        t0, t1 = self.times[k], self.times[k + 1]
        hk, th = t1 - t0, (s - t0) / (t1 - t0)
        u = 1 - th
        return ((1 + 2 * th) * u * u * self.ys[k][i] + hk * th * u * u * self.fs[k][i]
                + th * th * (3 - 2 * th) * self.ys[k + 1][i] - hk * th * th * u * self.lefts.get(k + 1, self.fs[k + 1])[i])

    def field(self, t: float, y: tuple[torch.Tensor, ...], start: float) -> tuple[torch.Tensor, ...]:
        """The vector field in a step that starts at ``start`` (the stimulus of a step is the one at its start)."""
        m, d = self.m, self.d
        stim = self.s0 if start < self.off - 1e-12 else self.blank
        past = {(i, key): self.read(i, t - d[key]) for i, key in ((0, "rc"), (1, "rc"), (2, "rc"), (0, "01"),
                                                                   (1, "12"), (0, "02"))}
        drives = [stim + m["J0"](past[0, "rc"]),
                  m["J1"](past[1, "rc"]) + m["W01"](past[0, "01"]),
                  m["J2"](past[2, "rc"]) + m["W12"](past[1, "12"]) + m["S02"](past[0, "02"])]
        return tuple((torch.tanh(u) - yi) / tau for u, yi, tau in zip(drives, y, TAUS))

    @torch.no_grad()
    def solve(self) -> "Reference":
        y = tuple(torch.zeros(s, dtype=torch.float64) for s in self.shapes)
        for t0, t1 in zip(self.mesh[:-1], self.mesh[1:]):
            h = t1 - t0
            k1 = self.field(t0, y, t0)
            self.times.append(t0), self.ys.append(y), self.fs.append(k1)
            if self.left and abs(self.times[-1] - self.off) < 1e-12:  # the segment that ends here: old stimulus
                self.lefts[len(self.times) - 1] = self.field(t0, y, t0 - h)
            k2 = self.field(t0 + h / 2, tuple(a + h / 2 * b for a, b in zip(y, k1)), t0)
            k3 = self.field(t0 + h / 2, tuple(a + h / 2 * b for a, b in zip(y, k2)), t0)
            k4 = self.field(t1, tuple(a + h * b for a, b in zip(y, k3)), t0)
            y = tuple(a + h / 6 * (b + 2 * c + 2 * e + g) for a, b, c, e, g in zip(y, k1, k2, k3, k4))
        self.times.append(self.mesh[-1]), self.ys.append(y), self.fs.append(self.field(self.mesh[-1], y, self.mesh[-1]))
        return self

    def at(self, t: float) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        """State and slope at a mesh time ``t``."""
        k = min(range(len(self.times)), key=lambda j: abs(self.times[j] - t))
        assert abs(self.times[k] - t) < 1e-9, f"{t} is not on the reference mesh"
        return self.ys[k], self.fs[k]
