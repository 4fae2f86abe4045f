"""The two pages that show a scored request, the web app's result page and `imr-ml explain
--html`, are one renderer (imr_ml.reporting.result_view): the same P, steps and words for the
same request; the waterfall ends at the P of the headline; words never call P < 0.5 "likely
overturned"; the page is a printable record."""

from __future__ import annotations

import csv
import io
import json
import re
import warnings

import pytest
from typer.testing import CliRunner

from imr_ml.cli import app
from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.reporting.explain import explain_rows
from imr_ml.reporting.explain_page import explanation_html
from imr_ml.reporting.result_view import word_span
from imr_ml.scoring.examples import EXAMPLES
from imr_ml.scoring.precedents import with_precedents
from imr_ml.scoring.score import request_row

runner = CliRunner()
FIELDS = ("summary", "item", "claims_admin_guideline", "date_of_injury", "ur_denial_date")
SUMMARY = ("58F, fell at work 3/2015. R shoulder pain and weakness, drop arm test positive. XR negative. "
           "Failed 6 weeks of PT and NSAIDs. <script>alert(1)</script> Orthopedist recommends MRI.")
SECTION = re.compile(r"<section class=\"result\" id=\"[^\"]*\"(.*?)</section>", re.S)
SCORED = re.compile(r"<tr><th>Scored</th><td>[^<]*</td></tr>")


def _explained(pairs, model="builtin"):
    return explain_rows(load_model_dir(model), [request_row(s, i) for s, i in pairs])


