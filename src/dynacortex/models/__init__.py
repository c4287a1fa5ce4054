"""Models: the generic area network, the registry and the reference models."""

from . import blt, cordsnet, cornet, dn, dyrcnn, rresnet, ssn  # noqa: F401  (registers the models)
from .dynvision import load_dynvision
from .memory import estimate_memory
from .network import AreaNetwork, Carry, StabilityError
from .recording import Recording, record
from .registry import create_model, list_models, model_info, register_model

__all__ = ["load_dynvision", "estimate_memory", "AreaNetwork", "Carry", "StabilityError", "Recording", "record", "create_model", "list_models", "model_info", "register_model"]
