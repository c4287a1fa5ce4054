"""ImageNet-style image folders (``root/<split>/<class>/*.jpg``) decoded once into a memory-mapped cache.

The first call decodes every image with PIL (RGB, shorter side resized to ``size``, center crop) into
a uint8 ``.npy`` file; later calls memory-map that file, so loading is instant and the pages are
shared between processes (e.g. DataLoader workers) through the OS page cache.

Cache files in ``cache_dir`` (default ``root/.dynacortex_cache``), per ``(split, size)``:
``<split>-<size>px.images.npy`` (N, 3, size, size) uint8, ``.labels.npy`` int64, ``.json`` (classes),
and ``.complete``, the completion marker, written last. Every file is written under a temporary name
and moved into place with ``os.replace``; the marker holds a fingerprint of the file list, so a cache
from an interrupted run (no marker) or from a different file list is rebuilt. Editing an image in place
keeps the same file list: delete the cache to pick that up. Under DDP, build on one rank, then barrier.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from numpy.lib.format import open_memmap
from PIL import Image
from torch import Tensor
from tqdm.auto import tqdm

__all__ = ["load_image_folder", "decode_image", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"})
_AUTO_POOL_MIN_FILES = 1000  # below this, num_workers=None decodes in-process (pool start-up dominates)


def decode_image(path: str | os.PathLike, size: int) -> np.ndarray:
    """Decode ``path`` to RGB, resize its shorter side to ``size``, center crop: uint8 ``(3, size, size)``."""
    try:
        with Image.open(path) as img:
            img.draft("RGB", (size, size))  # JPEG: decode at a reduced scale still >= size (no-op otherwise)
            img = img.convert("RGB")
            w, h = img.size
            scale = size / min(w, h)
            nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
            img = img.resize((nw, nh), Image.Resampling.BILINEAR)
            left, top = (nw - size) // 2, (nh - size) // 2
            img = img.crop((left, top, left + size, top + size))
            return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).copy()
    except OSError as err:
        raise OSError(f"{path}: cannot decode image ({err})") from err


def _scan(split_dir: Path) -> tuple[list[Path], list[int], list[str]]:
    """Image files (sorted), their class indices and the sorted class-folder names of ``split_dir``."""
    classes = sorted(e.name for e in os.scandir(split_dir) if e.is_dir() and not e.name.startswith("."))
    files, labels = [], []
    for idx, cls in enumerate(classes):
        names = sorted(e.name for e in os.scandir(split_dir / cls)
                       if e.is_file() and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS)
        files += [split_dir / cls / n for n in names]
        labels += [idx] * len(names)
    return files, labels, classes


def _fingerprint(split_dir: Path, files: list[Path], size: int) -> str:
    """A hash of the relative file list and ``size``: changes whenever the cache would be stale."""
    h = hashlib.sha256(f"size={size}\n".encode())
    for f in files:
        h.update(f.relative_to(split_dir).as_posix().encode() + b"\n")
    return h.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync, then ``os.replace``."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _cache_paths(cache_dir: Path, split: str, size: int) -> dict[str, Path]:
    """The cache file paths for ``(split, size)``."""
    stem = f"{split}-{size}px"
    return {k: cache_dir / f"{stem}.{suffix}" for k, suffix in
            (("images", "images.npy"), ("labels", "labels.npy"), ("meta", "json"), ("marker", "complete"))}


def _build_cache(paths: dict[str, Path], files: list[Path], labels: list[int], classes: list[str],
                 size: int, fingerprint: str, num_workers: int | None, progress: bool, desc: str) -> None:
    """Decode ``files`` into the cache files, optionally with a process pool; the marker goes last."""
    paths["images"].parent.mkdir(parents=True, exist_ok=True)
    paths["marker"].unlink(missing_ok=True)  # whatever follows is incomplete until the marker is back
    if num_workers is None:
        num_workers = min(8, os.cpu_count() or 1) if len(files) >= _AUTO_POOL_MIN_FILES else 0
    tmp_images = paths["images"].with_name(f"{paths['images'].name}.tmp-{os.getpid()}")
    decode = functools.partial(decode_image, size=size)
    try:
        out = open_memmap(tmp_images, mode="w+", dtype=np.uint8, shape=(len(files), 3, size, size))
        with contextlib.ExitStack() as stack:
            bar = stack.enter_context(tqdm(total=len(files), desc=desc, unit="img", disable=not progress))
            if num_workers > 1:
                pool = stack.enter_context(ProcessPoolExecutor(num_workers))
                decoded = pool.map(decode, files, chunksize=max(1, min(64, len(files) // (4 * num_workers))))
            else:
                decoded = map(decode, files)
            for i, img in enumerate(decoded):
                out[i] = img
                bar.update()
        out.flush()
        del out
        os.replace(tmp_images, paths["images"])
    finally:
        tmp_images.unlink(missing_ok=True)
    buf = io.BytesIO()
    np.save(buf, np.asarray(labels, dtype=np.int64))
    _atomic_write(paths["labels"], buf.getvalue())
    _atomic_write(paths["meta"], json.dumps({"classes": classes, "size": size}).encode())
    _atomic_write(paths["marker"], fingerprint.encode())


def load_image_folder(root: str | os.PathLike, split: str = "train", size: int = 64,
                      cache_dir: str | os.PathLike | None = None, progress: bool = True,
                      num_workers: int | None = None) -> tuple[Tensor, Tensor, list[str]]:
    """Load ``root/<split>/<class>/<image>`` as uint8 ``(N, 3, size, size)``, int64 labels and class names.

    Classes are the sorted class-folder names. Images are decoded once into the cache (see module doc),
    with ``num_workers`` processes (None: up to 8 when there are >= 1000 files, else in-process; 0 or 1:
    in-process). The returned images tensor is a zero-copy view of a copy-on-write memory map
    (``mmap_mode="c"``): it is writable, but writes stay private to this process and never reach the cache.
    """
    if not isinstance(size, int) or size <= 0:
        raise ValueError(f"size: must be a positive int, got {size!r}")
    if not split or Path(split).name != split or split in (".", ".."):
        raise ValueError(f"split: must be a plain folder name under root such as 'train' or 'val', got {split!r}")
    if num_workers is not None and num_workers < 0:
        raise ValueError(f"num_workers: must be None or an int >= 0, got {num_workers!r}")
    root = Path(root)
    split_dir = root / split
    if not split_dir.is_dir():
        raise FileNotFoundError(f"missing split folder {split_dir}; expected {root}/{split}/<class_name>/<image files>")
    files, labels, classes = _scan(split_dir)
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in {split_dir}/<class_name>/; "
                                f"class folders found: {classes}")

    paths = _cache_paths(Path(cache_dir) if cache_dir is not None else root / ".dynacortex_cache", split, size)
    fingerprint = _fingerprint(split_dir, files, size)
    marker = paths["marker"]
    if not (marker.is_file() and marker.read_text() == fingerprint):
        _build_cache(paths, files, labels, classes, size, fingerprint, num_workers, progress,
                     desc=f"decoding {split_dir} at {size}px")

    images = np.load(paths["images"], mmap_mode="c")
    y = np.load(paths["labels"])
    cached_classes = json.loads(paths["meta"].read_text())["classes"]
    if images.shape != (len(files), 3, size, size) or y.shape != (len(files),):
        raise ValueError(f"cache {paths['images']} does not match {split_dir}: shapes {images.shape}, {y.shape}; "
                         f"delete {marker} to rebuild")
    return torch.from_numpy(images), torch.from_numpy(y), cached_classes
