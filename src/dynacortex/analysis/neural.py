"""Compare model areas with neural recordings over time: ridge and PLS predictivity, RSA and object
solution times (OST) per time bin.

Recordings are arrays ``(stimulus, time, neuron)`` (``load_neural`` reads ``.npz`` or netCDF into a
labelled ``xarray.DataArray``); model features are the same stimuli's responses of one area,
``(stimulus, time, unit)``, resampled to the recording's time bins with ``align``.

- predictivity (time-resolved, cross-validated): at each time bin, ridge regression from model
  units to each neuron, trained on some stimuli and tested on held-out ones (K folds, ridge
  penalty chosen by inner leave-one-out CV); the score is the Pearson r between predicted and
  recorded held-out responses, median over neurons.
- temporal PLS predictivity (Brain-Score's ``spantime_pls``, the metric of its MajajHong2015 temporal
  benchmarks): one PLS regression (25 components, unscaled) from model units to neurons is fitted on the
  training stimuli of all time bins at once (weights shared over time); at each time bin the score is the
  Pearson r between predicted and recorded held-out responses, median over neurons; averaged over 10
  shuffle splits holding out 10 % of the stimuli (stratified by ``stratify``, e.g. the object; seed 1).
- object solution times: :mod:`dynacortex.analysis.ost` (Kar2019, re-exported here).
- RSA: at each time bin, the representational dissimilarity matrices (1 - Pearson r between
  stimulus patterns) of model and recording, compared by the Spearman correlation of their upper
  triangles.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from .ost import i1, object_solution_times, ost_correlation, solution_times

__all__ = ["load_neural", "align", "predictivity_over_time", "pls_predictivity_over_time", "rsa_over_time", "rdm",
           "i1", "solution_times", "object_solution_times", "ost_correlation"]


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


def _pearson_columns(a: np.ndarray, b: np.ndarray, nan: bool = False) -> np.ndarray:
    """Pearson r of matching columns; a constant column gives 0 (or NaN with ``nan=True``, as scipy)."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt((a ** 2).sum(0) * (b ** 2).sum(0))
    return np.where(den > 0, (a * b).sum(0) / np.where(den > 0, den, 1), np.nan if nan else 0.0)


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


def pls_predictivity_over_time(features: np.ndarray, neural: np.ndarray, stratify: Optional[Sequence[Any]] = None,
                               n_components: int = 25, splits: int = 10, train_size: float = 0.9, seed: int = 1,
                               return_splits: bool = False) -> Any:
    """``(T,)``: Brain-Score's temporal PLS predictivity (``spantime_pls``, before its ceiling) per time bin.

    ``features`` ``(S, T, U)`` and ``neural`` ``(S, T, N)`` share stimuli and bins (``align`` first);
    ``stratify``: one label per stimulus to balance the splits by (Brain-Score: ``object_name``).
    ``return_splits=True`` also returns the ``(splits, T)`` values.
    """
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    _check(features, neural)
    s, t = features.shape[:2]
    if stratify is not None and len(stratify) != s:
        raise ValueError(f"stratify: need one label per stimulus ({s}), got {len(stratify)}")
    if n_components > min(features.shape[2], s):
        raise ValueError(f"n_components: {n_components} exceeds the model's {features.shape[2]} units (or the stimuli)")
    cv = (StratifiedShuffleSplit if stratify is not None else ShuffleSplit)(
        n_splits=splits, train_size=train_size, test_size=None, random_state=seed)
    values = np.zeros((splits, t))
    for k, (train, test) in enumerate(cv.split(np.zeros(s), *([np.asarray(stratify)] if stratify is not None else []))):
        pls = PLSRegression(n_components=n_components, scale=False)
        pls.fit(features[train].reshape(-1, features.shape[2]), neural[train].reshape(-1, neural.shape[2]))
        for b in range(t):
            r = _pearson_columns(pls.predict(features[test, b]), neural[test, b], nan=True)
            values[k, b] = np.nanmedian(r) if not np.isnan(r).all() else np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        score = np.nanmean(values, axis=0)
    return (score, values) if return_splits else score


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
