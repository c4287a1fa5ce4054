"""Human reference values (``human_reference.yaml``, shipped with the package, every value cited) and the
mapping of model areas to human area groups.

``reference(metric, area)`` gives the entry a model area's value is compared with: ``range`` ([lo, hi] or
None), ``status`` (measured, figure, unverified, target), ``source`` and ``how`` it was read, and for targets
the ``direction`` the paper states. Areas outside ``area_groups`` (e.g. a DN model's) have no entry.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Optional

import yaml

__all__ = ["load_reference", "area_group", "reference", "entry_key", "cortex_reference", "cite"]


@lru_cache(maxsize=1)
def load_reference() -> dict[str, Any]:
    """The parsed ``human_reference.yaml``."""
    text = resources.files("dynacortex.experiments").joinpath("human_reference.yaml").read_text()
    return yaml.safe_load(text)


def area_group(area: str) -> Optional[str]:
    """The human area group of a model area (``early``, ``ventral``, ``later``), or None."""
    return load_reference()["area_groups"].get(area)


def reference(metric: str, area: str) -> Optional[dict[str, Any]]:
    """The reference entry for ``metric`` in ``area``'s group (or the metric's ``all`` entry)."""
    entries = load_reference()["metrics"].get(metric)
    group = area_group(area)
    if entries is None or group is None:
        return None
    return entries.get(entry_key(metric, area))


def entry_key(metric: str, area: str) -> str:
    """The key of the entry :func:`reference` uses for ``metric`` in ``area``: the area's group, or ``all``."""
    group = area_group(area)
    return group if group is not None and group in load_reference()["metrics"].get(metric, {}) else "all"


def cortex_reference(areas: list[str], metrics: list[str]) -> dict[str, dict[str, Optional[list[float]]]]:
    """``{area: {metric: [lo, hi] or None}}`` for ``metrics.json["cortex_reference"]``."""
    out: dict[str, dict[str, Optional[list[float]]]] = {}
    for a in areas:
        entries = {m: reference(m, a) for m in metrics}
        out[a] = {m: (None if e is None or e.get("range") is None else [float(v) for v in e["range"]])
                  for m, e in entries.items()}
    return out


def cite(keys: str) -> str:
    """Short citations for a comma-separated list of source keys, e.g. ``"Zhou et al. 2018"``."""
    sources = load_reference()["sources"]
    return "; ".join(sources[k.strip()]["short"] for k in keys.split(","))
