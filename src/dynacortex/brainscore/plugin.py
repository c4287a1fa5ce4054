"""``dynacortex brainscore plugin``: a Brain-Score model plugin folder from a training checkpoint.

The folder has the layout of brain-score/vision's own model plugins (``brainscore_vision/models/<name>/``):

- ``__init__.py``: the registry entry, ``model_registry['<identifier>'] = lambda: get_model('<identifier>')``;
- ``model.py``: ``get_model`` (the bundle loaded into a ``BrainModel``) and ``get_bibtex``;
- ``requirements.txt``: what Brain-Score's environment lacks (pydantic; torch, numpy and Pillow it has);
- ``metadata.yaml``: the model card Brain-Score's plugins carry;
- ``test.py``: loads the model through ``brainscore_vision.load_model`` and checks its recordings over time;
- ``weights.pt``: the bundle (:mod:`.bundle`): config, weights and the Brain-Score settings;
- ``dynacortex/``: the dynacortex runtime the model needs (solvers, layers, models, this adapter), so that
  the plugin does not install dynacortex itself, whose requirements (numpy >= 2 era xarray, zarr 3)
  conflict with Brain-Score's pins. Plugins ship helper modules the same way (e.g. cornet_s/helpers).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from .bundle import bundle_from_checkpoint, save_bundle

__all__ = ["write_plugin", "write_plugin_folder", "RUNTIME"]

# the parts of dynacortex the plugin carries (the rest, e.g. training and experiments, it does not need)
RUNTIME = ("__init__.py", "py.typed", "validation.py", "files.py", "dynamics", "layers", "models",
           "brainscore/__init__.py", "brainscore/protocol.py", "brainscore/bundle.py", "brainscore/model.py")

INIT = '''from brainscore_vision import model_registry
from .model import get_model

model_registry['{identifier}'] = lambda: get_model('{identifier}')
'''

MODEL = '''"""{identifier}: a dynacortex model (continuous time, ms clock) as a Brain-Score BrainModel.
Written by `dynacortex brainscore plugin`; the settings (regions, degrees, presentation) are in weights.pt."""
from pathlib import Path

from .dynacortex.brainscore.bundle import load_bundle
from .dynacortex.brainscore.model import DynacortexBrainModel

BIBTEX = """{bibtex}"""


def get_model(identifier):
    model, settings = load_bundle(Path(__file__).parent / 'weights.pt')
    settings = dict(settings, identifier=identifier)
    return DynacortexBrainModel(model, **settings)


def get_bibtex(identifier):
    return BIBTEX
'''

TEST = '''import numpy as np
import pytest

import brainscore_vision


@pytest.mark.travis_slow
def test_has_identifier():
    model = brainscore_vision.load_model('{identifier}')
    assert model.identifier == '{identifier}'
    assert model.visual_degrees() == {visual_degrees}


@pytest.mark.travis_slow
def test_recordings_change_over_time(tmp_path):
    from PIL import Image
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

    paths = {{}}
    for i, value in enumerate((60, 200)):
        paths[f'img{{i}}'] = str(tmp_path / f'img{{i}}.png')
        image = np.full((32, 32, 3), 128, np.uint8)
        image[8:24, 8:24] = value
        Image.fromarray(image).save(paths[f'img{{i}}'])
    stimuli = StimulusSet([dict(stimulus_id=k) for k in paths])
    stimuli.stimulus_paths, stimuli.identifier = paths, None
    model = brainscore_vision.load_model('{identifier}')
    model.start_recording('IT', time_bins=[(t, t + 10) for t in range(70, 250, 10)])
    recordings = model.look_at(stimuli, number_of_trials=2)
    assert set(recordings.dims) == {{'presentation', 'neuroid', 'time_bin'}}
    assert recordings.sizes['time_bin'] == 18
    values = recordings.transpose('presentation', 'neuroid', 'time_bin').values
    assert np.isfinite(values).all() and np.ptp(values, axis=2).max() > 0
'''

METADATA = '''models:
    {identifier}:
        architecture: RNN
        model_family: dynacortex-{family}
        total_parameter_count: {parameters}
        trainable_parameter_count: {trainable}
        total_layers: null
        trainable_layers: null
        model_size_mb: {size_mb:.1f}
        training_dataset: {dataset}
        task_specialization: null
        brainscore_link: null
        huggingface_link: null
        extra_notes: "continuous-time dynacortex network; recordings over time from its own clock (ms)"
        runnable: true
'''

BIBTEX = "@misc{dynacortex, title={dynacortex: continuous-time dynamical models of the visual cortex in PyTorch}}"


def _identifier_ok(identifier: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", identifier):
        raise ValueError(f"identifier: {identifier!r} must be letters, digits, '.', '_' or '-' (Brain-Score ids)")
    return identifier


def write_plugin(checkpoint: "str | Path", out: "str | Path", trusted: bool = False, overwrite: bool = False,
                 **settings: Any) -> Path:
    """Write the plugin folder ``out`` for ``checkpoint``; ``settings``: see :mod:`.bundle` (identifier,
    regions, visual_degrees, presentation_ms, ..., noise, mean, std). Returns ``out``."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"out: {out} exists and is not empty (use --overwrite to replace it)")
    return write_plugin_folder(bundle_from_checkpoint(checkpoint, trusted=trusted, **settings), out, overwrite)


def write_plugin_folder(bundle: dict[str, Any], out: "str | Path", overwrite: bool = False) -> Path:
    """The plugin folder ``out`` for a bundle (:mod:`.bundle`)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"out: {out} exists and is not empty (use --overwrite to replace it)")
    identifier = _identifier_ok(str(bundle["settings"]["identifier"]))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    save_bundle(bundle, out / "weights.pt")
    source = Path(__file__).resolve().parent.parent
    for part in RUNTIME:
        src, dst = source / part, out / "dynacortex" / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dst)
    n = sum(v.numel() for v in bundle["state_dict"].values())
    size = sum(v.numel() * v.element_size() for v in bundle["state_dict"].values()) / 2 ** 20
    settings_used = bundle["settings"]
    files = {
        "__init__.py": INIT.format(identifier=identifier),
        "model.py": MODEL.format(identifier=identifier, bibtex=BIBTEX),
        "test.py": TEST.format(identifier=identifier, visual_degrees=settings_used.get("visual_degrees", 8)),
        "requirements.txt": "# torch, numpy and Pillow are in Brain-Score's environment; the dynacortex runtime is in"
                            " dynacortex/\npydantic>=2\n",
        "metadata.yaml": METADATA.format(identifier=identifier, family=bundle["model"], parameters=n, trainable=n,
                                         size_mb=size, dataset="null"),
    }
    for name, text in files.items():
        (out / name).write_text(text)
    return out
