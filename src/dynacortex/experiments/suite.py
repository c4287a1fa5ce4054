"""An experiment on a trained model: pick test images, run protocols, one zarr store per protocol.

    model, cfg = load_trained("runs/demo/training-3e7d5981")   # dynacortex.training.load_trained
    images, labels, ids = test_images(cfg.data, per_class=10)
    run_experiments(model, images, labels, "runs/exp", protocols=["duration", "interval"], image_ids=ids)

``<out>/<protocol>.zarr`` holds each recording (see :mod:`.runner`); ``write_experiment_report(out)``
turns them into ``metrics.json``, figures and ``report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from ..models import AreaNetwork
from ..training import DataConfig
from ..training.load import load_trained
from .protocols import Protocol, get_protocol, list_protocols
from .runner import run_protocol
from .signals import SignalConfig

__all__ = ["load_trained", "test_images", "run_experiments", "recorded_images", "run_dn_control"]


def test_images(data: DataConfig, per_class: int = 10, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """``per_class`` test images of every class (the first ones, in dataset order), normalised as in
    training (mean gray = 0): ``(images, labels, indices into the test set)``."""
    from ..training.datamodule import ImageDataModule

    if per_class < 1:
        raise ValueError(f"per_class: must be >= 1, got {per_class}")
    dm = ImageDataModule(data, seed)
    dm.setup()
    assert dm.test_set is not None
    y = dm.test_set.labels
    ids = torch.cat([torch.nonzero(y == c).flatten()[:per_class] for c in torch.unique(y)]).sort().values
    return dm.normalize(dm.test_set.images[ids]), y[ids], ids


def recorded_images(ds: Any, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """The images a recording was made with: its ``data`` config (attrs) and image ids, normalised as in training."""
    from ..training.datamodule import ImageDataModule

    if "data" not in ds.attrs:
        raise ValueError("recording: it does not say which data it used (no 'data' attribute); record it with "
                         "`dynacortex experiment run` or run_experiments(..., attrs={'data': ...})")
    dm = ImageDataModule(DataConfig.model_validate(ds.attrs["data"]), seed)
    dm.setup()
    assert dm.test_set is not None
    ids = torch.as_tensor(ds.image.values).long()
    return dm.normalize(dm.test_set.images[ids]), dm.test_set.labels[ids], ids


def run_dn_control(images: Tensor, labels: Tensor, out: "str | Path", image_ids: Optional[Tensor] = None,
                   protocols: Sequence[str] = ("duration", "contrast", "interval"), progress: bool = True) -> dict[str, Path]:
    """The DN model (Groen et al.'s starting parameters, :mod:`dynacortex.models.dn`) through ``protocols`` on
    ``images``: its contrast unit is their mean absolute value, so full contrast is 1."""
    from ..models import create_model

    dn = create_model("dn", in_channels=images.shape[1], contrast_unit=float(images.abs().mean()))
    return run_experiments(dn, images, labels, out, list(protocols), image_ids=image_ids, progress=progress,
                           attrs={"model": {"name": "dn"}})


def run_experiments(model: AreaNetwork, images: Tensor, labels: Tensor, out: "str | Path",
                    protocols: Sequence["str | Protocol"] = tuple(list_protocols()), *,
                    image_ids: Optional[Tensor] = None, batch_size: int = 64, n_units: int = 128,
                    attrs: Optional[dict[str, Any]] = None, progress: bool = True,
                    resume: bool = False, signal: "str | SignalConfig" = "mean") -> dict[str, Path]:
    """Run each protocol (a name or a :class:`Protocol`) and return ``{name: store path}``.
    ``resume``: continue interrupted runs; ``signal``: the population signal (see :func:`run_protocol`).

    The unit subset (``n_units``) is recorded for ``memory`` and user-defined protocols only; the
    other built-ins need the population response alone, which keeps their stores small.
    """
    out = Path(out)
    builtin = set(list_protocols()) - {"memory"}
    paths = {}
    for p in protocols:
        proto = get_protocol(p) if isinstance(p, str) else p
        units = 0 if proto.name in builtin else n_units
        paths[proto.name] = run_protocol(model, proto, images, out / f"{proto.name}.zarr", labels=labels,
                                         image_ids=image_ids, batch_size=batch_size, n_units=units, attrs=attrs,
                                         progress=progress, resume=resume, signal=signal)
    return paths
