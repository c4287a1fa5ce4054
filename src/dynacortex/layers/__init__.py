"""Building blocks of area networks: areas (single or E/I populations), recurrence types, connections, activations, the retina."""

from .activations import Supralinear, get_activation, list_activations
from .area import Area
from .ei import EIArea, NonNegative, SignedConv
from .gain import limit_gain
from .connections import Adapter, Connection, TopDown, resample
from .readout import pooled_linear
from .retina import Retina, RetinaConfig
from .recurrence import RECURRENCE_TYPES, make_recurrence, recurrence_parameter_count
from .topographic import LocalRecurrence, sheet_layout

__all__ = [
    "limit_gain", "pooled_linear", "EIArea", "NonNegative", "SignedConv", "Retina", "RetinaConfig", "Area", "Adapter", "Connection", "TopDown", "resample", "Supralinear", "get_activation", "list_activations",
    "RECURRENCE_TYPES", "make_recurrence", "recurrence_parameter_count", "LocalRecurrence", "sheet_layout",
]
