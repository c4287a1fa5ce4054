"""In-silico experiments: protocols in ms, runs streamed to zarr, metrics, figures and a report."""

from .protocols import PROTOCOLS, Condition, Protocol, Segment, Timeline, get_protocol, list_protocols
from .runner import run_protocol
from .store import ZarrWriter, open_recording

__all__ = ["PROTOCOLS", "Condition", "Protocol", "Segment", "Timeline", "get_protocol", "list_protocols",
           "run_protocol", "ZarrWriter", "open_recording"]
