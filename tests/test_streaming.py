"""The large-corpus training procedure, checked on a small synthetic corpus: its features
must be exactly those of the ordinary pipeline fitted on all rows, its parts must keep
letters whole, and its model must save, load and score like any other."""

import numpy as np
import pytest

from imr_ml.featurize import to_frame
from imr_ml.modeling.estimator.model import scoring_model
from imr_ml.modeling.training import streaming as S
from imr_ml.modeling.training.data import canonical_rows, labels, letter_groups
from imr_ml.modeling.training.fitting import TrainOptions
from imr_ml.modeling.training.splits import holdout_split
from imr_ml.modeling.training.train import evaluate, save, train


@pytest.fixture(scope="module")
def rows(synth_rows):
    return canonical_rows(synth_rows)


def test_features_equal_the_pipeline_fitted_on_all_rows_in_one_or_two_processes(rows):
    from imr_ml.featurize import build_features

    opts = {"hashing": True, "use_tfidf": True, "n_features": 2**12}
    one = S.compute_features(rows, opts, n_jobs=1)
    two = S.compute_features(rows, opts, n_jobs=2)
    assert set(one[0]) == set(two[0]) == {"summary", "item"}
    for name in one[0]:
        assert np.array_equal(one[0][name].toarray(), two[0][name].toarray())
    assert np.array_equal(one[1], two[1])
    sample = np.arange(0, len(rows), 3)
    feats, Z = S.fit_features(rows, opts, *one, sample)
    full = build_features(**opts).fit(to_frame(rows))
    expected = full.transform(to_frame(rows))
    assert Z.shape == expected.shape
    assert abs(Z - expected).max() < 1e-12
    assert abs(feats.transform(to_frame(rows[:50])) - expected[:50]).max() < 1e-12


def test_holdout_parts_are_disjoint_whole_letters(rows):
    y, g = labels(rows), letter_groups(rows)
    tr, cal, meas = holdout_split(y, g, seed=3)
    assert len(tr) + len(cal) + len(meas) == len(rows)
    parts = [set(g[i].tolist()) for i in (tr, cal, meas)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert 0 < len(cal) < len(rows) * 0.1 and 0 < len(meas) < len(rows) * 0.1


def test_streaming_model_saves_loads_and_scores_like_its_features(rows, tmp_path):
    from imr_ml.modeling.modelfiles.modelio import load_model_dir

    opts = TrainOptions(streaming=True, n_jobs=1, grid=({"prior_weight": 0.5}, {"prior_weight": 2.0}),
                        pipeline={"n_features": 2**12, "use_tfidf": True}, seed=1)
    res = train(rows, opts)
    m = res.manifest
    assert m["procedure"] == "streaming" and m["hyperparameters"] in ({"prior_weight": 0.5}, {"prior_weight": 2.0})
    assert len(m["selection"]) == 2 and "held-out letters" in m["cv"]["protocol"]
    names = {"model", "base_rate", "category_prior", "tfidf_lr", "knowledge_only", "data_only"}
    assert names <= set(m["cv"]["summary"])
    assert "streaming" in res.card
    # hashed text columns carry terms, so the largest weights read as words
    assert any("__tfidf__" in n and "hash_" not in n for n in m["features"]["names"])
    loaded = load_model_dir(save(res, tmp_path / "model"))
    X = to_frame(rows[:80])
    p = loaded.model.predict_proba(X)[:, 1]
    scorer = scoring_model(loaded.model)
    assert np.allclose(p, scorer.calibrate(scorer.logits(scorer.features(X))))
    assert 0 < p.min() < p.max() < 1
    from imr_ml.scoring.score import score_rows

    scored = [r for r in score_rows(loaded, rows[:40]) if not r["abstained"]]
    assert scored and all(r["reasons"] for r in scored)
    ev = evaluate(tmp_path / "model", rows[:300])
    assert ev["roc_auc"] is not None and {"tfidf_lr", "knowledge_only", "category_prior"} <= set(ev["baselines"])
    again = train(rows, opts)
    assert np.array_equal(again.model.predict_proba(X), res.model.predict_proba(X))  # deterministic
