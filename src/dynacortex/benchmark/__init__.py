"""Timing at the reference configuration: dynacortex against the floor (a bare unrolled loop doing the
same arithmetic). Shared by ``dynacortex bench`` and ``benchmarks/bench_reference.py``."""

from .floor import floor_forward
from .timing import BenchConfig, bench, time_fwd_bwd

__all__ = ["floor_forward", "BenchConfig", "bench", "time_fwd_bwd"]
