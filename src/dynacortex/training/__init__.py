"""Training: Lightning module, losses over time, presentation patterns, data module, ``train()``, and
``load_model(path)`` from a run folder or checkpoint back to a model."""

from .checkpoint import AtomicCheckpointIO, LastCheckpoint, load_checkpoint
from .config import DataConfig, LossConfig, ModelSpec, OptimConfig, StartFrom, TrainConfig, TrainerConfig
from .load import load_model, load_trained
from .losses import EnergyMeter, masked_cross_entropy, temporal_cross_entropy
from .module import DynamicsModule
from .presentation import PresentationConfig, ReadoutConfig, Trial, make_trial, present
from .train import train

__all__ = [
    "AtomicCheckpointIO", "LastCheckpoint", "load_checkpoint", "DataConfig", "LossConfig", "ModelSpec", "OptimConfig",
    "StartFrom", "TrainConfig", "TrainerConfig", "load_model", "load_trained", "EnergyMeter", "masked_cross_entropy",
    "temporal_cross_entropy", "DynamicsModule", "PresentationConfig", "ReadoutConfig", "Trial", "make_trial", "present",
    "train",
]
