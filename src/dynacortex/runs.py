"""Run folders: named ``<label>-<hash>``, holding the resolved config and the environment.

    folder = run_folder("runs", "full-s0", resolved_config)   # runs/full-s0-3fa9c1d2
    write_run_files(folder, resolved_config, seed=0)           # config.yaml + environment.json

The hash is the first 8 hex digits of SHA-256 over the canonical JSON of the resolved config (keys
sorted, defaults filled in), leaving out the fields that say where files live or how progress is
shown (:data:`LOCATION_FIELDS`): the same experiment gets the same folder on a laptop and on a
cluster, on every DDP rank, and a changed learning rate, delay or seed gets a new one. The
hostname is recorded in ``environment.json`` as data and never used for any decision.
"""

from __future__ import annotations

import hashlib
import json
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import yaml

from .files import write_atomic

__all__ = ["LOCATION_FIELDS", "config_hash", "run_folder", "environment", "write_run_files",
           "write_provenance"]

# dotted paths that do not change what is computed, only where it is stored or how it is logged
LOCATION_FIELDS = ("name", "out_dir", "data.root", "data.num_workers", "trainer.progress_bar",
                   "trainer.loggers", "trainer.log_every_n_steps", "trainer.save_every_n_steps", "start_from.run")


def _without(config: Mapping[str, Any], dotted: Iterable[str]) -> dict[str, Any]:
    out = json.loads(json.dumps(dict(config)))  # a deep copy of plain JSON data
    for key in dotted:
        *parents, leaf = key.split(".")
        node = out
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return out


def config_hash(config: Mapping[str, Any], ignore: Iterable[str] = LOCATION_FIELDS) -> str:
    """8 hex digits identifying ``config`` (a JSON-able mapping) without the ``ignore`` dotted fields."""
    canonical = json.dumps(_without(config, ignore), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def run_folder(base: "str | Path", label: str, config: Mapping[str, Any]) -> Path:
    """``<base>/<label>-<config_hash(config)>``; ``label`` is a short human name (no path separators)."""
    if not label or "/" in label or "\\" in label or label in (".", ".."):
        raise ValueError(f"name: run label must be a non-empty folder name without '/', got {label!r}")
    return Path(base) / f"{label}-{config_hash(config)}"


def _git_commit() -> Optional[str]:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def environment(seed: Optional[int] = None) -> dict[str, Any]:
    """Versions (python, torch, lightning, dynacortex), platform, hostname, git commit (if installed from a
    checkout), and the seed."""
    import torch

    from . import __version__

    try:
        import lightning

        lightning_version: Optional[str] = lightning.__version__
    except ImportError:  # pragma: no cover - lightning is a core dependency
        lightning_version = None
    return {"dynacortex": __version__, "torch": torch.__version__, "lightning": lightning_version,
            "python": platform.python_version(), "platform": platform.platform(), "hostname": socket.gethostname(),
            "git_commit": _git_commit(), "seed": seed}


def write_run_files(folder: Path, config: Mapping[str, Any], seed: Optional[int] = None) -> None:
    """Create ``folder`` and write ``config.yaml`` (the resolved config) and ``environment.json``, atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "config.yaml", yaml.safe_dump(dict(config), sort_keys=False))
    write_atomic(folder / "environment.json", json.dumps(environment(seed), indent=2))


def write_provenance(folder: Path, checkpoint: "str | Path", train_config: Mapping[str, Any],
                     settings: Optional[Mapping[str, Any]] = None) -> Path:
    """``folder/provenance.json``: which checkpoint (and its run folder, when the checkpoint lies in one)
    and training config produced the results in ``folder``, the command's own settings, and the
    environment. Written last by a command, so its presence marks finished outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "provenance.json"
    ckpt = Path(checkpoint).resolve()
    run = ckpt.parent.parent if (ckpt.parent.parent / "config.yaml").is_file() else None
    record = {"checkpoint": str(ckpt), "run_folder": str(run) if run else None,
              "train_config": dict(train_config), "settings": dict(settings or {}),
              "environment": environment(train_config.get("seed"))}
    write_atomic(path, json.dumps(record, indent=2))
    return path
