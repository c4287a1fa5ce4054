"""A dynacortex network as a Brain-Score ``BrainModel``: recordings over time from its own clock.

    import dynacortex as dc
    from dynacortex.brainscore import as_brain_model
    net = dc.create_model("dyrcnnx4", noise=0.05)
    brain = as_brain_model(net, identifier="my-dyrcnn", image_size=32)
    brain.start_recording("IT", time_bins=[(70, 80), (80, 90)])
    assembly = brain.look_at(stimulus_set, number_of_trials=10)   # presentation x neuroid x time_bin

Pixels, degrees, presentation and binning follow :mod:`dynacortex.brainscore.protocol`. With state noise
(``noise=`` on the model), ``look_at(..., number_of_trials=k)`` simulates k noisy trials per stimulus and
returns their mean (the interface's "repeated trials the model should average over"); with
``require_variance=True`` it returns the k trials themselves, as k presentations per stimulus with a
``repetition`` coordinate. A model without noise is simulated once. Noise draws are seeded (``seed``), so
the same call gives the same assembly.

Tasks go through the model's readout at ``decision_ms`` after onset (default: the end of the
presentation): ``label`` picks the largest logit among the requested labels (names of the model's
classes); ``probabilities`` fits Brain-Score's own probabilities classifier (z-scored features,
multinomial logistic regression) on the readout's input, the readout areas' rates averaged over space.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from brainscore_core.supported_data_standards.brainio.assemblies import BehavioralAssembly, NeuroidAssembly
from brainscore_vision.model_interface import BrainModel
from torch import Tensor, nn

from .protocol import BinRecorder, Protocol, TimeBins, load_images

__all__ = ["DynacortexBrainModel", "as_brain_model"]

DEFAULT_REGIONS = {"V1": "V1", "V4": "V4", "IT": "IT"}


class _ReadoutFeatures:
    """Observer: the readout areas' rates averaged over space at the step ending at ``t_ms`` (model time)."""

    def __init__(self, net: nn.Module, t_ms: float, dt: float):
        self.net, self.t, self.dt = net, t_ms, dt
        self.value: Optional[Tensor] = None

    def __call__(self, t: float, y: tuple[Tensor, ...]) -> None:
        if abs(t - self.t) < self.dt / 2:
            rates = [self.net.areas[j].output(y[j]) for j in self.net._readout_index]
            self.value = torch.cat([r.mean(dim=(-2, -1)) if r.dim() == 4 else r.flatten(1) for r in rates], 1)


