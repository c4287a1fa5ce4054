"""A dataset over in-memory (or memory-mapped) image tensors and a resumable, DDP-aware epoch sampler."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sized

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

__all__ = ["ImageTensorDataset", "EpochShuffleSampler"]


class ImageTensorDataset(Dataset):
    """``(image, label)`` pairs from ``images`` ``(N, C, H, W)`` (uint8 or float) and ``labels`` ``(N,)``.

    Items are returned as stored (no per-item transform): apply the batch transforms of
    ``dynacortex.data.transforms`` to whole batches after collation, where they are vectorised.
    """

    def __init__(self, images: Tensor, labels: Tensor) -> None:
        if not isinstance(images, Tensor) or images.ndim != 4:
            raise ValueError(f"images: must be a (N, C, H, W) tensor, got {getattr(images, 'shape', type(images))}")
        if not isinstance(labels, Tensor) or labels.shape != images.shape[:1]:
            raise ValueError(f"labels: must be a ({images.shape[0]},) tensor matching images, "
                             f"got {getattr(labels, 'shape', type(labels))}")
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.images[index], self.labels[index]


def _epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed that depends on the pair ``(seed, epoch)`` (no collisions like ``seed + epoch``)."""
    digest = hashlib.sha256(f"{seed}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class EpochShuffleSampler(Sampler[int]):
    """Indices in an order fixed by ``(seed, epoch)``, sharded over ``num_replicas`` ranks.

    Call ``set_epoch(e)`` before iterating epoch ``e``: the permutation depends only on ``(seed, e)``, so a
    run resumed at an epoch boundary replays exactly the same order. As in ``DistributedSampler``, the
    permutation is padded by wrapping around to a multiple of ``num_replicas`` and rank ``r`` takes
    positions ``r, r + num_replicas, ...``: every rank yields ``ceil(n / num_replicas)`` indices, the
    shards are disjoint up to the padding and together cover the dataset. ``shuffle=False`` keeps the
    natural order (e.g. for evaluation).
    """

    def __init__(self, data: Sized | int, seed: int = 0, num_replicas: int = 1, rank: int = 0,
                 shuffle: bool = True) -> None:
        n = data if isinstance(data, int) else len(data)
        if n <= 0:
            raise ValueError(f"data: needs at least one sample, got a length of {n}")
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"num_replicas: must be an int >= 1, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"rank: must be an int in [0, {num_replicas - 1}], got {rank!r}")
        self.n, self.seed, self.num_replicas, self.rank, self.shuffle = n, int(seed), num_replicas, rank, shuffle
        self.epoch = 0
        self.num_samples = math.ceil(n / num_replicas)

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation of ``epoch`` for the next iteration."""
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch: must be an int >= 0, got {epoch!r}")
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(_epoch_seed(self.seed, self.epoch))
            order = torch.randperm(self.n, generator=g)
        else:
            order = torch.arange(self.n)
        total = self.num_samples * self.num_replicas
        order = order.repeat(math.ceil(total / self.n))[:total]  # pad by wrapping around
        return iter(order[self.rank::self.num_replicas].tolist())
