"""Run a protocol on a model and stream what each area does into a labelled zarr store.

For every (condition, image) trial the model starts from its settled state on the blank screen: each
batch of images is simulated on blank for ``settle_ms`` (1000 ms) once, from rest, and every condition
continues from there (spontaneous activity and slow variables such as adaptation have settled, so the
baseline does not drift). It then sees blank for the protocol's idle time (the last 100 ms are the
baseline), then the condition's segments. Trials of one batch of images run
together for all conditions; the simulation is cut wherever a frame changes (a static frame is fed
once for many steps) and continued with its :class:`~dynacortex.models.Carry`.

Recorded per step (the end of each step, ``time_ms`` from the first onset):
- ``response`` (condition, image, time_ms, area): the population signal of each area, by default its
  rate averaged over all its units, or an ECoG proxy (``signal``, see :mod:`.signals`);
- ``units_<area>`` (condition, image, time_ms, unit_<area>): the rates of a fixed random subset of
  ``n_units`` units (flat indices into (C, H, W) in the coordinate), for decoding (none if 0);
- ``logits`` (condition, image, time_ms, class) when the model has a readout;
- ``contrast`` / ``stimulus`` (condition, time_ms): what was shown.
Memory stays bounded by one batch and ``chunk_steps`` steps: blocks are written as they fill.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import Tensor

from ..dynamics.denormals import warn_if_denormals_slow
from ..files import write_error
from ..models import AreaNetwork, Carry
from .protocols import Protocol
from .signals import PopulationSignal, SignalConfig
from .store import ZarrWriter

__all__ = ["run_protocol"]


class _Probe:
    """Observer: population signal and the unit subset of each area, one entry per step."""

    def __init__(self, model: AreaNetwork, units: list[Tensor], signal: PopulationSignal):
        self.areas, self.units, self.signal = list(model.areas), units, signal
        self.response: list[Tensor] = []
        self.unit_rates: list[list[Tensor]] = []

    def __call__(self, t: float, y: tuple[Tensor, ...]) -> None:
        rates = [a.output(yi) for a, yi in zip(self.areas, y)]
        self.response.append(self.signal(rates))
        self.unit_rates.append([r.flatten(1)[:, idx] for r, idx in zip(rates, self.units)])


class _Blocks:
    """Per-batch buffer that writes whole time chunks to the store as soon as they are complete."""

    def __init__(self, writer: ZarrWriter, n_cond: int, images: slice, chunk: int, names: list[str]):
        self.writer, self.n_cond, self.images, self.chunk, self.names = writer, n_cond, images, chunk, names
        self.parts: dict[str, list[Tensor]] = {n: [] for n in names}
        self.start = self.buffered = 0

    def add(self, arrays: dict[str, Tensor]) -> None:
        for n, a in arrays.items():
            self.parts[n].append(a)
        self.buffered += next(iter(arrays.values())).shape[1]
        while self.buffered >= self.chunk:
            self._flush(self.chunk)

    def _flush(self, n_steps: int) -> None:
        for name in self.names:
            data = torch.cat(self.parts[name], dim=1)
            head, rest = data[:, :n_steps], data[:, n_steps:]
            self.parts[name] = [rest] if rest.shape[1] else []
            block = head.unflatten(0, (self.n_cond, -1)).cpu().float().numpy()
            self.writer.write(name, (slice(None), self.images, slice(self.start, self.start + n_steps)), block)
        self.start += n_steps
        self.buffered -= n_steps

    def finish(self) -> None:
        if self.buffered:
            self._flush(self.buffered)


def _unit_subsets(shapes: list[torch.Size], n_units: int, seed: int) -> list[Tensor]:
    g = torch.Generator().manual_seed(seed)
    subsets = []
    for s in shapes:
        total = int(np.prod(s))
        subsets.append(torch.randperm(total, generator=g)[:n_units].sort().values if n_units < total else torch.arange(total))
    return subsets


def run_protocol(model: AreaNetwork, protocol: Protocol, images: Tensor, out: "str | Path", *,
                 labels: Optional[Tensor] = None, image_ids: Optional[Tensor] = None, batch_size: int = 64,
                 n_units: int = 128, chunk_steps: int = 100, seed: int = 0, attrs: Optional[dict[str, Any]] = None,
                 progress: bool = True, resume: bool = False, signal: "str | SignalConfig" = "mean",
                 settle_ms: float = 1000.0) -> Path:
    """Simulate every condition of ``protocol`` on normalised ``images`` (N, C, H, W); write the zarr
    store ``out`` and return its path. ``batch_size``: trials (conditions x images) per simulation.
    ``signal``: what ``response`` holds, ``"mean"``, ``"ecog"`` or a :class:`SignalConfig` (an aperture).
    ``resume``: continue an interrupted run of the same model, protocol, images and settings after its
    last complete batch of images (the result equals an uninterrupted run). ``settle_ms``: blank simulated
    before each batch (0: start at rest)."""
    if images.dim() != 4 or images.shape[0] < 1:
        raise ValueError(f"images: expected a non-empty batch (N, C, H, W), got shape {tuple(images.shape)}")
    warn_if_denormals_slow("run_protocol")
    for name, v, low in (("batch_size", batch_size, 1), ("n_units", n_units, 0), ("chunk_steps", chunk_steps, 1),
                         ("settle_ms", settle_ms, 0)):
        if v < low:
            raise ValueError(f"{name}: must be >= {low}, got {v}")
    tl = protocol.timeline(model.dt)
    n_img, n_cond = images.shape[0], len(protocol.conditions)
    per_batch = max(1, batch_size // n_cond)
    p = next(model.parameters())
    images = images.to(device=p.device, dtype=p.dtype)
    with torch.no_grad():
        probe_logits, probe_carry = model.run(images[:1], n_steps=1)
    n_classes = None if probe_logits is None else probe_logits.shape[-1]
    shapes = [a.output(s).shape[1:] for a, s in zip(model.areas, probe_carry.state)]  # what each area sends on
    units = [u.to(p.device) for u in _unit_subsets(shapes, n_units, seed)] if n_units else []
    population = PopulationSignal(signal, shapes, p)
    taus = {a.name: a.tau if isinstance(a.tau, float) else a.tau.detach().flatten().tolist() for a in model.areas}
    meta = {**(attrs or {}), "protocol": protocol.model_dump(mode="json"), "dt_ms": model.dt,
            "solver": model.solver.name, "tau_ms": taus, "n_units": n_units, "unit_seed": seed,
            "signal": population.cfg.model_dump(mode="json"), "settle_ms": settle_ms}
    writer = ZarrWriter(out, meta, _fingerprint(model, images, labels, meta, (batch_size, chunk_steps)), resume)
    was_training = model.training
    try:
        names = _layout(writer, model.area_names, protocol, tl, shapes, units, n_classes, (n_img, per_batch, chunk_steps),
                        labels, image_ids, population.cfg.describe())
        pieces = tl.pieces(chunk_steps)
        bar = _progress(progress, -(-n_img // per_batch) * len(pieces), f"{protocol.name}")
        model.eval()
        for done, b0 in enumerate(range(0, n_img, per_batch)):
            if done < writer.done:  # written before an interruption
                bar.update(len(pieces))
                continue
            batch = slice(b0, min(b0 + per_batch, n_img))
            blocks = _Blocks(writer, n_cond, batch, chunk_steps, names)
            carry = _settled(model, images[batch], settle_ms, n_cond)
            for a, b in pieces:
                probe = _Probe(model, units, population)
                with model.observe(probe), torch.no_grad():
                    logits, carry = model.run(tl.frames(images, a, batch), n_steps=b - a, carry=carry)
                arrays = {"response": torch.stack(probe.response, 1)}
                for k, area in enumerate(model.area_names[:len(units)]):
                    arrays[f"units_{area}"] = torch.stack([u[k] for u in probe.unit_rates], 1)
                if logits is not None:
                    arrays["logits"] = logits
                blocks.add(arrays)
                bar.update(1)
            blocks.finish()
            writer.mark_done(done + 1)
        bar.close()
        return writer.close()
    except BaseException as e:
        writer.abort()
        if isinstance(e, OSError):
            raise write_error(writer.path, e) from e
        raise
    finally:
        model.train(was_training)


def _settled(model: AreaNetwork, images: Tensor, settle_ms: float, n_cond: int) -> Optional[Carry]:
    """The state of every (condition, image) trial after ``settle_ms`` of blank from rest (None for 0)."""
    steps = round(settle_ms / model.dt)
    if steps == 0:
        return None
    with torch.no_grad():
        _, carry = model.run(torch.zeros_like(images), n_steps=steps)
    return carry.map(lambda x: x.repeat(n_cond, *([1] * (x.dim() - 1))))  # condition-major, as the frames


def _fingerprint(model: AreaNetwork, images: Tensor, labels: Optional[Tensor], meta: dict[str, Any],
                 sizes: tuple[int, int]) -> str:
    """A hash of everything that determines the store's content: weights, inputs, protocol, settings."""
    h = hashlib.sha256(json.dumps([meta, sizes], sort_keys=True, default=str).encode())
    for t in [*model.state_dict().values(), images, *([] if labels is None else [labels])]:
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:32]


