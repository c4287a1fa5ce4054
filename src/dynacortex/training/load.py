"""From a training checkpoint (or its run folder) to a model, in one line.

    import dynacortex as dc
    model = dc.training.load_model("runs/demo-3e7d5981")                        # a run folder
    model = dc.training.load_model("runs/demo-3e7d5981/checkpoints/last.ckpt")  # or its checkpoint
    model, cfg = dc.training.load_trained("runs/demo-3e7d5981")                 # and its TrainConfig

The model is built from the training config stored in the checkpoint (``create_model(name,
**fields)``), gets the trained weights and is returned in eval mode. Loading is weights-only
(:func:`dynacortex.files.load_checkpoint`): ``trusted=True`` only for a file whose source you trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor, nn

from ..files import load_checkpoint
from .config import TrainConfig

__all__ = ["checkpoint_of", "model_state", "load_trained", "trained_from", "load_model"]


def checkpoint_of(path: "str | Path") -> Path:
    """``path`` itself, or ``path/checkpoints/last.ckpt`` when ``path`` is a run folder."""
    path = Path(path)
    return path / "checkpoints" / "last.ckpt" if path.is_dir() else path


def model_state(ckpt: dict[str, Any], path: "str | Path") -> dict[str, Tensor]:
    """The model's weights in a loaded Lightning checkpoint of :class:`~dynacortex.training.DynamicsModule`."""
    try:
        return {k.removeprefix("model."): v for k, v in ckpt["state_dict"].items() if k.startswith("model.")}
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"checkpoint: {path} is not a dynacortex training checkpoint (no state_dict)") from e


def load_trained(path: "str | Path", trusted: bool = False) -> tuple[nn.Module, TrainConfig]:
    """The model (eval mode, trained weights) and training config of a run folder or its checkpoint."""
    path = checkpoint_of(path)
    return trained_from(load_checkpoint(path, trusted=trusted), path)


def trained_from(ckpt: dict[str, Any], path: "str | Path") -> tuple[nn.Module, TrainConfig]:
    """:func:`load_trained` of a checkpoint already loaded from ``path`` (named in errors)."""
    try:
        cfg = TrainConfig.model_validate(ckpt["hyper_parameters"]["config"])
    except (KeyError, TypeError) as e:
        raise ValueError(f"checkpoint: {path} is not a dynacortex training checkpoint (no training config in it)") from e
    from ..models import create_model

    model = create_model(cfg.model.name, **cfg.model.kwargs)
    model.load_state_dict(model_state(ckpt, path))
    return model.eval(), cfg


def load_model(path: "str | Path", trusted: bool = False) -> nn.Module:
    """The trained model of a run folder or of a checkpoint written by ``dynacortex train`` (eval mode)."""
    return load_trained(path, trusted)[0]
