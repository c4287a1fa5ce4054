"""Flush denormal floats to zero (x86 FTZ/DAZ), set when dynacortex is imported.

A silent rate unit decays geometrically, ``r <- r (1 - dt/tau)``: after a few hundred steps of blank
screen its rate falls below float32's smallest normal number (1.2e-38) and every convolution or
elementwise operation that touches it runs 10-100x slower on x86 (measured: a 50-step piece of the
demo's experiments took 11.6 s instead of 1.4 s). Flushing such numbers to zero changes no rate by more
than 1.2e-38 (2.2e-308 in float64). The mode is per thread and inherited by threads started later, so
it is set at import, before torch starts its worker threads; call :func:`flush_denormals` (or
``torch.set_flush_denormal(False)``) yourself to choose otherwise.
"""

from __future__ import annotations

import torch

__all__ = ["flush_denormals"]


def flush_denormals(on: bool = True) -> bool:
    """Turn flushing of denormals to zero on (or off) for this thread and the threads started after it;
    ``False`` when the CPU has no such mode."""
    return torch.set_flush_denormal(on)
