"""Offline Brain-Score data: local stimuli and synthetic recordings in Brain-Score's own formats.

Brain-Score's stimuli and recordings live on S3; this module makes stand-ins that its benchmark code
accepts unchanged, so that the scoring path (benchmark, temporal alignment, metric, ceiling) runs offline:

- :func:`digit_stimuli`: scikit-learn's digits as PNG files (gray background, contrast varied per image,
  so that some images are solved later than others) in a ``StimulusSet``.
- :func:`temporal_recordings`: a known dynacortex model "recorded" like MajajHong2015's temporal data:
  trials with state noise as repetitions, V4 and IT sites, 10 ms bins (``NeuronRecordingAssembly``).
- :func:`ost_assembly`: Kar2019's format: per-image object solution times of a model's IT responses (a
  cross-validated decoder per time bin, :mod:`dynacortex.analysis.ost`) and the I1 threshold per image.
- :func:`use_data`: registers such assemblies under Brain-Score's data identifiers for this process, so
  that ``load_benchmark("Kar2019-ost")`` and the MajajHong2015 temporal benchmarks score against them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from brainscore_core.supported_data_standards.brainio.assemblies import (DataAssembly, NeuronRecordingAssembly,
                                                                         walk_coords)
from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

from .model import _bin_coords
from .protocol import TimeBins

__all__ = ["generating_model", "digit_stimuli", "temporal_recordings", "ost_assembly", "use_data", "Shuffled", "Static"]


def generating_model(seed: int = 0, noise: float = 0.05, tau: float = 20.0, channels: Sequence[int] = (8, 8, 16, 256),
                     **kwargs: Any) -> Any:
    """The known model behind the synthetic recordings: an untrained DyRCNNx4 on one-channel images whose
    feedforward convolutions are re-drawn (He-normal, zero bias) so that the image, not the biases, drives
    the rates, with slow areas (``tau`` ms, 20 ms between areas) and no skips so that IT responds from ~70 ms, bounded
    recurrence, and state noise ``noise``."""
    import torch

    import dynacortex as dc

    torch.manual_seed(seed)
    net = dc.create_model("dyrcnnx4", channels=tuple(channels), in_channels=1, noise=noise, dt=2.0, tau=tau,
                          t_feedforward=20.0, skip=False, recurrence_gain=0.5, **kwargs)
    recurrent = {id(p) for area in net.areas for p in area.parameters()}
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d) and id(m.weight) not in recurrent:
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    return net.eval()


def digit_stimuli(directory: "str | Path", n: int = 120, classes: Sequence[int] = (0, 1, 2),
                  contrast: tuple[float, float] = (0.2, 1.0), size: int = 32, seed: int = 0,
                  identifier: str = "dynacortex-digits") -> StimulusSet:
    """``n`` digit images (``size`` px, gray 0.5 background, dark-on-light strokes scaled by a contrast drawn
    uniformly from ``contrast``) with columns stimulus_id, image_label, object_name and contrast."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(np.isin(digits.target, classes))
    if n > len(pool):
        raise ValueError(f"n: only {len(pool)} digit images of classes {list(classes)}, asked for {n}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows, paths = [], {}
    for k, i in enumerate(rng.choice(pool, size=n, replace=False)):
        c = float(rng.uniform(*contrast))
        img = 0.5 + 0.5 * c * (digits.images[i] / 16.0 * 2 - 1)
        stimulus_id = f"digit{k:04d}"
        path = directory / f"{stimulus_id}.png"
        pil = Image.fromarray(np.round(img * 255).astype(np.uint8)).resize((size, size), Image.NEAREST)
        pil.convert("RGB").save(path)
        label = str(digits.target[i])
        rows.append(dict(stimulus_id=stimulus_id, image_label=label, object_name=label, contrast=c))
        paths[stimulus_id] = str(path)
    stimuli = StimulusSet(rows)
    stimuli.stimulus_paths = paths
    stimuli.identifier = identifier
    return stimuli


def temporal_recordings(brain_model: Any, stimuli: StimulusSet, regions: Sequence[str] = ("V4", "IT"),
                        sites: int = 40, repetitions: int = 10, bin_ms: float = 10.0, until_ms: float = 250.0,
                        seed: int = 0) -> NeuronRecordingAssembly:
    """``repetitions`` noisy trials of ``sites`` randomly chosen units per region, binned in ``bin_ms`` from 0
    to ``until_ms``: presentation (stimulus x repetition) x neuroid x time_bin, region on the neuroids."""
    rng = np.random.default_rng(seed)
    bins = [(t, t + bin_ms) for t in np.arange(0.0, until_ms, bin_ms)]
    parts = []
    for region in regions:
        brain_model.start_recording(region, bins)
        rec = brain_model.look_at(stimuli, number_of_trials=repetitions, require_variance=True)
        keep = np.sort(rng.choice(rec.sizes["neuroid"], size=min(sites, rec.sizes["neuroid"]), replace=False))
        parts.append(rec.isel(neuroid=keep))
    first = parts[0]
    values = np.concatenate([p.transpose("presentation", "neuroid", "time_bin").values for p in parts], axis=1)
    neuroid_id = np.concatenate([p["neuroid_id"].values for p in parts])
    region = np.concatenate([[r] * p.sizes["neuroid"] for r, p in zip(regions, parts)])
    presentation = {c: ("presentation", values) for c, dims, values in walk_coords(first)  # MultiIndex levels too
                    if dims == ("presentation",) and c != "presentation"}
    assembly = NeuronRecordingAssembly(values, dims=["presentation", "neuroid", "time_bin"], coords={
        **presentation, "neuroid_id": ("neuroid", neuroid_id), "region": ("neuroid", region),
        "area": ("neuroid", np.concatenate([p["area"].values for p in parts])),
        "animal": ("neuroid", ["dynacortex"] * len(neuroid_id)), **_bin_coords(bins)})
    assembly.attrs["stimulus_set"] = stimuli
    return assembly


def ost_assembly(recordings: Any, stimuli: StimulusSet, threshold: float = 1.0, folds: int = 5,
                 classifier: str = "softmax", seed: int = 0) -> DataAssembly:
    """Kar2019's format from IT recordings (presentation x neuroid x time_bin, trial means): every image's OST
    from out-of-fold decoder probabilities per bin (``folds``-fold CV) reaching the I1 ``threshold``."""
    from sklearn.model_selection import KFold

    from ..analysis.ost import _classifier, i1, solution_times

    rec = recordings.transpose("presentation", "time_bin", "neuroid")
    order = [list(rec["stimulus_id"].values).index(s) for s in stimuli["stimulus_id"].values]
    x, labels = rec.values[order], stimuli["image_label"].values
    fit_predict = _classifier(classifier)
    per_bin = []
    for t in range(x.shape[1]):
        proba = None
        for train, test in KFold(folds, shuffle=True, random_state=seed).split(x):
            p, choices = fit_predict(x[train, t], labels[train], x[test, t])
            proba = np.zeros((len(x), len(choices))) if proba is None else proba
            proba[test] = p[:, [list(choices).index(c) for c in sorted(choices)]]
        per_bin.append(i1(proba, labels, sorted(set(labels))))
    thresholds = np.full(len(x), float(threshold))
    ost = solution_times(np.stack(per_bin), thresholds, rec["time_bin_start"].values)
    assembly = DataAssembly(ost[:, None], dims=["presentation", "decoder"], coords={
        "stimulus_id": ("presentation", stimuli["stimulus_id"].values), "image_label": ("presentation", labels),
        "i1": ("presentation", thresholds), "decoder": ["svm"]})
    assembly.attrs["stimulus_set"] = stimuli
    return assembly


def use_data(**assemblies: Any) -> None:
    """Serve ``assemblies`` for Brain-Score data identifiers in this process (keys: identifiers with ``.``
    written as ``__``, e.g. ``Kar2019=...``, ``MajajHong2015__temporal__public=...``). Nothing is downloaded:
    the identifier's plugin is imported (registering its S3 loader) and its entry then replaced."""
    import importlib

    import brainscore_vision
    from brainscore_core.plugin_management.import_plugin import ImportPlugin

    for key, assembly in assemblies.items():
        identifier = key.replace("__", ".")
        plugin = ImportPlugin("brainscore_vision", "data", identifier)  # locate only: installs nothing
        importlib.import_module(f"brainscore_vision.data.{plugin.plugin_dirname}")
        brainscore_vision.data_registry[identifier] = (lambda a: (lambda: a))(assembly)


class Shuffled:
    """A control: ``brain_model`` whose responses are given to the wrong stimuli (a fixed permutation)."""

    def __init__(self, brain_model: Any, seed: int = 0):
        self.brain_model, self.seed = brain_model, seed
        self.identifier = f"{brain_model.identifier}-shuffled"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.brain_model, name)

    def look_at(self, stimuli: Any, number_of_trials: int = 1, **kwargs: Any) -> Any:
        rec = self.brain_model.look_at(stimuli, number_of_trials=number_of_trials, **kwargs)
        perm = np.random.default_rng(self.seed).permutation(rec.sizes["presentation"])
        out = rec.copy()
        out.values = rec.transpose("presentation", ...).values[perm].transpose(
            *[rec.transpose("presentation", ...).dims.index(d) for d in rec.dims])
        return out


class Static:
    """A control: what Brain-Score gives a static (feedforward) model: one response, that of ``window``
    (ms after onset), in every requested bin."""

    def __init__(self, brain_model: Any, window: tuple[float, float] = (70.0, 170.0)):
        self.brain_model, self.window = brain_model, window
        self.identifier = f"{brain_model.identifier}-static"
        self._bins: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.brain_model, name)

    def start_recording(self, recording_target: str, time_bins: Any) -> None:
        self.brain_model.start_recording(recording_target, [self.window])
        self._bins = TimeBins(time_bins)

    def look_at(self, stimuli: Any, number_of_trials: int = 1, **kwargs: Any) -> Any:
        rec = self.brain_model.look_at(stimuli, number_of_trials=number_of_trials, **kwargs)
        values = np.repeat(rec.transpose("presentation", "neuroid").values[..., None], len(self._bins), axis=2)
        coords = {c: (dims, values) for c, dims, values in walk_coords(rec)
                  if dims and dims[0] in ("presentation", "neuroid")}
        return type(rec)(values, dims=["presentation", "neuroid", "time_bin"], coords={**coords,
                                                                                      **_bin_coords(self._bins)})
