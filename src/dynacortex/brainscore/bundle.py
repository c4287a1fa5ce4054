"""A model and its Brain-Score settings in one file: what a plugin loads without Lightning or the training data.

A bundle is a ``torch.save`` of plain values (it loads with ``weights_only=True``)::

    {"format": "dynacortex-brainscore/1", "model": "dyrcnnx4", "kwargs": {...}, "state_dict": {...},
     "settings": {"image_size": 16, "mean": [...], "std": [...], "classes": [...], "visual_degrees": 8, ...}}

``bundle_from_checkpoint`` (main environment: it reads the training checkpoint) fills the settings from the
training run: the model config, the image size, the per-channel mean and SD of the training images (the
normalisation the model was trained with; ``mean``/``std`` override) and the class names. The data module
saves the last two in every checkpoint; only for a checkpoint from before it did are they computed from the
training data, which must then be on disk. ``load_bundle`` (any environment with torch and pydantic) builds
the model back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import torch

__all__ = ["FORMAT", "bundle_from_checkpoint", "save_bundle", "load_bundle"]

FORMAT = "dynacortex-brainscore/1"
SETTINGS = ("identifier", "regions", "visual_degrees", "presentation_ms", "blank_before_ms", "image_size", "mean",
            "std", "classes", "decision_ms", "seed")


def bundle_from_checkpoint(checkpoint: "str | Path", trusted: bool = False, noise: Optional[float] = None,
                           mean: Optional[list[float]] = None, std: Optional[list[float]] = None,
                           **settings: Any) -> dict[str, Any]:
    """The bundle of a training run folder or checkpoint (``dynacortex train``); ``noise`` sets state noise."""
    from ..files import load_checkpoint
    from ..training.load import checkpoint_of, trained_from

    path = checkpoint_of(checkpoint)
    ckpt = load_checkpoint(path, trusted=trusted)
    model, cfg = trained_from(ckpt, path)
    kwargs = dict(cfg.model.kwargs)
    if noise is not None:
        kwargs["noise"] = noise
    data = cfg.data
    saved = ckpt.get("ImageDataModule") or {}
    classes: Optional[list[str]] = saved.get("classes")
    if (mean is None or std is None) and "mean" not in saved:  # a checkpoint from before the data module saved them
        from ..data.catalog import load_dataset
        from ..training.datamodule import normalization_stats

        x, _, classes = load_dataset(data.name, "train", data.image_size, data.root)
        saved = dict(zip(("mean", "std"), normalization_stats(x)))
    mean = saved["mean"] if mean is None else mean
    std = saved["std"] if std is None else std
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ValueError(f"settings: unknown {sorted(unknown)}; allowed: {list(SETTINGS)}")
    settings = {"identifier": cfg.name, "image_size": data.image_size, "mean": list(mean), "std": list(std),
                "classes": list(classes) if classes is not None else None, **settings}
    return {"format": FORMAT, "model": cfg.model.name, "kwargs": kwargs,
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "settings": settings}


def save_bundle(bundle: dict[str, Any], path: "str | Path") -> Path:
    from ..files import atomic_open

    path = Path(path)
    with atomic_open(path) as f:
        torch.save(bundle, f)
    return path


def load_bundle(path: "str | Path") -> tuple[torch.nn.Module, dict[str, Any]]:
    """``(model in eval mode, settings)`` from a bundle file."""
    from ..models import create_model

    bundle = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ValueError(f"{path}: not a dynacortex Brain-Score bundle (format {FORMAT})")
    model = create_model(bundle["model"], **bundle["kwargs"])
    model.load_state_dict(bundle["state_dict"])
    return model.eval(), dict(bundle["settings"])
