"""Ingest against the real letters in ../shared (skipped when they are absent)."""

import json
import re

from conftest import REAL_LABELS


def test_reproduces_every_item_and_decision(real_rows):
    rows, skipped = real_rows
    labels = [json.loads(x) for x in REAL_LABELS.read_text().splitlines()]
    assert skipped == []
    got = [(r["letter_id"], r["item_index"], r["decision"]) for r in rows]
    assert got == [(x["case_number"], x["index"], x["decision"].lower()) for x in labels]
    # labels.jsonl names partial authorisations by their whole heading (item_full)
    same = sum(x["item"] in (r["item"], r["item_full"]) for x, r in zip(labels, rows))
    assert same / len(labels) >= 0.98


def test_pre_decision_fields_are_clean(real_rows):
    rows, _ = real_rows
    for r in rows:
        pre = " ".join(str(r[k] or "") for k in ("summary", "item", "claims_admin_guideline", "original_request"))
        assert not re.search(r":\s*(upheld|overturned)\b|decision rationale|MAXIMUS guideline|"
                             r"Final Determination Letter|IMR ISSUES", pre, re.I), r["letter_id"]
        assert r["reviewer_guideline"] not in r["summary"]
        assert r["rationale"][-60:] not in r["summary"]
        assert r["date_of_injury"] and r["ur_denial_date"]


def test_no_letter_is_dropped_when_its_last_sentence_has_no_full_stop(real_rows):
    """Issue #21: a real letter whose last rationale ends "... is not medically necessary"
    without a period was skipped as cut mid-sentence. Every real letter, its last period
    removed, still reads whole (at most with a warning)."""
    from imr_ml.letters.ingest import parse_text
    from imr_ml.letters.textract import read_text

    rows, _ = real_rows
    last: dict[str, dict] = {}
    for r in rows:
        last[r["source"]] = r
    for source, r in last.items():
        text = read_text(source)
        words = r["rationale"].split()[-3:]
        ends = list(re.finditer(r"\s+".join(map(re.escape, words)), text))
        assert ends and ends[-1].group().endswith("."), r["letter_id"]
        cut = text[: ends[-1].end() - 1] + text[ends[-1].end():]
        got = parse_text(cut, source)
        assert len(got) == r["item_index"] + 1, r["letter_id"]
        assert got[-1]["rationale"] == r["rationale"][:-1]
