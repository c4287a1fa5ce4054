"""The Lightning module that trains a multi-area RNN on a cognitive task.

Each training batch is a fresh set of trials (timing drawn per batch, images from the train split),
seeded by ``(seed, epoch, batch)`` so a resumed run sees the same trials. The loss is the masked
cross-entropy over time (:func:`~dynacortex.training.losses.masked_cross_entropy`) against the
task's per-step targets. Held-out trials (test-split images, fixed seeds, drawn timing) give the
choice accuracy: the argmax over the choice units of the logits averaged over the ``choice`` steps.
"""

from __future__ import annotations

from typing import Any, Optional

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from ..models import create_model
from ..training.checkpoint import load_checkpoint
from ..training.losses import masked_cross_entropy
from ..training.module import build_optimizer
from .config import TaskTrainConfig
from .network import MultiAreaRNN
from .raster import TrialBatch, make_batch
from .tasks import get_task
from .trials import TrialSampler

__all__ = ["TaskModule", "choice_accuracy"]


def choice_accuracy(logits: Tensor, batch: TrialBatch) -> Tensor:
    """Per-trial correctness (B,) of the choice read from the mean logits over the choice-target steps."""
    steps = batch.target[0] > 0
    if not steps.any():
        raise ValueError("batch: no step has a choice target")
    mean = logits[:, steps.to(logits.device), 1:].mean(dim=1)
    return mean.argmax(-1).cpu() == batch.choice


class TaskModule(L.LightningModule):
    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg = TaskTrainConfig.model_validate(config)
        self.spec = get_task(self.cfg.task)
        self.train_trials = TrialSampler(self.spec.trials, self.spec.image_size, "train")
        self.test_trials = TrialSampler(self.spec.trials, self.spec.image_size, "test")
        kwargs = {**self.cfg.frontend.kwargs, "in_channels": self.train_trials.channels}
        frontend = create_model(self.cfg.frontend.name, **kwargs)
        if self.cfg.frontend_checkpoint is not None:
            state = load_checkpoint(self.cfg.frontend_checkpoint)["state_dict"]
            own = {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}
            frontend.load_state_dict(own)
        self.model = MultiAreaRNN(frontend, self.cfg.network, self.spec.n_outputs)
        self.test_accuracy: Optional[float] = None
        self._hits: list[Tensor] = []

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def batch(self, index: int, split: str) -> TrialBatch:
        """Trials number ``index`` of ``split`` ('train': batch of the current epoch; 'test': held-out)."""
        if split == "train":
            key, n, sampler = (self.cfg.seed, self.current_epoch, index), self.cfg.batch_size, self.train_trials
        else:  # a tuple of ints hashes the same in every process (strings would not)
            key, n, sampler = (self.cfg.seed, -1, index), self._eval_size(index), self.test_trials
        seed = hash(key) % 2**62
        return make_batch(self.spec, sampler, n, self.model.dt, torch.Generator().manual_seed(seed))

    def _eval_size(self, index: int) -> int:
        b = self.cfg.batch_size
        return min(b, self.cfg.eval_trials - index * b)

    def _loss(self, b: TrialBatch) -> tuple[Tensor, Tensor]:
        logits = self.model(b.x.to(self.device))
        return masked_cross_entropy(logits, b.target.to(self.device), b.mask.to(self.device)), logits

    def training_step(self, index: Tensor, batch_idx: int) -> Tensor:
        b = self.batch(int(index), "train")
        loss, logits = self._loss(b)
        self.log("train_loss", loss.detach(), prog_bar=True, batch_size=len(b.choice))
        self.log("train_acc", choice_accuracy(logits.detach(), b).float().mean(), prog_bar=True, batch_size=len(b.choice))
        return loss

    def _evaluate(self, index: Tensor, stage: str) -> None:
        b = self.batch(int(index), "test")
        loss, logits = self._loss(b)
        hits = choice_accuracy(logits, b)
        self._hits.append(hits)
        self.log(f"{stage}_loss", loss, batch_size=len(hits), prog_bar=stage == "val")
        self.log(f"{stage}_acc", hits.float().mean(), batch_size=len(hits), prog_bar=stage == "val")

    def validation_step(self, index: Tensor, batch_idx: int) -> None:
        self._evaluate(index, "val")

    def on_test_epoch_start(self) -> None:
        self._hits = []

    def test_step(self, index: Tensor, batch_idx: int) -> None:
        self._evaluate(index, "test")

    def on_test_epoch_end(self) -> None:
        self.test_accuracy = float(torch.cat(self._hits).float().mean())

    def train_dataloader(self) -> DataLoader:
        return DataLoader(torch.arange(self.cfg.batches_per_epoch), batch_size=None)

    def val_dataloader(self) -> DataLoader:
        return self.test_dataloader()

    def test_dataloader(self) -> DataLoader:
        n = -(-self.cfg.eval_trials // self.cfg.batch_size)
        return DataLoader(torch.arange(n), batch_size=None)

    def configure_optimizers(self) -> Any:
        params = [p for p in self.model.parameters() if p.requires_grad]
        return build_optimizer(params, self.cfg.optim, self.cfg.trainer.max_epochs)
