"""Figures of docs/biology.md: the retina's step and contrast responses, the SSN regime, a learned delay,
and the ECoG proxy next to the mean rate.

    python docs/scripts/biology_figures.py [OUT_DIR]      (default docs/figures; about 20 s on one core)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import dynacortex as dc  # noqa: E402
from dynacortex.figures import save_figure  # noqa: E402
from dynacortex.layers import Area, Connection, Retina, RetinaConfig  # noqa: E402


def retina_figure(out: Path) -> Path:
    model = dc.create_model("dyrcnnx4", channels=(4, 4, 4, 4), in_channels=1, dt=1.0, solver="exp_euler",
                            t_recurrence=0.0, retina={"background": 0.0})
    background = torch.full((1, 1, 1, 16, 16), 0.2)
    spot = background.clone()
    spot[..., 6:10, 6:10] = 0.8
    frames = torch.cat([background.expand(1, 300, 1, 16, 16), spot.expand(1, 500, 1, 16, 16),
                        background.expand(1, 300, 1, 16, 16)], dim=1)
    states = []
    with model.observe(lambda t, y: states.append(y[0][0])), torch.no_grad():
        model.run(frames)
    out_rates = model.areas[0].output(torch.stack(states))[:, :, 8, 8]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    t = torch.arange(out_rates.shape[0]) - 300
    for i, label in enumerate(["ON sustained", "OFF sustained", "ON transient", "OFF transient"]):
        a.plot(t, out_rates[:, i], label=label)
    a.axvspan(0, 500, color="0.9")
    a.set(xlabel="time from spot onset (ms)", ylabel="output (a.u.)", title="spot 0.8 on 0.2 background (centre pixel)")
    a.legend(fontsize=8)
    ret = Retina(1, RetinaConfig(background=0.0))
    contrasts = torch.logspace(-2, 0, 12)
    for lum in (0.1, 0.4, 0.8):
        peak = []
        for c in contrasts:
            x = torch.arange(32.0)
            img = (lum * (1 + c * torch.sin(2 * math.pi * x / 8))).view(1, 1, 1, 32).expand(1, 1, 32, 32)
            peak.append(ret.output(ret.steady_state(img))[0, 0, 8:24, 8:24].max())
        b.loglog(contrasts, peak, "o-", label=f"mean luminance {lum}")
    b.set(xlabel="grating contrast", ylabel="steady ON response", title="Weber scaling + contrast gain control")
    b.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out / "retina.png")


def ssn_figure(out: Path) -> Path:
    model = dc.create_model("ssn")
    h = torch.linspace(0.5, 50, 40)
    x = torch.stack([h, h], 1).view(-1, 2, 1, 1)
    extra = torch.stack([h, h + 2], 1).view(-1, 2, 1, 1)
    with torch.no_grad():
        r = model.run(x, n_steps=1200)[1].state[0][:, :, 0, 0]
        r2 = model.run(extra, n_steps=1200)[1].state[0][:, :, 0, 0]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(h, r[:, 0], label="E")
    a.plot(h, r[:, 1], label="I")
    a.plot(h, 0.04 * h**2, "k:", label="k h^2 (no recurrence)")
    a.set(xlabel="input h_E = h_I (mV)", ylabel="rate (Hz)", ylim=(0, 1.1 * float(r.max())),
          title="SSN: supralinear, then sublinear")
    a.legend(fontsize=8)
    b.plot(h, r2[:, 1] - r[:, 1], label="change of I rate")
    b.axhline(0, color="k", lw=0.5)
    b.set(xlabel="input h (mV)", ylabel="Hz", title="+2 mV to I only: paradoxical when < 0")
    b.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out / "ssn.png")


def delay_figure(out: Path) -> Path:
    def relay(delay: float, bounds=None) -> dc.AreaNetwork:
        a, b = (Area(n, 1, tau=5.0, activation="identity", recurrence="none") for n in "AB")
        w = torch.nn.Conv2d(1, 1, 1, bias=False)
        torch.nn.init.ones_(w.weight)
        w.weight.requires_grad_(False)
        return dc.AreaNetwork([a, b], torch.nn.Identity(), [Connection("A", "B", w, delay, delay_bounds=bounds)],
                              None, in_channels=1, dt=1.0, solver="euler")

    def trace(model: dc.AreaNetwork, x: torch.Tensor) -> torch.Tensor:
        ys = []
        with model.observe(lambda t, y: ys.append(y[1])):
            model.run(x)
        return torch.stack(ys, 1)

    t = torch.arange(80.0)
    x = (1 + torch.sin(2 * math.pi * t / 40 + torch.linspace(0, 3, 4).view(-1, 1)) * torch.sin(2 * math.pi * t / 97))
    x = x.view(4, 80, 1, 1, 1)
    target = trace(relay(7.3), x).detach()
    grid = torch.linspace(0.5, 15, 59)
    with torch.no_grad():
        loss = [float((trace(relay(float(d)), x) - target).pow(2).mean()) for d in grid]
    model = relay(2.0, (0.0, 20.0))
    conn, path = model.connections[0], []
    opt = torch.optim.LBFGS([conn.delay_logit], max_iter=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        value = (trace(model, x) - target).pow(2).mean()
        value.backward()
        path.append((conn.delay.item(), value.item()))
        return value

    opt.step(closure)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(grid, loss, label="loss vs delay")
    ax.plot(*zip(*path), "o-", ms=4, label="L-BFGS iterates")
    ax.axvline(7.3, color="k", ls=":", label="true delay 7.3 ms")
    ax.set(xlabel="delay A -> B (ms)", ylabel="mean squared error", yscale="log",
           title=f"learned delay {conn.delay.item():.3f} ms")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out / "learnable_delay.png")


def ecog_figure(out: Path) -> Path:
    import tempfile

    from dynacortex.experiments import get_protocol, open_recording, run_protocol
    from dynacortex.experiments.signals import SignalConfig

    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", channels=(8, 8, 8, 8), in_channels=1, recurrence_gain=0.9, dt=2.0)
    images = torch.zeros(2, 1, 16, 16)
    images[:, :, 9:15, 1:7] = 1.0  # a patch in the lower left of the visual field
    proto = get_protocol("duration", durations_ms=[33, 133], idle_ms=100.0, tail_ms=150.0)
    signals = {"mean over all units": "mean",
               "ECoG proxy over the patch": SignalConfig(kind="ecog", center=(0.75, 0.25), radius=0.15),
               "ECoG proxy, opposite corner": SignalConfig(kind="ecog", center=(0.25, 0.75), radius=0.15)}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, sig) in enumerate(signals.items()):
            ds = open_recording(run_protocol(model, proto, images, Path(tmp) / f"{i}.zarr", signal=sig, n_units=0,
                                             progress=False))
            r = ds.response.sel(condition=ds.condition.values[1]).mean("image")
            for ax, area in zip(axes, ("V1", "IT")):
                trace = r.sel(area=area)
                ax.plot(ds.time_ms, trace - float(trace.sel(time_ms=slice(-50, 0)).mean()), label=label)
    for ax, area in zip(axes, ("V1", "IT")):
        ax.axvspan(0, 133, color="0.9")
        ax.set(title=f"{area}: 133 ms patch", xlabel="time from onset (ms)", ylabel="evoked signal (a.u.)",
               xlim=(-50, 280))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out / "ecog_proxy.png")


def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [retina_figure(out), ssn_figure(out), delay_figure(out), ecog_figure(out)]


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "figures"):
        print(p)
