import json

import pytest
from typer.testing import CliRunner

from imr_ml.cli import app
from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.scoring.examples import EXAMPLES
from imr_ml.scoring.score import request_row, score_rows

runner = CliRunner()


def _example_rows():
    return [request_row(e["summary"], e["item"], e["claims_admin_guideline"], e["date_of_injury"],
                        e["ur_denial_date"]) for e in EXAMPLES]


def test_letter_item_scores_like_the_same_facts_typed_as_a_request(demo_model):
    model_dir, test_rows = demo_model
    loaded = load_model_dir(model_dir)
    row = next(r for r in test_rows if len(r["summary"].split()) > 30 and r["other_items"])
    typed = request_row(row["summary"], row["item"], row["claims_admin_guideline"], row["date_of_injury"],
                        row["ur_denial_date"])
    typed.update(original_request=row["original_request"], authorized_portion=row["authorized_portion"],
                 retrospective=row["retrospective"], other_items=row["other_items"])
    a, b = score_rows(loaded, [row, typed])
    assert a["p_overturned"] == b["p_overturned"] and a["reasons"] == b["reasons"]


def test_scores_equal_the_models_own_predict_proba(demo_model):
    from imr_ml.featurize import to_frame

    model_dir, test_rows = demo_model
    loaded = load_model_dir(model_dir)
    rows = test_rows[:60]
    expected = loaded.model.predict_proba(to_frame(rows))[:, 1]
    got = [r["p_overturned"] for r in score_rows(loaded, rows)]
    assert got == pytest.approx([None if g is None else round(float(e), 4) for g, e in zip(got, expected)], abs=1e-4)
    assert sum(g is not None for g in got) > 40


def test_results_have_probability_reasons_with_evidence_and_hints(demo_model):
    loaded = load_model_dir(demo_model[0])
    upheld, overturned = score_rows(loaded, _example_rows())
    assert 0 <= upheld["p_overturned"] < overturned["p_overturned"] <= 1
    assert upheld["verdict"] == "likely upheld" and not upheld["flagged"] and overturned["flagged"]
    assert upheld["reasons"]
    assert all({"feature", "label", "contribution", "evidence"} <= set(r) for r in upheld["reasons"])
    with_text = [ev for r in upheld["reasons"] for ev in r["evidence"]]
    assert with_text and all(ev["text"] for ev in with_text)
    assert any("functional improvement" in h for h in upheld["hints"])


def test_thin_input_abstains(demo_model):
    loaded = load_model_dir(demo_model[0])
    short, unknown = score_rows(loaded, [request_row("Back pain.", "Acupuncture x6"),
                                         request_row(EXAMPLES[0]["summary"], "Zzyzx frobnication")])
    assert short["abstained"] and short["p_overturned"] is None and "too little clinical content" in short["reason"]
    assert unknown["abstained"] and "unknown item" in unknown["reason"]


def test_a_short_note_with_a_finding_is_scored_and_one_without_abstains():
    """A typed note states one decisive fact in a few words: a note of six words or more is scored,
    a shorter one when the model reads a finding in it (an age or a body region alone is not one),
    and under three words nothing is scored."""
    loaded = load_model_dir("builtin")
    fact, note, bare, region, two = score_rows(loaded, [
        request_row("knee OA, h/o GI bleed", "Celebrex 200 mg #30"),
        request_row("55 yo F, chronic LBP, no TENS trial done.", "TENS unit purchase"),
        request_row("60 yo F", "Celebrex 200 mg #30"),
        request_row("pain, left knee", "MRI knee"),
        request_row("failed PT", "PT x6")])
    for scored in (fact, note):
        assert not scored["abstained"] and 0 < scored["p_overturned"] < 1
    for thin in (bare, region, two):
        assert thin["abstained"] and "too little clinical content" in thin["reason"]


def test_cli_score_request_from_stdin_csv_and_corpus(demo_model, tmp_path):
    model_dir, test_rows = demo_model
    res = runner.invoke(app, ["score", str(model_dir), "--item", EXAMPLES[0]["item"], "--json"],
                        input=EXAMPLES[0]["summary"])
    assert res.exit_code == 0, res.output
    assert 0 <= json.loads(res.stdout)["p_overturned"] <= 1
    csv = tmp_path / "r.csv"
    csv.write_text('summary,item\n"' + EXAMPLES[1]["summary"] + '",' + EXAMPLES[1]["item"] + "\n")
    res = runner.invoke(app, ["score", str(model_dir), str(csv), "--json"])
    assert res.exit_code == 0 and len(json.loads(res.stdout)) == 1
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in test_rows[:20]))
    res = runner.invoke(app, ["score", str(model_dir), str(corpus), "--out", str(tmp_path / "s.jsonl")])
    assert res.exit_code == 0
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 20


@pytest.mark.parametrize("args, message", [
    (["score", "MODEL", "--item", "MRI"], "too little"),
    (["score", "MODEL", "nope.csv"], "cannot read"),
    (["score", "/no/such/model", "--item", "MRI"], "model"),
])
def test_cli_score_errors_are_one_line(demo_model, args, message):
    args = [str(demo_model[0]) if a == "MODEL" else a for a in args]
    res = runner.invoke(app, args, input="")
    if message == "too little":  # an empty summary is scored as an abstention, not an error
        assert res.exit_code == 0 and "abstained" in res.output
        return
    assert res.exit_code == 2 and "Traceback" not in res.output and message in res.output.lower()


