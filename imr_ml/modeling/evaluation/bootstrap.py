"""Intervals that respect letters: every metric under resamples of whole letters.

Items of one letter share a patient, a reviewer and a summary, so they are not independent:
intervals resample whole letters. A resample is a weight per item (a letter drawn k times
weighs k), so no resample is materialised and every metric is a few matrix reductions over
the items sorted once by prediction.
"""

from __future__ import annotations

import numpy as np

from imr_ml.modeling.evaluation.metrics import checked, none_if_nan

BOOT_METRICS = ("roc_auc", "average_precision", "brier", "log_loss", "ece")
_CHUNK_CELLS = 4_000_000  # resamples x items held in memory at once


def letter_counts(groups, n_boot: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """How often each letter is drawn in each resample.

    Parameters
    ----------
    groups : array-like
        The letter of every item.
    n_boot : int
        Resamples.
    seed : int
        Seed of the draws.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The letter code of each item, and the draws per letter [n_boot x letters].
    """
    _, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    n_letters = int(codes.max()) + 1 if codes.size else 0
    draws = np.random.default_rng(seed).integers(0, n_letters, size=(n_boot, n_letters))
    offsets = (np.arange(n_boot) * n_letters)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_boot * n_letters).reshape(n_boot, n_letters)
    return codes, counts


