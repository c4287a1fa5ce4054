"""Integrating a column network: the engine's fixed-step solvers, torchdiffeq ``odeint`` (adaptive
dopri5, ...) and torchsde ``sdeint`` (noise on the membrane potential), all on the same vector field.

    traj = simulate(net, net.initial_state(4), times_s, method="rk4", dt=1e-5)       # engine
    traj = simulate(net, y0, times_s, method="dopri5", rtol=1e-6, atol=1e-6)          # torchdiffeq
    traj = simulate(net, y0, times_s, method="srk", noise_std=10.0, dt=1e-5)          # torchsde

Every call returns ``(V, A)``, each ``(T, B, P)``, at the sample times ``times_s`` (s).

SDE: ``dV = (dV/dt) dt + sigma dW``, ``dA = (dA/dt) dt`` (Ito). ``noise="scalar"`` drives every
population with one Wiener process per trial (the reference's ``noise_type="scalar"``);
``"diagonal"`` gives each population its own.

Stiffness: the leak is slow (tau_m = 20 ms) but the recurrent gain is not. The Jacobian of
``dV/dt`` is ``(-1 + R tau_s W f'(x)) / tau_m``; with ``|W| ~ 10^3``, ``R tau_s = 0.04`` and
``f' ~ 48`` (Hz per unit) above threshold its eigenvalues reach ~1e5 /s, so explicit steps must stay
around 10 us in active states (at rest, f' is small and 0.1 ms steps are stable). See docs/columns.md.
"""

from __future__ import annotations

import importlib
import math
from typing import Any, Literal

import torch
from torch import Tensor, nn

from ..dynamics import State, get_solver, integrate, list_solvers
from .column import ColumnNetwork

__all__ = ["simulate", "sample_trajectory", "ODE_METHODS", "SDE_METHODS"]

ODE_METHODS = ("dopri5", "dopri8", "bosh3", "adaptive_heun", "fehlberg2")  # torchdiffeq (adaptive)
SDE_METHODS = ("srk", "euler", "milstein")  # torchsde (prefix "sde:" selects torchsde's "euler")


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"method: {module} is needed for this method; pip install 'dynacortex[columns]'") from e


def _check_times(times_s: Tensor) -> None:
    if times_s.ndim != 1 or len(times_s) < 2 or not bool((times_s[1:] > times_s[:-1]).all()):
        raise ValueError("times_s: needs a 1-D, strictly increasing tensor of >= 2 sample times (s)")


class _Interval:
    """``system`` on the sample interval ``[t0, t1)``: a stage at ``t1`` (the last stage of a Heun or RK4
    step) sees the time-dependent input's left limit there, so an input that changes at a sample time (a
    stimulus onset) acts on the steps after it only. Without this, RK4 and Heun were first order with an
    onset on the sample grid (the step ending at the onset saw the stimulus in its last stage)."""

    def __init__(self, system: Any, t1: float):
        self.system, self.left = system, math.nextafter(t1, -math.inf)

    def __call__(self, t: float, y: State) -> State:
        return self.system(min(t, self.left), y)

    def __getattr__(self, name: str) -> Any:  # tau (exp_euler), ...: the system's own
        return getattr(self.__dict__["system"], name)


def sample_trajectory(system: Any, y0: State, times: Tensor, method: str, dt: float) -> State:
    """``y`` at ``times`` (stacked on a new leading axis) by an engine solver with fixed step ``dt``;
    ``system`` is any vector field ``f(t, y)`` (a column network, the Hopf MLP, ...). Each interval between
    sample times is integrated with the input of ``[t0, t1)``: put the times where the input jumps (a
    stimulus's ``jumps``) among ``times`` and every solver keeps its order."""
    solver = get_solver(method)
    out, y = [y0], y0
    for t0, t1 in zip(times[:-1].tolist(), times[1:].tolist()):
        n = round((t1 - t0) / dt)
        if n < 1 or not math.isclose(n * dt, t1 - t0, rel_tol=1e-4):
            raise ValueError(f"dt: sample spacing {t1 - t0} s must be a multiple of dt = {dt} s")
        y = integrate(_Interval(system, t1), y, solver=solver, dt=dt, n_steps=n, t0=t0)
        out.append(y)
    if isinstance(y0, Tensor):
        return torch.stack(out)
    return tuple(torch.stack(leaf) for leaf in zip(*out))


