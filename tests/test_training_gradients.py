"""The gradients training computes: the energy term's weight, gradient checkpointing and truncated BPTT, each
against an independently computed gradient."""

import warnings

import pytest
import torch

import dynacortex as dc
from dynacortex.training import EnergyMeter, TrainConfig, make_trial, present


def test_energy_loss_changes_every_rate_shaping_gradient():
    """On the stock model: d(energy)/d(theta) is non-zero for every parameter upstream of the rates."""
    model = dc.create_model("dyrcnnx4")
    x = torch.rand(2, 3, 32, 32)
    with EnergyMeter(model) as meter:
        model(x, n_steps=6)
    meter.value.backward()
    for name, p in model.named_parameters():
        if name.startswith("readout"):
            assert p.grad is None, name  # the classifier does not shape the rates
        else:
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def _flat_grad(model) -> torch.Tensor:
    return torch.cat([torch.zeros(p.numel()) if p.grad is None else p.grad.flatten() for p in model.parameters()])


def _first_step_gradient(cfg: TrainConfig, images, labels) -> torch.Tensor:
    """The gradient the optimizer receives at the first training step of ``cfg`` under a real Lightning
    Trainer (captured in ``on_before_optimizer_step``, after backward, before any clipping or step), as one
    flat vector over ``model.parameters()``. The model is initialised from seed 0."""
    import lightning as L
    from torch.utils.data import DataLoader

    from dynacortex.training import DynamicsModule
    from dynacortex.training.quiet import quiet_lightning

    class Capture(L.Callback):
        def on_before_optimizer_step(self, trainer, module, optimizer):
            self.grad = _flat_grad(module.model)

    torch.manual_seed(0)
    module, capture = DynamicsModule(cfg.model_dump(mode="json")), Capture()
    with quiet_lightning(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*no `val_dataloader`")
        trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False, callbacks=[capture])
        trainer.fit(module, DataLoader([(images, labels)], batch_size=None))
    return capture.grad


def _small_config(**sections) -> TrainConfig:
    """A 4-channel DyRCNNx4, no gradient clipping (the raw gradient reaches the optimizer)."""
    cfg = {"model": {"name": "dyrcnnx4", "channels": [4, 4, 4, 4]}, **sections}
    cfg["trainer"] = {"gradient_clip": None, **cfg.get("trainer", {})}
    return TrainConfig.model_validate(cfg)


def test_energy_weight_changes_the_training_gradient():
    """The training step's loss is CE + w * energy: the gradient Lightning hands the optimizer equals
    grad(CE) + w grad(E), both computed here independently of the training module (CE written out over
    the read-out steps, E as the mean absolute rate of a recording of every area at every step)."""
    import torch.nn.functional as F

    images, labels = torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 3])
    w = 0.5
    got = _first_step_gradient(_small_config(loss={"energy_weight": w}), images, labels)
    without = _first_step_gradient(_small_config(loss={"energy_weight": 0.0}), images, labels)

    cfg = _small_config()
    torch.manual_seed(0)
    model = dc.create_model("dyrcnnx4", channels=[4, 4, 4, 4])  # the same initial weights as the module's
    trial = make_trial(cfg.presentation, cfg.loss, model.dt)
    x = present(images, trial)

    def gradient(loss):
        model.zero_grad()
        loss.backward()
        return _flat_grad(model)

    read = model(x)[:, trial.readout]  # (B, S, K): cross-entropy averaged over trials and read-out steps
    g_ce = gradient(F.cross_entropy(read.flatten(0, 1), labels.repeat_interleave(read.shape[1])))
    with dc.record(model, keep_graph=True) as rec:
        model(x)
    energy = torch.stack([rec[a].abs().flatten(2).mean(2) for a in model.area_names]).mean()  # areas x steps
    g_e = gradient(energy)

    scale = float(g_ce.norm())
    assert float(g_e.norm()) > 0.05 * scale  # the energy term is no rounding error next to CE
    # measured: w = 0 bitwise equal, w = 0.5 within 3.8e-7 (float32 summation order of the energy); a lost or
    # doubled w * E would be off by 0.21
    assert float((without - g_ce).norm()) < 2e-6 * scale
    assert float((got - (g_ce + w * g_e)).norm()) < 2e-6 * scale


@pytest.mark.parametrize("trainer", [{"checkpoint_every": 2}, {"checkpoint_every": 1, "checkpoint_dtype": "bfloat16"}])
def test_checkpointed_training_loss_is_exact(trainer):
    """trainer.checkpoint_every / checkpoint_dtype reach the model: the same loss, (nearly) the same gradient."""
    from dynacortex.training import DynamicsModule

    grads, losses = [], []
    for t in ({}, trainer):
        torch.manual_seed(0)
        cfg = TrainConfig.model_validate({"model": {"name": "dyrcnnx4", "channels": [4, 4, 4, 4]}, "trainer": t,
                                          "loss": {"energy_weight": 1.0}})
        module = DynamicsModule(cfg.model_dump(mode="json"))
        x, y = torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 3])
        trial = make_trial(cfg.presentation, cfg.loss, module.model.dt)
        run, seen = module.model.run, []
        module.model.run = lambda *a, **k: seen.append(k) or run(*a, **k)
        ce, energy, _, _ = module._loss(present(x, trial), y, trial)
        (ce + energy).backward()
        assert {k: v for k, v in seen[0].items() if k.startswith("checkpoint") and v is not None} == t
        losses.append(float((ce + energy).detach()))
        grads.append(torch.cat([p.grad.flatten() for p in module.model.parameters()]))
    assert losses[0] == losses[1]  # the forward is exact: measured bitwise equal in both cases
    # measured relative gradient error: 4.4e-7 in float32 (checkpoint_every alone: exact up to the float32
    # rounding of the recomputation) and 6.2e-4 with bfloat16 boundary states (bfloat16 resolution 3.9e-3)
    limit = 2e-6 if "checkpoint_dtype" not in trainer else 2e-3
    assert float((grads[0] - grads[1]).norm() / grads[0].norm()) < limit


def test_tbptt_with_one_chunk_equals_full_backprop():
    """trainer.tbptt_steps = k: one chunk that covers the trial is plain backprop through time, so the first
    step's gradient equals the full-backprop one; chunks shorter than the trial cut the gradient paths that
    cross chunk boundaries, so theirs differs (energy weight on: every chunk has a loss)."""
    images, labels = torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 3])
    loss = {"energy_weight": 0.5, "readout": "all"}
    cfg = _small_config()
    n_steps = make_trial(cfg.presentation, cfg.loss, cfg.model.resolved()["dt"]).n_steps  # 10
    full = _first_step_gradient(_small_config(loss=loss), images, labels)
    one = _first_step_gradient(_small_config(loss=loss, trainer={"tbptt_steps": n_steps}), images, labels)
    three = _first_step_gradient(_small_config(loss=loss, trainer={"tbptt_steps": 3}), images, labels)
    # measured: one chunk bitwise equal; chunks of 3 steps 9.9e-2 off (relative norm), cosine 0.995 with the full
    # gradient (truncation drops the paths across chunk boundaries, the rest of the gradient is the same)
    assert float((one - full).norm()) <= 1e-6 * float(full.norm())
    assert float((three - full).norm()) > 3e-2 * float(full.norm())
    assert float(torch.nn.functional.cosine_similarity(three, full, dim=0)) > 0.95