def _blocks(sorted_values: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values (ties must share one threshold)."""
    return np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def weighted_metrics(y, p, W: np.ndarray, metrics=BOOT_METRICS, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Each metric under each row of item weights ``W`` [resamples x items].

    Equals `metrics_of` on the data with item i repeated W[b, i] times (tested against it).

    Parameters
    ----------
    y, p : array-like
        As in `checked`.
    W : numpy.ndarray
        Item weights, one row per resample.
    metrics : sequence of str
        Metrics computed.
    n_bins : int
        Bins of the calibration error.

    Returns
    -------
    dict
        {metric: one value per resample}, NaN where undefined.
    """
    y, p = checked(y, p)
    order = np.argsort(p, kind="stable")
    y, p, W = y[order], p[order], np.asarray(W, dtype=float)[:, order]
    total = W.sum(axis=1)
    out: dict[str, np.ndarray] = {}
    if {"roc_auc", "average_precision"} & set(metrics):
        starts = _blocks(p)
        pos = np.add.reduceat(W * y, starts, axis=1)  # weighted positives at each distinct score
        neg = np.add.reduceat(W * (1 - y), starts, axis=1)
        n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
        if "roc_auc" in metrics:  # P(score_pos > score_neg) + half the ties
            below = np.cumsum(neg, axis=1) - neg
            out["roc_auc"] = _ratio((pos * (below + 0.5 * neg)).sum(axis=1), n_pos * n_neg)
        if "average_precision" in metrics:  # sum over thresholds (descending) of recall step x precision
            tp = np.cumsum(pos[:, ::-1], axis=1)
            fp = np.cumsum(neg[:, ::-1], axis=1)
            precision = np.nan_to_num(_ratio(tp, tp + fp))
            out["average_precision"] = _ratio((pos[:, ::-1] * precision).sum(axis=1), n_pos)
    if "brier" in metrics:
        out["brier"] = _ratio(W @ (p - y) ** 2, total)
    if "log_loss" in metrics:
        pc = np.clip(p, 1e-15, 1 - 1e-15)
        out["log_loss"] = _ratio(W @ -(y * np.log(pc) + (1 - y) * np.log(1 - pc)), total)
    if "ece" in metrics:  # sum over bins of |sum p - sum y| / n
        bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
        gaps = np.add.reduceat(W * (p - y), _blocks(bins), axis=1)
        out["ece"] = _ratio(np.abs(gaps).sum(axis=1), total)
    return {m: out[m] for m in metrics}


def _resamples(groups, n_items: int, n_boot: int, seed: int):
    """Item-weight matrices [resamples x items] of consecutive letter resamples, bounded in memory."""
    codes, counts = letter_counts(groups, n_boot, seed)
    if codes.size != n_items:
        raise ValueError(f"groups and labels differ in length: {codes.size} vs {n_items}")
    step = max(1, _CHUNK_CELLS // max(1, codes.size))
    for i in range(0, counts.shape[0], step):
        yield counts[i:i + step][:, codes]


def bootstrap_distribution(y, p, groups, metrics=BOOT_METRICS, n_boot: int = 1000,
                           seed: int = 0) -> dict[str, np.ndarray]:
    """Each metric on ``n_boot`` letter resamples.

    Parameters
    ----------
    y, p : array-like
        As in `checked`.
    groups : array-like
        The letter of every item: resamples draw whole letters.
    metrics : sequence of str
        Metrics computed.
    n_boot : int
        Resamples.
    seed : int
        Seed of the resamples.

    Returns
    -------
    dict
        {metric: one value per resample} (NaN where undefined, e.g. one class drawn).
    """
    parts = [weighted_metrics(y, p, W, metrics) for W in _resamples(groups, len(p), n_boot, seed)]
    return {m: np.concatenate([part[m] for part in parts]) for m in metrics}


def percentile_interval(values: np.ndarray, level: float) -> list[float] | None:
    """The central `level` interval of resampled values, ignoring undefined ones.

    Parameters
    ----------
    values : numpy.ndarray
        One value per resample (NaN where undefined).
    level : float
        Coverage.

    Returns
    -------
    list of float or None
        [low, high]; None when no resample defined the value.
    """
    ok = values[np.isfinite(values)]
    if ok.size == 0:
        return None
    tail = 50 * (1 - level)
    return [float(v) for v in np.percentile(ok, [tail, 100 - tail])]


def bootstrap_ci(y, p, groups, metrics=("roc_auc", "average_precision", "brier", "ece"),
                 n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
    """Percentile intervals from resampling whole letters.

    ECE is biased upward by resampling (noise adds to every bin's gap), so for a
    well-calibrated predictor its interval can sit just above the point estimate.

    Parameters
    ----------
    y, p, groups, n_boot, seed
        As in `bootstrap_distribution`.
    metrics : sequence of str
        Metrics given an interval.
    level : float
        Coverage of the interval.

    Returns
    -------
    dict
        {"<metric>_ci": [low, high]} (None when the metric is undefined on every resample).
    """
    dist = bootstrap_distribution(y, p, groups, metrics, n_boot, seed)
    return {f"{m}_ci": percentile_interval(v, level) for m, v in dist.items()}


def bootstrap_diff_ci(y, p1, p2, groups, metric: str = "roc_auc", n_boot: int = 1000,
                      level: float = 0.95, seed: int = 0) -> dict:
    """``metric(p1) - metric(p2)`` and its interval on the same letter resamples.

    Paired, because both predictors meet the same easy and hard letters in a resample: that
    shared luck cancels in the difference, and two separate intervals would overstate its
    uncertainty.

    Parameters
    ----------
    y : array-like
        0/1 labels.
    p1, p2 : array-like
        The first predictor's P(overturned) and the second's.
    groups, n_boot, level, seed
        As in `bootstrap_ci`.
    metric : str
        The metric compared.

    Returns
    -------
    dict
        ``<metric>_diff`` and ``<metric>_diff_ci``.
    """
    y1, _ = checked(y, p1)

    def diff(W):
        return weighted_metrics(y, p1, W, (metric,))[metric] - weighted_metrics(y, p2, W, (metric,))[metric]

    boots = np.concatenate([diff(W) for W in _resamples(groups, y1.size, n_boot, seed)])
    point = float(diff(np.ones((1, y1.size)))[0])
    return {f"{metric}_diff": none_if_nan(point), f"{metric}_diff_ci": percentile_interval(boots, level)}


def with_intervals(scores: dict[str, dict], y, preds: dict, groups, **kw) -> None:
    """Add ``<metric>_ci`` beside every metric of every predictor's `metrics_of`, in place.

    The same letter resamples serve every predictor, as the seed is shared.

    Parameters
    ----------
    scores : dict
        {predictor: score}, updated in place.
    y : array-like
        0/1 labels.
    preds : dict
        {predictor: P(overturned)}.
    groups : array-like
        The letter of every item: resamples draw whole letters.
    **kw : dict
        Passed to `bootstrap_ci` (``n_boot``, ``level``, ``seed``).
    """
    for name, p in preds.items():
        scores[name].update(bootstrap_ci(y, p, groups, BOOT_METRICS, **kw))


def versus_baselines(y, preds: dict, groups, metrics=("roc_auc", "average_precision"), **kw) -> dict[str, dict]:
    """Paired model - baseline differences with intervals, for every baseline in ``preds``.

    Parameters
    ----------
    y : array-like
        0/1 labels.
    preds : dict
        {predictor: P(overturned)}, the model's under ``model``.
    groups : array-like
        The letter of every item: resamples draw whole letters.
    metrics : sequence of str
        Metrics compared.
    **kw : dict
        Passed to `bootstrap_diff_ci` (``n_boot``, ``level``, ``seed``).

    Returns
    -------
    dict
        {baseline: {<metric>_diff, <metric>_diff_ci, ...}}.
    """
    return {name: {k: v for m in metrics for k, v in bootstrap_diff_ci(y, preds["model"], p, groups, m, **kw).items()}
            for name, p in preds.items() if name != "model"}


