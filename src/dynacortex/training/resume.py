"""Continuing training: ``--resume`` (the same run, after a kill) and ``--from RUN_DIR`` (a new run
that starts from a finished run's weights).

``--resume`` continues the run folder of the identical config from ``checkpoints/last.ckpt``
(weights, optimizer, schedule, epoch, step and the data loader's position): the run ends as the
uninterrupted one would have. The epoch budget is part of a run's identity (the cosine schedule
spans it), so ``--set trainer.max_epochs=20 --resume`` names a different folder; when a folder with
the same config but another budget exists, the error says so and how to continue from it.

``--from RUN_DIR`` starts a new run (its own folder, whose identity records the source's config hash
and checkpoint step in ``start_from``) from RUN_DIR's trained weights, with a fresh optimizer and
schedule over this config's ``trainer.max_epochs``: "train N more epochs" (a warm restart).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import yaml
from torch import Tensor

from ..files import load_checkpoint
from ..runs import LOCATION_FIELDS, config_hash
from ..validation import ConfigError
from .config import StartFrom, TrainConfig
from .load import checkpoint_of, model_state

__all__ = ["resume_checkpoint", "start_from", "start_weights"]

_BUDGET = (*LOCATION_FIELDS, "trainer.max_epochs")


def _other_budgets(cfg: TrainConfig) -> list[tuple[Path, int]]:
    """Run folders beside ``cfg``'s that hold the same config but for ``trainer.max_epochs``."""
    mine = config_hash(cfg.resolved(), _BUDGET)
    found = []
    for stored in sorted(Path(cfg.out_dir).glob(f"{cfg.name}-*/config.yaml")):
        try:
            data = yaml.safe_load(stored.read_text())
            if isinstance(data, dict) and stored.parent != cfg.run_dir and config_hash(data, _BUDGET) == mine:
                found.append((stored.parent, int(data["trainer"]["max_epochs"])))
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
            continue
    return found


def resume_checkpoint(cfg: TrainConfig) -> Path:
    """``cfg``'s ``checkpoints/last.ckpt``; if it does not exist, a ``FileNotFoundError`` that says why."""
    last = checkpoint_of(cfg.run_dir)
    if last.is_file():
        return last
    msg = f"--resume: no checkpoint at {last}; this config has not been trained in that folder"
    others = [(p, n) for p, n in _other_budgets(cfg) if checkpoint_of(p).is_file()]
    if others:
        run, epochs = others[-1]
        msg += (f". {run} holds the same config trained for trainer.max_epochs={epochs} (the epoch budget is "
                f"part of a run's identity). To train it further, start a new run from its weights: "
                f"dynacortex train CONFIG --from {run} --set trainer.max_epochs=<more epochs>")
    else:
        msg += "; start it without --resume"
    raise FileNotFoundError(msg)


def start_from(run_dir: "str | Path") -> StartFrom:
    """The :class:`StartFrom` record of the trained run in ``run_dir`` (its config hash, its checkpoint's step)."""
    run_dir = Path(run_dir)
    stored, ckpt = run_dir / "config.yaml", checkpoint_of(run_dir)
    if not run_dir.is_dir() or not stored.is_file() or not ckpt.is_file():
        raise FileNotFoundError(f"--from: {run_dir} is not a trained run folder (it needs config.yaml and "
                                "checkpoints/last.ckpt, as dynacortex train writes them)")
    step = int(load_checkpoint(ckpt).get("global_step", 0))
    return StartFrom(run=str(run_dir), config_hash=config_hash(yaml.safe_load(stored.read_text())), global_step=step)


def start_weights(source: Optional[StartFrom]) -> Optional[dict[str, Tensor]]:
    """The model weights ``source`` names (``None`` for a run from scratch); refused if its run moved on."""
    if source is None:
        return None
    path = checkpoint_of(source.run)
    if not path.is_file():
        raise FileNotFoundError(f"start_from: {path} does not exist (the run this one starts from)")
    ckpt = load_checkpoint(path)
    if int(ckpt.get("global_step", -1)) != source.global_step:
        raise ConfigError(f"start_from: {path} is at step {ckpt.get('global_step')}, not at step "
                         f"{source.global_step} this run starts from; pass --from {source.run} again to start "
                         "from its current weights (a new run)")
    return model_state(ckpt, path)