def test_explain_groups_contributions_and_writes_html(demo_model, tmp_path):
    res = runner.invoke(app, ["explain", str(demo_model[0]), "--item", EXAMPLES[0]["item"], "--json",
                              "--html", str(tmp_path / "e.html")], input=EXAMPLES[0]["summary"])
    assert res.exit_code == 0, res.output
    (r,) = json.loads(res.stdout)
    groups = r["explanation"]["groups"]
    assert {"rule", "signal", "field", "item"} <= set(groups)
    # the baseline and the grouped contributions add up to the linear model's log-odds
    from imr_ml.featurize import to_frame
    from imr_ml.modeling.estimator.model import fitted_pipeline

    pipe = fitted_pipeline(load_model_dir(demo_model[0]).model)
    row = request_row(EXAMPLES[0]["summary"], EXAMPLES[0]["item"])
    total = r["baseline"]["logit"] + sum(g["total"] for g in groups.values())
    assert total == pytest.approx(pipe.decision_function(to_frame([row]))[0], abs=1e-6)
    page = (tmp_path / "e.html").read_text()
    assert "<mark" in page and "Missing documentation" in page and "Starting point: a request for" in page


def test_contributions_add_up_to_the_logit_and_the_interval_holds_p(demo_model):
    """For every scored item: baseline.logit + sum(contributions) == logit (1e-6), the
    calibrated P lies in its 90% interval, the baseline is the category's bare request and
    no feature that equals its baseline value is listed."""
    from imr_ml.modeling.estimator.model import scoring_model

    model_dir, rows = demo_model
    loaded = load_model_dir(model_dir)
    calibrate = scoring_model(loaded.model).calibrate
    scored = [r for r in score_rows(loaded, rows + _example_rows()) if not r["abstained"]]
    assert len(scored) > 100
    for r in scored:
        assert r["baseline"]["logit"] + sum(c["contribution"] for c in r["contributions"]) == pytest.approx(
            r["logit"], abs=1e-6)
        lo, hi = r["interval"]
        assert lo <= r["p_overturned"] <= hi and lo < hi
        assert r["p_overturned"] == pytest.approx(float(calibrate([r["logit"]])[0]), abs=1e-4)
        # both sides are rounded (P to 4 decimals): compare to that precision
        assert r["relative_risk"] == pytest.approx(r["p_overturned"] / r["category_rate"], rel=0.05, abs=2e-3)
        assert all(c["contribution"] != 0 for c in r["contributions"])
        names = {c["feature"] for c in r["contributions"]}
        assert f"item__category__{r['category']}" not in names and "field__category_prior" not in names
        assert r["reasons"] == r["contributions"][:5]
        # the verdict is P's own (likely overturned only from 0.5); the flag is the operating point's
        assert r["verdict"] == ("likely overturned" if r["p_overturned"] >= 0.5 else
                                "uncertain" if r["p_overturned"] >= 0.4 else "likely upheld")
        if abs(r["p_overturned"] - r["flag"]["threshold"]) > 1e-4:  # P is rounded to 4 places
            assert r["flagged"] == (r["p_overturned"] >= r["flag"]["threshold"])


def test_threshold_comes_from_the_manifest(demo_model):
    from imr_ml.scoring.operating import threshold

    loaded = load_model_dir(demo_model[0])
    assert threshold(loaded) == loaded.manifest["threshold"]["value"] != 0.5


def test_evidence_of_a_word_feature_is_where_the_words_occur():
    from imr_ml.scoring.evidence import evidence_spans, quoted

    def _evidence(name, row, signals):
        return quoted(row, evidence_spans(name, row, signals))

    row = {"summary": "Pain persists. Physical   Therapy helped.", "item": "PT x6"}
    assert _evidence("summary__tfidf__physical_therapy", row, {}) == [
        {"field": "summary", "start": 15, "end": 33, "text": "Physical   Therapy"}]
    assert _evidence("summary__tfidf__absent", row, {}) == []
    assert _evidence("item__category__physical_therapy", row, {})[0]["text"] == "PT x6"
    # the first whole-word occurrence, not a word that merely starts with it; any case; non-ASCII text too
    row = {"summary": "Therapyx, therapy-related; THERAPY helped. Naïve therapy"}
    assert _evidence("summary__tfidf__therapy", row, {})[0]["start"] == 10
    row = {"summary": "Naïve patient: therapists, then Therapy."}
    assert _evidence("summary__tfidf__therapy", row, {})[0]["text"] == "Therapy"


def test_scoring_over_processes_gives_the_same_results_in_order(demo_model):
    model_dir, rows = demo_model
    loaded = load_model_dir(model_dir)
    done = []
    serial = list(score_rows(loaded, rows, batch=20))
    parallel = list(score_rows(loaded, rows, batch=20, n_jobs=2, progress=done.append))
    assert len(rows) > 100 and parallel == serial
    assert done == sorted(done) and done[-1] == len(rows)


def test_ur_decision_and_reason_typed_apart_read_like_a_letter():
    """A typed request that states the UR decision apart scores like a summary that restates it."""
    from imr_ml.signals import extract_signals

    note = "61F, R knee OA. Norco 10/325 TID x 3 yrs, pain 8/10 with and without meds, off work."
    apart = request_row(note, "Norco 10/325 #90", ur_decision="modified", ur_reason="weaning is recommended")
    inline = request_row(note + " Utilization review modified the request, stating that weaning is recommended.",
                         "Norco 10/325 #90")
    assert apart == inline
    assert extract_signals(apart)["ur_modified"].value and extract_signals(apart)["weaning_recommended"].value
    with pytest.raises(ValueError, match="denied or modified"):
        request_row(note, "Norco", ur_decision="maybe")
