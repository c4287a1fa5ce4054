"""dynacortex: continuous-time dynamical models of the visual cortex.

    import dynacortex as dc
    model = dc.create_model("dyrcnnx4", recurrence="full", solver="rk4", dt=1.0)
    logits = model(images, n_steps=50)          # (B, T, classes)
"""

from .dynamics import History, Solver, State, flush_denormals, get_solver, integrate, list_solvers
from .layers import Area, Connection, get_activation, list_activations
from .models import AreaNetwork, Carry, estimate_memory, Recording, StabilityError, create_model, list_models, model_info, record, register_model

__version__ = "0.1.0"

_SUBPACKAGES = ("analysis", "benchmark", "cognitive", "columns", "data", "experiments", "training")


def __getattr__(name: str):
    """``dc.training.load_model(...)`` after ``import dynacortex as dc``: the heavier subpackages
    (Lightning, zarr, ...) are imported on first use."""
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'dynacortex' has no attribute {name!r}")

__all__ = [
    "History", "Solver", "State", "flush_denormals", "get_solver", "integrate", "list_solvers",
    "Area", "Connection", "get_activation", "list_activations",
    "estimate_memory", "AreaNetwork", "Carry", "Recording", "StabilityError", "create_model", "list_models", "model_info", "record",
    "register_model", "__version__",
]
