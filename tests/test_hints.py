"""Missing-documentation hints and the service checklists (features/hints.toml)."""

import pytest

from imr_ml.scoring.hints import hints_for, load_checks, missing_documentation
from imr_ml.signals import extract_signals


def _missing(summary: str, item: str):
    row = {"summary": summary, "item": item}
    return missing_documentation(extract_signals(row), row)


def _lines(checklist):
    return {c["line"]: c["found"] for c in checklist}


def test_functional_improvement_line_names_the_prior_visits():
    hints, checklist = _missing("Chronic low back pain. She completed 6 acupuncture sessions without "
                                "functional improvement.", "Acupuncture x6 lumbar")
    assert _lines(checklist)["functional improvement from the earlier visits"] is False
    assert any("after the prior 6 acupuncture visits" in h for h in hints)
    hints, checklist = _missing("Chronic low back pain. After 6 acupuncture sessions she can now walk two miles "
                                "and returned to full duty.", "Acupuncture x6 lumbar")
    assert _lines(checklist)["functional improvement from the earlier visits"] is True
    assert not any("prior 6" in h for h in hints)


def test_more_visits_after_many_ask_for_functional_improvement_once():
    """A finding shows once: the checklist asks for the earlier visits' functional improvement, and
    the over-the-trial hint adds only what the checklist does not (the home programme)."""
    summary = "40 yo F, chronic LBP. Req 12 PT visits. Prior PT x24 w/o documented functional improvement."
    hints, _ = _missing(summary, "Physical therapy x12 lumbar")
    assert sum("functional improvement" in h for h in hints) == 1
    hints, _ = _missing("Chronic low back pain. She completed 24 physical therapy visits with improved function: she "
                        "now walks a mile and returned to full duty.", "Physical therapy x12 lumbar")
    assert any("initial trial is behind" in h and "home exercise" in h for h in hints)


def test_numeric_conditions():
    over = hints_for({"category": "physical_therapy", "exceeds_trial": True, "requested_quantity": 12})
    assert any(h.startswith("12 visits exceed") for h in over)
    hints, checklist = _missing("Chronic neck pain, on naproxen daily for a year with some relief.", "Naproxen")
    assert _lines(checklist)["the quantity, frequency and duration requested"] is False
    assert any("quantity, frequency and duration" in h for h in hints)
    hints, checklist = _missing("Chronic neck pain, on naproxen daily for a year with some relief.", "Naproxen #60")
    assert _lines(checklist)["the quantity, frequency and duration requested"] is True
    assert not any("quantity, frequency" in h for h in hints)


def test_imaging_line_found_only_with_a_red_flag_or_deficit():
    item = "MRI of the lumbar spine"
    hints, checklist = _missing("Chronic low back pain, unchanged for two years.", item)
    assert any("red flags" in h for h in hints)
    hints, checklist = _missing("Progressive leg weakness with foot drop and new bowel incontinence since last "
                                "week.", item)
    line = next(c for c in checklist if c["line"].startswith("red flags"))
    assert line["found"] and line["evidence"] and not any("red flags" in h for h in hints)


OPIOID_ITEM = "Norco 10/325 #90"


def test_opioid_with_functional_gains_still_gets_the_monitoring_it_lacks():
    """The issue's case: functional gains but no drug screen or agreement used to get no hint."""
    hints, checklist = _missing("Chronic low back pain since 2012. She takes Norco 10/325 TID. With Norco she is "
                                "able to walk 30 minutes and do housework.", OPIOID_ITEM)
    lines = _lines(checklist)
    assert list(lines)[:5] == ["urine drug screens", "a signed opioid agreement",
                               "a CURES (prescription drug monitoring) report", "functional gain with the drug",
                               "side effects asked about"]  # each its own line
    assert lines["functional gain with the drug"] is True
    assert not any(lines[k] for k in ("urine drug screens", "a signed opioid agreement",
                                      "a CURES (prescription drug monitoring) report", "side effects asked about"))
    assert any("urine drug screens" in h for h in hints) and any("opioid agreement" in h for h in hints)
    assert any("CURES" in h for h in hints) and any("side effects" in h for h in hints)


def test_a_fully_documented_opioid_request_misses_nothing():
    hints, checklist = _missing(
        "Chronic low back pain. She takes Norco 10/325 TID. With Norco she is able to walk 2 miles and do housework at "
        "home. No side effects. UDS 3/2016 consistent, CURES reviewed, opioid agreement signed.", OPIOID_ITEM)
    assert checklist and all(c["found"] for c in checklist) and hints == []
    quotes = {c["line"]: c["evidence"] for c in checklist}
    assert quotes["side effects asked about"] == "No side effects" and quotes["urine drug screens"] == "UDS"


@pytest.mark.parametrize("summary", ["There was no documentation of side effects.",
                                     "Side effects were not documented."])
def test_side_effects_line_needs_side_effects_said(summary):
    _, checklist = _missing("She takes Norco 10/325 TID for chronic back pain. UDS consistent. " + summary,
                            OPIOID_ITEM)
    assert _lines(checklist)["side effects asked about"] is False


def test_checks_name_known_signals_and_a_bad_file_is_refused(tmp_path):
    from imr_ml.knowledge.errors import KnowledgeError
    from imr_ml.signals.check import check_hints

    assert len(load_checks()) >= 10
    check_hints()  # the shipped file's names are all signals
    bad = tmp_path / "hints.toml"
    bad.write_text('[[check]]\nwhen = { category = ["opioid"] }\nfound = { drug_scren = true }\n'
                   'line = "x"\nmissing = "add {prior_sesions}"\n')
    with pytest.raises(KnowledgeError, match=r"hints.toml:3: check #1: found: unknown signal 'drug_scren' "
                                             r"\(did you mean 'drug_screen'\?\) \(and 1 more problem\)"):
        check_hints(str(bad))
    bad.write_text('[[check]]\nwhen = { category = ["opioid"] }\nfound = { drug_screen = true }\nline = "x"\n'
                   'missing = "y"\nsays = "(unclosed"\n')
    with pytest.raises(KnowledgeError, match="not a regular expression"):
        load_checks(str(bad))
