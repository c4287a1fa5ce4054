"""A small self-contained HTML report: readings, tables, a metrics table and figures (PNG files beside it)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Sequence

from .files import write_atomic

__all__ = ["write_report", "Table"]

Table = tuple[str, Sequence[str], Sequence[Sequence[Any]]]  # (caption, header, rows)


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return html.escape("–" if v is None else _scalar(v))

    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table class=grid><caption>{html.escape(caption)}</caption><tr>{head}</tr>\n{body}</table>"


def _scalar(v: Any) -> str:
    """A scalar as shown: floats to 4 significant digits (no float noise)."""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def write_report(path: Path, title: str, metrics: dict[str, Any], figures: Sequence[tuple[str, Path]],
                 notes: Sequence[str] = (), tables: Sequence[Table] = ()) -> Path:
    """Write ``path`` (HTML): ``notes`` (paragraphs), ``tables``, the scalar ``metrics`` and ``figures``
    (caption, PNG path relative to the report)."""
    rows = "\n".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_scalar(v))}</td></tr>"
                     for k, v in metrics.items() if not isinstance(v, (list, dict)))
    figs = "\n".join(f'<figure><img src="{html.escape(p.name)}" alt="{html.escape(c)}"><figcaption>{html.escape(c)}'
                     "</figcaption></figure>" for c, p in figures)
    paras = "\n".join(f"<p>{html.escape(n)}</p>" for n in notes)
    grids = "\n".join(_table(*t) for t in tables)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}img{{max-width:100%}}
th{{text-align:left;padding-right:1em}}figure{{margin:1.5em 0}}
table.grid{{border-collapse:collapse;margin:1em 0}}table.grid td,table.grid th{{border:1px solid #ccc;padding:2px 8px}}
caption{{text-align:left;font-weight:bold;padding:4px 0}}</style></head>
<body><h1>{html.escape(title)}</h1>
{paras}
{grids}
{f"<table>{rows}</table>" if rows else ""}
{figs}
</body></html>
"""
    write_atomic(path, page)
    return path