def _layout(writer: ZarrWriter, area_names: list[str], protocol: Protocol, tl: Any, shapes: list[torch.Size],
            units: list[Tensor], n_classes: Optional[int], sizes: tuple[int, int, int], labels: Optional[Tensor],
            image_ids: Optional[Tensor], signal: str) -> list[str]:
    """Create coordinates and (empty) variables; return the names of the variables written per step."""
    (n_img, per_batch, chunk), n_cond, T = sizes, len(protocol.conditions), tl.n_steps
    writer.coord("condition", ["condition"], [c.label for c in protocol.conditions])
    writer.coord("time_ms", ["time_ms"], tl.time_ms.numpy())
    writer.coord("area", ["area"], area_names)
    writer.coord("image", ["image"], (image_ids if image_ids is not None else torch.arange(n_img)).numpy())
    writer.coord("contrast", ["condition", "time_ms"], tl.contrast.numpy())
    writer.coord("stimulus", ["condition", "time_ms"], tl.stimulus.numpy())
    coords = ["contrast", "stimulus"]
    if labels is not None:
        writer.coord("label", ["image"], labels.numpy())
        coords.append("label")
    writer.variable("response", ["condition", "image", "time_ms", "area"], (n_cond, n_img, T, len(shapes)),
                    (1, per_batch, chunk, len(shapes)), coords, attrs={"units": signal})
    names = ["response"]
    for area, shape, idx in zip(area_names, shapes, units):  # (no units: nothing)
        dim = f"unit_{area}"
        writer.coord(dim, [dim], idx.cpu().numpy())
        writer.variable(f"units_{area}", ["condition", "image", "time_ms", dim], (n_cond, n_img, T, idx.numel()),
                        (1, per_batch, chunk, idx.numel()), coords,
                        attrs={"units": "rate (a.u.)", "area_shape": list(shape)})
        names.append(f"units_{area}")
    if n_classes is not None:
        writer.variable("logits", ["condition", "image", "time_ms", "class"], (n_cond, n_img, T, n_classes),
                        (1, per_batch, chunk, n_classes), coords)
        names.append("logits")
    return names


def _progress(enabled: bool, total: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="piece", disable=not enabled, leave=False)
