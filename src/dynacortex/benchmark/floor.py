"""The floor: a bare, unrolled PyTorch loop doing DyRCNNx4's arithmetic with no framework around it.

Same equations and weights as ``create_model("dyrcnnx4")`` with forward Euler, rate form, ReLU,
any recurrence type, skips on, no feedback, ``t_feedforward = t_skip = 0`` and ``t_recurrence`` a multiple
of ``dt``:

    r_a <- r_a + dt/tau (relu(I_a) - r_a),   I_a = W_ff r_prev + J r_a(t - t_rc) + skip

Used by the benchmark (``dynacortex bench``, ``benchmarks/bench_reference.py``) as the lower bound
on time, and by the tests as an independent check of the model's output. It keeps the model's memory
order (``model.channels_last``), so that the comparison is like for like.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["floor_forward"]


def _conv(m: torch.nn.Conv2d, x: Tensor) -> Tensor:
    return F.conv2d(x, m.weight, m.bias, m.stride, m.padding, groups=m.groups)


def _skip(adapter, x: Tensor, size) -> Tensor:
    return _conv(adapter.conv, F.adaptive_avg_pool2d(x, size))


def floor_forward(model, x: Tensor) -> Tensor:
    """Logits ``(B, T, K)`` of a DyRCNNx4 ``model`` for ``x`` of shape ``(B, T, C, H, W)``."""
    v1, v2, v4, it = model.areas
    ff12, ff24, ff4t, sk14, sk2t = model.connections
    a = model.dt / v1.tau
    k = round(v1.t_recurrence / model.dt)
    b, t = x.shape[:2]
    fmt = torch.channels_last if model.channels_last else torch.contiguous_format
    stem = _conv(model.stem, x.flatten(0, 1).contiguous(memory_format=fmt)).unflatten(0, (b, t)).unbind(1)
    h, w = x.shape[-2:]
    shapes = [(36, h, w), (64, h // 2, w // 2), (121, h // 4, w // 4), (256, h // 8, w // 8)]
    shapes = [(area.channels, *s[1:]) for area, s in zip(model.areas, shapes)]
    r = [x.new_zeros(b, *s).contiguous(memory_format=fmt) for s in shapes]
    past = [r]  # past[-1 - k] is the state k steps ago
    logits = []
    rec = [area.recurrence for area in model.areas]
    for n in range(t):
        i1 = stem[n]
        i2 = _conv(ff12.op[1], F.max_pool2d(r[0], 3, 2, 1))
        i4 = _conv(ff24.op[1], F.max_pool2d(r[1], 3, 2, 1)) + _skip(sk14.op, r[0], shapes[2][1:])
        i7 = _conv(ff4t.op, r[2]) + _skip(sk2t.op, r[1], shapes[3][1:])
        drives = [i1, i2, i4, i7]
        if rec[0] is not None and n >= k:  # before that the delayed rates are the zero initial state
            d = past[-1 - k]
            drives = [i + j(di) for i, j, di in zip(drives, rec, d)]
        r = [ri + a * (torch.relu(ii) - ri) for ri, ii in zip(r, drives)]
        past = (past + [r])[-(k + 1):]
        lin = model.readout[-1]
        logits.append(F.linear(r[3].mean(dim=(2, 3)), lin.weight, lin.bias))
    return torch.stack(logits, dim=1)
