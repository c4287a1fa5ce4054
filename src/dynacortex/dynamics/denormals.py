"""Denormal floats: why decaying simulations can become 10x slower on x86, and the switch that fixes it.

A silent rate unit decays geometrically, ``r <- r (1 - dt/tau)``, and a network returning to rest decays
like its slowest mode: after a few hundred steps of blank screen the rates fall below float32's smallest
normal number (1.2e-38) and stay there for hundreds of steps. Every convolution or elementwise operation
on such denormal numbers runs 10-100x slower on x86 (measured: a 50-step piece of the demo's experiments
took 11.6 s instead of 1.4 s). Flushing them to zero (FTZ/DAZ) changes no value by more than 1.2e-38
(2.2e-308 in float64), but it is a setting of the whole process that other code may not expect (IEEE
subnormals; hypothesis refuses to run under it), so importing dynacortex leaves it alone:

- the ``dynacortex`` command line turns it on for its own process;
- in your script call ``dynacortex.flush_denormals()`` first, before torch starts its worker threads
  (the mode is per thread and inherited by threads started later);
- :func:`~dynacortex.experiments.run_protocol` and :func:`~dynacortex.training.train` warn once when
  it is off.
"""

from __future__ import annotations

import warnings

import torch

__all__ = ["flush_denormals", "denormals_flushed", "warn_if_denormals_slow"]

_warned = [False]


def flush_denormals(on: bool = True) -> bool:
    """Turn flushing of denormals to zero on (or off) for this thread and the threads started after it;
    ``False`` when the CPU has no such mode."""
    return torch.set_flush_denormal(on)


def denormals_flushed() -> bool:
    """Whether this thread flushes denormals to zero (a product below the smallest normal float32 is 0)."""
    return (torch.tensor([1e-30]) * 1e-10).item() == 0.0


def warn_if_denormals_slow(what: str) -> None:
    """Warn once per process when ``what`` runs on the CPU with denormals kept (see the module docstring)."""
    if _warned[0] or denormals_flushed() or not torch.backends.cpu.get_cpu_capability().startswith("AVX"):
        return
    _warned[0] = True
    warnings.warn(f"{what}: denormal floats are kept, and decaying rates that reach them make every step 10-100x "
                  "slower on this CPU; call dynacortex.flush_denormals() at the start of your script "
                  "(the dynacortex command line does)", RuntimeWarning, stacklevel=3)
