"""Validation errors in plain words: one line per bad field, its dotted name first.

pydantic's own message repeats each input (``input_value=...``) and links to errors.pydantic.dev;
:func:`describe` says instead what is wrong with which field, what it got, and, for an unknown
field, the closest allowed names and the full list::

    model.recurence: unknown field; did you mean 'recurrence'? (allowed in model: name, num_classes, ...)
    optim.lr: Input should be a finite number (got inf)

:class:`ConfigError` (a ``ValueError``) carries that text; :func:`suggest` is the "did you mean"
used for every unknown name (fields, protocols, their parameters).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterable, Optional

from pydantic import BaseModel, ValidationError

__all__ = ["ConfigError", "describe", "suggest", "unknown_name"]

_NAMED = re.compile(r"^([A-Za-z_][\w.]*): ")
_UNION_TAG = re.compile(r"^(float|int|str|bool|none|.*[\[(].*|function-.*)$")  # pydantic's tag of a union member


class ConfigError(ValueError):
    """A configuration that does not validate; the message names each bad field."""


def suggest(name: str, allowed: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'``) for the allowed names close to ``name``, else ``""``."""
    close = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def unknown_name(what: str, name: str, allowed: Iterable[str]) -> str:
    """``"unknown protocol 'durration'; did you mean 'duration'? (allowed: a, b, c)"``."""
    allowed = list(allowed)
    return f"unknown {what} {name!r}{suggest(name, allowed)} (allowed: {', '.join(map(str, allowed))})"


def _allowed(cls: Optional[type[BaseModel]], loc: tuple, data: Any) -> Optional[list[str]]:
    """The field names allowed at the section holding ``loc`` (a model may list its own, e.g. a
    model spec lists the chosen model's fields, through a classmethod ``allowed_fields(data)``)."""
    node: Any = cls
    for part in loc[:-1]:
        field = node.model_fields.get(part) if isinstance(node, type) and issubclass(node, BaseModel) else None
        if field is None:
            return None
        node = field.annotation
        args = [a for a in getattr(node, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
        node = args[0] if args else node  # Optional[Section]
        data = data.get(part, {}) if isinstance(data, dict) else {}
    if not (isinstance(node, type) and issubclass(node, BaseModel)):
        return None
    return list(node.allowed_fields(data)) if hasattr(node, "allowed_fields") else list(node.model_fields)


def _line(err: dict[str, Any], cls: Optional[type[BaseModel]], data: Any, prefix: tuple, root: str) -> str:
    loc = tuple(prefix) + tuple(str(p) for p in err["loc"] if not (isinstance(p, str) and _UNION_TAG.match(p)))
    dotted = ".".join(loc)
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed(cls, tuple(err["loc"]), data)
        if allowed is None:
            return f"{dotted}: unknown field"
        where = ".".join(loc[:-1]) or root
        return f"{dotted}: unknown field{suggest(loc[-1], allowed)} (allowed in {where}: {', '.join(allowed)})"
    if kind in ("value_error", "assertion_error"):
        msg = str(err.get("ctx", {}).get("error", msg))  # our own message, without "Value error, "
        named = _NAMED.match(msg)
        if named and loc and named.group(1) == loc[-1]:
            return ".".join((*loc[:-1], msg))  # the message names its field itself
        if named:
            return ".".join((*loc, msg)) if loc else msg
        return f"{dotted}: {msg}" if loc else msg
    value = err.get("input")
    got = f" (got {value!r})" if isinstance(value, (str, int, float, bool)) and kind != "missing" and len(repr(value)) < 60 else ""
    return f"{dotted}: {msg}{got}" if loc else f"{msg}{got}"


def describe(e: ValidationError, cls: Optional[type[BaseModel]] = None, data: Any = None, prefix: tuple = (),
             root: str = "the top level") -> str:
    """One line per error of ``e`` (see the module docstring); unknown fields of one section share a
    line. ``cls`` and ``data`` (what was validated) let an unknown field list the allowed ones;
    ``prefix`` is prepended to every field name; ``root`` names the top level in "allowed in ..."
    (e.g. the model's name)."""
    errors = e.errors(include_url=False)
    unknown: dict[tuple, list[dict[str, Any]]] = {}
    for err in errors:
        if err["type"] == "extra_forbidden":
            unknown.setdefault(tuple(err["loc"][:-1]), []).append(err)
    lines = []
    for err in errors:
        group = unknown.get(tuple(err["loc"][:-1])) if err["type"] == "extra_forbidden" else None
        if group is None or len(group) == 1:
            lines.append(_line(err, cls, data, prefix, root))
        elif err is group[0]:
            names = ", ".join(".".join((*prefix, *map(str, g["loc"]))) for g in group)
            allowed = _allowed(cls, tuple(err["loc"]), data)
            where = ".".join((*prefix, *map(str, err["loc"][:-1]))) or root
            lines.append(f"{names}: unknown fields" + (f" (allowed in {where}: {', '.join(allowed)})" if allowed else ""))
    return "\n".join(dict.fromkeys(lines))
