"""Cortical columns: the resting state of a laminar column (ODE-Column model), and a two-area column
network driven by a step input, integrated by the dynacortex engine.

    python docs/tutorials/cortical_columns.py [--tiny]

Times are in seconds here (the column model's own unit), rates in Hz.
"""

from __future__ import annotations

import sys

import torch

from dynacortex.columns import POPULATIONS, ColumnNetwork, StepStimulus, resting_rates, simulate


def main(tiny: bool = False) -> dict:
    # 1. One MT column with background input only: its steady state (relaxation, then Newton).
    rest = resting_rates()
    print("resting rates (Hz):", {p: round(r, 3) for p, r in rest.items()})

    # 2. Two areas: A (2 columns) -> C (1 column). Input unit 0 drives column A0's layer 4.
    net = ColumnNetwork((2, 1), n_inputs=2, small=True)
    net.connect_input(net.index(0, 0, "L4e"), 0, 25.9)
    net.connect(net.index(1, 0, "L4e"), net.index(0, 0, "L23e"), 259.0)   # A0 L2/3e -> C L4e
    onset_s = 0.1
    net.set_stimulus(StepStimulus(torch.tensor([[20.0, 0.0]], dtype=torch.float64), onset_s=onset_s))
    duration_s = 0.2 if tiny else 0.4
    times = torch.linspace(0, duration_s, round(duration_s / 0.01) + 1, dtype=torch.float64)
    v, a = simulate(net, net.initial_state(1), times, method="rk4", dt=2.5e-4)   # engine solver, fixed step
    rates = net.rates(v, a)[:, 0]                                                 # (T, populations), Hz

    before, after = times < onset_s, times > onset_s + 0.05
    gain = {}
    for name, index in (("A0 L4e", net.index(0, 0, "L4e")), ("A1 L4e", net.index(0, 1, "L4e")),
                        ("C L4e", net.index(1, 0, "L4e"))):
        gain[name] = (rates[before, index][-1].item(), rates[after, index].mean().item())
        print(f"{name}: {gain[name][0]:.2f} Hz before the input, {gain[name][1]:.2f} Hz during it")
    return {"rest": rest, "populations": POPULATIONS, "times_s": times, "rates": rates, "before_after": gain}


if __name__ == "__main__":
    main(tiny="--tiny" in sys.argv)
