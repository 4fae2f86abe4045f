"""The report (`imr-ml report`): what a claims manager reads. (The explanation page:
tests/test_result_pages.py.)"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from imr_ml.cli import app

runner = CliRunner()
IMAGE = re.compile(r"<img src='data:image/png;base64,[A-Za-z0-9+/=]+'")


def _report(*args) -> str:
    res = runner.invoke(app, ["report", *map(str, args)])
    assert res.exit_code == 0, res.output
    return res.output


def test_cv_predictions_are_saved_listed_and_hashed(cv_model):
    from imr_ml.modeling.modelfiles.modelio import load_cv_predictions, load_model_dir

    loaded = load_model_dir(cv_model)
    assert "cv_predictions.json" in loaded.manifest["files"]
    cv = load_cv_predictions(loaded)
    assert len(cv["y"]) == len(cv["p"]) == len(cv["category"]) == len(cv["letter"]) > 100
    assert loaded.manifest["data"]["profile"]["categories"]


def test_report_without_corpus_is_one_page_from_the_cv(cv_model, tmp_path):
    _report(cv_model, "--out", tmp_path / "r.html", "--json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json"]
    page = (tmp_path / "r.html").read_text()
    assert len(IMAGE.findall(page)) >= 4 and not re.search(r"src='(?!data:)", page)  # nothing outside the file
    assert "Executive summary" in page and "out-of-fold" in page and re.search(r"0\.\d\d \[0\.\d\d, 0\.\d\d\]", page)
    for anchor in ("summary", "moves", "calibration", "pr", "categories", "data"):
        assert f"id='{anchor}'" in page
    data = json.loads((tmp_path / "r.json").read_text())
    assert {"findings", "performance", "effects", "calibration", "categories", "knowledge", "trained_on"} <= set(data)
    assert 5 <= len(data["findings"]) <= 7 and data["performance"]["metrics"]["roc_auc_ci"]
    assert all(e["odds_ratio_ci"][0] <= e["odds_ratio"] <= e["odds_ratio_ci"][1] for e in data["effects"])
    # every effect says how many training items it fired on; one on fewer than 10 is the guideline's prior,
    # labelled so and never headlined
    assert all(isinstance(e["n_items"], int) and e["status"] for e in data["effects"])
    for e in data["effects"]:
        assert e["learnt"] == (e["n_items"] >= 10)
        assert e["n_items"] >= 10 or e["status"] in ("guideline prior, not learnt", "too few items to learn from")
        assert e["adjustment"] == pytest.approx(e["coef"] - e["prior"], abs=2e-4)
    headlined = [f for f in data["findings"] if f.startswith("Strongest effect")]
    assert headlined and not any(e["label"] in f for e in data["effects"] if not e["learnt"] for f in headlined)
    # the flag's precision and recall with intervals, and the other cut-offs, on the same predictions
    ops = data["operating_points"]
    assert [o["name"] for o in ops][:2] == ["the model's flag", "P at least 50% (\"likely\")"]
    for o in ops:
        assert o["flagged"] == 0 or o["precision_interval"][0] <= o["precision"] <= o["precision_interval"][1]
    assert "operating points" in page and "the model&#x27;s flag" in page
    assert data["performance"]["top_fifth"]["lift_ci"][0] <= data["performance"]["top_fifth"]["lift"]
    # trained without baselines: nothing to compare, and the page says so rather than inventing a comparison
    assert data["versus"] == [] and "No baseline predictions were kept" in page
    assert any("chosen on the same out-of-fold predictions" in c for c in data["caveats"])
    assert all(b["observed_ci"][0] <= b["observed_rate"] <= b["observed_ci"][1] and b["n"] >= 40
               for b in data["calibration"]["bins"])
    assert all(c["top_fifth_lift"] is None for c in data["categories"] if c["n_overturned"] < 5)
    lifts = [c for c in data["categories"] if c["top_fifth_lift"] is not None]
    assert lifts and all(lo <= c["top_fifth_lift"] <= hi for c in lifts for lo, hi in [c["top_fifth_lift_ci"]])


def test_report_with_a_corpus_and_without_cv(demo_model, tmp_path):
    model_dir, test_rows = demo_model
    corpus = tmp_path / "test.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in test_rows))
    _report(model_dir, "--corpus", corpus, "--out", tmp_path / "rep", "--json")
    page = (tmp_path / "rep" / "report.html").read_text()
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["report.html", "report.json"]
    assert len(IMAGE.findall(page)) >= 5 and "permutation" in page and "held-out corpus" in page
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    # compared on the same letters with the category rates of the training letters and the built-in model
    assert [v["name"] for v in data["versus"]] == ["category_prior", "builtin"]
    for v in data["versus"]:
        for m in ("roc_auc", "average_precision", "brier"):
            d = v["diff"][m]
            assert d["ci"][0] <= d["value"] <= d["ci"][1]
            assert d["value"] == pytest.approx(data["performance"]["metrics"][m] - v["metrics"][m], abs=1e-6)
    assert "same letters" in page and any("On the same letters" in f for f in data["findings"])
    _report(model_dir, "--out", tmp_path / "bare.html")  # no cv, no corpus: still the knowledge and data plots
    bare = (tmp_path / "bare.html").read_text()
    assert len(IMAGE.findall(bare)) >= 4 and "No measured performance" in bare


def test_report_builtin_shows_knowledge_and_no_performance(tmp_path):
    out = _report("builtin", "--out", tmp_path / "b.html", "--json")
    page = (tmp_path / "b.html").read_text()
    assert "no measured performance" in page and "8 CCR" in page and "published" in page
    data = json.loads((tmp_path / "b.json").read_text())
    assert "performance" not in data and data["knowledge"]["rules"] and data["knowledge"]["categories"]
    assert "no measured performance" in out


def test_caveats_name_synthetic_letters_and_the_letters_the_knowledge_was_developed_on():
    from imr_ml.knowledge.provenance import DEVELOPMENT_LETTERS
    from imr_ml.reporting.report_words import caveats

    d = {"trained_on": {"synthetic": True}, "builtin": False}
    ev = {"kind": "corpus", "letters": sorted(DEVELOPMENT_LETTERS)[:3] + ["0000000000000000"]}
    out = caveats(d, ev, corpus_synthetic=True)
    assert out[0].startswith("Synthetic data") and "synthetic too" in out[1]
    assert "3 of the 4 letters measured here are among the 111" in out[2]
    assert caveats({"trained_on": {}, "builtin": False}, {"kind": "corpus", "letters": ["0000000000000000"]}) == []


def test_report_of_synthetic_training_says_so(cv_model, tmp_path):
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.reporting.report import build_report, write_report

    loaded = load_model_dir(cv_model)
    loaded.manifest["data"]["synthetic"] = True
    d = build_report(loaded, corpus_name="<script>x</script>")
    write_report(d, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "<b>synthetic</b> letters" in page and "Synthetic data" in page and "<script>" not in page


def test_report_with_a_corpus_checks_each_rule_against_its_outcomes(synth_rows, tmp_path):
    rows = [dict(r, label=int(r["decision"] == "overturned")) for r in synth_rows[:300]]
    rows[0] = dict(rows[0], item="<script>x</script> MRI of the lumbar spine")  # item text is never rendered raw
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows))
    _report("builtin", "--corpus", corpus, "--out", tmp_path / "r.html", "--json")
    page, data = (tmp_path / "r.html").read_text(), json.loads((tmp_path / "r.json").read_text())
    ro = data["rule_outcomes"]
    assert "id='rule-outcomes'" in page and "<script>" not in page and ro["n_items"] == len(rows)
    live = [r for r in ro["rules"] if r["n_items"]]
    assert live and all(r["rate_ci"][0] <= r["rate"] <= r["rate_ci"][1] for r in live)
    assert all(r["n_overturned"] <= r["n_items"] <= len(rows) for r in live)
    assert ro["headline"]["n_agree"] + ro["headline"]["n_against"] + ro["headline"]["n_level"] == len(live)
    assert _report("builtin", "--out", tmp_path / "b.html") is not None
    assert "rule-outcomes" not in (tmp_path / "b.html").read_text()  # no corpus: no section


def test_report_pdf_without_a_browser_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where no browser is installed
    res = runner.invoke(app, ["report", "builtin", "--out", str(tmp_path / "b.html"), "--pdf"])
    assert res.exit_code == 2 and "chromium" in res.output and not (tmp_path / "b.html").exists()


# ----------------------------------------------------------------------------- explain page
