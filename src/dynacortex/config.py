"""Configs as pydantic models, loaded from YAML or TOML and overridden from the command line.

    cfg = load_config(TrainConfig, "configs/demo.yaml", ["optim.lr=1e-3", "model.dt=1"])
    cfg = load_config(BenchConfig, None, ["batch=4"])          # no file: defaults + overrides

Every command that takes a config takes ``--set a.b=c`` (the value is parsed as YAML); a bad key or
value fails validation with a :class:`~dynacortex.validation.ConfigError` (a ``ValueError``) that names
the dotted field, what it got and, for an unknown key, the closest allowed names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .validation import ConfigError, describe

__all__ = ["load_config", "load_mapping", "apply_overrides"]

C = TypeVar("C", bound=BaseModel)


def load_config(cls: type[C], path: "str | Path | None", overrides: Optional[Sequence[str]] = None) -> C:
    """``cls`` validated from the file ``path`` (or from nothing) with ``section.key=value`` overrides.

    A bad field raises :class:`~dynacortex.validation.ConfigError`, one line per field (an unknown
    key lists the keys allowed at that place)."""
    data = load_mapping(path) if path is not None else {}
    data = apply_overrides(data, list(overrides or []))
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise ConfigError(describe(e, cls, data)) from None


def load_mapping(path: "str | Path") -> dict[str, Any]:
    """The top-level mapping of a YAML (``safe_load``) or TOML (``.toml``) file."""
    path = Path(path)
    text = path.read_text()
    if path.suffix == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{path}: not valid TOML: {e}") from e
    else:
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise ValueError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of sections at the top level, got {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Set each ``section.key=value`` (value parsed as YAML: ``[1, 2]``, ``true``, ``1e-3``) in ``data``."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key or "" in key.split("."):
            raise ValueError(f"--set {item!r}: expected section.key=value (e.g. optim.lr=1e-3)")
        if key.split(".")[0] == "dynamics":
            raise ValueError(f"--set {item!r}: dynamics settings (dt, tau, t_feedforward, t_recurrence, solver, "
                             f"form) are fields of the model: use model.{key.partition('.')[2]}=...")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ValueError(f"--set {item!r}: the value is not valid YAML: {e}") from e
        node = data
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ValueError(f"--set {item!r}: {p!r} is a value, not a section")
        node[leaf] = parsed
    return data
