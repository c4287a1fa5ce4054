"""A network of areas integrated as one ODE system.

For areas ``a`` with state ``y_a`` (see :class:`~dynacortex.layers.Area`) the network's vector
field is

    tau_a dy_a/dt = -y_a + Phi_a(I_a)      (rate form; voltage form: -y_a + I_a)
    I_a(t) = s_a(t) + sum_{c: src -> a} W_c r_src(t - Delta_c) + J_a r_a(t - Delta_rc,a)

where ``s_a`` is the stimulus drive: ``stem(x)`` for the input area, ``P_a(stem(x))`` for an area
with a stimulus path ``P_a`` (``stimulus_paths``), else none. The stimulus frame
``x[:, n]`` is held over ``[t_n, t_n + dt)``; every other term is read at the stage's own time,
from the delay history when ``Delta > 0``. ``Delta = 0`` couples areas at the same instant (no
transmission delay): with an explicit solver a change in one area then reaches the next one step
later, which is the discretisation and vanishes as dt -> 0.

An area with several populations (:class:`~dynacortex.layers.EIArea`) sends its output (the E rates)
to other areas, while its recurrence ``J`` reads all its populations. With a ``retina`` (optional first
stage, :class:`~dynacortex.layers.Retina`) the retina is the input area and the stem becomes its
connection to the first cortical area. Connection delays may be learnable parameters (``delay_bounds``).

Logits are the readout of the last area (or of the ``readout_from`` areas) at the end of every step:
``(B, T, K)``; with ``readout_delay`` of their rates that many ms earlier.

Step conventions (opt-in; the defaults are the ODE above, integrated by any solver). They reproduce
discrete-time models such as DynVision 0.1.0 (:func:`dynacortex.models.load_dynvision` turns them on) and
need the ``euler`` solver:

- ``delay_from="step_end"``: the step from ``t_n`` to ``t_{n+1}`` reads every term at ``t_{n+1} - Delta``
  instead of ``t_n - Delta``, so a delay of ``k dt`` is exactly ``k`` steps (by default it takes effect
  ``k + 1`` steps later, the explicit solver's slope being taken at the step's start). A read at the step
  end of a state not computed yet (``Delta < dt`` from the area itself or an area not updated yet) takes
  its state at ``t_n``.
- ``ordering="sequential"`` (with ``delay_from="step_end"``): the areas are updated one after the other in
  their order (Gauss-Seidel), so a zero-delay read of an area already updated in this step gets its new
  state: V1 -> IT in one step. Default ``"simultaneous"``: every area's step reads the same old states.
- ``start="on_input"``: an area is silent until its first input arrives, and a read of a silent area
  (also before t = 0) adds nothing, not the term of the rest state (a bias); an area none of whose inputs
  has arrived does not change. Default ``"rest"``: every area starts at rest at t = 0 and reads of the
  rest state give its terms. (DynVision's ``None`` states.)
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from ..dynamics import Solver, get_solver, integrate
from ..layers import Area, Connection
from ..layers.gain import advance_gain_estimates
from .carry import Carry
from .checkpointing import parse_checkpoint_dtype, run_checkpointed
from .field import NetworkField, Observer, StabilityError
from .step_limits import check_step

__all__ = ["AreaNetwork", "Carry", "StabilityError", "ORDERINGS", "DELAY_FROM", "STARTS"]

ORDERINGS = ("simultaneous", "sequential")
DELAY_FROM = ("step_start", "step_end")
STARTS = ("rest", "on_input")

class AreaNetwork(nn.Module):
    """Areas + delayed connections + a readout, integrated by a dynacortex solver.

    Args:
        areas: the areas, input area first, in feedforward order.
        stem: maps a stimulus frame ``(B, C_in, H, W)`` to the input area's drive.
        connections: inter-area connections (every area after the first needs a feedforward one
            from an earlier area; it fixes the area's spatial size).
        readout: maps the last area's rates ``(B, C, h, w)`` (or those of ``readout_from``, as separate
            arguments) to logits ``(B, K)``; ``None`` for none.
        in_channels: channels of the stimulus.
        dt: step in ms. solver: a solver name or instance.
        stability_check: raise :class:`StabilityError` naming the area and time on NaN/Inf.
        allow_unstable: permit ``dt/tau`` beyond the explicit solver's stability limit.
        noise: state noise ``sigma`` (rate units per sqrt(ms)), one value or one per area; ``None`` (default) for
            none (see :mod:`dynacortex.models.noise`).
        retina: an optional first stage (:class:`~dynacortex.layers.Retina`): it receives the stimulus,
            and ``stem`` (and every stimulus path) then reads the retina's output after ``retina.delay`` ms.
        delay_bounds: ``(lo, hi)`` ms: every connection's delay becomes a learnable parameter in these bounds.
        channels_last: keep 4-d weights, drives and states in channels-last memory order (NHWC strides);
            the values are the same, convolutions and pooling are faster (see ``docs/benchmarks.md``).
        ordering: ``"sequential"``: areas updated in order within a step (see the module docstring).
        delay_from: ``"step_end"``: a delay of ``k dt`` is ``k`` steps (see the module docstring).
        start: ``"on_input"``: an area is silent until its first input arrives (see the module docstring).
        readout_delay: the readout reads its areas' rates this many ms before the end of each step.
    """

    def __init__(
        self,
        areas: Sequence[Area],
        stem: nn.Module,
        connections: Sequence[Connection],
        readout: Optional[nn.Module],
        *,
        in_channels: int,
        dt: float = 2.0,
        solver: "str | Solver" = "euler",
        stability_check: bool = False,
        allow_unstable: bool = False,
        noise: "float | Sequence[float] | None" = None,
        stimulus_paths: Sequence[tuple[str, nn.Module]] = (),
        readout_from: Optional[Sequence[str]] = None,
        retina: Optional[nn.Module] = None,
        delay_bounds: Optional[tuple[float, float]] = None,
        channels_last: bool = True,
        ordering: str = "simultaneous",
        delay_from: str = "step_start",
        start: str = "rest",
        readout_delay: float = 0.0,
    ):
        super().__init__()
        for name, value, allowed in (("ordering", ordering, ORDERINGS), ("delay_from", delay_from, DELAY_FROM),
                                     ("start", start, STARTS)):
            if value not in allowed:
                raise ValueError(f"{name}: {value!r} is not one of {list(allowed)}")
        if ordering == "sequential" and delay_from != "step_end":
            raise ValueError("ordering='sequential': needs delay_from='step_end' (terms read at the step's start "
                             "never see a state updated in the same step)")
        if not readout_delay >= 0:
            raise ValueError(f"readout_delay: must be >= 0 ms, got {readout_delay}")
        if delay_bounds is not None and (delay_from != "step_start" or start != "rest"):
            raise ValueError("delay_bounds: learnable delays need delay_from='step_start' and start='rest'")
        self.ordering, self.delay_from, self.start = ordering, delay_from, start
        self.readout_delay = float(readout_delay)
        if retina is not None:  # the retina becomes the input area; the stem and paths read its output
            delay, paths = retina.delay, dict(stimulus_paths)
            first = [] if areas[0].name in paths else [Connection(retina.name, areas[0].name, stem, delay)]
            connections = [*first, *[Connection(retina.name, n, nn.Sequential(stem, p), delay) for n, p in paths.items()],
                           *connections]
            areas, stem, stimulus_paths = [retina, *areas], nn.Identity(), ()
        self.areas = nn.ModuleList(areas)
        self.area_names = [a.name for a in areas]
        if len(set(self.area_names)) != len(self.area_names):
            raise ValueError(f"areas: names must be unique, got {self.area_names}")
        self.stem = stem
        self.connections = nn.ModuleList(connections)
        for c in connections if delay_bounds is not None else ():
            c.learn_delay(delay_bounds)
        self.readout = readout
        self.in_channels = in_channels
        self.stability_check = stability_check
        self.noise = noise
        self.allow_unstable = allow_unstable
        index = {n: i for i, n in enumerate(self.area_names)}
        for name in [n for n, _ in stimulus_paths] + list(readout_from or []):
            if name not in index:
                raise ValueError(f"unknown area {name!r} in stimulus_paths/readout_from; areas are {self.area_names}")
        self.stimulus_paths = nn.ModuleDict({n: m for n, m in stimulus_paths})
        self._readout_index = [index[n] for n in readout_from] if readout_from else [len(areas) - 1]
        self._incoming: list[list[tuple[int, Connection]]] = [[] for _ in areas]
        self._shape_source: list[Optional[tuple[int, Connection]]] = [None] * len(areas)
        for c in connections:
            for end in (c.src, c.dst):
                if end not in index:
                    raise ValueError(f"connection {c.src}->{c.dst}: unknown area {end!r}; areas are {self.area_names}")
            src, dst = index[c.src], index[c.dst]
            self._incoming[dst].append((src, c))
            if c.kind == "feedforward" and src < dst and self._shape_source[dst] is None:
                self._shape_source[dst] = (src, c)
        missing = [self.area_names[i] for i in range(1, len(areas)) if self._shape_source[i] is None]
        if missing:
            raise ValueError(f"connections: areas {missing} have no feedforward input from an earlier area")
        self._observers: list[Observer] = []
        self._shapes: dict[tuple, list[torch.Size]] = {}
        self._drive_shapes: dict[tuple, torch.Size] = {}  # stimulus (C, H, W) -> input-area drive shape
        self.dt = dt
        self.solver = solver
        self.channels_last = channels_last

    @contextmanager
    def observe(self, fn: Observer) -> Iterator[Observer]:
        """Call ``fn(t_ms, states)`` after every step of the simulations run inside the block."""
        self._observers.append(fn)
        try:
            yield fn
        finally:
            self._observers.remove(fn)

    # -- configuration ---------------------------------------------------------------------------
    @property
    def dt(self) -> float:
        """Integration step in ms."""
        return self._dt

    @dt.setter
    def dt(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"dt: must be > 0 ms, got {value}")
        self._dt = float(value)
        if hasattr(self, "_solver"):
            self._check_step()

    @property
    def channels_last(self) -> bool:
        """Whether weights, drives and states are kept in channels-last memory order (setting it converts the weights)."""
        return self._memory_format is torch.channels_last

    @channels_last.setter
    def channels_last(self, on: bool) -> None:
        self._memory_format = torch.channels_last if on else torch.contiguous_format
        self.to(memory_format=self._memory_format)

    def _formatted(self, t: Tensor) -> Tensor:
        """``t`` in the network's memory order when it is an image batch ``(B, C, H, W)``."""
        return t.contiguous(memory_format=self._memory_format) if t.dim() == 4 else t

    @property
    def solver(self) -> Solver:
        return self._solver

    @solver.setter
    def solver(self, value: "str | Solver") -> None:
        self._solver = get_solver(value)
        self._check_step()

    @property
    def stepwise(self) -> bool:
        """Whether a step-convention option or a discrete area update is on (then only ``euler`` solves it)."""
        return (self.ordering != "simultaneous" or self.delay_from != "step_start"
                or any(getattr(a, "update", "ode") != "ode" for a in self.areas))

    def _check_step(self) -> None:
        """dt against the smallest tau of any area (the limits and messages: :mod:`.step_limits`)."""
        if self.stepwise and self._solver.name != "euler":
            raise ValueError(f"solver: {self._solver.name!r} cannot take the discrete steps of ordering="
                             f"{self.ordering!r}, delay_from={self.delay_from!r} or update='rectified'; use 'euler'")
        taus = {a.name: float(a.tau) if isinstance(a.tau, float) else float(a.tau.detach().min()) for a in self.areas}
        name = min(taus, key=taus.__getitem__)
        check_step(self._dt, taus[name], self._solver, self.allow_unstable, f" in area {name}")

    # -- simulation ------------------------------------------------------------------------------
    def _frames(self, x: Tensor, n_steps: Optional[int]) -> tuple[Tensor, int]:
        """Validated stimulus frames ``(B, T or 1, C, H, W)`` and the step count."""
        if x.dim() == 4:
            if n_steps is None:
                raise ValueError("n_steps: a static image (B, C, H, W) needs n_steps=<number of steps>")
            frames = x.unsqueeze(1)
        elif x.dim() == 5:
            if n_steps is not None and n_steps != x.shape[1]:
                raise ValueError(f"n_steps: {n_steps} differs from the {x.shape[1]} frames of x; leave it out")
            frames, n_steps = x, x.shape[1]
        else:
            raise ValueError(f"x: expected shape (B, T, C, H, W) or (B, C, H, W), got {tuple(x.shape)}")
        if not frames.is_floating_point():
            raise ValueError(f"x: expected floating-point images, got {x.dtype}; convert uint8 images with "
                             "x.float() / 255 and normalise them as in training (mean gray = 0)")
        if frames.shape[2] != self.in_channels:
            raise ValueError(f"x: expected {self.in_channels} channels, got {frames.shape[2]} (shape {tuple(x.shape)})")
        if n_steps < 1:
            raise ValueError(f"n_steps: must be >= 1, got {n_steps}")
        if self.stability_check and not torch.isfinite(frames).all():
            raise StabilityError("x: the stimulus contains NaN or Inf values")
        return frames, n_steps

    def _drives(self, frames: Tensor) -> dict[int, Tensor]:
        """Stimulus drive per area index, ``(B, T or 1, C, H, W)``: stem (and paths) applied to all frames at once."""
        b, t = frames.shape[:2]
        stem = self.stem(self._formatted(frames.flatten(0, 1)))
        drives = {0: stem.unflatten(0, (b, t))}  # replaced if the input area has a path of its own
        for name, path in self.stimulus_paths.items():
            drives[self.area_names.index(name)] = path(stem).unflatten(0, (b, t))
        return drives

    def state_shapes(self, drive_shape: torch.Size) -> list[torch.Size]:
        """Per-area state shape ``(C, H, W)`` for an input-area drive of shape ``(C, H, W)``."""
        key = tuple(drive_shape)
        if key not in self._shapes:
            shapes = [self.areas[0].state_shape(torch.Size(drive_shape))]
            p = next(self.parameters())
            with torch.no_grad():
                for dst, (src, conn) in enumerate(self._shape_source[1:], start=1):  # type: ignore[misc]
                    probe = self.areas[src].output(torch.zeros((1, *shapes[src]), dtype=p.dtype, device=p.device))
                    shapes.append(self.areas[dst].state_shape(conn(probe, shapes[src][-2:]).shape[1:]))
            self._shapes[key] = shapes
        return self._shapes[key]

    def onsets(self) -> list[float]:
        """Per area, how many ms after the start from rest it stays silent with ``start="on_input"`` (reads
        at or before that time add nothing): 0 for an area the stimulus drives, else the earliest arrival of
        an input along the connections (``inf``: never), the read times following ``delay_from``/``ordering``."""
        index = {n: i for i, n in enumerate(self.area_names)}
        onset = [math.inf] * len(self.areas)
        for i in [0, *(index[n] for n in self.stimulus_paths)]:
            onset[i] = 0.0
        dt, tol = self._dt, 1e-9 * self._dt
        for _ in range(len(self.areas)):  # shortest arrival times (non-negative lags)
            for dst, incoming in enumerate(self._incoming):
                for src, c in incoming:
                    d = float(c.delay)
                    if self.delay_from == "step_start":
                        lag = d + dt
                    elif d >= dt - tol:
                        lag = d
                    else:  # a read inside the step: the new state of an area already updated, else the old one
                        lag = 0.0 if self.ordering == "sequential" and src < dst else dt
                    onset[dst] = min(onset[dst], onset[src] + lag)
        return onset

    def initial_state(self, batch: int, drive_shape: torch.Size, like: Tensor) -> tuple[Tensor, ...]:
        """Zero state of every area."""
        return tuple(self._formatted(like.new_zeros((batch, *s))) for s in self.state_shapes(drive_shape))

    def run(self, x: Tensor, n_steps: Optional[int] = None, carry: Optional["Carry"] = None,
            checkpoint_every: Optional[int] = None,
            checkpoint_dtype: "str | torch.dtype | None" = None) -> tuple[Optional[Tensor], "Carry"]:
        """Simulate ``x``; return ``(logits (B, T, K) or None, carry)``.

        ``carry`` (from a previous ``run``) continues a simulation: its state, time and delay history.
        Without it the network starts at rest at t = 0.

        ``checkpoint_every=k`` (gradient checkpointing over time): only the state and history at
        every k-th step are kept for backward; each chunk of k steps is recomputed during backward.
        Memory falls roughly by T/k at the cost of one more forward pass. ``checkpoint_dtype``
        (``"bfloat16"`` or ``"float16"``) keeps those states in low precision: exact forward values,
        approximate gradients (see :mod:`dynacortex.models.checkpointing`).
        """
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ValueError(f"checkpoint_every: must be >= 1 step, got {checkpoint_every}")
        low = parse_checkpoint_dtype(checkpoint_dtype)
        if low is not None and checkpoint_every is None:
            raise ValueError("checkpoint_dtype: applies to checkpointed runs only; set checkpoint_every too")
        frames, n_steps = self._frames(x, n_steps)
        if self.training:
            advance_gain_estimates(self)
        if carry is None:
            key = tuple(frames.shape[2:])
            if key not in self._drive_shapes:
                with torch.no_grad():
                    self._drive_shapes[key] = self._drives(frames[:1, :1])[0].shape[2:]
            carry = Carry(self.initial_state(frames.shape[0], self._drive_shapes[key], frames), t=0.0, rest_until=0.0)
        if checkpoint_every is None or not torch.is_grad_enabled():
            with parametrize.cached():  # reparametrised weights (gain limits, weight norm): once per run
                return self._simulate(frames, n_steps, carry)
        return run_checkpointed(self, frames, n_steps, carry, checkpoint_every, low)

    def _simulate(self, frames: Tensor, n_steps: int, carry: "Carry",
                  observers: Optional[list[Optional[Observer]]] = None) -> tuple[Optional[Tensor], "Carry"]:
        dyn = NetworkField(self, self._drives(frames), carry, list(self._observers) if observers is None else observers)
        y = integrate(dyn, carry.state, solver=self._solver, dt=self._dt, n_steps=n_steps, t0=carry.t)
        logits = torch.stack(dyn.logits, dim=1) if dyn.logits else None
        t_end = carry.t + n_steps * self._dt
        return logits, Carry(y, t_end, dyn.history, carry.rest_until, *dyn.handover(t_end))

    def delay_free_field(self, x: Tensor) -> tuple[Callable[[tuple[Tensor, ...]], tuple[Tensor, ...]], list[torch.Size]]:
        """The vector field ``y -> dy/dt`` of the delay-free system for a static stimulus ``x`` (B, C, H, W),
        every delay read as 0, and the per-area state shapes ``(C, H, W)``. Its fixed points are those of
        the delayed system (at a fixed point the delayed and current states agree)."""
        frames, _ = self._frames(x, 1)
        drives = self._drives(frames)
        dyn = NetworkField(self, drives, Carry((), t=0.0), [], delays=False)
        return (lambda y: dyn(0.0, y)), self.state_shapes(drives[0].shape[2:])

    def feedforward(self, x: Tensor) -> Tensor:
        """The feedforward counterpart: one pass through the same layers, no recurrence, no feedback,
        ``r_a = Phi_a(s_a + sum_{c: src < a} W_c r_src)``; logits ``(B, K)`` for images ``(B, C, H, W)``.
        It equals the network's steady state when recurrence and feedback are absent."""
        if self.readout is None:
            raise RuntimeError("this network has no readout")
        frames, _ = self._frames(x, 1)
        drives = {i: d[:, 0] for i, d in self._drives(frames).items()}
        shapes = self.state_shapes(drives[0].shape[1:])
        rates: list[Tensor] = []
        for i, area in enumerate(self.areas):
            drive = drives.get(i)
            for src, conn in self._incoming[i]:
                if src < i:
                    term = conn(rates[src], shapes[i][-2:])
                    drive = term if drive is None else drive + term
            rates.append(area.output(area.steady_state(drive)))
        return self.readout(*[rates[j] for j in self._readout_index])

    def forward(self, x: Tensor, n_steps: Optional[int] = None) -> Tensor:
        """Logits ``(B, T, K)`` for ``x`` of shape ``(B, T, C, H, W)``, or ``(B, C, H, W)`` with ``n_steps``."""
        logits, _ = self.run(x, n_steps)
        if logits is None:
            raise RuntimeError("this network has no readout; use run() and record() instead")
        return logits
