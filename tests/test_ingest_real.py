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
