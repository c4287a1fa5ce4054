"""Lightning data module over in-memory uint8 image tensors.

Batches are converted to float, augmented (training, when ``augment``: random crop with 4-pixel
padding scaled to the image size, horizontal flip) and normalised per channel with the training
set's mean and standard deviation, so a blank (mean gray) frame is 0. The training order depends only
on ``(seed, epoch)`` and augmentation only on ``(seed, epoch, batch)``: a run resumed at an epoch
boundary, or mid-epoch from a step checkpoint (the training loader is a :class:`.ResumableLoader`),
replays exactly what the uninterrupted run would have seen.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from ..data.catalog import load_dataset
from ..data.tensor_dataset import EpochShuffleSampler, ImageTensorDataset
from ..data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToFloat
from .config import DataConfig
from .resumable import ResumableLoader

__all__ = ["ImageDataModule", "normalization_stats"]


def normalization_stats(x: Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and SD (at least 1e-3) of uint8 images ``x`` (N, C, H, W) in [0, 1] units, from the
    first 10 000 images: what the data module normalises with."""
    xf = x[: min(len(x), 10000)].float() / 255.0
    return xf.mean(dim=(0, 2, 3)).tolist(), xf.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()


class ImageDataModule(L.LightningDataModule):
    def __init__(self, cfg: DataConfig, seed: int = 0):
        super().__init__()
        self.cfg, self.seed = cfg, seed
        self.train_set: Optional[ImageTensorDataset] = None
        self.test_set: Optional[ImageTensorDataset] = None
        self.classes: list[str] = []

    def setup(self, stage: Optional[str] = None) -> None:
        if self.train_set is not None:
            return
        c = self.cfg
        x, y, self.classes = load_dataset(c.name, "train", c.image_size, c.root)
        xt, yt, _ = load_dataset(c.name, "test", c.image_size, c.root)
        self.train_set, self.test_set = ImageTensorDataset(x, y), ImageTensorDataset(xt, yt)
        self.mean, self.std = normalization_stats(x)
        self.in_channels = x.shape[1]
        self.normalize = Compose([ToFloat(), Normalize(self.mean, self.std)])
        pad = max(1, round(c.image_size / 8))
        self.augment = Compose([RandomCrop(c.image_size, padding=pad), RandomHorizontalFlip()]) if c.augment else None

    def state_dict(self) -> dict[str, Any]:
        """Saved in every checkpoint (Lightning keeps it under ``"ImageDataModule"``): the normalisation and class
        names, so that a trained model can be used on new images without the training data."""
        return {} if self.train_set is None else {"mean": self.mean, "std": self.std, "classes": list(self.classes)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Nothing to restore: :meth:`setup` recomputes the same values from the data."""

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None
        world, rank = (self.trainer.world_size, self.trainer.global_rank) if self.trainer else (1, 0)
        sampler = EpochShuffleSampler(len(self.train_set), seed=self.seed, num_replicas=world, rank=rank)
        return ResumableLoader(self.train_set, self.cfg.batch_size, sampler, **self._loader_options())

    def val_dataloader(self) -> DataLoader:
        return self.test_dataloader()

    def test_dataloader(self) -> DataLoader:
        assert self.test_set is not None
        return self._loader(self.test_set, self.cfg.eval_batch_size, None)

    def _loader_options(self) -> dict[str, Any]:
        w = self.cfg.num_workers
        return dict(num_workers=w, persistent_workers=w > 0, pin_memory=torch.cuda.is_available())

    def _loader(self, dataset: ImageTensorDataset, batch_size: int, sampler: Any) -> DataLoader:
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=False, **self._loader_options())

    def on_after_batch_transfer(self, batch: tuple[Tensor, Tensor], dataloader_idx: int) -> tuple[Tensor, Tensor]:
        images, labels = batch
        training = self.trainer is not None and self.trainer.training
        if not training or (self.augment is None and self.cfg.contrast is None):
            return self.normalize(images), labels
        t = self.trainer
        g = torch.Generator(device=images.device).manual_seed(
            hash((self.seed, t.current_epoch, t.fit_loop.epoch_loop.batch_progress.current.ready)) % 2**62)
        if self.augment is not None:
            images = self.augment(images, generator=g)
        images = self.normalize(images)
        if self.cfg.contrast is not None:  # normalised, mean gray is 0: scaling is a contrast change
            lo, hi = (math.log(c) for c in self.cfg.contrast)
            u = torch.rand(len(images), generator=g, device=images.device)
            images = images * torch.exp(lo + (hi - lo) * u).view(-1, 1, 1, 1).to(images.dtype)
        return images, labels
