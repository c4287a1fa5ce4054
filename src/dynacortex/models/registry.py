"""Model registry in the style of timm: ``create_model(name, **kwargs)``, ``list_models(pattern)``.

A model is registered with its pydantic config class; ``create_model`` validates the keyword
arguments against it (an unknown or invalid field raises an error that names it) and builds.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from pydantic import BaseModel, ValidationError
from torch import nn

from ..validation import ConfigError, describe

__all__ = ["register_model", "create_model", "model_config", "list_models", "model_info", "ModelEntry"]


@dataclass(frozen=True)
class ModelEntry:
    name: str
    build: Callable[[Any], nn.Module]
    config: type[BaseModel]
    citation: str = ""
    description: str = ""
    default_input: tuple[int, int, int] = (3, 32, 32)
    defaults: dict[str, Any] = field(default_factory=dict)


_MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, *, config: type[BaseModel], citation: str = "", description: str = "",
                   default_input: tuple[int, int, int] = (3, 32, 32), **defaults: Any) -> Callable:
    """Decorator: register ``build(config) -> nn.Module`` under ``name`` (``defaults`` override the config's)."""

    def decorate(build: Callable[[Any], nn.Module]) -> Callable[[Any], nn.Module]:
        if name in _MODELS:
            raise ValueError(f"model name {name!r} is already registered")
        _MODELS[name] = ModelEntry(name, build, config, citation, description, default_input, defaults)
        return build

    return decorate


def _entry(name: str) -> ModelEntry:
    if name not in _MODELS:
        close = difflib.get_close_matches(name, list(_MODELS), n=3, cutoff=0.5)
        hint = f" Did you mean {close}?" if close else ""
        raise ValueError(f"model: unknown model {name!r}; available models are {list_models()}.{hint}")
    return _MODELS[name]


def list_models(pattern: Optional[str] = None) -> list[str]:
    """Registered model names, optionally filtered by a glob ``pattern`` (e.g. ``"dyrcnn*"``)."""
    names = sorted(_MODELS)
    return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the registered model ``name``; keyword arguments are validated config fields."""
    return _entry(name).build(model_config(name, **kwargs))


def model_config(name: str, **kwargs: Any) -> BaseModel:
    """The validated config ``create_model(name, **kwargs)`` builds from (registry defaults filled in);
    a bad field raises :class:`~dynacortex.validation.ConfigError` naming it."""
    entry = _entry(name)
    data = {**entry.defaults, **kwargs}
    try:
        return entry.config(**data)
    except ValidationError as e:
        raise ConfigError(describe(e, entry.config, data, root=name)) from None


def model_info(name: str) -> dict[str, Any]:
    """Metadata: parameter count at defaults, default input size, number of areas, citation."""
    entry = _entry(name)
    model = create_model(name)
    return {
        "name": name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "default_input": entry.default_input,
        "areas": len(getattr(model, "areas", [])),
        "citation": entry.citation,
        "description": entry.description,
    }
