"""Protocols named on the command line: built-in names (with ``key=value`` overrides) or YAML files."""

from __future__ import annotations

from pathlib import Path

import yaml

from .protocols import Protocol, get_protocol, list_protocols

__all__ = ["resolve_protocols"]


def resolve_protocols(names: list[str], overrides: list[str]) -> list[Protocol]:
    """``names`` (default: all built-ins) as protocols; ``overrides`` (``key=value``, YAML values)
    apply to a single built-in protocol."""
    names = names or list_protocols()
    params = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set: expected key=value, got {item!r}")
        params[key.strip()] = yaml.safe_load(value)
    if params and (len(names) != 1 or names[0] not in list_protocols()):
        raise ValueError(f"--set: parameters apply to exactly one built-in protocol, got {names}")
    out = []
    for name in names:
        path = Path(name)
        if path.suffix in (".yaml", ".yml"):
            if not path.is_file():
                raise FileNotFoundError(f"protocol: {path} does not exist")
            out.append(Protocol.model_validate(yaml.safe_load(path.read_text())))
        else:
            out.append(get_protocol(name, **params))
    return out
