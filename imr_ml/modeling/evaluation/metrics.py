"""Scores for probability forecasts of "overturned" (label 1), overall and per treatment category.

Every metric is defined for a vector of 0/1 labels and a vector of predicted P(overturned).
Metrics that are undefined on the data (ROC AUC / AP when only one class is present) come
back as ``None`` rather than NaN so that the result is valid JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

METRICS = ("roc_auc", "average_precision", "brier", "log_loss", "ece")


def checked(y, p) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions as flat arrays, refused if they cannot be scored.

    Parameters
    ----------
    y : array-like
        0/1 labels (1: overturned).
    p : array-like
        Predicted P(overturned), one per label.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``y`` as ints, ``p`` as floats in [0, 1].
    """
    y = np.asarray(y, dtype=int).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels and probabilities differ in length: {y.shape[0]} vs {p.shape[0]}")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (upheld) or 1 (overturned)")
    if p.size and (np.isnan(p).any() or (p < 0).any() or (p > 1).any()):
        raise ValueError("probabilities must lie in [0, 1]")
    return y, p


def expected_calibration_error(y, p, n_bins: int = 10) -> float:
    """ECE with ``n_bins`` equal-width bins on [0, 1].

    Parameters
    ----------
    y, p : array-like
        As in `checked`.
    n_bins : int
        Number of bins.

    Returns
    -------
    float
        The item-weighted mean of |mean predicted probability - observed overturn rate| over
        the non-empty bins (NaN without items).
    """
    y, p = checked(y, p)
    if y.size == 0:
        return float("nan")
    # bin i holds p in [i/n, (i+1)/n); p == 1 goes to the last bin
    idx = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return float(total / y.size)


