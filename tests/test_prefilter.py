"""The engine's prefilters skip work, never change a result: a text rule none of whose target
matchers can match (`Document.may_match`) is not evaluated, and a scanned pattern is scanned
only where one of its `inner_literals` occurs. Compared here with the engine without them, on
synthetic letters, distinct typed requests, hand-made texts that fire the scanned rules, and
the real letters when ../shared is present."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from imr_ml.signals import clear_caches, extract_signals, load_rules
from imr_ml.text import document, matcher
from imr_ml.text.anycase import lower_pattern
from imr_ml.text.literalindex import LiteralIndex
from imr_ml.text.literals import inner_literals, required_literals
from imr_ml.text.matcher import lower_text
from imr_ml.text.negex import rule_spans

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

# texts that reach the rules whose targets are scanned patterns (and near misses)
HAND = [
    "Focal tenderness over the navicular and anatomic snuffbox tenderness after a fall; no "
    "tenderness at the base of the fifth metatarsal. +SLR on the left, + straight leg raise.",
    "Ultrasound and massage only, no active therapy. Sleeps 4 hours a night, 3-4 hrs of sleep. "
    "30 day TENS unit trial requested. ? carpal tunnel vs. cubital tunnel syndrome.",
    "Tender over the patella? Not tender at the malleolus. Snuff box pain denied. E-stim only.",
    "Xtender over the patella tender over the patella; only ultrasound; hours of sleep a night.",
]


def _texts() -> list[str]:
    from distinct_requests import iter_requests

    from imr_ml.synth.generate import iter_letters

    return [*HAND, *(letter for _, letter, _ in iter_letters(6, seed=3)),
            *(row["summary"] for row in iter_requests(120, seed=7))]


@pytest.fixture
def unfiltered(monkeypatch):
    """The engine with both prefilters off: every rule evaluated, every scanned pattern scanned."""
    def off():
        monkeypatch.setattr(document, "PREFILTER", False)
        monkeypatch.setattr(matcher, "SKIP_SCANS", False)
        clear_caches()
    return off


def _all_rule_spans(texts: list[str]) -> list[list]:
    engine = load_rules().engine
    out = []
    for text in texts:
        doc = engine.document(text)
        out.append([rule_spans(doc, rule) for rule in engine.text_rules])
    return out


def _signals(rows: list[dict]) -> list[dict]:
    clear_caches()
    return [{k: (repr(s.value), s.evidence) for k, s in extract_signals(row).items()} for row in rows]


def test_prefilters_never_change_a_rule(unfiltered):
    texts = _texts()
    clear_caches()
    fast = _all_rule_spans(texts)
    assert sum(bool(s) for per_text in fast for s in per_text) > 300  # the rules do fire here
    unfiltered()
    assert _all_rule_spans(texts) == fast


def test_prefilters_never_change_a_row_s_signals(unfiltered):
    from distinct_requests import iter_requests

    rows = [*({"summary": t, "item": "Acupuncture x6"} for t in HAND), *iter_requests(60, seed=9)]
    fast = _signals(rows)
    unfiltered()
    assert _signals(rows) == fast


def test_prefilters_never_change_real_letters(real_rows, unfiltered):
    rows = real_rows[0][:150]
    fast = _signals(rows)
    unfiltered()
    assert _signals(rows) == fast


def test_the_prefilter_rules_out_most_rules():
    """Where it matters: in a typed note most rules have no target, and are ruled out."""
    engine = load_rules().engine
    doc = engine.document("52F, low back pain since 2019, PT x12 helped. Requesting acupuncture x6.")
    possible = [r for r in engine.text_rules if any(doc.may_match(m) for m in r.targets)]
    assert len(possible) < len(engine.text_rules) / 3
    for rule in engine.text_rules:  # a rule ruled out has no target spans indeed
        if rule not in possible:
            assert not any(doc.spans(m) for m in rule.targets), rule.name


def test_inner_literals_occur_in_every_match():
    """Every match of every shipped scanned pattern holds one of its inner literals."""
    from imr_ml.synth.generate import iter_letters

    texts = [lower_text(t) for t in [*HAND, *(letter for _, letter, _ in iter_letters(4, seed=5))]]
    checked = 0
    for m in load_rules().matchers:
        for rx, _, inner in m.scanned:
            if inner is None:
                continue
            for low in texts:
                for hit in rx.finditer(low):
                    if hit.end() > hit.start():
                        checked += 1
                        assert any(lit in hit.group() for lit in inner), (rx.pattern, hit.group(), inner)
    assert checked >= 10


@pytest.mark.parametrize("pattern, expected", [
    (r"(focal |bony )?tender\w* (over|at) the patella\b", (" at the patella", " over the patella")),
    (r"\+ ?(slr|straight[- ]leg)\b", ("slr", "straight leg", "straight-leg")),
    (r"(a|b)?x\w", None),  # no stretch of two characters every match holds
    (r"\w+ing", ("ing",)),  # a stretch after the start
    (r"(?i)abc", None),  # syntax the scan does not read
    (r"\b(smoker|\d+ ?ppd)\b", ("ppd", "smoker")),  # inside each branch of a group every match passes
    (r"(ab|\d+ ?ppd)+x", ("ab", "ppd")),  # a group repeated at least once
    (r"(a|\d+ ?ppd)+x", None),  # a branch ("a") holds no stretch of two
    (r"(ab|cd)?x\w", None),  # an optional group is not passed by every match
])
def test_inner_literals(pattern, expected):
    assert inner_literals(lower_pattern(pattern)) == expected
    if expected:
        for text in ["focal tenderness over the patella", "+slr", "+ straight-leg", "walking"]:
            for hit in re.finditer(pattern, text):
                assert any(lit in hit.group() for lit in expected)


def test_escaped_characters_are_literals():
    """A character written by its code ("\\u2192", an arrow) is a literal like any other; a
    malformed one gives the scan up."""
    assert required_literals(r"pain\u21922") == ("pain\u21922",)
    assert required_literals(r"\x41bc") == ("Abc",)
    assert required_literals(r"\u21") is None
    assert re.match(r"pain\u21922", "pain\u21922")


def test_the_literal_index_finds_every_occurrence():
    """One pass finds what `str.find` from each previous start + 1 finds, overlapping
    occurrences and literals inside others included."""
    lits = ["aa", "aaa", "ab", "no", "non", "on"]
    index = LiteralIndex([*lits, ""])
    for text in ["aaaab no nono non-", "", "xyz", "nonononaa"]:
        found = index.find(text)
        for lit in lits:
            expected = [i for i in range(len(text)) if text.startswith(lit, i)]
            assert found.get(lit, []) == expected, (text, lit)


def test_live_rules_are_the_rules_that_may_match():
    """`Engine.live_rules` leaves out only rules none of whose targets has a span in the text."""
    engine = load_rules().engine
    for text in [*HAND, "52F, low back pain since 2019, PT x12 helped. Smokes 1 ppd. Pain 6/10 -> 3/10."]:
        doc = engine.document(text)
        live = engine.live_rules(doc)
        assert live is not None and len(live) < len(engine.text_rules)
        for rule in engine.text_rules:
            assert (rule in live) == any(doc.may_match(m) for m in rule.targets), rule.name
            if rule not in live:
                assert not any(doc.spans(m) for m in rule.targets), rule.name


def test_scanned_patterns_tried_at_their_openings_match_as_finditer():
    """`scanned_matches` gives what `finditer` gives, for every scanned pattern of the rules and
    hand-made ones whose matches overlap, open with one character or may be empty."""
    from imr_ml.text.literals import opening_literals
    from imr_ml.text.matcher import LiteralPositions, scanned_matches

    engine = load_rules().engine
    patterns = {rx.pattern for m in engine.matchers for rx, _, _ in m.scanned}
    patterns |= {r"(a|ab)b+", r"5[\s/-]*htp|htp\d?", r"x\d?|xx", r"(?<!non-)\bsmok\w*", r"b*c?"}
    texts = [*_texts()[:60], "aabbb abab 5 htp 5-htp htp2 xx1x non-smoker smokes xxxx bbc c"]
    tried = 0
    for pattern in sorted(patterns):
        rx = re.compile(lower_pattern(pattern))
        openings = opening_literals(rx.pattern)
        tried += openings is not None
        for text in texts:
            low = lower_text(text)
            want = [m.span() for m in rx.finditer(low)]
            assert [m.span() for m in scanned_matches(rx, LiteralPositions(low), openings)] == want, pattern
    assert tried >= 10  # most scanned patterns have openings
