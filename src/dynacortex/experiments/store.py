"""Labelled results on disk: a zarr store written block by block, opened as an xarray Dataset.

The store is built under a hidden temporary name beside its target and renamed into place only when
complete, so a reader never sees a half-written recording and an interrupted run leaves the previous
one intact. A killed run leaves a hidden ``.<name>.partial-<host>-<pid>`` that no reader opens and
that the next writer of the same store on that host removes. Arrays carry their dimension names (zarr format 3), so ``xarray.open_zarr`` labels them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

__all__ = ["ZarrWriter", "open_recording"]


_HOST = socket.gethostname().replace("-", "_")


def _remove_stale(path: Path) -> None:
    """Remove partial stores of ``path`` left by killed processes of this host (a live writer's stays)."""
    for partial in path.parent.glob(f".{path.name}.partial-{_HOST}-*"):
        pid = int(partial.name.rsplit("-", 1)[1])
        if pid == os.getpid():  # ours: adopted, or overwritten by mode "w"
            continue
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            shutil.rmtree(partial, ignore_errors=True)


def _adopt(path: Path, tmp: Path, fingerprint: str) -> Any:
    """Take over a partial store of ``path`` written for the same ``fingerprint`` (any host): its group, or None."""
    import zarr

    for partial in sorted(path.parent.glob(f".{path.name}.partial-*"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            if zarr.open_group(str(partial), mode="r").attrs.get("fingerprint") != fingerprint:
                continue
            os.replace(partial, tmp)
            return zarr.open_group(str(tmp), mode="r+")
        except (OSError, ValueError, KeyError):  # unreadable metadata of a killed writer: not resumable
            continue
    return None


class ZarrWriter:
    """Create arrays with dims and chunks, write regions while a run goes on, publish with :meth:`close`.

    ``resume=True`` continues the partial store of an interrupted run with the same ``fingerprint``
    (the caller's hash of everything that determines the content): existing arrays are reopened and
    :attr:`done` says how many units of work (:meth:`mark_done`) were already complete. Only one
    writer may resume a store at a time.
    """

    def __init__(self, path: "str | Path", attrs: Optional[dict[str, Any]] = None, fingerprint: str = "",
                 resume: bool = False):
        import zarr

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.partial-{_HOST}-{os.getpid()}")
        group = _adopt(self.path, self._tmp, fingerprint) if resume and fingerprint else None
        _remove_stale(self.path)
        self.resumed = group is not None
        if group is None:
            group = zarr.open_group(str(self._tmp), mode="w", zarr_format=3)
            group.attrs.update({k: v if isinstance(v, (str, int, float, bool)) else json.dumps(v)
                                for k, v in (attrs or {}).items()})
            group.attrs.update({"fingerprint": fingerprint, "done": 0})
        self._group = group
        self._arrays: dict[str, Any] = {}

    @property
    def done(self) -> int:
        return int(self._group.attrs.get("done", 0))

    def mark_done(self, n: int) -> None:
        """Record that the first ``n`` units of work are written (after their data, so a resume can trust it)."""
        self._group.attrs["done"] = n

    def coord(self, name: str, dims: Sequence[str], values: Any) -> None:
        """A coordinate (written at once): an index when ``dims == (name,)``, else attached to variables."""
        if self.resumed:
            return
        values = np.asarray(values)
        dtype = str if values.dtype.kind in "UO" else values.dtype
        arr = self._group.create_array(name, shape=values.shape, dtype=dtype, dimension_names=list(dims))
        arr[...] = values

    def variable(self, name: str, dims: Sequence[str], shape: Sequence[int], chunks: Sequence[int],
                 coords: Sequence[str] = (), dtype: str = "float32", attrs: Optional[dict[str, Any]] = None) -> None:
        """An empty (NaN-filled) data variable, written later with :meth:`write`."""
        if self.resumed:
            self._arrays[name] = self._group[name]
            return
        arr = self._group.create_array(name, shape=tuple(shape), chunks=tuple(min(c, s) for c, s in zip(chunks, shape)),
                                       dtype=dtype, dimension_names=list(dims), fill_value=np.nan)
        if coords:
            arr.attrs["coordinates"] = " ".join(coords)
        arr.attrs.update(attrs or {})
        self._arrays[name] = arr

    def write(self, name: str, region: tuple[slice, ...], values: np.ndarray) -> None:
        self._arrays[name][region] = values

    def close(self) -> Path:
        """Publish the store under its final name (replacing an older one) and return its path."""
        self._group.attrs.update({"complete": True})  # the marker readers check (the hidden name alone is not enough)
        for key in ("fingerprint", "done"):
            self._group.attrs.pop(key, None)
        old = self.path.with_name(f".{self.path.name}.old-{os.getpid()}")
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(self._tmp, self.path)
        shutil.rmtree(old, ignore_errors=True)
        return self.path

    def abort(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


def open_recording(path: "str | Path") -> Any:
    """The recording at ``path`` as a lazily loaded ``xarray.Dataset`` (JSON attributes decoded)."""
    import xarray as xr

    path = Path(path)
    if not (path / "zarr.json").is_file():
        raise FileNotFoundError(f"recording: {path} is not a complete zarr store (run the experiment first)")
    ds = xr.open_zarr(path, consolidated=False)
    if not ds.attrs.pop("complete", False):
        raise FileNotFoundError(f"recording: {path} is a partial store of an interrupted run (no completion marker)")
    for k, v in list(ds.attrs.items()):
        if isinstance(v, str) and v[:1] in "{[":
            ds.attrs[k] = json.loads(v)
    return ds
