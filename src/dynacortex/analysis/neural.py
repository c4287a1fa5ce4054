"""Compare model areas with neural recordings over time: ridge predictivity and RSA per time bin.

Recordings are arrays ``(stimulus, time, neuron)`` (``load_neural`` reads ``.npz`` or netCDF into a
labelled ``xarray.DataArray``); model features are the same stimuli's responses of one area,
``(stimulus, time, unit)``, resampled to the recording's time bins with ``align``.

- predictivity (time-resolved, cross-validated): at each time bin, ridge regression from model
  units to each neuron, trained on some stimuli and tested on held-out ones (K folds, ridge
  penalty chosen by inner leave-one-out CV); the score is the Pearson r between predicted and
  recorded held-out responses, median over neurons.
- RSA: at each time bin, the representational dissimilarity matrices (1 - Pearson r between
  stimulus patterns) of model and recording, compared by the Spearman correlation of their upper
  triangles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

__all__ = ["load_neural", "align", "predictivity_over_time", "rsa_over_time", "rdm"]


def load_neural(path: "str | Path", variable: Optional[str] = None) -> Any:
    """A recording as ``xarray.DataArray`` with dims ``(stimulus, time_ms, neuron)``.

    ``.npz``: array ``data`` (or ``variable``) shaped (stimulus, time, neuron), optional ``time_ms``.
    ``.nc``: a DataArray or the Dataset variable ``variable`` with those three dims.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recording: {path} does not exist")
    if path.suffix == ".npz":
        with np.load(path) as f:
            key = variable or "data"
            if key not in f:
                raise ValueError(f"recording: {path} has no array {key!r}; it has {list(f.keys())}")
            data = f[key]
            times = f["time_ms"] if "time_ms" in f else np.arange(data.shape[1], dtype=float)
        if data.ndim != 3:
            raise ValueError(f"recording: expected (stimulus, time, neuron), got shape {data.shape}")
        return xr.DataArray(data, dims=("stimulus", "time_ms", "neuron"), coords={"time_ms": times})
    if path.suffix in (".nc", ".netcdf"):
        ds = xr.open_dataset(path)
        da = ds[variable] if variable else ds[next(iter(ds.data_vars))]
        missing = {"stimulus", "time_ms", "neuron"} - set(da.dims)
        if missing:
            raise ValueError(f"recording: {path} lacks dims {sorted(missing)}; need (stimulus, time_ms, neuron)")
        return da.transpose("stimulus", "time_ms", "neuron").load()
    raise ValueError(f"recording: unsupported file type {path.suffix!r}; use .npz or .nc")


def align(features: np.ndarray, model_times: Sequence[float], neural_times: Sequence[float]) -> np.ndarray:
    """Model features ``(S, T_model, U)`` linearly interpolated to ``neural_times`` -> ``(S, T_neural, U)``."""
    mt, nt = np.asarray(model_times, float), np.asarray(neural_times, float)
    if nt.min() < mt.min() or nt.max() > mt.max():
        raise ValueError(f"neural_times: {nt.min()}-{nt.max()} ms lies outside the model's {mt.min()}-{mt.max()} ms")
    k = np.clip(np.searchsorted(mt, nt, side="right") - 1, 0, len(mt) - 2)
    w = ((nt - mt[k]) / (mt[k + 1] - mt[k]))[None, :, None]
    return (1 - w) * features[:, k] + w * features[:, k + 1]


def _check(features: np.ndarray, neural: np.ndarray) -> None:
    if features.ndim != 3 or neural.ndim != 3 or features.shape[:2] != neural.shape[:2]:
        raise ValueError(f"features {features.shape} and neural {neural.shape}: need (stimulus, time, units) arrays "
                         "with the same stimuli and time bins (use align)")


def _pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt((a ** 2).sum(0) * (b ** 2).sum(0))
    return np.where(den > 0, (a * b).sum(0) / np.where(den > 0, den, 1), 0.0)


def predictivity_over_time(features: np.ndarray, neural: np.ndarray, folds: int = 5,
                           alphas: Sequence[float] = (1e-2, 1e-1, 1, 10, 100, 1e3, 1e4), seed: int = 0) -> np.ndarray:
    """``(T,)``: median over neurons of the held-out Pearson r of ridge predictions at each time bin."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler

    _check(features, neural)
    s = features.shape[0]
    if not 2 <= folds <= s:
        raise ValueError(f"folds: need 2 <= folds <= {s} stimuli, got {folds}")
    out = np.zeros(features.shape[1])
    for t in range(features.shape[1]):
        x, y = features[:, t], neural[:, t]
        pred = np.zeros_like(y, dtype=float)
        for train, test in KFold(folds, shuffle=True, random_state=seed).split(x):
            scaler = StandardScaler().fit(x[train])
            model = RidgeCV(alphas=alphas).fit(scaler.transform(x[train]), y[train])
            pred[test] = model.predict(scaler.transform(x[test]))
        out[t] = float(np.median(_pearson_columns(pred, y)))
    return out


def rdm(patterns: np.ndarray) -> np.ndarray:
    """``(S, S)`` dissimilarity ``1 - Pearson r`` between the stimulus patterns ``(S, units)``."""
    c = np.corrcoef(patterns)
    return 1.0 - np.nan_to_num(c, nan=0.0)


def rsa_over_time(features: np.ndarray, neural: np.ndarray) -> np.ndarray:
    """``(T,)``: Spearman correlation of model and neural RDM upper triangles at each time bin (NaN
    where either RDM is constant, e.g. before a response arrives)."""
    from scipy.stats import spearmanr

    _check(features, neural)
    iu = np.triu_indices(features.shape[0], k=1)
    out = []
    for t in range(features.shape[1]):
        a, b = rdm(features[:, t])[iu], rdm(neural[:, t])[iu]
        out.append(float(spearmanr(a, b)[0]) if np.ptp(a) > 0 and np.ptp(b) > 0 else float("nan"))
    return np.array(out)
