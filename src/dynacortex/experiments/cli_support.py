"""Protocols named on the command line: built-in names (with ``key=value`` overrides) or YAML files."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from ..validation import describe
from .protocols import Protocol, get_protocol, list_protocols

__all__ = ["resolve_protocols"]


def _parameters(overrides: list[str]) -> dict[str, object]:
    params = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set: expected key=value (e.g. gaps_ms=[50,100]), got {item!r}")
        try:
            params[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ValueError(f"--set {item!r}: the value is not valid YAML ({e.problem or e})") from None
    return params


def _from_file(path: Path) -> Protocol:
    if not path.is_file():
        raise FileNotFoundError(f"--protocol: {path} does not exist")
    try:
        return Protocol.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as e:
        raise ValueError(f"--protocol {path}: {describe(e, Protocol)}") from None
    except yaml.YAMLError as e:
        raise ValueError(f"--protocol {path}: not valid YAML ({e})") from None


def resolve_protocols(names: list[str], overrides: list[str]) -> list[Protocol]:
    """``names`` (default: all built-ins) as protocols; ``overrides`` (``key=value``, YAML values)
    apply to a single built-in protocol, which must be named."""
    params = _parameters(overrides)
    if params and (len(names) != 1 or names[0] not in list_protocols()):
        given = f"--protocol {' '.join(names)}" if names else "no --protocol (that is, all of them)"
        raise ValueError(f"--set: protocol parameters apply to exactly one built-in protocol, named with --protocol "
                         f"(one of {', '.join(list_protocols())}); got {given}")
    return [_from_file(Path(n)) if n.endswith((".yaml", ".yml")) else get_protocol(n, **params)
            for n in names or list_protocols()]
