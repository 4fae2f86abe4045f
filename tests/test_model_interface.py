"""Scoring goes through the model interface (`imr_ml.modeling.estimator.model`), not through a
particular estimator: a pipeline ending in plain scikit-learn LogisticRegression, with or
without a calibration map, scores and explains like the trained model, and an estimator
without an adapter is refused with a one-line reason."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from imr_ml.featurize import build_features, to_frame
from imr_ml.modeling.estimator.model import scoring_model
from imr_ml.modeling.modelfiles.loaded import LoadedModel
from imr_ml.modeling.training.data import canonical_rows, labels
from imr_ml.scoring.score import score_rows


@pytest.fixture(scope="module")
def fitted(synth_rows):
    rows = canonical_rows(synth_rows)[:600]
    X, y = to_frame(rows), labels(rows)
    plain = Pipeline([("features", build_features()), ("clf", LogisticRegression(max_iter=2000))]).fit(X, y)
    calibrated = CalibratedClassifierCV(plain, method="sigmoid", cv=3, ensemble=False).fit(X, y)
    return rows, plain, calibrated


@pytest.mark.parametrize("which", ["plain", "calibrated"])
def test_a_plain_sklearn_logistic_regression_scores_and_explains(fitted, which):
    rows, plain, calibrated = fitted
    model = plain if which == "plain" else calibrated
    loaded = LoadedModel(model=model, manifest={}, path=Path("."))
    scored = [r for r in score_rows(loaded, rows[:80]) if not r["abstained"]]
    assert scored
    scorer = scoring_model(model)
    for r in scored:
        assert r["baseline"]["logit"] + sum(c["contribution"] for c in r["contributions"]) == pytest.approx(
            r["logit"], abs=1e-6)
        assert r["p_overturned"] == pytest.approx(float(scorer.calibrate([r["logit"]])[0]), abs=1e-4)
    if which == "plain":  # no calibration map: P is the classifier's own
        kept = [i for i, r in enumerate(score_rows(loaded, rows[:80])) if not r["abstained"]]
        expected = model.predict_proba(to_frame([rows[i] for i in kept]))[:, 1]
        assert [r["p_overturned"] for r in scored] == pytest.approx(np.round(expected, 4), abs=1e-4)


def test_an_estimator_without_an_adapter_is_refused(synth_rows):
    rows = canonical_rows(synth_rows)[:100]
    X, y = to_frame(rows), labels(rows)
    forest = Pipeline([("features", build_features()), ("clf", RandomForestClassifier(n_estimators=5))]).fit(X, y)
    with pytest.raises(TypeError, match="no scoring adapter for RandomForestClassifier"):
        scoring_model(forest)
