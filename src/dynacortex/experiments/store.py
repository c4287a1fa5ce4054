"""Labelled results on disk: a zarr store written block by block, opened as an xarray Dataset.

The store is built under a hidden temporary name beside its target and renamed into place only when
complete, so a reader never sees a half-written recording and an interrupted run leaves the previous
one intact. Arrays carry their dimension names (zarr format 3), so ``xarray.open_zarr`` labels them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

__all__ = ["ZarrWriter", "open_recording"]


class ZarrWriter:
    """Create arrays with dims and chunks, write regions while a run goes on, publish with :meth:`close`."""

    def __init__(self, path: "str | Path", attrs: Optional[dict[str, Any]] = None):
        import zarr

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.partial-{os.getpid()}")
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._group = zarr.open_group(str(self._tmp), mode="w", zarr_format=3)
        self._group.attrs.update({k: v if isinstance(v, (str, int, float, bool)) else json.dumps(v)
                                  for k, v in (attrs or {}).items()})
        self._arrays: dict[str, Any] = {}

    def coord(self, name: str, dims: Sequence[str], values: Any) -> None:
        """A coordinate (written at once): an index when ``dims == (name,)``, else attached to variables."""
        values = np.asarray(values)
        dtype = str if values.dtype.kind in "UO" else values.dtype
        arr = self._group.create_array(name, shape=values.shape, dtype=dtype, dimension_names=list(dims))
        arr[...] = values

    def variable(self, name: str, dims: Sequence[str], shape: Sequence[int], chunks: Sequence[int],
                 coords: Sequence[str] = (), dtype: str = "float32", attrs: Optional[dict[str, Any]] = None) -> None:
        """An empty (NaN-filled) data variable, written later with :meth:`write`."""
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
    for k, v in list(ds.attrs.items()):
        if isinstance(v, str) and v[:1] in "{[":
            ds.attrs[k] = json.loads(v)
    return ds