def reliability_table(y, p, n_bins: int = 10) -> list[dict]:
    """Per-bin counts, mean prediction and observed rate (for the model card).

    Parameters
    ----------
    y, p : array-like
        As in `checked`.
    n_bins : int
        Number of equal-width bins on [0, 1].

    Returns
    -------
    list of dict
        ``bin``, ``n``, ``mean_predicted``, ``observed_rate`` of every non-empty bin.
    """
    y, p = checked(y, p)
    idx = np.minimum((p * n_bins).astype(int), n_bins - 1)
    out = []
    for b in range(n_bins):
        mask = idx == b
        if mask.any():
            out.append(
                {
                    "bin": f"{b / n_bins:.1f}-{(b + 1) / n_bins:.1f}",
                    "n": int(mask.sum()),
                    "mean_predicted": float(p[mask].mean()),
                    "observed_rate": float(y[mask].mean()),
                }
            )
    return out


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> list[float]:
    """The Wilson score interval of a proportion k/n.

    Unlike the normal approximation it stays inside [0, 1] and is honest for a handful of
    overturns in a bin.

    Parameters
    ----------
    k : int
        Successes.
    n : int
        Trials.
    z : float
        Standard normal quantile (the default gives 95%).

    Returns
    -------
    list of float
        [low, high].
    """
    if n == 0:
        return [0.0, 1.0]
    phat = k / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def calibration_bins(y, p, min_items: int = 40, max_bins: int = 10) -> list[dict]:
    """Reliability with equal-count bins over the range the predictions actually take.

    As many bins as keep at least `min_items` items each (equal-width bins on [0, 1] leave most
    bins empty when P is rarely above 0.3), each with the observed rate's 95% Wilson interval.

    Parameters
    ----------
    y, p : array-like
        As in `checked`.
    min_items : int
        Fewest items in a bin.
    max_bins : int
        Most bins.

    Returns
    -------
    list of dict
        One entry per bin.
    """
    y, p = checked(y, p)
    if y.size == 0:
        return []
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, max(1, min(max_bins, y.size // min_items))):
        k, n = int(y[chunk].sum()), int(chunk.size)
        out.append({"p_from": float(p[chunk].min()), "p_to": float(p[chunk].max()), "n": n, "n_overturned": k,
                    "mean_predicted": float(p[chunk].mean()), "observed_rate": k / n,
                    "observed_ci": wilson_interval(k, n)})
    return out


def none_if_nan(x: float) -> float | None:
    """A metric as JSON allows it.

    Parameters
    ----------
    x : float
        A value, possibly NaN or None.

    Returns
    -------
    float or None
        None for NaN or None.
    """
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def metrics_of(y, p, n_bins: int = 10) -> dict:
    """All metrics for one set of predictions, plus counts. JSON-ready.

    Parameters
    ----------
    y, p, n_bins
        As in `expected_calibration_error`, whose ECE it reports.

    Returns
    -------
    dict
        ``n_items``, ``n_overturned``, ``base_rate`` and every metric of `METRICS` (None
        where undefined).
    """
    y, p = checked(y, p)
    n = int(y.size)
    n_pos = int(y.sum())
    out: dict = {"n_items": n, "n_overturned": n_pos, "base_rate": (n_pos / n) if n else None}
    if n == 0:
        out.update({m: None for m in METRICS})
        return out
    both = 0 < n_pos < n
    out["roc_auc"] = float(roc_auc_score(y, p)) if both else None
    out["average_precision"] = float(average_precision_score(y, p)) if n_pos > 0 else None
    out["brier"] = float(brier_score_loss(y, p, pos_label=1))
    pc = np.clip(p, 1e-15, 1 - 1e-15)
    out["log_loss"] = float(log_loss(y, pc, labels=[0, 1]))
    out["ece"] = none_if_nan(expected_calibration_error(y, p, n_bins))
    return out


def score_by_group(y, p, groups: Sequence[str], min_items: int = 1) -> dict[str, dict]:
    """`metrics_of` for each distinct value of ``groups`` (e.g. treatment category), sorted by size.

    Parameters
    ----------
    y, p : array-like
        As in `checked`.
    groups : sequence of str
        The group of every item.
    min_items : int
        Groups with fewer items are left out.

    Returns
    -------
    dict
        {group: score}, largest group first.
    """
    y, p = checked(y, p)
    g = np.asarray(list(groups), dtype=object)
    if g.shape[0] != y.shape[0]:
        raise ValueError("groups and labels differ in length")
    out = {}
    names, counts = np.unique(g.astype(str), return_counts=True)
    for name in [n for _, n in sorted(zip(-counts, names))]:
        mask = g.astype(str) == name
        if mask.sum() >= min_items:
            out[str(name)] = metrics_of(y[mask], p[mask])
    return out


def score_all(y, preds: dict[str, np.ndarray], cats: Sequence[str] | None = None) -> dict:
    """`metrics_of` of several predictors on the same items, overall and per category.

    Parameters
    ----------
    y : array-like
        0/1 labels.
    preds : dict
        Predictor name -> P(overturned) of every item.
    cats : sequence of str or None
        Treatment category of every item; None: no per-category scores.

    Returns
    -------
    dict
        ``overall`` ({name: score}) and, with `cats`, ``by_category`` ({name: {category: score}}).
    """
    out = {"overall": {n: metrics_of(y, p) for n, p in preds.items()}}
    if cats is not None:
        out["by_category"] = {n: score_by_group(y, p, cats) for n, p in preds.items()}
    return out


def summarize_folds(fold_scores: Sequence[dict]) -> dict[str, dict]:
    """Mean, standard deviation (ddof=1), min, max and count of each metric across folds.

    Parameters
    ----------
    fold_scores : sequence of dict
        `metrics_of` of every fold; a fold where a metric is undefined is left out of that metric.

    Returns
    -------
    dict
        {metric: {mean, sd, min, max, n}}.
    """
    out: dict[str, dict] = {}
    for m in METRICS:
        vals = [f[m] for f in fold_scores if f.get(m) is not None]
        if not vals:
            out[m] = {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
            continue
        a = np.asarray(vals, dtype=float)
        out[m] = {
            "mean": float(a.mean()),
            "sd": float(a.std(ddof=1)) if a.size > 1 else None,  # one fold has no spread
            "min": float(a.min()),
            "max": float(a.max()),
            "n": int(a.size),
        }
    return out
