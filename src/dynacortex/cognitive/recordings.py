"""Compare a task-trained network with neural recordings over the trial: condition-averaged activity.

Recordings of cognitive tasks are usually condition averages (PSTHs): ``(condition, time, neuron)``
with conditions such as (coherence, choice) or (sample, match). :func:`condition_averages` gives the
model's counterpart, the rates of one area averaged over the trials of each condition, on the
batch's time axis (``t_n = (n + 1) dt`` ms from trial start). :func:`compare_with_recordings` matches
the recording's conditions by label, resamples the model to the recording's time bins
(:func:`dynacortex.analysis.neural.align`) and returns time-resolved ridge predictivity and RSA
(:mod:`dynacortex.analysis.neural`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..analysis.neural import align, predictivity_over_time, rsa_over_time
from ..models import record
from .network import MultiAreaRNN
from .raster import TrialBatch

__all__ = ["condition_averages", "compare_with_recordings"]


def _labels(batch: TrialBatch, by: Sequence[str]) -> list[str]:
    missing = [k for k in by if k not in batch.conditions]
    if missing or not by:
        raise ValueError(f"by: {missing or list(by)} not among the batch's conditions {sorted(batch.conditions)}")
    columns = [batch.conditions[k].tolist() for k in by]
    return ["|".join(f"{k}={v:g}" for k, v in zip(by, values)) for values in zip(*columns)]


def condition_averages(model: MultiAreaRNN, batch: TrialBatch, area: str, by: Sequence[str]) -> Any:
    """``xarray.DataArray`` ``(condition, time_ms, unit)``: ``area``'s rates averaged over the trials of each
    combination of the conditions ``by`` (labels like ``"coherence=0.5|choice=1"``)."""
    import xarray as xr

    if area not in model.area_names:
        raise ValueError(f"area: {area!r} is not one of {model.area_names}")
    labels = _labels(batch, by)
    with record(model, [area]) as rec, torch.no_grad():
        model(batch.x.to(next(model.parameters()).device))
    rates = rec[area].flatten(2).cpu().double().numpy()  # (B, T, units)
    names = sorted(set(labels))
    index = np.array([names.index(label) for label in labels])
    mean = np.stack([rates[index == i].mean(0) for i in range(len(names))])
    times = (np.arange(rates.shape[1]) + 1) * batch.timeline.dt
    return xr.DataArray(mean, dims=("condition", "time_ms", "unit"),
                        coords={"condition": names, "time_ms": times}, attrs={"area": area, "by": list(by)})


def compare_with_recordings(model: MultiAreaRNN, batch: TrialBatch, recording: Any, area: str,
                            by: Sequence[str], folds: int = 5) -> Any:
    """Time-resolved predictivity and RSA of ``area`` against ``recording``, an ``xarray.DataArray`` with dims
    ``(condition, time_ms, neuron)`` whose condition labels follow :func:`condition_averages`. Returns an
    ``xarray.Dataset`` with ``predictivity`` and ``rsa`` over the recording's ``time_ms``."""
    import xarray as xr

    if tuple(recording.dims) != ("condition", "time_ms", "neuron"):
        raise ValueError(f"recording: dims must be ('condition', 'time_ms', 'neuron'), got {tuple(recording.dims)}")
    model_avg = condition_averages(model, batch, area, by)
    wanted = [str(c) for c in recording.condition.values]
    missing = sorted(set(wanted) - set(model_avg.condition.values.tolist()))
    if missing:
        raise ValueError(f"recording: conditions {missing} have no trials in the batch "
                         f"(it has {model_avg.condition.values.tolist()})")
    features = align(model_avg.sel(condition=wanted).values, model_avg.time_ms.values, recording.time_ms.values)
    neural = recording.values.astype(float)
    coords = {"time_ms": recording.time_ms.values}
    return xr.Dataset({"predictivity": ("time_ms", predictivity_over_time(features, neural, folds=folds)),
                       "rsa": ("time_ms", rsa_over_time(features, neural))}, coords=coords,
                      attrs={"area": area, "by": list(by), "conditions": wanted})
