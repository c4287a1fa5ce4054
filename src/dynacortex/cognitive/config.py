"""Configuration of a cognitive-task training run (pydantic, loadable from YAML, every field validated).

    cfg = TaskTrainConfig.from_yaml("task.yaml", overrides=["network.freeze_frontend=true"])
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from ..config import load_config
from ..runs import run_folder
from ..training.config import ModelSpec, OptimConfig, TrainerConfig
from .network import MultiAreaConfig
from .spec import TaskSpec

__all__ = ["TaskTrainConfig"]


def _tiny_frontend() -> ModelSpec:
    return ModelSpec(name="dyrcnnx4", channels=[8, 8, 8, 8], dt=10.0, tau=10.0, t_recurrence=0.0, in_channels=1)


class TaskTrainConfig(BaseModel):
    """A task (built-in name, YAML path, or inline spec), a front-end model, the RNN areas, training."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = "task"
    out_dir: Path = Path("runs")
    seed: int = 0
    task: Union[str, TaskSpec] = "perceptual_decision"
    frontend: ModelSpec = Field(default_factory=_tiny_frontend, description="the vision model (in_channels set from the task)")
    frontend_checkpoint: Optional[Path] = Field(None, description="a dynacortex training checkpoint of the front-end")
    network: MultiAreaConfig = MultiAreaConfig()
    batch_size: int = Field(32, ge=1)
    batches_per_epoch: int = Field(50, ge=1)
    eval_trials: int = Field(256, ge=1, description="held-out trials (test-split images) for val/test")
    optim: OptimConfig = OptimConfig(lr=3e-3, schedule="none", weight_decay=0.0)
    trainer: TrainerConfig = TrainerConfig(max_epochs=5)

    def resolved(self) -> dict:
        """The whole config as plain data, the front-end's model defaults filled in."""
        return {**self.model_dump(mode="json"), "frontend": self.frontend.resolved()}

    @property
    def run_dir(self) -> Path:
        """``<out_dir>/<name>-<hash of the resolved config>`` (see :mod:`dynacortex.runs`)."""
        return run_folder(self.out_dir, self.name, self.resolved())

    @classmethod
    def from_yaml(cls, path: "str | Path", overrides: Optional[list[str]] = None) -> "TaskTrainConfig":
        """Load ``path`` (YAML or TOML) and apply ``section.key=value`` overrides (values parsed as YAML)."""
        return load_config(cls, path, overrides)
