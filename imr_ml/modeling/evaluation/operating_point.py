"""The operating point as what it is: a flag, with what it has meant on held-out predictions.

A threshold such as the F1-maximising 0.168 does not make a request "likely overturned"
(that needs P >= 0.5); it picks out the requests worth a closer look. What a user needs to
know about such a flag is how often a flagged request was in fact overturned (precision) and
how many of the overturns it catches (recall), with intervals and counts, measured on
predictions the model made for items it was not trained on (the training CV's out-of-fold
predictions, `cv_predictions.json`). The training run records it in the manifest
(`threshold.operating_point`), the report tabulates it, and scoring states it beside the flag:
all from this one function.

Intervals resample whole letters when the letters are known (items of one letter share a
patient and a reviewer), else they are Wilson intervals of the two proportions.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from sklearn.metrics import precision_recall_curve

from imr_ml.modeling.evaluation.bootstrap import letter_counts, percentile_interval
from imr_ml.modeling.evaluation.metrics import checked, wilson_interval

LEVEL = 0.95  # coverage of the intervals of measured figures (as the report's metrics)
N_BOOT = 1000


def operating_point(y, p, threshold: float, groups=None, n_boot: int = N_BOOT, level: float = LEVEL,
                    seed: int = 0) -> dict:
    """What flagging every item with P >= `threshold` meant on these predictions.

    Parameters
    ----------
    y : array-like
        0/1 labels (1: overturned) of held-out items.
    p : array-like
        Their out-of-fold predictions.
    threshold : float
        The flag's cut-off: an item is flagged when its P reaches it.
    groups : array-like or None
        The letter of every item: intervals then resample whole letters; None gives Wilson
        intervals.
    n_boot : int
        Letter resamples.
    level : float
        Coverage of the intervals.
    seed : int
        Seed of the resamples.

    Returns
    -------
    dict
        ``threshold``, ``n_items``, ``n_overturned``, ``flagged`` (items flagged),
        ``flagged_overturned``, ``precision`` (overturned among the flagged) and ``recall``
        (flagged among the overturned), each None when undefined, ``precision_interval`` and
        ``recall_interval`` ([low, high] or None), ``level`` and ``interval_method``.
    """
    return operating_points(y, p, [threshold], groups, n_boot, level, seed)[0]


def operating_points(y, p, thresholds: Sequence[float], groups=None, n_boot: int = N_BOOT, level: float = LEVEL,
                     seed: int = 0) -> list[dict]:
    """`operating_point` at several cut-offs, on the same letter resamples (a report's table).

    Parameters
    ----------
    thresholds : sequence of float
        The cut-offs.
    y, p, groups, n_boot, level, seed
        As in `operating_point`.

    Returns
    -------
    list of dict
        One `operating_point` per threshold, in their order.
    """
    y, p = checked(y, p)
    flags = np.stack([p >= t for t in thresholds]).astype(float)  # [thresholds x items]
    hits = flags * y
    if groups is not None:
        intervals = _letter_intervals(y, flags, hits, groups, n_boot, level, seed)
        method = f"{level:.0%} interval from {n_boot:,} resamples of the {len(set(map(str, groups)))} letters"
    else:
        intervals = None
        method = f"{level:.0%} Wilson interval"
    z = NormalDist().inv_cdf(0.5 + level / 2)
    out = []
    for i, t in enumerate(thresholds):
        flagged, tp, pos = int(flags[i].sum()), int(hits[i].sum()), int(y.sum())
        prec_ci, rec_ci = intervals[i] if intervals else (
            wilson_interval(tp, flagged, z) if flagged else None, wilson_interval(tp, pos, z) if pos else None)
        out.append({"threshold": float(t), "n_items": int(y.size), "n_overturned": pos, "flagged": flagged,
                    "flagged_overturned": tp, "precision": tp / flagged if flagged else None,
                    "precision_interval": prec_ci, "recall": tp / pos if pos else None,
                    "recall_interval": rec_ci, "level": level, "interval_method": method})
    return out


def _letter_intervals(y: np.ndarray, flags: np.ndarray, hits: np.ndarray, groups, n_boot: int, level: float,
                      seed: int) -> list[tuple[list[float] | None, list[float] | None]]:
    """(precision interval, recall interval) per threshold from letter resamples: the counts
    are summed per letter once, so a resample is a product of its draws with those sums."""
    codes, counts = letter_counts(groups, n_boot, seed)
    if codes.size != y.size:
        raise ValueError(f"groups and labels differ in length: {codes.size} vs {y.size}")
    n_letters = counts.shape[1]

    def per_letter(v: np.ndarray) -> np.ndarray:
        return np.stack([np.bincount(codes, weights=row, minlength=n_letters) for row in np.atleast_2d(v)])

    flagged, tp, pos = counts @ per_letter(flags).T, counts @ per_letter(hits).T, counts @ per_letter(y).T[:, 0]
    out = []
    for i in range(flags.shape[0]):
        with np.errstate(invalid="ignore", divide="ignore"):
            precision, recall = tp[:, i] / flagged[:, i], tp[:, i] / pos
        out.append((percentile_interval(precision, level), percentile_interval(recall, level)))
    return out


def operating_threshold(y: np.ndarray, p: np.ndarray) -> float | None:
    """The probability from which a request is flagged "better chance than most" (a flag with
    its measured precision, `operating_point`; not a verdict).

    Parameters
    ----------
    y : numpy.ndarray
        0/1 labels of held-out items.
    p : numpy.ndarray
        Their out-of-fold predictions.

    Returns
    -------
    float or None
        The threshold that maximises F1 (None when there is no overturned item).
    """
    if y.sum() == 0 or y.min() == y.max():
        return None
    prec, rec, thr = precision_recall_curve(y, p)
    f1 = 2 * prec[:-1] * rec[:-1] / np.maximum(prec[:-1] + rec[:-1], 1e-12)
    return float(thr[int(np.argmax(f1))])


def fallback_threshold(base_rate: float) -> float:
    """The operating threshold without held-out predictions.

    Parameters
    ----------
    base_rate : float
        The overturn rate of the training items (or the published one).

    Returns
    -------
    float
        Twice the base rate, at most 0.5.
    """
    return min(2 * base_rate, 0.5)
