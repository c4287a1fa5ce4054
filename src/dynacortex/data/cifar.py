"""CIFAR-10 / CIFAR-100 from the official python-pickle archives already on disk (no downloads).

The pickles are read with a restricted unpickler that can only rebuild numpy arrays, so a tampered
file on disk cannot run code when loaded.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["load_cifar", "safe_load_pickle", "CIFAR_LAYOUTS"]

# Per dataset: folder name, files of each split, meta file, label key and class-names key.
CIFAR_LAYOUTS: dict[str, dict[str, Any]] = {
    "cifar10": {
        "folder": "cifar-10-batches-py",
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
        "meta": "batches.meta",
        "labels": "labels",
        "names": "label_names",
    },
    "cifar100": {
        "folder": "cifar-100-python",
        "train": ["train"],
        "test": ["test"],
        "meta": "meta",
        "labels": "fine_labels",
        "names": "fine_label_names",
    },
}
SPLITS = ("train", "test")

# The only globals a numpy-array pickle needs (numpy < 2 and >= 2 module paths; protocol <= 4 uses
# _reconstruct, protocol 5 uses _frombuffer). Nothing here can execute arbitrary code. ``_codecs.encode``
# (bytes pickled by Python 3 at protocol <= 2) is mapped to the latin-1-only ``_latin1_encode``.
_ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
})


def _latin1_encode(text: str, encoding: str) -> bytes:
    """Stand-in for ``_codecs.encode``, which Python 3 uses to pickle ``bytes`` at protocol <= 2: latin-1 only."""
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError(f"refusing _codecs.encode({type(text).__name__}, {encoding!r}) in a data pickle")
    return text.encode("latin1")


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An Unpickler whose ``find_class`` resolves only the numpy-array globals in ``_ALLOWED_GLOBALS``."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        allowed = ", ".join(sorted(f"{m}.{n}" for m, n in _ALLOWED_GLOBALS))
        raise pickle.UnpicklingError(
            f"refusing to load global {module}.{name!s} from a data pickle: only numpy array "
            f"reconstruction is allowed ({allowed}); the file may be corrupt or malicious"
        )


def safe_load_pickle(path: str | os.PathLike) -> Any:
    """Unpickle ``path`` allowing only builtin containers/scalars and numpy arrays.

    Python-2 strings come back as ``bytes`` (``encoding="bytes"``, as the official CIFAR files need).
    """
    with open(path, "rb") as f:
        return _ArrayOnlyUnpickler(f, encoding="bytes").load()


def _get(d: dict, key: str, path: Path) -> Any:
    """``d[key]`` where the key may be stored as ``bytes`` (Python-2 pickle) or ``str``."""
    for k in (key.encode(), key):
        if k in d:
            return d[k]
    raise ValueError(f"{path}: expected a dict with key {key!r}, found keys {sorted(map(repr, d))}")


def _resolve_folder(root: Path, folder: str, files: list[str]) -> Path:
    """``root/folder`` if it exists, else ``root`` itself; checks every needed file is present."""
    base = root / folder if (root / folder).is_dir() else root
    for name in files:
        if not (base / name).is_file():
            raise FileNotFoundError(
                f"missing {base / name}; expected the official python layout "
                f"<root>/{folder}/{{{', '.join(files)}}} (root may be the parent of {folder} or the folder itself)"
            )
    return base


def load_cifar(root: str | os.PathLike, name: str = "cifar10",
               split: str = "train") -> tuple[Tensor, Tensor, list[str]]:
    """Load a CIFAR split from the official pickles under ``root``.

    Returns ``images`` uint8 ``(N, 3, 32, 32)`` (RGB), ``labels`` int64 ``(N,)`` (fine labels for
    CIFAR-100) and the class names. ``root`` may be the data folder itself or its parent.
    """
    if name not in CIFAR_LAYOUTS:
        raise ValueError(f"name: must be one of {sorted(CIFAR_LAYOUTS)}, got {name!r}")
    if split not in SPLITS:
        raise ValueError(f"split: must be one of {list(SPLITS)}, got {split!r}")
    layout = CIFAR_LAYOUTS[name]
    base = _resolve_folder(Path(root), layout["folder"], [*layout[split], layout["meta"]])

    images, labels = [], []
    for file in layout[split]:
        path = base / file
        batch = safe_load_pickle(path)
        data = np.asarray(_get(batch, "data", path), dtype=np.uint8)
        lab = np.asarray(_get(batch, layout["labels"], path), dtype=np.int64)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.shape[0] != lab.shape[0]:
            raise ValueError(f"{path}: expected data (N, 3072) and N labels, got {data.shape} and {lab.shape}")
        images.append(data.reshape(-1, 3, 32, 32))  # row-major: 1024 R, then 1024 G, then 1024 B
        labels.append(lab)

    meta_path = base / layout["meta"]
    names = _get(safe_load_pickle(meta_path), layout["names"], meta_path)
    classes = [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]
    y = np.concatenate(labels)
    if y.size and (y.min() < 0 or y.max() >= len(classes)):
        raise ValueError(f"{base}: labels must lie in [0, {len(classes)}), got [{y.min()}, {y.max()}]")
    return torch.from_numpy(np.concatenate(images)), torch.from_numpy(y), classes
