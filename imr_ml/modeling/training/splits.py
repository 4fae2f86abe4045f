"""How rows are split for fitting and measuring: always by whole letters, so the items of
one letter never sit on both sides of a split."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

from imr_ml.modeling.training.data import TrainError

# The streaming procedure's held-out letters: a share of them, for calibration and again for
# measurement, each half capped (plenty for a 2-parameter map and a tight AUC).
HOLDOUT_SHARE = 0.05
HOLDOUT_MAX_ITEMS = 40_000


def grouped_folds(y: np.ndarray, groups: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that never split a letter; fewer folds when there are few letters.

    Parameters
    ----------
    y : numpy.ndarray
        0/1 labels.
    groups : numpy.ndarray
        The letter of every row.
    n_splits : int
        Folds wanted.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        (train, test) row indices of every fold.
    """
    n_groups = len(set(groups.tolist()))
    pos_groups = len(set(groups[y == 1].tolist()))
    k = min(n_splits, n_groups)
    if k < 2:
        raise TrainError(f"need at least 2 letters to cross-validate, got {n_groups}")
    if pos_groups >= k and (n_groups - pos_groups) >= 1:
        cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in cv.split(np.zeros(len(y)), y, groups)]
    # too few overturned letters to stratify: plain grouped folds after a seeded shuffle
    rng = np.random.default_rng(seed)
    uniq = np.array(sorted(set(groups.tolist())), dtype=object)
    perm = {g: i for i, g in enumerate(rng.permutation(uniq))}
    shuffled = np.array([perm[g] for g in groups])
    return [(tr, te) for tr, te in GroupKFold(n_splits=k).split(np.zeros(len(y)), y, shuffled)]


def predefined_folds(splits: Sequence[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    """The test fold of every row, as `sklearn.model_selection.PredefinedSplit` takes it.

    Parameters
    ----------
    splits : sequence of (numpy.ndarray, numpy.ndarray)
        (train, test) row indices of every fold.
    n : int
        Number of rows.

    Returns
    -------
    numpy.ndarray
        The fold in whose test part each row is (-1: none).
    """
    fold = np.full(n, -1, dtype=np.int32)
    for i, (_, te) in enumerate(splits):
        fold[te] = i
    return fold


def temporal_split(rows: Sequence[dict], test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Hold out the latest letters by decision_date (read for this split only).

    Parameters
    ----------
    rows : sequence of dict
        Canonical rows.
    test_fraction : float
        Share of the dated letters held out.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        (train, test) row indices.
    """
    by_letter: dict[str, str] = {}
    for r in rows:
        d = r.get("decision_date")
        if d:
            lid = str(r["letter_id"])
            by_letter[lid] = max(by_letter.get(lid, ""), str(d))
    letters = sorted({str(r["letter_id"]) for r in rows})
    dated = [lid for lid in letters if lid in by_letter]
    if len(dated) < 2:
        raise TrainError("--split temporal needs decision_date on at least 2 letters")
    dated.sort(key=lambda lid: (by_letter[lid], lid))
    n_test = max(1, int(round(test_fraction * len(dated))))
    test_letters = set(dated[-n_test:])
    is_test = np.array([str(r["letter_id"]) in test_letters for r in rows])
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def holdout_split(y: np.ndarray, groups: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The streaming procedure's split into training, calibration and measurement letters.

    Parameters
    ----------
    y, groups
        As in `grouped_folds`.
    seed : int
        Seed of the letters' shuffle.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        (train, calibration, measurement) row indices.
    """
    letters = np.array(sorted(set(groups.tolist())), dtype=object)
    rng = np.random.default_rng(seed)
    rng.shuffle(letters)
    per_letter = max(len(y) / max(len(letters), 1), 1.0)
    k = max(1, min(int(math.ceil(HOLDOUT_SHARE * len(letters))), int(HOLDOUT_MAX_ITEMS / per_letter)))
    cal, meas = set(letters[:k].tolist()), set(letters[k: 2 * k].tolist())
    part = np.array([0 if g not in cal and g not in meas else (1 if g in cal else 2) for g in groups.tolist()])
    return np.flatnonzero(part == 0), np.flatnonzero(part == 1), np.flatnonzero(part == 2)


def letter_sample(idx: np.ndarray, groups: np.ndarray, n_items: int, seed: int) -> np.ndarray:
    """Rows of whole letters drawn at random from `idx`, about `n_items` of them, in order.

    Parameters
    ----------
    idx : numpy.ndarray
        Row indices to draw from.
    groups : numpy.ndarray
        The letter of every row.
    n_items : int
        Rows wanted (all of `idx` when it has no more).
    seed : int
        Seed of the draw.

    Returns
    -------
    numpy.ndarray
        Row indices, a subset of `idx` in its order.
    """
    if len(idx) <= n_items:
        return idx
    letters = np.array(sorted(set(groups[idx].tolist())), dtype=object)
    rng = np.random.default_rng(seed)
    rng.shuffle(letters)
    keep = set(letters[: max(1, int(len(letters) * n_items / len(idx)))].tolist())
    return np.array([i for i in idx if groups[i] in keep], dtype=np.int64)
