"""Feature builder: no leakage, readable names, groups, scikit-learn conventions.

Rows are written for this test (no real letter text).
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator, check_get_params_invariance, check_set_params

from imr_ml.featurize import (
    PreDecisionSelector,
    SignalFeatures,
    TextFeatures,
    build_features,
    feature_groups,
    to_frame,
)
from imr_ml.modeling.estimator.pipeline import build_pipeline
from imr_ml.schema import POST_DECISION, PRE_DECISION

SUMMARIES = [
    "The injured worker is a 45-year-old man with low back pain. He completed 12 sessions of "
    "physical therapy without relief. Current medications include Norco. He is not working.",
    "The injured worker is a 33-year-old woman with neck pain. Acupuncture improved her ability "
    "to sit and to work. She is working modified duty. Utilization review modified the request.",
    "A 61-year-old man with knee pain, status post arthroscopy in 2012. The physician will "
    "consider a repeat surgery. He is permanent and stationary.",
    "A 28-year-old woman with wrist pain. There was no functional improvement with prior "
    "occupational therapy. She denies opioid use.",
]
ITEMS = [
    "Additional physical therapy 2x6 lumbar spine",
    "Acupuncture x6 cervical spine",
    "MRI of the right knee without contrast",
    "Norco 10/325mg #90",
]


def make_rows(n=24):
    rows = []
    for i in range(n):
        rows.append(
            {
                "letter_id": f"L{i}",
                "item_index": 0,
                "summary": SUMMARIES[i % 4] + (" The pain is severe." if i % 3 else " The pain is mild."),
                "item": ITEMS[(i + i // 4) % 4],
                "original_request": "Physical therapy x12" if i % 5 == 0 else None,
                "authorized_portion": "Physical therapy x6" if i % 5 == 0 else None,
                "claims_admin_guideline": [
                    "Decision based on MTUS Chronic Pain Medical Treatment Guidelines.",
                    "The Claims Administrator did not cite any medical evidence for its decision.",
                    "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG).",
                ][i % 3],
                "date_of_injury": f"201{i % 6}-0{1 + i % 9}-15",
                "ur_denial_date": "2016-11-20",
                "retrospective": i % 7 == 0,
            }
        )
    return rows


def with_post_decision(rows, decisive):
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        if decisive:
            r.update(
                rationale="Overturned. The request is medically necessary and appropriate. "
                "Current medications include Norco; the worker is working full duty.",
                reviewer_guideline="Decision based on MTUS Chronic Pain Medical Treatment Guidelines, opioids.",
                reviewer_specialty="Physical Medicine & Rehabilitation",
                decision_date="2016-12-19",
                decision="Overturned" if i % 2 else "Upheld",
                label=int(i % 2),
            )
        out.append(r)
    return out


# ---------------------------------------------------------------- leakage


@pytest.mark.parametrize("opts", [{}, {"hashing": True, "n_features": 2**10}, {"use_tfidf": False}])
def test_post_decision_fields_do_not_change_features(opts):
    rows = make_rows()
    clean = pd.DataFrame(rows)  # post-decision columns absent
    blank = pd.DataFrame(with_post_decision(rows, False)).assign(
        rationale="", reviewer_guideline="", reviewer_specialty="", decision_date=None, decision="", label=0
    )
    leaky = pd.DataFrame(with_post_decision(rows, True))
    f1 = build_features(min_df=1, **opts).fit(clean)
    f2 = build_features(min_df=1, **opts).fit(leaky)
    X_clean = f1.transform(clean)
    for other in (blank, leaky):
        X = f1.transform(other)
        assert (abs(X - X_clean)).sum() == 0
    # Fitting on leaky rows gives the very same features too.
    assert list(f1.get_feature_names_out()) == list(f2.get_feature_names_out())
    assert abs(f2.transform(leaky) - X_clean).sum() == 0


def test_selector_drops_everything_not_pre_decision():
    df = pd.DataFrame(with_post_decision(make_rows(4), True))
    out = PreDecisionSelector().fit(df).transform(df)
    assert tuple(out.columns) == PRE_DECISION
    assert not set(POST_DECISION) & set(out.columns)


def test_missing_columns_are_empty():
    f = build_features(min_df=1).fit(pd.DataFrame(make_rows()))
    X = f.transform(pd.DataFrame([{"summary": "Low back pain."}]))
    assert X.shape == (1, len(f.get_feature_names_out()))
    X2 = f.transform([{}])
    assert X2.shape[0] == 1


# ---------------------------------------------------------------- names and groups


def test_readable_feature_names_and_groups():
    f = build_features(min_df=1, use_tfidf=True).fit(pd.DataFrame(make_rows()))
    names = list(f.get_feature_names_out())
    assert len(names) == len(set(names))
    for expected in (
        "signal__opioid_use",
        "signal__working",
        "signal__prior_surgery",
        "item__category__acupuncture",
        "field__chronicity_decades",
        "rule__therapy_exceeds_initial_trial",
        "field__retrospective",
        "field__requested_quantity",
        "field__ca_guideline__odg",
        "field__category_prior",
    ):
        assert expected in names, expected
    assert any(n.startswith("summary__tfidf__") for n in names)
    assert any(n.startswith("item__tfidf__") for n in names)
    groups = feature_groups(names)
    assert set(groups) >= {"rule", "signal", "summary", "item", "field"}
    assert sum(len(v) for v in groups.values()) == len(names)
    assert all(names[i].startswith("signal__") for i in groups["signal"])


def test_signal_values_reach_the_matrix():
    rows = make_rows(8)
    f = build_features(use_tfidf=False, scale=False).fit(pd.DataFrame(rows))
    names = list(f.get_feature_names_out())
    X = f.transform(pd.DataFrame(rows))
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    col = {n: X[:, i] for i, n in enumerate(names)}
    assert col["signal__opioid_use"][0] == 1  # "Current medications include Norco"
    assert col["signal__opioid_use"][7] == 0  # "denies opioid use", physical therapy requested
    assert col["signal__opioid_use"][3] == 1  # the same summary, but Norco is the request itself
    assert col["signal__functional_improvement"][1] == 1
    assert col["signal__no_functional_improvement"][3] == 1
    assert col["signal__functional_improvement"][3] == 0
    assert col["signal__prior_surgery"][2] == 1
    assert col["signal__permanent_and_stationary"][2] == 1
    assert col["field__requested_quantity"][0] == pytest.approx(np.log1p(12) - np.log1p(6))  # visits, from a trial of 6


def test_ablation_toggles():
    df = pd.DataFrame(make_rows())
    only_signals = build_features(use_fields=False, use_category=False, use_rules=False).fit(df)
    assert all(n.startswith("signal__") for n in only_signals.get_feature_names_out())
    only_rules = build_features(use_signals=False, use_fields=False, use_category=False).fit(df)
    assert all(n.startswith("rule__") for n in only_rules.get_feature_names_out())
    only_text = build_features(use_tfidf=True, use_signals=False, use_fields=False, use_category=False,
                               use_rules=False, min_df=1).fit(df)
    assert all("__tfidf__" in n for n in only_text.get_feature_names_out())
    with pytest.raises(ValueError):
        build_features(use_tfidf=False, use_signals=False, use_fields=False, use_category=False, use_rules=False)


def test_hashing_option():
    df = pd.DataFrame(make_rows())
    f = build_features(use_tfidf=True, hashing=True, n_features=2**8).fit(df)
    X = f.transform(df)
    assert X.shape[1] == len(f.get_feature_names_out())
    names = list(f.get_feature_names_out())
    assert len(set(names)) == len(names)
    # Hashed columns are named after a term that lands in them: a text made of that one
    # term sets that very column.
    named = [(j, n.split("__tfidf__")[1]) for j, n in enumerate(names)
             if n.startswith("summary__tfidf__") and "hash_" not in n and "_" not in n.split("__tfidf__")[1]]
    assert len(named) > 20
    for j, term in named[:20]:
        one = f.transform(pd.DataFrame([{"summary": term, "item": ""}]))
        assert one[0, j] > 0, term
    assert any("hash_" in n for n in names)  # buckets no term reached keep a number


# ---------------------------------------------------------------- pipeline


def test_pipeline_fits_predicts_and_pickles():
    rows = with_post_decision(make_rows(), True)
    df = pd.DataFrame(rows)
    y = df["label"].to_numpy()
    p = build_pipeline(prior_weight=0.5, min_df=1).fit(df, y)
    proba = p.predict_proba(df)
    assert proba.shape == (len(df), 2)
    p2 = pickle.loads(pickle.dumps(p))
    np.testing.assert_allclose(p2.predict_proba(df), proba)
    assert p.get_params()["clf__prior_weight"] == 0.5
    c = clone(p)
    assert c.get_params()["clf__prior_weight"] == 0.5


def test_pipeline_accepts_list_of_dicts():
    rows = with_post_decision(make_rows(), True)
    p = build_pipeline(min_df=1).fit(rows, [r["label"] for r in rows])
    assert p.predict(rows[:3]).shape == (3,)


def test_to_frame_rejects_bad_input():
    with pytest.raises(ValueError):
        to_frame(np.array(["a", "b"]))  # 1-D


# ---------------------------------------------------------------- scikit-learn checks

# Checks that cannot hold by design, with the reason:
NAN_BY_DESIGN = "missing values (NaN/None) in a text column are read as empty text, not rejected"
EXPECTED_FAILED = {
    TextFeatures: {"check_estimators_nan_inf": NAN_BY_DESIGN},
    SignalFeatures: {"check_estimators_nan_inf": NAN_BY_DESIGN},
    PreDecisionSelector: {
        "check_estimators_nan_inf": NAN_BY_DESIGN,
        # The selector outputs a table of text columns (a DataFrame of objects), not numbers:
        # the generic checks that subtract or compare its output numerically cannot apply.
        **{
            c: "output is a DataFrame of text columns, not a numeric array"
            for c in (
                "check_estimators_pickle",
                "check_fit_idempotent",
                "check_methods_sample_order_invariance",
                "check_methods_subset_invariance",
                "check_pipeline_consistency",
                "check_transformer_data_not_an_array",
                "check_transformer_general",
                "check_transformer_preserve_dtypes",
            )
        },
    },
}


@pytest.mark.parametrize("est", [PreDecisionSelector(), TextFeatures(), SignalFeatures()],
                         ids=lambda e: type(e).__name__)
def test_check_estimator(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(est, expected_failed_checks=EXPECTED_FAILED[type(est)])


@pytest.mark.parametrize(
    "est",
    [PreDecisionSelector(), TextFeatures(column="item", max_features=50), SignalFeatures(scale=False)],
    ids=lambda e: type(e).__name__,
)
def test_params_clone_pickle(est):
    name = type(est).__name__
    check_get_params_invariance(name, est)
    check_set_params(name, est)
    c = clone(est)
    assert c.get_params() == est.get_params()
    df = pd.DataFrame(make_rows())
    fitted = clone(est).fit(df)
    again = pickle.loads(pickle.dumps(fitted))
    a, b = fitted.transform(df), again.transform(df)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        assert abs(a - b).sum() == 0


def test_a_fitted_signal_step_refuses_a_changed_signal_list():
    rows = [{"summary": "The worker is on modified duty.", "item": "Physical therapy x6"}]
    sf = SignalFeatures().fit(rows)
    sf.feature_names_out_ = sf.feature_names_out_[:-1]  # as if the rules had gained a signal since
    with pytest.raises(ValueError, match="signal features"):
        sf.transform(rows)


def test_fast_tfidf_matches_scikit_learn_to_the_bit(synth_rows, monkeypatch):
    """Scoring's TF-IDF shortcut must give exactly scikit-learn's matrix, ASCII or not."""
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    from imr_ml.featurize import TOKEN_PATTERN

    texts = [r["summary"] for r in synth_rows[:300]]
    texts += ["", "a b c", "the and of", "PT x12, 2x6 acupuncture_visits; re-evaluation (MRI)",
              "Naïve café — patient’s résumé: ﬁle İstanbul knee", "x-rays\u00a0and\tMRI\nlumbar 3rd L4-5"]
    rows = [{"summary": t, "item": "x"} for t in texts]
    for ngrams, hashing in (((1, 1), False), ((1, 2), False), ((2, 3), False), ((1, 2), True)):
        common = dict(ngram_range=ngrams, stop_words="english", token_pattern=TOKEN_PATTERN, dtype=np.float64)
        if hashing:
            hasher = HashingVectorizer(n_features=2**12, alternate_sign=False, norm=None, **common)
            sk = make_pipeline(hasher, TfidfTransformer(sublinear_tf=True))
        else:
            sk = TfidfVectorizer(min_df=1, max_df=0.95, max_features=20000, sublinear_tf=True, **common)
        want = sk.fit(texts).transform(texts).tocsr()
        step = TextFeatures("summary", ngram_range=ngrams, min_df=1, hashing=hashing, n_features=2**12).fit(rows)
        with monkeypatch.context() as m:  # the shortcut, not a fallback to scikit-learn
            m.setattr(CountVectorizer, "transform", None)
            m.setattr(HashingVectorizer, "transform", None)
            got = step.transform(rows).tocsr()
        assert (want.indptr == got.indptr).all() and (want.indices == got.indices).all()
        assert (want.data == got.data).all()


def test_quantity_counts_visits_not_pills():
    f = build_features().fit(pd.DataFrame(make_rows()))
    names = list(f.get_feature_names_out())
    X = f.transform(pd.DataFrame([{"summary": "Pain.", "item": "Norco 10/325 #90"},
                                  {"summary": "Pain.", "item": "Acupuncture x6"}]))
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    q = X[:, names.index("field__requested_quantity")]
    assert q[0] == 0 and q[1] == pytest.approx(0.0)  # a pill count is not visits; 6 visits is the typical trial


def test_row_vectors_are_shared_by_every_step_of_the_same_rules():
    """Rows analysed once serve every step built on the same knowledge files (clones, and
    the fresh pipelines of baselines and refits), stay out of pickles, and `cache_size=0`
    turns the cache off."""
    from imr_ml.signals import clear_caches, load_rules

    clear_caches()
    rows = pd.DataFrame(make_rows())
    step = SignalFeatures().fit(rows)
    assert len(step.row_cache) == len(rows)
    assert clone(step).row_cache is step.row_cache is SignalFeatures().row_cache
    assert step.row_cache is load_rules().memos.vectors
    again = pickle.loads(pickle.dumps(step))
    assert "_rows" not in vars(again) and np.array_equal(again.transform(rows), step.transform(rows))
    step.clear_cache()
    assert len(step.row_cache) == 0
    SignalFeatures(cache_size=0).fit(rows)
    assert len(step.row_cache) == 0


def test_structured_columns_follow_the_field_registry():
    from imr_ml.signals import load_rules
    from imr_ml.signals.fields import FIELDS, feature_names

    names = list(SignalFeatures(use_signals=False, use_category=False, use_rules=False).layout())
    assert names == feature_names(load_rules())
    assert {f"field__{f.name}" for f in FIELDS if f.numeric is not None} <= set(names)
