"""Training: Lightning module, losses over time, presentation patterns, data module, ``train()``."""

from .checkpoint import AtomicCheckpointIO, load_checkpoint
from .config import DataConfig, LossConfig, ModelSpec, OptimConfig, TrainConfig, TrainerConfig
from .losses import EnergyMeter, masked_cross_entropy, temporal_cross_entropy
from .module import DynamicsModule
from .presentation import PresentationConfig, ReadoutConfig, Trial, make_trial, present
from .train import train

__all__ = [
    "AtomicCheckpointIO", "load_checkpoint", "DataConfig", "LossConfig", "ModelSpec", "OptimConfig", "TrainConfig",
    "TrainerConfig", "EnergyMeter", "masked_cross_entropy", "temporal_cross_entropy", "DynamicsModule", "PresentationConfig",
    "ReadoutConfig", "Trial", "make_trial", "present", "train",
]
