import json
import math

import numpy as np
import pytest

from imr_ml.modeling.evaluation.metrics import (
    expected_calibration_error,
    metrics_of,
    reliability_table,
    score_by_group,
    summarize_folds,
)
from imr_ml.modeling.training.card import fmt


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
    s = metrics_of(y, p)
    assert s["n_items"] == 4 and s["n_overturned"] == 2 and s["base_rate"] == 0.5
    assert s["roc_auc"] == pytest.approx(0.75)
    assert s["brier"] == pytest.approx(np.mean((np.array(p) - np.array(y)) ** 2))
    assert s["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.6, 0.35, 0.8])))
    json.dumps(s, allow_nan=False)


def test_score_single_class_gives_none_not_nan():
    s = metrics_of([0, 0, 0], [0.1, 0.2, 0.3])
    assert s["roc_auc"] is None and s["average_precision"] is None
    assert s["brier"] == pytest.approx((0.01 + 0.04 + 0.09) / 3)
    json.dumps(s, allow_nan=False)


def test_score_rejects_bad_input():
    with pytest.raises(ValueError):
        metrics_of([0, 1], [0.5])
    with pytest.raises(ValueError):
        metrics_of([0, 2], [0.5, 0.5])
    with pytest.raises(ValueError):
        metrics_of([0, 1], [0.5, 1.5])


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


# ----------------------------------------------------------------------------- bootstrap

from imr_ml.modeling.evaluation.bootstrap import (  # noqa: E402
    bootstrap_ci,
    bootstrap_diff_ci,
    bootstrap_distribution,
    letter_counts,
    weighted_metrics,
)

ALL = ("roc_auc", "average_precision", "brier", "log_loss", "ece")


def _letters(n_letters=80, seed=0):
    """Items grouped in letters of 1-3, ~15% overturned, coarse predictions (many ties)."""
    rng = np.random.default_rng(seed)
    g = np.repeat([f"L{i:03d}" for i in range(n_letters)], rng.integers(1, 4, n_letters))
    y = (rng.random(g.size) < 0.15).astype(int)
    p = np.clip(np.round(0.1 + 0.3 * y * rng.random(g.size) + 0.3 * rng.random(g.size), 1), 0, 1)
    return y, p, g


def test_weighted_metrics_equal_score_on_the_materialised_resamples():
    y, p, g = _letters()
    codes, counts = letter_counts(g, 40, seed=5)
    W = counts[:, codes]
    fast = weighted_metrics(y, p, W, ALL)
    for b in range(W.shape[0]):
        idx = np.repeat(np.arange(y.size), W[b])  # the items of every drawn letter, k times if drawn k times
        naive = metrics_of(y[idx], p[idx])
        for m in ALL:
            if naive[m] is None:
                assert np.isnan(fast[m][b])
            else:
                assert fast[m][b] == pytest.approx(naive[m], abs=1e-12), (m, b)


def test_bootstrap_ci_contains_the_estimate_and_is_deterministic():
    y, p, g = _letters(150)
    ci = bootstrap_ci(y, p, g, ALL, n_boot=300, seed=1)
    s = metrics_of(y, p)
    for m in ALL:
        lo, hi = ci[f"{m}_ci"]
        assert lo <= s[m] <= hi and lo < hi
    assert bootstrap_ci(y, p, g, ALL, n_boot=300, seed=1) == ci
    assert bootstrap_ci(y, p, g, ALL, n_boot=300, seed=2) != ci
    json.dumps(ci, allow_nan=False)


def test_bootstrap_resamples_letters_not_items():
    y, p, g = _letters(60)
    ci = bootstrap_ci(y, p, g, n_boot=200, seed=3)
    # every item of every letter twice: the same letters are drawn, so the same intervals
    doubled = bootstrap_ci(np.repeat(y, 2), np.repeat(p, 2), np.repeat(g, 2), n_boot=200, seed=3)
    for k, v in ci.items():
        assert doubled[k] == pytest.approx(v)
    # treating the doubled items as independent would narrow the interval
    by_item = bootstrap_ci(np.repeat(y, 2), np.repeat(p, 2), np.arange(2 * y.size), n_boot=200, seed=3)
    width = lambda c: c["roc_auc_ci"][1] - c["roc_auc_ci"][0]  # noqa: E731
    assert width(by_item) < 0.85 * width(ci)


def test_bootstrap_skips_undefined_resamples():
    y = np.array([1, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.1, 0.2, 0.3, 0.4, 0.5])
    g = np.array(["a", "b", "c", "d", "e", "f"])
    dist = bootstrap_distribution(y, p, g, ("roc_auc",), n_boot=200, seed=0)["roc_auc"]
    assert np.isnan(dist).any() and (dist[~np.isnan(dist)] == 1.0).all()  # no positive drawn: skipped
    assert bootstrap_ci(y, p, g, ("roc_auc",), n_boot=200)["roc_auc_ci"] == [1.0, 1.0]
    none = bootstrap_ci(np.zeros(6, int), p, g, ("roc_auc", "brier"), n_boot=50)
    assert none["roc_auc_ci"] is None and none["brier_ci"] is not None


def test_bootstrap_diff_is_paired():
    y, p, g = _letters(150)
    rng = np.random.default_rng(0)
    p2 = np.clip(p + rng.normal(0, 0.05, p.size), 0, 1)
    d = bootstrap_diff_ci(y, p, p2, g, "roc_auc", n_boot=300, seed=4)
    assert d["roc_auc_diff"] == pytest.approx(metrics_of(y, p)["roc_auc"] - metrics_of(y, p2)["roc_auc"])
    lo, hi = d["roc_auc_diff_ci"]
    assert lo <= d["roc_auc_diff"] <= hi
    # a predictor against itself differs by exactly 0 on every resample
    assert bootstrap_diff_ci(y, p, p, g, "average_precision", n_boot=50)["average_precision_diff_ci"] == [0.0, 0.0]
    # pairing cancels the letters' shared difficulty: narrower than either interval alone
    single = bootstrap_ci(y, p, g, ("roc_auc",), n_boot=300, seed=4)["roc_auc_ci"]
    assert hi - lo < single[1] - single[0]


def test_bootstrap_is_fast_enough():
    import time

    y, p, g = _letters(5000)
    t = time.perf_counter()
    bootstrap_ci(y, p, g, ALL, n_boot=1000)
    assert time.perf_counter() - t < 10  # ~0.5 s alone; generous for a shared machine


def test_bootstrap_rejects_groups_of_another_length():
    with pytest.raises(ValueError, match="groups"):
        bootstrap_ci([0, 1, 0], [0.1, 0.9, 0.2], ["a", "b"], n_boot=10)
