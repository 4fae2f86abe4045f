import json

from typer.testing import CliRunner

from imr_ml.cli import app
from imr_ml.reasons import find_reasons, reasons_report


def _row(i, item, decision, rationale):
    return {"letter_id": f"L{i}", "item_index": 0, "item": item, "decision": decision,
            "label": int(decision == "overturned"), "rationale": rationale}


ROWS = [
    _row(1, "Acupuncture x6", "upheld", "There was a lack of documentation of objective functional improvement after "
                                        "the earlier visits. Not medically necessary."),
    _row(2, "Acupuncture x12", "upheld", "Twelve visits exceeds the guideline trial of 3 to 6 visits."),
    _row(3, "MRI of the lumbar spine", "upheld", "There were no red flags on examination."),
    _row(4, "Physical therapy x6", "overturned", "The request meets the guideline criteria for a trial."),
]


def test_find_reasons_gives_spans():
    text = ROWS[0]["rationale"]
    found = find_reasons(text)
    s, e = found["no_functional_improvement"]
    assert "functional improvement" in text[s:e]
    assert "no_red_flags" not in found
    assert find_reasons("The worker showed documented functional improvement in lifting.") .keys() \
        .isdisjoint({"no_functional_improvement"})


def test_report_counts_by_category_and_decision():
    rep = reasons_report(ROWS)
    acu = rep["categories"]["acupuncture"]["upheld"]
    assert acu["n_items"] == 2
    assert {r["reason"]: r["count"] for r in acu["reasons"]} == {
        "no_functional_improvement": 1, "exceeds_guideline_quantity": 1, "insufficient_documentation": 1}
    assert rep["categories"]["imaging_mri"]["upheld"]["reasons"][0]["reason"] == "no_red_flags"
    assert rep["categories"]["all"]["overturned"]["reasons"][0]["reason"] == "meets_guideline_criteria"
    ex = rep["examples"]["no_red_flags"][0]
    assert ex["letter_id"] == "L3" and "red flags" in ex["context"]


def test_cli_writes_report_and_refuses_rows_without_rationales(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in ROWS))
    res = CliRunner().invoke(app, ["reasons", str(corpus), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "r" / "reasons.json").read_text())["n_items"] == 4
    assert "| no objective functional improvement" in (tmp_path / "r" / "reasons.md").read_text()
    bare = tmp_path / "bare.jsonl"
    bare.write_text(json.dumps({"item": "MRI", "summary": "pain"}))
    res = CliRunner().invoke(app, ["reasons", str(bare), "--out", str(tmp_path / "r2")])
    assert res.exit_code == 2 and "no decision rationales" in res.output
