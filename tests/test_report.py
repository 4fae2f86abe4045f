"""The report (`imr-ml report`): what a claims manager reads. (The explanation page:
tests/test_result_pages.py.)"""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from imr_ml.cli import app

runner = CliRunner()
IMAGE = re.compile(r"<img src='data:image/png;base64,[A-Za-z0-9+/=]+'")


def _report(*args) -> str:
    res = runner.invoke(app, ["report", *map(str, args)])
    assert res.exit_code == 0, res.output
    return res.output


def test_cv_predictions_are_saved_listed_and_hashed(cv_model):
    from imr_ml.modeling.modelio import load_cv_predictions, load_model_dir

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
    assert len(data["findings"]) == 5 and data["performance"]["metrics"]["roc_auc_ci"]
    assert all(e["odds_ratio_ci"][0] <= e["odds_ratio"] <= e["odds_ratio_ci"][1] for e in data["effects"])
    assert all(b["observed_ci"][0] <= b["observed_rate"] <= b["observed_ci"][1] and b["n"] >= 40
               for b in data["calibration"]["bins"])
    assert all(c["top_fifth_lift"] is None for c in data["categories"] if c["n_overturned"] < 5)


def test_report_with_a_corpus_and_without_cv(demo_model, tmp_path):
    model_dir, test_rows = demo_model
    corpus = tmp_path / "test.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in test_rows))
    _report(model_dir, "--corpus", corpus, "--out", tmp_path / "rep")
    page = (tmp_path / "rep" / "report.html").read_text()
    assert [p.name for p in (tmp_path / "rep").iterdir()] == ["report.html"]
    assert len(IMAGE.findall(page)) >= 5 and "permutation" in page and "held-out corpus" in page
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
    import imr_ml.cli.report as cli_report

    monkeypatch.setattr(cli_report, "browser", lambda: None)
    res = runner.invoke(app, ["report", "builtin", "--out", str(tmp_path / "b.html"), "--pdf"])
    assert res.exit_code == 2 and "chromium" in res.output and not (tmp_path / "b.html").exists()


# ----------------------------------------------------------------------------- explain page
