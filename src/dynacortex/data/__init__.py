"""Data: offline datasets (digits, shapes), loaders for data on disk (CIFAR, image folders),
batch transforms in torch ops, and a deterministic epoch sampler."""

from .catalog import DATASETS, load_dataset
from .offline import SHAPE_CLASSES, load_digits, load_shapes
from .tensor_dataset import EpochShuffleSampler, ImageTensorDataset

__all__ = ["DATASETS", "load_dataset", "SHAPE_CLASSES", "load_digits", "load_shapes", "EpochShuffleSampler", "ImageTensorDataset"]
