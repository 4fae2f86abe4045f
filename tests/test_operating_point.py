"""The flag's measured precision and recall (imr_ml.modeling.evaluation.operating_point)."""

import numpy as np
import pytest

from imr_ml.modeling.evaluation.bootstrap import letter_counts
from imr_ml.modeling.evaluation.metrics import wilson_interval
from imr_ml.modeling.evaluation.operating_point import operating_point, operating_points


def _data(n_letters=60, seed=3):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"L{i}" for i in range(n_letters)], rng.integers(1, 5, n_letters))
    p = rng.uniform(0, 0.6, groups.size)
    y = (rng.uniform(0, 1, groups.size) < p).astype(int)
    return y, p, groups


def test_counts_precision_and_recall_are_those_of_the_flagged_items():
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.3, 0.2, 0.1, 0.05, 0.4, 0.3])
    op = operating_point(y, p, 0.3)
    # flagged: 0.9, 0.8, 0.3, 0.4, 0.3 -> 5 items, 2 of them overturned; 3 overturns in all
    assert (op["flagged"], op["flagged_overturned"], op["n_overturned"], op["n_items"]) == (5, 2, 3, 8)
    assert op["precision"] == pytest.approx(2 / 5) and op["recall"] == pytest.approx(2 / 3)
    assert op["precision_interval"] == pytest.approx(wilson_interval(2, 5))
    assert op["recall_interval"] == pytest.approx(wilson_interval(2, 3))
    assert "Wilson" in op["interval_method"]


def test_nothing_flagged_has_no_precision_and_zero_recall():
    op = operating_point([1, 0, 0], [0.1, 0.2, 0.3], 0.5)
    assert op["flagged"] == 0 and op["precision"] is None and op["precision_interval"] is None
    assert op["recall"] == 0


def test_letter_intervals_are_those_of_resampling_whole_letters():
    y, p, groups = _data()
    op = operating_point(y, p, 0.3, groups=groups, n_boot=200, seed=5)
    codes, counts = letter_counts(groups, 200, seed=5)
    W = counts[:, codes]  # item weights of each resample, materialised
    flag = p >= 0.3
    prec = (W * (y * flag)).sum(1) / (W * flag).sum(1)
    rec = (W * (y * flag)).sum(1) / (W * y).sum(1)
    assert op["precision_interval"] == pytest.approx(list(np.percentile(prec, [2.5, 97.5])))
    assert op["recall_interval"] == pytest.approx(list(np.percentile(rec, [2.5, 97.5])))
    lo, hi = op["precision_interval"]
    assert lo < op["precision"] < hi
    assert "60 letters" in op["interval_method"]


def test_several_thresholds_flag_fewer_items_as_the_cut_rises():
    y, p, groups = _data()
    table = operating_points(y, p, [0.1, 0.3, 0.5], groups=groups, n_boot=100)
    assert [r["threshold"] for r in table] == [0.1, 0.3, 0.5]
    assert table[0]["flagged"] > table[1]["flagged"] > table[2]["flagged"]
    assert table[0]["recall"] >= table[1]["recall"] >= table[2]["recall"]
    assert table[1] == operating_point(y, p, 0.3, groups=groups, n_boot=100)


def test_groups_of_another_length_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        operating_point([0, 1, 1], [0.1, 0.5, 0.7], 0.3, groups=["a", "b"])