def _section(page: str) -> str:
    """The result section of a page, its time of scoring left out."""
    return SCORED.sub("", SECTION.search(page).group(1))


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    from imr_ml.web.app import create_app

    return TestClient(create_app("builtin", form_secret="t"), base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_web_page_and_explain_page_show_the_same_result(client, example):
    form = {k: example[k] for k in FIELDS}
    web = client.post("/", data=form | {"csrf_token": "t"}).text
    row = request_row(*(example[k] for k in ("summary", "item", "claims_admin_guideline", "date_of_injury",
                                             "ur_denial_date")))
    loaded = load_model_dir("builtin")
    page = explanation_html(list(with_precedents(loaded, [row], explain_rows(loaded, [row]))))  # as explain shows it
    assert _section(web) == _section(page) and 'id="no-precedents"' in _section(page)
    steps = re.findall(r"<tr class=\"(?:start|step|rest|end)", _section(page))
    assert len(steps) >= 3 and "id=\"p-overturned\"" in _section(page)


def test_the_waterfall_ends_at_the_p_of_the_headline_and_adds_up():
    """The issue's case: the explain page's waterfall ended at the uncalibrated P under the
    calibrated headline. Checked on a calibrated (trained) model's results too, below."""
    [r] = _explained([(SUMMARY, "MRI right shoulder")])
    steps = r["waterfall"]
    assert steps[0]["p"] == r["baseline"]["p"] and steps[-1]["p"] == r["p_overturned"]
    assert steps[-2]["p"] == pytest.approx(r["p_overturned"], abs=1e-4)
    changes = [s["change"] for s in steps if s["change"] is not None]
    assert r["baseline"]["logit"] + sum(changes) == pytest.approx(r["logit"], abs=1e-6)
    page = explanation_html([r])
    headline = re.search(r'id="p-overturned">([^<]+)<', page).group(1)
    last = re.findall(r'<td class="num">(?:<strong>)?([^<]+%)(?:</strong>)?</td>\s*</tr>', page)[-1]
    assert headline == last


def test_a_calibrated_model_s_waterfall_ends_at_its_calibrated_p(demo_model):
    from imr_ml.modeling.estimator.model import scoring_model

    loaded = load_model_dir(demo_model[0])
    results = explain_rows(loaded, [request_row(e["summary"], e["item"]) for e in EXAMPLES])
    calibrate = scoring_model(loaded.model).calibrate
    for r in results:
        raw = 1 / (1 + pow(2.718281828459045, -r["logit"]))
        assert r["waterfall"][-2]["p"] == pytest.approx(r["p_overturned"], abs=1e-4)
        assert r["waterfall"][0]["p"] == pytest.approx(float(calibrate([r["baseline"]["logit"]])[0]), abs=1e-4)
        if abs(raw - r["p_overturned"]) > 1e-3:  # calibration moved P: the path follows it
            assert r["waterfall"][-2]["p"] != pytest.approx(raw, abs=1e-4)


def test_user_text_is_escaped_and_highlights_are_whole_words_numbered_as_steps():
    [r] = _explained([(SUMMARY, "MRI right shoulder")])
    page = explanation_html([r])
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    numbers = {str(s["n"]) for s in r["waterfall"] if s["n"]}
    marks = re.findall(r"<mark class=\"(?:up|down)\">([^<]*)<sup>(\d+)</sup></mark>", page)
    assert marks and {n for _, n in marks} <= numbers
    text = r["inputs"]["summary"]
    for piece, _ in marks:
        if piece in text:
            start = text.index(piece)
            assert word_span(text, start, start + len(piece)) == (start, start + len(piece))


def test_explain_batch_page_is_sorted_with_an_index_and_abstention_explained():
    results = _explained([(SUMMARY, "MRI right shoulder"), ("knee hurts", "MRI left knee"),
                          ("Chronic low back pain for three years despite therapy and medication; "
                           "no functional improvement after 12 acupuncture visits.", "Acupuncture x12")])
    page = explanation_html(results)
    anchors = re.findall(r"<a href=\"#(item-\d+)\">", page)
    assert anchors == ["item-1", "item-2", "item-3"] and all(f'id="{a}"' in page for a in anchors)
    shown = [float(v) for v in re.findall(r'<td class="num">([\d.]+)% \(about', page)]
    assert shown == sorted(shown, reverse=True) and len(shown) == 2
    assert "Not scored:" in page and "What to add:" in page and "clinical summary" in page
    assert page.index("MRI left knee</span></h2>") > page.index("MRI right shoulder</span></h2>")  # abstained last
    assert "No request was given" in explanation_html([])


def test_the_page_is_a_printable_record():
    [r] = _explained([(SUMMARY, "MRI right shoulder")])
    page = explanation_html([r], when="2031-01-02 09:30 PST")
    record = re.search(r'<table class="record" id="record">(.*?)</table>', page, re.S).group(1)
    assert r["record_id"] in record and "2031-01-02 09:30 PST" in record
    assert "imr-ml built-in model (imr-ml " in record
    for label in ("Requested treatment", "Clinical summary", "Other items of the same application",
                  "Guideline the claims administrator cited", "Date of injury", "UR decision date"):
        assert f"<th>{label}</th>" in record
    assert "@media print" in page


def test_the_interval_is_explained_and_nothing_missing_is_said():
    periop = EXAMPLES[1]
    [r] = _explained([(periop["summary"], periop["item"])])
    page = explanation_html([r])
    assert re.search(r'id="interval-meaning">The range [\d.]+%–[\d.]+% is how sure the model is', page)
    assert r["hints"] == [] and 'id="nothing-missing"' in page and "Nothing missing found." in page


def _outputs(tmp_path, model: str, example: dict) -> dict[str, str]:
    """Every output of one request: CLI text and JSON, explain text, JSON and HTML, CSV."""
    req = ["--item", example["item"], "--guideline", example["claims_admin_guideline"]]
    out = {}
    for name, args in (("score text", ["score", model, *req]), ("score json", ["score", model, *req, "--json"]),
                       ("explain text", ["explain", model, *req, "--html", str(tmp_path / "e.html")]),
                       ("explain json", ["explain", model, *req, "--json"])):
        res = runner.invoke(app, args, input=example["summary"])
        assert res.exit_code == 0, res.output
        out[name] = res.stdout
    out["explain html"] = (tmp_path / "e.html").read_text()
    requests = tmp_path / "r.csv"
    requests.write_text('summary,item\n"' + example["summary"] + '",' + example["item"] + "\n")
    assert runner.invoke(app, ["score", model, str(requests), "--out", str(tmp_path / "s.csv")]).exit_code == 0
    out["csv"] = (tmp_path / "s.csv").read_text()
    return out


def test_no_output_calls_a_flagged_request_below_half_likely_overturned(tmp_path, client):
    """The issue's case: at 33.5% (flagged: above the 16.8% cut-off) every output said
    "likely overturned"."""
    example = EXAMPLES[1]
    out = _outputs(tmp_path, "builtin", example)
    [scored] = [json.loads(out["score json"])]
    assert scored["flagged"] and scored["p_overturned"] < 0.5 and scored["verdict"] == "likely upheld"
    out["web page"] = client.post("/", data={k: example[k] for k in FIELDS} | {"csrf_token": "t"}).text
    for name, text in out.items():
        assert not re.search(r"likely overturn|decision\W+overturned", text, re.I), name
    assert "Flagged: better chance than most" in out["score text"] and "about 1 in 3" in out["score text"]
    [row] = list(csv.DictReader(io.StringIO(out["csv"])))
    assert row["verdict"] == "likely upheld" and row["flagged"] == "True" and "decision" not in row


def test_a_trained_model_s_flag_states_its_measured_precision_and_recall(cv_model, tmp_path):
    from imr_ml.modeling.evaluation.operating_point import operating_point

    manifest = json.loads((cv_model / "manifest.json").read_text())
    measured = manifest["threshold"]["operating_point"]
    cv = json.loads((cv_model / "cv_predictions.json").read_text())
    again = operating_point(cv["y"], cv["p"], manifest["threshold"]["value"], groups=cv["letter"])
    # the manifest's figures are those of the saved out-of-fold predictions, the report's too
    assert {k: measured[k] for k in again} == again
    out = _outputs(tmp_path, str(cv_model), EXAMPLES[1])
    flag = json.loads(out["score json"])["flag"]
    assert flag["measured"]["flagged"] == measured["flagged"]
    sentence = f"Of the {measured['flagged']} held-out requests it flagged, {measured['flagged_overturned']} " \
               "were overturned"
    assert sentence in out["score text"] and sentence in out["explain html"]
