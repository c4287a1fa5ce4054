"""Training configuration: pydantic models, loadable from YAML, every field validated.

    cfg = TrainConfig.from_yaml("configs/demo.yaml", overrides=["optim.lr=1e-3", "trainer.max_epochs=2"])
    cfg.run_dir        # runs/demo-<8-hex hash of cfg.resolved()>, see dynacortex.runs

The dynamics (dt, tau, delays t_* in ms, solver, form) are fields of the model's own config, so they
are set as ``model.dt=1`` (there is no separate ``dynamics`` section: one field, one place).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config import load_config
from ..models.registry import _entry
from ..runs import run_folder
from .presentation import PresentationConfig, ReadoutConfig

__all__ = ["ModelSpec", "DataConfig", "LossConfig", "OptimConfig", "TrainerConfig", "StartFrom", "TrainConfig"]


class ModelSpec(BaseModel):
    """A registered model's name and its config fields (validated against the model's own config)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    name: str = "dyrcnnx4"

    @model_validator(mode="after")
    def _validate_fields(self) -> "ModelSpec":
        entry = _entry(self.name)
        entry.config(**{**entry.defaults, **self.kwargs})  # as create_model does; pydantic nests its errors under model.
        return self

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @classmethod
    def allowed_fields(cls, data: dict[str, Any]) -> list[str]:
        """``name`` and the config fields of the model named in ``data`` (for error messages)."""
        return ["name", *_entry(data.get("name", "dyrcnnx4")).config.model_fields]

    def resolved(self) -> dict[str, Any]:
        """Every field of the model's config as ``create_model`` builds it (registry defaults filled in)."""
        entry = _entry(self.name)
        return {"name": self.name, **entry.config(**{**entry.defaults, **self.kwargs}).model_dump(mode="json")}


class DataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: Literal["digits", "shapes", "cifar10", "cifar100", "folder"] = "digits"
    root: Optional[Path] = Field(None, description="folder of the data on disk (cifar*, folder)")
    image_size: int = Field(16, ge=4)
    batch_size: int = Field(64, ge=1)
    num_workers: int = Field(0, ge=0)
    augment: bool = False
    contrast: Optional[tuple[float, float]] = Field(
        None, description="train at a contrast drawn per image, log-uniformly from [lo, hi] (0 < lo <= hi; 1 = as stored)")
    eval_batch_size: int = Field(256, ge=1)

    @model_validator(mode="after")
    def _root(self) -> "DataConfig":
        if self.contrast is not None and not 0 < self.contrast[0] <= self.contrast[1]:
            raise ValueError(f"contrast: need [lo, hi] with 0 < lo <= hi, got {list(self.contrast)}")
        if self.name in ("cifar10", "cifar100", "folder") and self.root is None:
            raise ValueError(f"root: dataset {self.name!r} is read from disk; set data.root to its folder")
        return self


class LossConfig(ReadoutConfig):
    energy_weight: float = Field(0.0, ge=0)
    label_smoothing: float = Field(0.0, ge=0, lt=1)


class OptimConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    optimizer: Literal["adam", "adamw", "sgd"] = "adamw"
    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    schedule: Literal["cosine", "none"] = "cosine"


class TrainerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_epochs: int = Field(10, ge=1)
    precision: Literal["32", "bf16-mixed", "16-mixed"] = "32"
    gradient_clip: Optional[float] = Field(1.0, gt=0)
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps"] = "auto"
    devices: Union[int, Literal["auto"]] = 1
    num_nodes: int = Field(1, ge=1)
    strategy: Literal["auto", "ddp", "ddp_spawn", "fsdp"] = "auto"
    deterministic: bool = False
    tbptt_steps: Optional[int] = Field(None, ge=1, description="truncated BPTT: backprop through chunks of this many steps")
    checkpoint_every: Optional[int] = Field(None, ge=1, description="gradient checkpointing over time: keep every k-th step")
    checkpoint_dtype: Optional[Literal["bfloat16", "float16"]] = Field(
        None, description="keep the checkpointed states in this precision (exact forward, approximate gradients)")
    loggers: list[Literal["csv", "tensorboard"]] = ["csv"]
    progress_bar: bool = True
    log_every_n_steps: int = Field(10, ge=1)
    limit_train_batches: Optional[int] = Field(None, ge=1)
    save_every_n_steps: Optional[int] = Field(
        None, ge=1, description="also save checkpoints/last.ckpt every n optimizer steps (it is saved every epoch)")

    @field_validator("precision", mode="before")
    @classmethod
    def _precision_number(cls, v: Any) -> Any:
        return "32" if isinstance(v, int) and v == 32 else v  # `--set trainer.precision=32` parses as a number

    @model_validator(mode="after")
    def _checkpoint_dtype(self) -> "TrainerConfig":
        if self.checkpoint_dtype is not None and self.checkpoint_every is None:
            raise ValueError("checkpoint_dtype: applies to checkpointed runs only; set checkpoint_every too")
        return self


class StartFrom(BaseModel):
    """The trained run whose weights a run starts from (``dynacortex train CONFIG --from RUN_DIR``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    run: str = Field(description="its run folder (where it lies: not part of this run's identity)")
    config_hash: str = Field(pattern=r"^[0-9a-f]{8}$", description="the hash of its resolved config")
    global_step: int = Field(ge=0, description="the optimizer step of the checkpoint the weights come from")


class TrainConfig(BaseModel):
    """Everything a training run needs; stored resolved in the run folder."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = "run"
    out_dir: Path = Path("runs")
    seed: int = 0
    model: ModelSpec = ModelSpec()
    data: DataConfig = DataConfig()
    presentation: PresentationConfig = PresentationConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    trainer: TrainerConfig = TrainerConfig()
    start_from: Optional[StartFrom] = Field(None, description="set by --from: the run whose weights this one starts from")

    def resolved(self) -> dict[str, Any]:
        """The whole config as plain data with every default filled in (the model's too): what
        ``config.yaml`` in the run folder holds and what the run folder's hash is computed from
        (``start_from`` only when set, so that runs from scratch keep their hashes)."""
        data = {**self.model_dump(mode="json"), "model": self.model.resolved()}
        if self.start_from is None:
            data.pop("start_from")
        return data

    @property
    def run_dir(self) -> Path:
        """``<out_dir>/<name>-<hash>``: the hash covers :meth:`resolved` except where-to-store fields
        (:data:`dynacortex.runs.LOCATION_FIELDS`), so equal configs share a folder and changed ones don't."""
        return run_folder(self.out_dir, self.name, self.resolved())

    @classmethod
    def from_yaml(cls, path: "str | Path", overrides: Optional[list[str]] = None) -> "TrainConfig":
        """Load ``path`` (YAML with safe_load, or TOML for ``.toml``) and apply ``section.key=value``
        overrides (values parsed as YAML)."""
        return load_config(cls, path, overrides)