class DynacortexBrainModel(BrainModel):
    """Brain-Score's ``BrainModel`` for an :class:`~dynacortex.AreaNetwork` (see the module doc)."""

    def __init__(self, model: nn.Module, identifier: str = "dynacortex", regions: Optional[Mapping[str, Any]] = None,
                 visual_degrees: float = 8, presentation_ms: float = 100.0, blank_before_ms: float = 0.0,
                 image_size: int = 32, mean: Sequence[float] = (0.5,), std: Sequence[float] = (0.5,),
                 classes: Optional[Sequence[str]] = None, decision_ms: Optional[float] = None,
                 batch_size: int = 64, seed: int = 0):
        self.model = model.eval()
        self._identifier = identifier
        if regions is None:  # the default regions this model has
            regions = {k: v for k, v in DEFAULT_REGIONS.items() if v in model.area_names}
        self.regions = {k: [v] if isinstance(v, str) else list(v) for k, v in regions.items()}
        unknown = sorted({a for v in self.regions.values() for a in v} - set(model.area_names))
        if unknown:
            raise ValueError(f"regions: areas {unknown} are not in the model; its areas are {model.area_names}")
        if not visual_degrees > 0 or image_size < 1 or batch_size < 1:
            raise ValueError("visual_degrees must be > 0, image_size and batch_size >= 1")
        self._visual_degrees = visual_degrees
        self.protocol = Protocol(presentation_ms, blank_before_ms)
        self.image_size, self.mean, self.std = int(image_size), list(mean), list(std)
        self.classes = list(classes) if classes is not None else None
        self.decision_ms = presentation_ms if decision_ms is None else float(decision_ms)
        self.batch_size, self.seed = batch_size, seed
        self._region: Optional[str] = None
        self._bins: Optional[list[tuple[float, float]]] = None
        self._task = BrainModel.Task.passive
        self._labels: Any = None
        self._classifier: Any = None

    # -- the interface ---------------------------------------------------------------------------
    @property
    def identifier(self) -> str:
        return self._identifier

    def visual_degrees(self) -> float:
        return self._visual_degrees

    @property
    def noisy(self) -> bool:
        noise = getattr(self.model, "noise", None)
        return noise is not None and any(float(s) > 0 for s in np.atleast_1d(noise))

    def start_recording(self, recording_target: str, time_bins: Any) -> None:
        if recording_target not in self.regions:
            raise ValueError(f"recording_target: {recording_target!r} is not mapped to an area; regions: {self.regions}")
        bins = TimeBins(time_bins)
        self.protocol.check(bins)
        self._region, self._bins, self._task = recording_target, bins, BrainModel.Task.passive

    def start_task(self, task: str, fitting_stimuli: Any = None, *args: Any, **kwargs: Any) -> None:
        if task == BrainModel.Task.passive:
            self._task = task
        elif task == BrainModel.Task.label:
            self._task, self._labels = task, self._check_labels(fitting_stimuli)
        elif task == BrainModel.Task.probabilities:
            from brainscore_vision.model_helpers.brain_transformation.behavior import ProbabilitiesMapping

            features = self._features(fitting_stimuli)
            self._classifier = ProbabilitiesMapping.ProbabilitiesClassifier().fit(features, features["image_label"])
            self._task = task
        else:
            raise NotImplementedError(f"task {task!r}: this model does passive recording, label and probabilities")

    def look_at(self, stimuli: Any, number_of_trials: int = 1, require_variance: bool = False) -> Any:
        if self._task == BrainModel.Task.label:
            return self._label(stimuli, number_of_trials)
        if self._task == BrainModel.Task.probabilities:
            return self._classifier.predict_proba(self._features(stimuli, number_of_trials))
        if self._bins is None:
            raise RuntimeError("look_at: call start_recording(region, time_bins) or start_task(...) first")
        return self._recordings(stimuli, number_of_trials, require_variance)

    # -- simulation ------------------------------------------------------------------------------
    def _trials(self, number_of_trials: int) -> int:
        if int(number_of_trials) < 1:
            raise ValueError(f"number_of_trials: must be >= 1, got {number_of_trials}")
        return int(number_of_trials) if self.noisy else 1

    def _onset(self) -> float:
        return math.ceil(self.protocol.blank_before_ms / self.model.dt - 1e-9) * self.model.dt

    def _simulate(self, paths: Sequence[str], trials: int, until_ms: float, observer_for: Any) -> list[Any]:
        """Run every stimulus ``trials`` times; ``observer_for(batch)`` makes the observer of a batch."""
        p = next(self.model.parameters())
        images = load_images(paths, self.image_size, self.model.in_channels, self.mean, self.std).to(p)
        rows = images.repeat_interleave(trials, dim=0)  # stimulus-major: row = stimulus * trials + trial
        out = []
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(self.seed)
            for start in range(0, len(rows), self.batch_size):
                x = rows[start:start + self.batch_size]
                observer, carry, logits = observer_for(x), None, []
                with self.model.observe(observer):
                    for shown, n in self.protocol.segments(self.model.dt, until_ms):
                        step_logits, carry = self.model.run(x if shown else torch.zeros_like(x), n_steps=n, carry=carry)
                        logits.append(step_logits)
                out.append((observer, torch.cat(logits, 1) if logits[0] is not None else None))
        return out

    def _recordings(self, stimuli: Any, number_of_trials: int, require_variance: bool) -> NeuroidAssembly:
        paths, presentation = _presentations(stimuli)
        trials, bins = self._trials(number_of_trials), self._bins
        areas = [(self.model.area_names.index(a), self.model.areas[self.model.area_names.index(a)])
                 for a in self.regions[self._region]]
        until = max(b for _, b in bins)
        runs = self._simulate(paths, trials, until, lambda x: BinRecorder(areas, bins, self._onset(), self.model.dt))
        data = torch.cat([rec.result() for rec, _ in runs]).numpy()  # (S * trials, N, T)
        data = data.reshape(len(paths), trials, *data.shape[1:])
        if require_variance:
            k = max(int(number_of_trials), 1)
            data = np.repeat(data, k // trials, axis=1).reshape(-1, *data.shape[2:])  # a noiseless model repeats
            presentation = {c: (d, np.repeat(v, k)) for c, (d, v) in presentation.items()}
            presentation["repetition"] = ("presentation", np.tile(np.arange(k), len(paths)))
        else:
            data = data.mean(axis=1)
        neuroids = _neuroid_coords(self.model, self.regions[self._region], self._region, self.identifier,
                                   runs[0][0].shapes)
        assembly = NeuroidAssembly(data, dims=["presentation", "neuroid", "time_bin"], coords={
            **presentation, **neuroids,
            **_bin_coords(bins)})
        return assembly.squeeze("time_bin") if len(bins) == 1 else assembly

    def _decision_run(self, stimuli: Any, number_of_trials: int) -> tuple[dict, Tensor, Optional[Tensor]]:
        """Presentation coords, readout features (S, F) and logits (S, K) at ``decision_ms``, trial means."""
        paths, presentation = _presentations(stimuli)
        trials, dt, t_dec = self._trials(number_of_trials), self.model.dt, self._onset() + self.decision_ms
        runs = self._simulate(paths, trials, self.decision_ms, lambda x: _ReadoutFeatures(self.model, t_dec, dt))
        step = max(0, round(t_dec / dt) - 1)
        feats = torch.cat([obs.value for obs, _ in runs]).unflatten(0, (len(paths), trials)).mean(1)
        logits = None if runs[0][1] is None else \
            torch.cat([lg[:, min(step, lg.shape[1] - 1)] for _, lg in runs]).unflatten(0, (len(paths), trials)).mean(1)
        return presentation, feats, logits

    def _features(self, stimuli: Any, number_of_trials: int = 1) -> NeuroidAssembly:
        presentation, feats, _ = self._decision_run(stimuli, number_of_trials)
        n = feats.shape[1]
        return NeuroidAssembly(feats.numpy(), dims=["presentation", "neuroid"], coords={
            **presentation, "neuroid_id": ("neuroid", [f"readout.{i}" for i in range(n)]),
            "neuroid_num": ("neuroid", list(range(n)))})

    def _check_labels(self, labels: Any) -> Any:
        if self.classes is None:
            raise ValueError("label task: this brain model has no class names (pass classes=...)")
        if isinstance(labels, str):
            if labels != "imagenet" or len(self.classes) != 1000:
                raise ValueError(f"label task: {labels!r} needs a 1000-class ImageNet readout; this model's classes "
                                 f"are {self.classes[:10]}{'...' if len(self.classes) > 10 else ''}")
            return list(self.classes)
        missing = [lab for lab in labels if lab not in self.classes]
        if missing:
            raise ValueError(f"label task: labels {missing} are not among the model's classes {self.classes}")
        return list(labels)

    def _label(self, stimuli: Any, number_of_trials: int) -> BehavioralAssembly:
        presentation, _, logits = self._decision_run(stimuli, number_of_trials)
        if logits is None:
            raise RuntimeError("label task: this network has no readout")
        cols = [self.classes.index(lab) for lab in self._labels]
        choices = [self._labels[i] for i in logits[:, cols].argmax(1).tolist()]
        return BehavioralAssembly([choices], dims=["choice", "presentation"],
                                  coords={**presentation, "label": ("presentation", choices)})


def _bin_coords(bins: Sequence[tuple[float, float]]) -> dict:
    """time_bin_start / time_bin_end, integers when all edges are whole ms (as Brain-Score's bins are: its
    metrics select bins by value, and pandas does not match a float key against integer levels)."""
    edges = np.array(bins)
    edges = edges.astype(int) if np.all(edges == np.round(edges)) else edges
    return {"time_bin_start": ("time_bin", edges[:, 0]), "time_bin_end": ("time_bin", edges[:, 1])}


def _presentations(stimuli: Any) -> tuple[list[str], dict]:
    """Image paths and presentation coordinates (every StimulusSet column; a list of paths is its own id)."""
    if isinstance(stimuli, (list, tuple)):
        paths = [str(p) for p in stimuli]
        return paths, {"stimulus_id": ("presentation", paths), "stimulus_path": ("presentation", paths)}
    ids = list(stimuli["stimulus_id"].values)
    paths = [str(stimuli.get_stimulus(i)) for i in ids]
    coords = {c: ("presentation", stimuli[c].values) for c in stimuli.columns}
    coords["stimulus_path"] = ("presentation", np.array(paths, dtype=object))
    return paths, coords


def _neuroid_coords(model: nn.Module, areas: Sequence[str], region: str, identifier: str,
                    shapes: Sequence[torch.Size]) -> dict:
    cols: dict[str, list] = {k: [] for k in ("neuroid_id", "neuroid_num", "area", "channel", "channel_y", "channel_x")}
    for area, shape in zip(areas, shapes):
        n = int(np.prod(shape))
        idx = np.unravel_index(np.arange(n), shape if len(shape) == 3 else (n, 1, 1))
        cols["neuroid_id"] += [f"{area}.{i}" for i in range(n)]
        cols["neuroid_num"] += list(range(len(cols["neuroid_num"]), len(cols["neuroid_num"]) + n))
        cols["area"] += [area] * n
        for key, values in zip(("channel", "channel_y", "channel_x"), idx):
            cols[key] += values.tolist()
    total = len(cols["neuroid_id"])
    return {**{k: ("neuroid", v) for k, v in cols.items()}, "region": ("neuroid", [region] * total),
            "model": ("neuroid", [identifier] * total)}


def as_brain_model(model: nn.Module, regions: Optional[Mapping[str, Union[str, Sequence[str]]]] = None,
                   visual_degrees: float = 8, presentation_ms: float = 100.0, **kwargs: Any) -> DynacortexBrainModel:
    """``model`` as a Brain-Score ``BrainModel``; ``regions`` maps Brain-Score regions to model areas (one or
    several, concatenated). Other options: :class:`DynacortexBrainModel`."""
    return DynacortexBrainModel(model, regions=regions, visual_degrees=visual_degrees,
                                presentation_ms=presentation_ms, **kwargs)
