"""Lightning without the noise a dynacortex user cannot act on.

Inside :func:`quiet_lightning`, Lightning's info lines (its tips to install litlogger / litmodels,
"GPU available: ...", "`Trainer.fit` stopped: ...") are not printed, nor torch's deprecation warning
about ``LeafSpec`` that Lightning's own ``_pytree`` module triggers. Lightning's warnings stay.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from typing import Iterator

__all__ = ["quiet_lightning"]


@contextmanager
def quiet_lightning() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
            yield
    finally:
        for log, level in zip(loggers, levels):
            log.setLevel(level)
