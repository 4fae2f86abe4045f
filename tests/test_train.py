import json

import numpy as np
import pytest
from typer.testing import CliRunner

from imr_ml.featurize import to_frame
from imr_ml.modeling.estimator.model import fitted_pipeline
from imr_ml.modeling.training import train as T
from imr_ml.modeling.training.data import TrainError, canonical_rows, fingerprint, labels, letter_groups
from imr_ml.modeling.training.fitting import TrainOptions, calibration_method, select_params
from imr_ml.modeling.training.splits import grouped_folds, temporal_split
from imr_ml.schema import PRE_DECISION

ITEMS = ["Acupuncture x6", "Norco 10/325 #60", "MRI of the lumbar spine", "Physical therapy 12 sessions"]


def _standin(prior_weight=1.0, use_tfidf=True, use_signals=True, hashing=False, knowledge_only=False, **kw):
    """A fast pure-sklearn pipeline with the build_pipeline contract, for testing the training
    mechanics quickly; the real pipeline is exercised by test_real_pipeline_* below."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    parts = [("item", CountVectorizer(binary=True), "item")]
    if use_tfidf:
        parts.append(("summary", TfidfVectorizer(), "summary"))
    return Pipeline([("features", ColumnTransformer(parts)),
                     ("clf", LogisticRegression(C=1 / prior_weight, class_weight="balanced", solver="liblinear"))])


def factory():
    return _standin


def make_rows(n_letters=48, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for li in range(n_letters):
        for i in range(int(rng.integers(1, 4))):
            good = rng.random() < 0.3
            lab = int(rng.random() < (0.75 if good else 0.05))
            rows.append({
                "letter_id": f"CM16-{seed:02d}{li:04d}", "item_index": i,
                "item": ITEMS[int(rng.integers(len(ITEMS)))],
                "summary": ("The patient reports functional improvement with increased activities of daily "
                            "living after prior sessions." if good else
                            "There was no documented functional improvement; pain unchanged.") + " Low back pain.",
                "date_of_injury": "2014-01-02", "ur_denial_date": "2016-05-01", "retrospective": False,
                "label": lab, "decision": "overturned" if lab else "upheld",
                "rationale": "The request is medically necessary." if lab else "Not medically necessary.",
                "decision_date": f"2016-{1 + li % 12:02d}-{1 + li % 28:02d}",
            })
    return rows


FAST = dict(min_positives_to_select=0, n_splits=3, grid=({"prior_weight": 0.1}, {"prior_weight": 1.0}), cache=False,
            calibration="sigmoid")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rows = make_rows(40)
    res = T.train(rows, TrainOptions(seed=1, **FAST), factory=factory())
    d = T.save(res, tmp_path_factory.mktemp("m") / "model")
    return rows, res, d


def test_frame_has_only_pre_decision_columns():
    df = to_frame(make_rows(4))
    assert tuple(df.columns) == PRE_DECISION
    assert "rationale" not in df and "decision_date" not in df and "label" not in df


def test_fingerprint_is_order_independent_and_ignores_post_decision_text():
    rows = make_rows(10)
    fp = fingerprint(rows)
    assert fingerprint(list(reversed(rows))) == fp
    changed = [dict(r, rationale="something else") for r in rows]
    assert fingerprint(changed) == fp
    flipped = [dict(r) for r in rows]
    flipped[0]["label"] = 1 - flipped[0]["label"]
    assert fingerprint(flipped) != fp


def test_label_filled_from_decision_and_missing_rejected():
    rows = [{"letter_id": "A", "item_index": 0, "decision": "Overturned"}]
    assert canonical_rows(rows)[0]["label"] == 1
    with pytest.raises(TrainError, match="no label"):
        canonical_rows([{"letter_id": "A", "item_index": 0}])
    with pytest.raises(TrainError, match="letter_id"):
        canonical_rows([{"item_index": 0, "label": 1}])


def test_grouped_folds_never_split_a_letter_and_are_seeded():
    rows = canonical_rows(make_rows(30))
    y, g = labels(rows), letter_groups(rows)
    folds = grouped_folds(y, g, 5, seed=3)
    seen = np.concatenate([te for _, te in folds])
    assert sorted(seen.tolist()) == list(range(len(y)))
    for tr, te in folds:
        assert not set(g[tr]) & set(g[te])
    again = grouped_folds(y, g, 5, seed=3)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))
    other = grouped_folds(y, g, 5, seed=4)
    assert any(len(a[1]) != len(b[1]) or (a[1] != b[1]).any() for a, b in zip(folds, other))


def test_temporal_split_holds_out_latest_letters():
    rows = canonical_rows(make_rows(20))
    tr, te = temporal_split(rows, 0.25)
    last_train = max(rows[i]["decision_date"] for i in tr)
    first_test = min(rows[i]["decision_date"] for i in te)
    assert last_train <= first_test
    assert not {rows[i]["letter_id"] for i in tr} & {rows[i]["letter_id"] for i in te}
    assert len({rows[i]["letter_id"] for i in te}) == 5


def test_temporal_split_estimate_is_one_held_out_block():
    res = T.train(make_rows(30), TrainOptions(split="temporal", baselines=False, **FAST), factory=factory())
    cv = res.manifest["cv"]
    assert cv["n_folds"] == 1 and "temporal" in cv["protocol"]
    assert cv["folds"][0]["n_test"] < res.manifest["data"]["n_items"] / 2
    with pytest.raises(TrainError, match="decision_date"):
        T.train([dict(r, decision_date=None) for r in make_rows(10)], TrainOptions(split="temporal", **FAST),
                factory=factory())


def test_single_class_is_refused():
    rows = [dict(r, label=0, decision="upheld") for r in make_rows(10)]
    with pytest.raises(TrainError, match="need both"):
        T.train(rows, TrainOptions(**FAST), factory=factory())


def test_train_writes_complete_manifest_and_card(trained):
    rows, res, d = trained
    m = json.loads((d / "manifest.json").read_text())
    assert m["data"]["fingerprint_sha256"] == fingerprint(rows)
    assert m["data"]["n_items"] == len(rows) and m["data"]["n_overturned"] == sum(r["label"] for r in rows)
    assert m["data"]["n_letters"] == len({r["letter_id"] for r in rows})
    assert m["hyperparameters"]["prior_weight"] in (0.1, 1.0)
    assert m["features"]["names"] and m["features"]["columns"] == list(PRE_DECISION)
    for name in ("model", "base_rate", "category_prior", "tfidf_lr", "knowledge_only", "data_only"):
        assert m["cv"]["summary"][name]["roc_auc"]["n"] >= 2
    assert set(m["versions"]) >= {"python", "scikit-learn", "numpy", "pandas", "skops", "imr_ml"}
    card = (d / "MODEL_CARD.md").read_text()
    for heading in ("Intended use", "Measured performance", "Leakage statement", "Limitations", "Calibration"):
        assert heading in card
    assert m["model_sha256"] in card
    # the signal in the summary is learnable: held-out AUC well above chance
    assert m["cv"]["summary"]["model"]["roc_auc"]["mean"] > 0.7


def test_calibration_undoes_class_weighting(trained):
    rows, res, _ = trained
    X, y = to_frame(res and canonical_rows(rows)), labels(canonical_rows(rows))
    p_cal = res.model.predict_proba(X)[:, 1]
    p_raw = fitted_pipeline(res.model).predict_proba(X)[:, 1]
    # balanced class weights push raw probabilities far above the ~20% base rate
    assert abs(p_raw.mean() - y.mean()) > 0.1
    assert abs(p_cal.mean() - y.mean()) < 0.05


def test_training_is_deterministic(trained):
    rows, res, _ = trained
    # reversed input order, and the feature cache switched on: same model
    again = T.train(list(reversed(rows)), TrainOptions(seed=1, estimate=False, **{**FAST, "cache": True}),
                    factory=factory())
    X = to_frame(canonical_rows(rows))
    np.testing.assert_allclose(again.model.predict_proba(X), res.model.predict_proba(X))
    assert again.manifest["hyperparameters"] == res.manifest["hyperparameters"]


def test_evaluate_scores_model_and_baselines_and_flags_overlap(trained):
    rows, res, d = trained
    new = make_rows(30, seed=7)
    rep = T.evaluate(d, new)
    assert rep["n_items"] == len(new) and rep["letters_seen_in_training"] == 0
    for k in ("roc_auc", "average_precision", "brier", "log_loss", "ece", "base_rate"):
        assert rep[k] is not None
    assert set(rep["baselines"]) == {"base_rate", "category_prior", "tfidf_lr", "knowledge_only", "data_only"}
    assert rep["baselines"]["base_rate"]["roc_auc"] == 0.5
    assert set(rep["by_category"]) <= {"acupuncture", "opioid", "imaging_mri", "physical_therapy", "other"}
    assert rep["roc_auc"] > 0.75
    assert T.evaluate(d, rows)["letters_seen_in_training"] == len({r["letter_id"] for r in rows})


def test_cli_train_then_evaluate_then_refuse_tampered(tmp_path):
    """The commands end to end, with the real pipeline (no estimate: seconds)."""
    from imr_ml.cli import app

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in make_rows(36)))
    test = tmp_path / "t.jsonl"
    test.write_text("".join(json.dumps(r) + "\n" for r in make_rows(20, seed=5)))
    runner = CliRunner()
    out = tmp_path / "model"
    r = runner.invoke(app, ["train", str(corpus), "--out", str(out), "--folds", "3", "--prior-weight", "0.3",
                            "--no-estimate", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_items"] == sum(1 for _ in corpus.open())
    r = runner.invoke(app, ["evaluate", str(out), str(test), "--json"])
    assert r.exit_code == 0, r.output
    saved = json.loads((tmp_path / "model.evaluation.json").read_text())  # beside the model, not in it
    assert saved["n_items"] == json.loads(r.stdout)["n_items"]
    assert len(saved["roc_auc_ci"]) == 2 and "roc_auc_diff_ci" in saved["vs_baselines"]["tfidf_lr"]
    blob = bytearray((out / "model.skops").read_bytes())
    blob[-10] ^= 0xFF
    (out / "model.skops").write_bytes(bytes(blob))
    r = runner.invoke(app, ["evaluate", str(out), str(test)])
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and "sha256" in r.stderr and r.stderr.count("\n") == 1


def test_cli_train_bad_input(tmp_path):
    from imr_ml.cli import app

    r = CliRunner().invoke(app, ["train", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "m")])
    assert r.exit_code == 2 and "no such file" in r.stderr


def test_real_pipeline_trains_saves_and_loads_under_the_allow_list(tmp_path):
    from imr_ml.modeling.estimator.pipeline import build_pipeline
    from imr_ml.modeling.modelfiles.modelio import load_model_dir

    rows = make_rows(16, seed=3)
    res = T.train(rows, TrainOptions(n_splits=3, grid=({"prior_weight": 1.0},), estimate=False, calibration="sigmoid"))
    names = res.manifest["features"]["names"]
    assert any(n.startswith("signal__") for n in names) and any(n.startswith("rule__") for n in names)
    assert not any("__tfidf__" in n for n in names)  # words are off by default
    assert isinstance(fitted_pipeline(res.model), type(build_pipeline()))
    # the feature cache used while fitting is not part of the saved model
    assert res.model.estimator.memory is None and fitted_pipeline(res.model).memory is None
    d = T.save(res, tmp_path / "m")
    loaded = load_model_dir(d, with_baselines=True)
    X = to_frame(canonical_rows(rows))
    np.testing.assert_allclose(loaded.model.predict_proba(X), res.model.predict_proba(X))
    assert {"knowledge_only", "data_only", "tfidf_lr"} <= set(loaded.baselines)


def test_auto_calibration_keeps_the_models_own_probabilities_below_100_overturned_items():
    y = np.array([1] * 99 + [0] * 900)
    assert calibration_method(TrainOptions(), y) == "none"
    assert calibration_method(TrainOptions(), np.append(y, 1)) == "sigmoid"
    assert calibration_method(TrainOptions(calibration="isotonic"), y) == "isotonic"
    res = T.train(make_rows(16, seed=3), TrainOptions(n_splits=3, estimate=False, baselines=False))
    assert res.model is fitted_pipeline(res.model) and res.manifest["calibration"]["method"] == "none"


def test_too_few_overturned_items_keep_the_pipeline_defaults():
    rows = make_rows(40)
    opts = TrainOptions(**{**FAST, "min_positives_to_select": 10_000})
    params, table = select_params(to_frame(rows), labels(rows), letter_groups(rows), opts, factory())
    assert params == {} and "defaults kept" in table[0]["note"]
    params, _ = select_params(to_frame(rows), labels(rows), letter_groups(rows), TrainOptions(**FAST), factory())
    assert "prior_weight" in params


def test_cli_progress_display_is_a_training_reporter():
    from imr_ml.cli.display import progress

    with progress(True) as bar:
        T.train(make_rows(), TrainOptions(estimate=False, grid=({"prior_weight": 1.0},), n_splits=3, baselines=False),
                factory=factory(), reporter=bar)
        task = bar.progress.tasks[-1]
        assert task.description == "fitting the final model" and task.completed == task.total == 1
        bar.update(5, total=10)
        assert (bar.progress.tasks[-1].completed, bar.progress.tasks[-1].total) == (5, 10)


def test_evaluate_reports_letter_bootstrap_intervals_and_paired_differences(trained):
    from imr_ml.modeling.evaluation.metrics import METRICS
    from imr_ml.reporting.evaluation_text import format_evaluation

    _, _, d = trained
    rep = T.evaluate(d, make_rows(30, seed=7))
    for s in (rep, *rep["baselines"].values()):
        for m in METRICS:
            if s[m] is not None:
                lo, hi = s[f"{m}_ci"]
                assert lo <= s[m] <= hi
    assert set(rep["vs_baselines"]) == set(rep["baselines"])
    d_ = rep["vs_baselines"]["base_rate"]
    assert d_["roc_auc_diff"] == pytest.approx(rep["roc_auc"] - 0.5)
    assert d_["roc_auc_diff_ci"][0] <= d_["roc_auc_diff"] <= d_["roc_auc_diff_ci"][1]
    assert "average_precision_diff_ci" in d_
    json.dumps(rep, allow_nan=False)
    text = format_evaluation(rep)
    assert f"{rep['roc_auc']:.3f} [{rep['roc_auc_ci'][0]:.2f}, {rep['roc_auc_ci'][1]:.2f}]" in text
    assert "model - baseline" in text


def test_train_estimate_carries_pooled_intervals_to_manifest_card_and_cli(trained):
    from imr_ml.cli.train import summary_lines, train_summary
    from imr_ml.modeling.modelfiles.modelio import read_manifest

    _, res, d = trained
    pooled = res.manifest["cv"]["pooled"]["overall"]
    for name in ("model", "base_rate", "tfidf_lr"):
        lo, hi = pooled[name]["roc_auc_ci"]
        assert lo <= pooled[name]["roc_auc"] <= hi and pooled[name]["brier_ci"] is not None
    m = pooled["model"]
    shown = f"{m['roc_auc']:.3f} [{m['roc_auc_ci'][0]:.2f}, {m['roc_auc_ci'][1]:.2f}]"
    assert shown in (d / "MODEL_CARD.md").read_text()
    # what `imr-ml train` prints from the saved manifest (`--json`, then the terminal's lines)
    manifest = read_manifest(d)
    out = json.loads(json.dumps(train_summary(str(d), manifest)))
    assert len(out["cv"]["model"]["roc_auc_ci"]) == 2 and out["cv"]["model"]["roc_auc"] is not None
    assert out["cv_pooled"]["model"]["ece_ci"] == out["cv"]["model"]["ece_ci"]
    text = "\n".join(summary_lines(out, manifest))
    assert "pooled out-of-fold" in text and "] " in text


def test_training_forecast_grows_with_rows_and_fits():
    rows = canonical_rows(make_rows(40))
    T.forecast_seconds(rows, TrainOptions(estimate=False))  # first-time work (imports, compiles) untimed
    one = T.forecast_seconds(rows, TrainOptions(estimate=False))
    more = T.forecast_seconds(rows * 5, TrainOptions(n_splits=5))
    assert 0 < one < more
