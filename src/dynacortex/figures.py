"""Saving matplotlib figures: PNG plus SVG beside it, each written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["save_figure"]


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as ``path`` (PNG) and beside it as SVG, each via a temporary file; close it."""
    import matplotlib.pyplot as plt

    for p in (path, path.with_suffix(".svg")):
        tmp = p.with_name(f".{p.stem}.tmp{p.suffix}")
        fig.savefig(tmp, dpi=110)
        tmp.replace(p)
    plt.close(fig)
    return path
