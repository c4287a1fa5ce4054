"""Object solution time (OST, Kar et al. 2019) from model responses over time, as Brain-Score's
``Kar2019-ost`` benchmark computes it (its ``ost`` metric), in plain numpy / scikit-learn / torch.

At every time bin a linear classifier is trained on the features of the training images and gives class
probabilities ``p`` for the held-out images. From these, each held-out image gets its I1 (Rajalingham et
al. 2018, unnormalised): for its true object ``o`` and every distractor ``c``, ``q(c) = p(c) / (p(c) + p(o))``
is the chance of a wrong two-way choice; ``d'(c) = z(1 - q(c)) - z(FA(c, o))``, where ``FA(c, o)`` is the mean
``q(o)`` over the held-out images of object ``c``; d' is clipped to [-5, 5] and averaged over distractors.

An image's OST is the first time bin (by start, ms) whose I1 reaches the image's threshold (in Kar2019 the
behavioural I1 of that image), linearly interpolated from the largest sub-threshold I1 before it (the line
through both points solved for the threshold; the first bin itself when no bin lies below). An image that
never reaches its threshold has OST NaN.

The score is the Spearman correlation between predicted and target OSTs over the held-out images (pairs
with a NaN dropped), in ``splits`` shuffle splits that hold out ``test_size`` of the images
(``random_state=seed``; Brain-Score: 10 splits, 10 %, seed 1), averaged over splits.

Classifiers (``classifier=``): ``"softmax"`` (default) is Brain-Score's: softmax regression on z-scored
features, weights from a truncated normal (fan-in scaling), biases 1, Adam (lr 1e-4), 40 epochs of
minibatches of 64 in an order drawn by ``numpy.random.RandomState(0)``, L2 penalty 0.2315 on weights and
biases, stopped when a minibatch loss falls below 1e-4; Brain-Score trains it with TensorFlow, here with
torch (same recipe, different random draws, so not bit-identical). ``"logistic"``: scikit-learn's
``LogisticRegression`` on z-scored features (deterministic). Or any callable
``(train_x, train_labels, test_x) -> (probabilities (n_test, K), choices (K,))``.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

__all__ = ["i1", "solution_times", "object_solution_times", "ost_correlation", "softmax_classifier",
           "logistic_classifier"]

Classifier = Callable[[np.ndarray, np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def _labels_in_order(labels: np.ndarray) -> np.ndarray:
    """Distinct labels in order of first appearance (the class order of Brain-Score's classifiers)."""
    _, first = np.unique(labels, return_index=True)
    return labels[np.sort(first)]


def _zscore(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(test)


def softmax_classifier(train_x: np.ndarray, train_labels: np.ndarray, test_x: np.ndarray, *, lr: float = 1e-4,
                       epochs: int = 40, batch_size: int = 64, weight_decay: float = 0.463, tol: float = 1e-4,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Brain-Score's OST classifier (softmax regression, Adam, L2), trained with torch; see the module doc."""
    import torch

    choices = _labels_in_order(np.asarray(train_labels))
    index = {c: j for j, c in enumerate(choices.tolist())}
    y = torch.tensor([index[c] for c in np.asarray(train_labels).tolist()])
    x_train, x_test = (torch.as_tensor(a, dtype=torch.float32) for a in _zscore(train_x, test_x))
    g = torch.Generator().manual_seed(seed)
    fan_in, k = x_train.shape[1], len(choices)
    std = (1.0 / fan_in) ** 0.5 / 0.87962566103423978  # truncated normal at 2 SD with variance 1 / fan_in
    w = (torch.fmod(torch.randn(fan_in, k, generator=g), 2.0) * std).requires_grad_()
    b = torch.ones(k, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr, eps=1e-8)
    order = np.random.RandomState(seed)
    for _ in range(epochs):
        idx = np.arange(len(x_train))
        order.shuffle(idx)
        for start in range(0, len(idx), batch_size):
            batch = torch.as_tensor(idx[start:start + batch_size])
            ce = torch.nn.functional.cross_entropy(x_train[batch] @ w + b, y[batch])
            loss = ce + 0.5 * weight_decay * ((w ** 2).sum() + (b ** 2).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
        if float(ce.detach()) < tol:
            break
    with torch.no_grad():
        return torch.softmax(x_test @ w + b, dim=1).numpy(), choices


def logistic_classifier(train_x: np.ndarray, train_labels: np.ndarray, test_x: np.ndarray, *, C: float = 1.0,
                        max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression (scikit-learn, lbfgs) on z-scored features: deterministic."""
    from sklearn.linear_model import LogisticRegression

    xs, xt = _zscore(train_x, test_x)
    clf = LogisticRegression(C=C, max_iter=max_iter).fit(xs, train_labels)
    choices = _labels_in_order(np.asarray(train_labels))
    cols = [int(np.flatnonzero(clf.classes_ == c)[0]) for c in choices]
    return clf.predict_proba(xt)[:, cols], choices


_CLASSIFIERS: dict[str, Classifier] = {"softmax": softmax_classifier, "logistic": logistic_classifier}


def _classifier(classifier: Union[str, Classifier]) -> Classifier:
    if callable(classifier):
        return classifier
    if classifier not in _CLASSIFIERS:
        raise ValueError(f"classifier: {classifier!r} is unknown; use one of {sorted(_CLASSIFIERS)} or a callable")
    return _CLASSIFIERS[classifier]


def i1(probabilities: np.ndarray, truth: Sequence[Any], choices: Sequence[Any]) -> np.ndarray:
    """``(S,)``: each image's I1 from its class probabilities ``(S, K)`` over ``choices`` and its true label.

    The false-alarm rates are those of the images given (in Brain-Score: the held-out images of a split);
    an object with no image here has none, and its distractor terms are NaN (skipped in the mean).
    """
    from scipy.stats import norm

    p = np.asarray(probabilities)
    truth, choices = np.asarray(truth), np.asarray(choices)
    if p.ndim != 2 or p.shape != (len(truth), len(choices)):
        raise ValueError(f"probabilities: need shape (images, choices) = ({len(truth)}, {len(choices)}), got {p.shape}")
    col = {c: j for j, c in enumerate(choices.tolist())}
    missing = sorted({t for t in truth.tolist() if t not in col}, key=str)
    if missing:
        raise ValueError(f"truth: labels {missing} are not among the classifier's choices {choices.tolist()}")
    own = p[np.arange(len(truth)), [col[t] for t in truth.tolist()]]
    with np.errstate(invalid="ignore", divide="ignore"):
        q = p / (p + own[:, None])  # chance of choosing c over the true object
        q[truth[:, None] == choices[None, :]] = np.nan
        dprime = np.full(q.shape, np.nan)
        for c_idx, c in enumerate(choices.tolist()):
            for o in np.unique(truth).tolist():
                if o == c:
                    continue
                rows = truth == o
                of_c = truth == c  # images of object c: how often they choose o
                far = np.nanmean(q[of_c, col[o]]) if of_c.any() else np.nan
                dprime[rows, c_idx] = norm.ppf(1 - q[rows, c_idx]) - norm.ppf(far)
    dprime = np.clip(dprime, -5, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(dprime, axis=1)


def solution_times(i1_over_time: np.ndarray, thresholds: Sequence[float], bin_starts: Sequence[float]) -> np.ndarray:
    """``(S,)`` OST in ms from each image's I1 per time bin ``(T, S)`` (bins ordered by ``bin_starts``)."""
    values = np.asarray(i1_over_time, dtype=float)
    thr, starts = np.asarray(thresholds, dtype=float), np.asarray(bin_starts, dtype=float)
    if values.shape != (len(starts), len(thr)):
        raise ValueError(f"i1_over_time: need shape (bins, images) = ({len(starts)}, {len(thr)}), got {values.shape}")
    out = np.full(len(thr), np.nan)
    for s in range(len(thr)):
        last: Optional[tuple[float, float]] = None
        for k in np.argsort(starts, kind="stable"):
            v = values[k, s]
            if v >= thr[s]:
                t = starts[k]
                out[s] = t if last is None else last[0] + (thr[s] - last[1]) * (t - last[0]) / (v - last[1])
                break
            if v < thr[s] and (last is None or last[1] < v):
                last = (starts[k], v)
    return out


def object_solution_times(train_features: np.ndarray, train_labels: Sequence[Any], test_features: np.ndarray,
                          test_labels: Sequence[Any], thresholds: Sequence[float], bin_starts: Sequence[float],
                          classifier: Union[str, Classifier] = "softmax") -> np.ndarray:
    """``(S_test,)`` OST in ms of the test images; features are ``(images, time bins, units)``."""
    fit_predict = _classifier(classifier)
    train_features, test_features = np.asarray(train_features), np.asarray(test_features)
    if train_features.ndim != 3 or test_features.ndim != 3 or train_features.shape[1:] != test_features.shape[1:]:
        raise ValueError(f"features: need (images, bins, units) with equal bins and units, got "
                         f"{train_features.shape} and {test_features.shape}")
    per_bin = []
    for t in range(train_features.shape[1]):
        proba, choices = fit_predict(train_features[:, t], np.asarray(train_labels), test_features[:, t])
        per_bin.append(i1(proba, test_labels, choices))
    return solution_times(np.stack(per_bin), thresholds, bin_starts)


def ost_correlation(features: np.ndarray, labels: Sequence[Any], target_ost: Sequence[float],
                    thresholds: Sequence[float], bin_starts: Sequence[float],
                    classifier: Union[str, Classifier] = "softmax", splits: int = 10, test_size: float = 0.1,
                    seed: int = 1, return_splits: bool = False) -> Any:
    """Kar2019's OST score (before its ceiling): the mean over ``splits`` of the Spearman r between predicted
    and target OST of the held-out images. ``features`` ``(S, T, U)``, labels, targets and thresholds in
    the same image order; ``return_splits=True`` also returns the per-split values."""
    from scipy.stats import spearmanr
    from sklearn.model_selection import ShuffleSplit

    features = np.asarray(features)
    labels, target = np.asarray(labels), np.asarray(target_ost, dtype=float)
    thr = np.asarray(thresholds, dtype=float)
    if not (features.ndim == 3 and len(features) == len(labels) == len(target) == len(thr)):
        raise ValueError(f"features {features.shape}, labels {labels.shape}, target_ost {target.shape} and thresholds "
                         f"{thr.shape}: need (images, bins, units) and one value per image")
    values = []
    for train, test in ShuffleSplit(n_splits=splits, test_size=test_size, random_state=seed).split(features):
        predicted = object_solution_times(features[train], labels[train], features[test], labels[test], thr[test],
                                          bin_starts, classifier)
        ok = ~np.isnan(predicted) & ~np.isnan(target[test])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant input or fewer than 2 pairs: NaN, as in Brain-Score
            values.append(float(spearmanr(predicted[ok], target[test][ok])[0]) if ok.sum() >= 2 else float("nan"))
    score = float(np.nanmean(values)) if not all(np.isnan(values)) else float("nan")
    return (score, np.array(values)) if return_splits else score
