"""A small self-contained HTML report: a metrics table and figures (PNG files beside it)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Sequence

from .training.train import write_atomic

__all__ = ["write_report"]


def write_report(path: Path, title: str, metrics: dict[str, Any], figures: Sequence[tuple[str, Path]],
                 notes: Sequence[str] = ()) -> Path:
    """Write ``path`` (HTML) with ``metrics`` and ``figures`` (caption, PNG path relative to the report)."""
    rows = "\n".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                     for k, v in metrics.items() if not isinstance(v, (list, dict)))
    figs = "\n".join(f'<figure><img src="{html.escape(p.name)}" alt="{html.escape(c)}"><figcaption>{html.escape(c)}'
                     "</figcaption></figure>" for c, p in figures)
    paras = "\n".join(f"<p>{html.escape(n)}</p>" for n in notes)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}img{{max-width:100%}}
th{{text-align:left;padding-right:1em}}figure{{margin:1.5em 0}}</style></head>
<body><h1>{html.escape(title)}</h1>
{paras}
<table>{rows}</table>
{figs}
</body></html>
"""
    write_atomic(path, page)
    return path
