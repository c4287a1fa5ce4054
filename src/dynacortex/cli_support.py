"""Conventions shared by every ``dynacortex`` command.

- A mistake on the command line (a bad config field, an unknown protocol, a missing checkpoint or
  folder) ends with one paragraph, ``Error: <what is wrong and what to do>``, exit status 2, and no
  traceback: :func:`usage_errors` turns the library's ``ValueError`` / ``FileNotFoundError`` (whose
  messages name the field) into click's usage error. Commands check before they create anything.
- Help is plain text (:data:`TYPER`): no ``<bool>`` after flags; list options name their items
  (``KEY=VALUE``) and arguments print as ``CONFIG`` (:class:`Command`).
- Warnings print as ``warning: <message>`` (:func:`short_warnings`), without the source line.
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from typer.core import TyperCommand

try:  # typer >= 0.22 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click.exceptions import UsageError

__all__ = ["TYPER", "SET_HELP", "SET_METAVAR", "Command", "usage_errors", "short_warnings"]

TYPER: dict[str, Any] = {"rich_markup_mode": None, "no_args_is_help": True, "pretty_exceptions_enable": False}
SET_HELP = "Override a config field: section.key=value (value parsed as YAML); repeatable."
SET_METAVAR = "KEY=VALUE"


class Command(TyperCommand):
    """A command whose usage line shows a required argument as ``CONFIG``, not ``{CONFIG}``, and whose
    help does not follow a list argument with ``<list[str]>``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [re.sub(r"^\{(.*)\}((?:\.\.\.)?)$", r"\1\2", p) for p in super().collect_usage_pieces(ctx)]

    def get_help(self, ctx: Any) -> str:
        return re.sub(r" <list\[\w+\]>", lambda m: " " * len(m.group()), super().get_help(ctx))  # keep the columns


@contextmanager
def usage_errors(option: Optional[str] = None,
                 types: tuple[type[Exception], ...] = (ValueError, FileNotFoundError)) -> Iterator[None]:
    """Inside the block, an exception of ``types`` (default: ``ValueError``, ``FileNotFoundError``) becomes
    a usage error (exit status 2) whose message is the exception's (prefixed by ``option`` when given)."""
    try:
        yield
    except types as e:  # pydantic.ValidationError is a ValueError
        message = str(e) if not isinstance(e, FileNotFoundError) or e.filename is None else f"{e.filename}: {e.strerror}"
        raise UsageError(f"{option}: {message}" if option else message) from None


def short_warnings() -> None:
    """Print warnings as ``warning: <message>`` (this process is a command line, not a library user)."""
    warnings.formatwarning = lambda message, category, filename, lineno, line=None: f"warning: {message}\n"
