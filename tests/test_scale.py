"""What a long batch keeps: memos of a fixed size that count their hits, a word index whose
cost does not grow with the words it remembers, CSV requests read as they are scored and
results printed as they come (issue #24). Speed itself is measured by
`experiments/bench_score.py`, not here."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from imr_ml.cli import app
from imr_ml.featurize import feature_blocks
from imr_ml.modeling.estimator.model import fitted_pipeline
from imr_ml.modeling.modelfiles.modelio import load_model_dir
from imr_ml.scoring.requests_io import CsvRequests, UnreadableInput
from imr_ml.scoring.score import request_row, score_rows
from imr_ml.signals import clear_caches, load_rules
from imr_ml.signals.rules import Memo

NOTE = ("{n}yo F cashier, low back pain since 2015. Had 6 acupuncture visits without functional improvement. "
        "Takes Norco 10/325 tid. Off work. PTP Dr. Vel{n}. Requesting more acupuncture.")


def _write_csv(path, rows, header=("summary", "item", "ur_decision")):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_memo_keeps_its_size_and_counts_hits():
    memo = Memo(2)
    for k in "abc":
        memo.put(k, k.upper())
    assert len(memo) == 2 and memo.get("a") is None and memo.get("c") == "C"
    assert (memo.hits, memo.misses) == (1, 1)
    memo.clear()
    assert (len(memo), memo.hits, memo.misses) == (0, 0, 0)


def test_word_index_remembers_a_text_s_words_once():
    clear_caches()
    engine = load_rules().engine
    doc = engine.document(NOTE.format(n=41))
    index = engine.index
    assert index.missed > 0 and index.keyed_words == set(index.candidates)
    missed = index.missed
    again = engine.document(NOTE.format(n=41))
    assert index.missed == missed  # every word of the text is known now
    assert {m: again.spans(m) for m in engine.matchers} == {m: doc.spans(m) for m in engine.matchers}



def test_a_longer_word_is_tried_only_by_patterns_it_can_open():
    from imr_ml.text.matcher import LiteralPositions, Matcher, lower_text
    from imr_ml.text.wordindex import WordIndex

    closed, open_ = Matcher([r"\bno (pain|relief)"]), Matcher([r"\bno\w*"])
    index = WordIndex([closed, open_])
    text = "Notes: no relief. Nothing helps, no pain at night; NO PAIN."
    low = lower_text(text)
    _, found = index.find(low)
    assert [m for ms, _, _ in index.candidates["notes"] for m in ms] == [open_]  # no literal "no " in "notes"
    assert {m for ms, _, _ in index.candidates["no"] for m in ms} == {closed, open_}
    for m in (closed, open_):  # the same spans as the matcher finds without the index
        assert m.spans(LiteralPositions(low), found.get(m, [])) == m.spans(LiteralPositions(low))
    assert [low[s:e] for s, e in closed.spans(LiteralPositions(low), found[closed])] == ["no relief", "no pain",
                                                                                         "no pain"]


def test_a_pattern_searched_in_windows_finds_what_a_scan_of_each_window_finds():
    from imr_ml.signals.attribution import treatment_term

    rules = load_rules()
    rx = treatment_term(rules)
    doc = rules.engine.document("Had 6 PT and acupuncture x8, no change. On Norco and Lyrica; TENS unit failed. "
                                "Chiropractic care helped. Physical therapy 2x6 requested.")
    n = len(doc.low)
    for a, b in [(0, n), (0, 20), (4, 9), (10, 60), (40, n), (75, 76)] * 2:  # the second round reads the memo
        assert [m.span() for m in doc.finditer(rx, a, b)] == [m.span() for m in rx.finditer(doc.low, a, b)]
    assert [m.span() for m in doc.finditer(rx, 10, 60)]  # the windows do hold treatments

def test_scoring_reads_the_row_cache_but_does_not_fill_it():
    loaded = load_model_dir("builtin")
    step = feature_blocks(fitted_pipeline(loaded.model)["features"])["structured"]
    rows = [request_row(NOTE.format(n=n), "Acupuncture x6") for n in range(20, 40)]
    clear_caches()
    vectors = load_rules().memos.vectors
    scored = [r["p_overturned"] for r in score_rows(loaded, rows)]
    assert len(vectors) == 0 and vectors.misses == len(rows)  # each row is scored once: nothing kept
    step.transform(rows[:5])  # outside scoring (training, refits), rows are remembered
    assert len(vectors) == 5
    assert [r["p_overturned"] for r in score_rows(loaded, rows)] == scored
    assert vectors.hits == 5


def test_csv_requests_are_counted_and_checked_before_they_are_read(tmp_path):
    rows = [(NOTE.format(n=n), "Acupuncture x6", "denied") for n in range(30, 33)]
    path = _write_csv(tmp_path / "claims.csv", rows[:2] + [(), rows[2]])  # a blank line, skipped
    requests = CsvRequests(str(path))
    assert len(requests) == 3
    got = list(requests)
    assert [r["letter_id"] for r in got] == ["row1", "row2", "row3"] and got == list(requests)
    bad = _write_csv(tmp_path / "bad.csv", rows[:2] + [(NOTE.format(n=9), "MRI", "maybe")])
    with pytest.raises(ValueError, match=r"bad.csv row 3: UR decision 'maybe'"):
        CsvRequests(str(bad))


def test_csv_that_changes_while_it_is_read_is_one_line(tmp_path):
    path = _write_csv(tmp_path / "claims.csv", [(NOTE.format(n=30), "MRI", "")])
    requests = CsvRequests(str(path))
    path.write_bytes(b"summary,item\n\xff\xfe,MRI\n")
    with pytest.raises(UnreadableInput, match="claims.csv is not utf-8-sig text"):
        list(requests)


def test_score_prints_a_json_list_as_results_come(tmp_path):
    path = _write_csv(tmp_path / "claims.csv", [(NOTE.format(n=n), "Acupuncture x6", "") for n in range(50, 54)])
    res = CliRunner().invoke(app, ["score", "builtin", str(path), "--json"])
    assert res.exit_code == 0, res.output
    from imr_ml.scoring.precedents import with_precedents

    loaded, rows = load_model_dir("builtin"), list(CsvRequests(str(path)))
    expected = list(with_precedents(loaded, rows, score_rows(loaded, rows)))  # the JSON says why there are none
    assert res.stdout == json.dumps(expected, indent=2) + "\n"


def test_bad_row_late_in_a_csv_fails_before_any_work(tmp_path):
    rows = [(NOTE.format(n=n), "Acupuncture x6", "") for n in range(60, 64)] + [(NOTE.format(n=1), "MRI", "perhaps")]
    path = _write_csv(tmp_path / "claims.csv", rows)
    out = tmp_path / "scores.csv"
    res = CliRunner().invoke(app, ["score", "builtin", str(path), "--out", str(out)])
    assert res.exit_code == 2 and "row 5: UR decision 'perhaps'" in res.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv"]
