"""One entry point for every dataset: ``load_dataset(name, split, size, root)``.

Returns ``(images uint8 (N, C, size, size), labels int64 (N,), classes)``. ``digits`` and ``shapes``
are generated offline; ``cifar10``/``cifar100`` (python pickle format) and ``folder`` (ImageNet /
ImageNette layout ``root/<split>/<class>/*.jpg``) are read from disk. ``folder`` uses ``val`` as its
test split when there is no ``test`` folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from .offline import load_digits, load_shapes

__all__ = ["DATASETS", "load_dataset"]

DATASETS = ("digits", "shapes", "cifar10", "cifar100", "folder")


def _resize(images: Tensor, size: int) -> Tensor:
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    x = F.interpolate(images.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x.round().clamp(0, 255).to(images.dtype)


def load_dataset(name: str, split: str = "train", size: int = 32, root: Optional["str | Path"] = None
                 ) -> tuple[Tensor, Tensor, list[str]]:
    if name not in DATASETS:
        raise ValueError(f"dataset: unknown dataset {name!r}; allowed values are {list(DATASETS)}")
    if name == "digits":
        return load_digits(split, size)
    if name == "shapes":
        return load_shapes(split, size)
    if root is None:
        raise ValueError(f"root: dataset {name!r} is read from disk; give the folder that holds it")
    if name in ("cifar10", "cifar100"):
        from .cifar import load_cifar

        x, y, classes = load_cifar(root, name, split)
        return _resize(x, size), y, classes
    from .folders import load_image_folder

    if split == "test" and not (Path(root) / "test").is_dir() and (Path(root) / "val").is_dir():
        split = "val"
    return load_image_folder(root, split, size)
