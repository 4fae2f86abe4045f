import json
import math

import numpy as np
import pytest

from imr_ml.metrics import (
    expected_calibration_error,
    fmt,
    reliability_table,
    score,
    score_by_group,
    summarize_folds,
)


def test_ece_zero_when_each_bin_matches_its_rate():
    # 10 items predicted 0.2 with 2 positives, 10 predicted 0.7 with 7 positives
    p = [0.2] * 10 + [0.7] * 10
    y = [1, 1] + [0] * 8 + [1] * 7 + [0] * 3
    assert expected_calibration_error(y, p) == pytest.approx(0.0)


def test_ece_known_value():
    # all predicted 0.9, observed 0.5 -> |0.9-0.5| = 0.4 ; plus a perfect bin at 0.05 / 0.0
    p = [0.9] * 4 + [0.05] * 4
    y = [1, 1, 0, 0, 0, 0, 0, 0]
    assert expected_calibration_error(y, p) == pytest.approx((4 * 0.4 + 4 * 0.05) / 8)


def test_ece_puts_probability_one_in_last_bin():
    assert expected_calibration_error([1, 1], [1.0, 1.0]) == pytest.approx(0.0)
    assert reliability_table([1, 0], [1.0, 0.95])[0]["bin"] == "0.9-1.0"


def test_score_values_and_json_safety():
    y = [0, 0, 1, 1]
    p = [0.1, 0.4, 0.35, 0.8]
    s = score(y, p)
    assert s["n_items"] == 4 and s["n_overturned"] == 2 and s["base_rate"] == 0.5
    assert s["roc_auc"] == pytest.approx(0.75)
    assert s["brier"] == pytest.approx(np.mean((np.array(p) - np.array(y)) ** 2))
    assert s["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.6, 0.35, 0.8])))
    json.dumps(s, allow_nan=False)


def test_score_single_class_gives_none_not_nan():
    s = score([0, 0, 0], [0.1, 0.2, 0.3])
    assert s["roc_auc"] is None and s["average_precision"] is None
    assert s["brier"] == pytest.approx((0.01 + 0.04 + 0.09) / 3)
    json.dumps(s, allow_nan=False)


def test_score_rejects_bad_input():
    with pytest.raises(ValueError):
        score([0, 1], [0.5])
    with pytest.raises(ValueError):
        score([0, 2], [0.5, 0.5])
    with pytest.raises(ValueError):
        score([0, 1], [0.5, 1.5])


def test_score_by_group_splits_and_orders_by_size():
    y = [0, 1, 0, 1, 0]
    p = [0.1, 0.9, 0.2, 0.3, 0.5]
    g = ["a", "a", "b", "b", "b"]
    out = score_by_group(y, p, g)
    assert list(out) == ["b", "a"]
    assert out["a"]["roc_auc"] == 1.0 and out["b"]["n_items"] == 3
    assert out["b"]["roc_auc"] == pytest.approx(0.5)


def test_summarize_folds_mean_sd_and_skips_undefined():
    folds = [{"roc_auc": 0.6, "brier": 0.1}, {"roc_auc": 0.8, "brier": 0.2}, {"roc_auc": None, "brier": 0.3}]
    s = summarize_folds(folds)
    assert s["roc_auc"]["mean"] == pytest.approx(0.7) and s["roc_auc"]["n"] == 2
    assert s["roc_auc"]["sd"] == pytest.approx(math.sqrt(0.02))
    assert s["brier"]["mean"] == pytest.approx(0.2)
    assert s["ece"]["mean"] is None
    assert fmt(s, "roc_auc") == "0.700 ± 0.141" and fmt(s, "ece") == "—"
