"""The Lightning module that trains any registered model over time.

Each batch of images becomes a trial (blank, stimulus, blank; see :mod:`.presentation`); the loss is
the cross-entropy over the read-out steps plus ``energy_weight`` times the mean absolute rate. With
``trainer.tbptt_steps = k`` the trial is simulated in chunks of k steps: each chunk's loss is
back-propagated, the state and delay history are detached, and the optimizer steps once per batch
(truncated backpropagation through time with memory bounded by k steps). ``trainer.checkpoint_every``
instead keeps the exact gradient and recomputes chunks during backward (gradient checkpointing);
``trainer.checkpoint_dtype`` stores its boundary states in low precision (less memory, approximate gradient).
"""

from __future__ import annotations

from typing import Any, Optional

import lightning as L
import torch
from torch import Tensor

from ..models import create_model
from .config import OptimConfig, TrainConfig
from .losses import EnergyMeter, temporal_cross_entropy
from .presentation import Trial, make_trial, present

__all__ = ["DynamicsModule", "build_optimizer"]


class DynamicsModule(L.LightningModule):
    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg = TrainConfig.model_validate(config)
        self.model = create_model(self.cfg.model.name, **self.cfg.model.kwargs)
        self.automatic_optimization = self.cfg.trainer.tbptt_steps is None
        self._eval_trial = make_trial(self.cfg.presentation, self.cfg.loss, self.model.dt)
        self.test_curve: Optional[Tensor] = None
        self._test_hits: Optional[Tensor] = None
        self._test_count = 0

    def forward(self, x: Tensor, n_steps: Optional[int] = None) -> Tensor:
        return self.model(x, n_steps)

    # -- training --------------------------------------------------------------------------------
    def _train_trial(self, batch_idx: int) -> Trial:
        p = self.cfg.presentation
        if p.random_idle_ms is None and p.random_stimulus_ms is None:
            return self._eval_trial
        g = torch.Generator().manual_seed(hash((self.cfg.seed, self.current_epoch, batch_idx)) % 2**62)
        return make_trial(p, self.cfg.loss, self.model.dt, generator=g)

    def _loss(self, x: Tensor, labels: Tensor, trial: Trial, carry: Any = None, read: Optional[Tensor] = None):
        read = trial.readout if read is None else read
        w = self.cfg.loss.energy_weight
        ckpt = {"checkpoint_every": self.cfg.trainer.checkpoint_every, "checkpoint_dtype": self.cfg.trainer.checkpoint_dtype}
        if w > 0:
            with EnergyMeter(self.model) as meter:
                logits, carry = self.model.run(x, carry=carry, **ckpt)
            energy = meter.value
        else:
            logits, carry = self.model.run(x, carry=carry, **ckpt)
            energy = torch.zeros((), device=x.device)
        ce = temporal_cross_entropy(logits, labels, read, self.cfg.loss.label_smoothing) if read.any() else energy * 0
        return ce, energy, logits, carry

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Optional[Tensor]:
        images, labels = batch
        trial = self._train_trial(batch_idx)
        x = present(images, trial)
        w = self.cfg.loss.energy_weight
        if self.automatic_optimization:
            ce, energy, _, _ = self._loss(x, labels, trial)
            loss = ce + w * energy
            if w > 0:
                self.log("train_energy", energy.detach(), batch_size=len(labels))
        else:
            loss = self._tbptt_step(x, labels, trial)
        self.log("train_loss", loss.detach(), prog_bar=True, batch_size=len(labels))
        return loss if self.automatic_optimization else None

    def _tbptt_step(self, x: Tensor, labels: Tensor, trial: Trial) -> Tensor:
        k = self.cfg.trainer.tbptt_steps
        assert k is not None
        opt = self.optimizers()
        opt.zero_grad()
        n_read = int(trial.readout.sum())
        carry, total = None, torch.zeros((), device=x.device)
        w = self.cfg.loss.energy_weight
        for s in range(0, trial.n_steps, k):
            read = trial.readout[s:s + k]
            chunk = x[:, s:s + k]
            if not read.any() and w == 0:  # no loss here, and the carry is detached: no gradient to keep
                with torch.no_grad():
                    _, carry = self.model.run(chunk, carry=carry)
                continue
            ce, energy, _, carry = self._loss(chunk, labels, trial, carry, read)
            loss = ce * (int(read.sum()) / n_read) + w * energy * (chunk.shape[1] / trial.n_steps)
            self.manual_backward(loss)
            total = total + loss.detach()
            carry = carry.detach()
        if self.cfg.trainer.gradient_clip is not None:
            self.clip_gradients(opt, gradient_clip_val=self.cfg.trainer.gradient_clip, gradient_clip_algorithm="norm")
        opt.step()
        return total

    def on_train_epoch_end(self) -> None:
        if not self.automatic_optimization:
            sched = self.lr_schedulers()
            if sched is not None:
                sched.step()

    # -- evaluation ------------------------------------------------------------------------------
    def _evaluate(self, batch: tuple[Tensor, Tensor], stage: str) -> Tensor:
        images, labels = batch
        trial = self._eval_trial
        logits = self.model(present(images, trial))
        loss = temporal_cross_entropy(logits, labels, trial.readout)
        hits = logits.argmax(-1) == labels.unsqueeze(1)  # (B, T)
        self.log_dict({f"{stage}_loss": loss, f"{stage}_acc": hits[:, -1].float().mean()},
                      prog_bar=stage == "val", batch_size=len(labels), sync_dist=True)
        return hits

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def on_test_epoch_start(self) -> None:
        self._test_hits, self._test_count = None, 0

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        hits = self._evaluate(batch, "test").float().sum(0)
        self._test_hits = hits if self._test_hits is None else self._test_hits + hits
        self._test_count += len(batch[1])

    def on_test_epoch_end(self) -> None:
        if self._test_hits is not None:
            self.test_curve = (self._test_hits / self._test_count).cpu()

    def configure_optimizers(self) -> Any:
        return build_optimizer(self.model.parameters(), self.cfg.optim, self.cfg.trainer.max_epochs)


def build_optimizer(params: Any, o: OptimConfig, max_epochs: int) -> Any:
    """The optimizer of ``o`` over ``params``, with its cosine schedule over ``max_epochs`` if any
    (what ``configure_optimizers`` returns)."""
    if o.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
    elif o.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
    if o.schedule == "none":
        return opt
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max_epochs)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}
