"""Forward+backward wall time of DyRCNNx4 at the reference configuration: dynacortex vs the floor.

Reference configuration (the performance issue's): batch 16, 20 steps, 3x32x32 input, dt 2 ms,
tau 5 ms, t_feedforward 0 ms, t_recurrence 6 ms, skips on, forward Euler, rate form, ReLU. The
contenders are interleaved repeat by repeat so that machine noise hits them alike; each time is
one forward pass plus the backward pass of the cross-entropy over every step, in ms (on a GPU,
``device="cuda"``, between synchronisations), and ``trials_per_s`` is the batch over that time.

    result = bench(BenchConfig(recurrence=["full", "self"], repeats=3))
    result["rows"][0]["median_ms"]        # {"dynacortex": ..., "floor": ...}
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from contextlib import nullcontext
from typing import Callable, Literal, Mapping, Optional

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import Tensor

from ..models import create_model
from .floor import floor_forward

__all__ = ["REFERENCE_DYNAMICS", "BenchConfig", "time_fwd_bwd", "bench"]

# the floor implements exactly this: Euler, rate form, ReLU, skips, no feedback, t_feedforward 0
REFERENCE_DYNAMICS = {"dt": 2.0, "tau": 5.0, "t_feedforward": 0.0, "t_recurrence": 6.0, "skip": True,
                      "solver": "euler"}


class BenchConfig(BaseModel):
    """What to time (sizes of the reference input; the dynamics are :data:`REFERENCE_DYNAMICS`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    recurrence: list[str] = Field(["full"], min_length=1, description="recurrence types, one row each")
    batch: int = Field(16, ge=1)
    steps: int = Field(20, ge=1, description="time steps of dt = 2 ms")
    size: int = Field(32, ge=8, description="input height = width (pixels)")
    repeats: int = Field(5, ge=1)
    threads: Optional[int] = Field(None, ge=1, description="torch CPU threads (default: leave as is)")
    seed: int = 0
    channels_last: bool = Field(True, description="the models' memory order (False: the plain NCHW order)")
    precision: Literal["32", "bf16"] = Field("32", description="'bf16': dynacortex and the floor under bf16 autocast")
    device: Literal["cpu", "cuda"] = Field("cpu", description="where the model and data live ('cuda': the first GPU)")

    @field_validator("device")
    @classmethod
    def _device_present(cls, v: str) -> str:
        if v == "cuda" and not torch.cuda.is_available():
            raise ValueError("'cuda', but torch sees no GPU here; allowed values on this machine are ['cpu']")
        return v


def time_fwd_bwd(forward: Callable[[], Tensor], params: list[torch.nn.Parameter], y: Tensor, k: int) -> float:
    """Milliseconds for ``forward()`` plus the backward pass of the cross-entropy over all steps."""
    for p in params:
        p.grad = None
    sync = torch.cuda.synchronize if y.is_cuda else (lambda: None)
    sync()
    t = time.perf_counter()
    out = forward()
    F.cross_entropy(out.reshape(-1, k), y.reshape(-1)).backward()
    sync()
    return (time.perf_counter() - t) * 1e3


def bench(cfg: BenchConfig, others: Optional[Mapping[str, Callable[[str], Optional[float]]]] = None,
          progress: bool = True) -> dict:
    """Time dynacortex and the floor for each recurrence type; ``others`` maps a name to a function
    ``recurrence -> ms or None`` called once per repeat (e.g. DynVision in its own interpreter).

    Returns ``{"config", "machine", "rows": [{"recurrence", "median_ms", "all_ms", "ratio_vs_floor", "trials_per_s",
    ...}]}``.
    """
    from tqdm.auto import tqdm

    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    g = torch.Generator().manual_seed(cfg.seed)
    x = torch.rand(cfg.batch, cfg.steps, 3, cfg.size, cfg.size, generator=g).to(cfg.device)
    y = torch.randint(0, 10, (cfg.batch, cfg.steps), generator=g).to(cfg.device)
    rows = []
    bar = tqdm(total=len(cfg.recurrence) * cfg.repeats, desc="bench", unit="repeat", disable=not progress)
    for rc in cfg.recurrence:
        torch.manual_seed(cfg.seed)
        model = create_model("dyrcnnx4", recurrence=rc, channels_last=cfg.channels_last, **REFERENCE_DYNAMICS)
        model.to(cfg.device)
        params = list(model.parameters())

        def under_precision(fwd: Callable[[], Tensor]) -> Callable[[], Tensor]:
            def run() -> Tensor:
                with torch.autocast(cfg.device, dtype=torch.bfloat16) if cfg.precision == "bf16" else nullcontext():
                    return fwd()
            return run

        runs = {"dynacortex": under_precision(lambda: model(x)), "floor": under_precision(lambda: floor_forward(model, x))}
        times: dict[str, list[float]] = {name: [] for name in [*runs, *(others or {})]}
        for fwd in runs.values():  # warm-up
            time_fwd_bwd(fwd, params, y, 10)
        for _ in range(cfg.repeats):
            for name, fwd in runs.items():
                times[name].append(time_fwd_bwd(fwd, params, y, 10))
            for name, timer in (others or {}).items():
                ms = timer(rc)
                if ms is not None:
                    times[name].append(ms)
            bar.update()
        med = {k: statistics.median(v) for k, v in times.items() if v}
        row = {"recurrence": rc, "median_ms": med, "all_ms": times, "ratio_vs_floor": med["dynacortex"] / med["floor"],
               "trials_per_s": {k: cfg.batch * 1e3 / v for k, v in med.items()}}
        for name in others or {}:
            if name in med:
                row[f"ratio_vs_{name}"] = med["dynacortex"] / med[name]
                row[f"floor_vs_{name}"] = med["floor"] / med[name]
        rows.append(row)
    bar.close()
    return {"config": cfg.model_dump(mode="json") | REFERENCE_DYNAMICS,
            "machine": {"platform": platform.platform(), "torch": torch.__version__, "cpus": os.cpu_count(),
                        "threads": torch.get_num_threads(),
                        "gpu": torch.cuda.get_device_name() if cfg.device == "cuda" else None},
            "rows": rows}