class _SDE(nn.Module):
    """torchsde view of the network: flat state ``[V, A]`` of shape (B, 2P)."""

    sde_type = "ito"

    def __init__(self, net: ColumnNetwork, noise_std: float, noise: str) -> None:
        super().__init__()
        self.net, self.noise_std, self.noise_type = net, noise_std, noise
        self.p = net.n_populations

    def f(self, t: Tensor, y: Tensor) -> Tensor:
        dv, da = self.net(t, (y[:, :self.p], y[:, self.p:]))
        return torch.cat([dv, da], dim=1)

    def g(self, t: Tensor, y: Tensor) -> Tensor:
        sigma = torch.zeros_like(y)
        sigma[:, :self.p] = self.noise_std
        return sigma.unsqueeze(-1) if self.noise_type == "scalar" else sigma


def simulate(net: ColumnNetwork, y0: tuple[Tensor, Tensor], times_s: Tensor, method: str = "dopri5",
             dt: float | None = None, rtol: float = 1e-6, atol: float = 1e-6, noise_std: float = 0.0,
             noise: Literal["scalar", "diagonal"] = "scalar", adaptive: bool = False,
             bm: object = None) -> tuple[Tensor, Tensor]:
    """Trajectory ``(V, A)`` of ``net`` from ``y0`` at ``times_s``; see the module docstring.

    Args:
        method: an engine solver (``list_solvers()``, fixed ``dt``), a torchdiffeq method
            (``ODE_METHODS``; ``rtol``/``atol``; discontinuities of a ``StepStimulus`` are passed as
            ``jump_t``), or a torchsde method (``SDE_METHODS``, used when ``noise_std > 0``; ``dt`` is
            its (initial) step, ``adaptive`` switches on its error control).
        noise_std: sigma of the noise on V (units of V per sqrt(s)); 0 = deterministic.
        bm: an optional torchsde Brownian motion (for reproducible noise).
    """
    _check_times(times_s)
    if noise not in ("scalar", "diagonal"):
        raise ValueError(f"noise: unknown noise type {noise!r}; allowed values are ['scalar', 'diagonal']")
    if noise_std < 0:
        raise ValueError(f"noise_std: must be >= 0, got {noise_std}")
    if noise_std > 0:
        if method.removeprefix("sde:") not in SDE_METHODS:
            raise ValueError(f"method: with noise_std > 0 use an SDE method; allowed values are {list(SDE_METHODS)}")
        torchsde = _optional("torchsde")

        sde = _SDE(net, noise_std, noise)
        flat = torch.cat(list(y0), dim=1)
        sde_method, step = method.removeprefix("sde:"), dt or 1e-5
        if bm is None:  # with its step given up front (torchsde's step-size guessing can recurse for long)
            bm = torchsde.BrownianInterval(times_s[0], times_s[-1], (flat.shape[0], 1 if noise == "scalar" else
                                           flat.shape[1]), dtype=flat.dtype, device=flat.device, dt=step,
                                           levy_area_approximation="space-time" if sde_method == "srk" else "none")
        ys = torchsde.sdeint(sde, flat, times_s, method=sde_method, dt=step, adaptive=adaptive, rtol=rtol,
                             atol=atol, bm=bm)
        return ys[..., :net.n_populations], ys[..., net.n_populations:]
    if method in list_solvers():
        if dt is None or not dt > 0:
            raise ValueError(f"dt: the fixed-step solver {method!r} needs dt > 0 (s), got {dt}")
        return sample_trajectory(net, y0, times_s, method, dt)
    if method in ODE_METHODS:
        odeint = _optional("torchdiffeq").odeint

        jumps = getattr(net.stimulus, "jumps", [])
        options = {"jump_t": torch.tensor(jumps, dtype=times_s.dtype)} if jumps else None
        v, a = odeint(net, y0, times_s, method=method, rtol=rtol, atol=atol, options=options)
        return v, a
    raise ValueError(f"method: unknown method {method!r}; allowed values are {list_solvers()} (fixed step), "
                     f"{list(ODE_METHODS)} (torchdiffeq) or, with noise_std > 0, {list(SDE_METHODS)} (torchsde)")
