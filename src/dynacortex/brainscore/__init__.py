"""Brain-Score for dynacortex models (optional; docs/brainscore.md).

- :func:`as_brain_model` (:mod:`.model`): a network as Brain-Score's ``BrainModel``, recorded over time
  from its own clock. Needs ``brainscore_vision`` (``make brainscore-env``); imported on first use.
- :mod:`.protocol`: pixels, degrees, presentation and time bins (no Brain-Score import).
- :mod:`.bundle`: a model and its Brain-Score settings in one file, and back.
- :mod:`.plugin`: ``dynacortex brainscore plugin``, a submission-ready model plugin folder.

The rest of dynacortex never imports this package, and this package imports ``brainscore_vision``
only in :mod:`.model` and :mod:`.offline`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["as_brain_model", "DynacortexBrainModel"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'dynacortex.brainscore' has no attribute {name!r}")
