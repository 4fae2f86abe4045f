"""Signals: negation, hypotheticals, history, evidence spans, structured fields.

Every sentence here is written for this test (no real letter text).
"""

import pytest

from imr_ml.signals import (
    REQUIRED_SIGNALS,
    Signal,
    category_prior,
    extract_signals,
    guideline_tags,
    load_rules,
    parse_quantity,
    signal_names,
    signals_as_dict,
)


def sig(summary, name, **row):
    return extract_signals({"summary": summary, **row})[name]


def fires(summary, name, **row):
    return bool(sig(summary, name, **row).value)


# ---------------------------------------------------------------- the eight required signals


@pytest.mark.parametrize(
    "text",
    [
        "She completed eight sessions of acupuncture without significant relief.",
        "He says the therapy is not helping much.",
        "He reported only temporary relief with the prior injection.",
        "The knee pain persisted despite physical therapy and bracing.",
        "Conservative treatment including NSAIDs has failed.",
        "The worker noted minimal improvement with chiropractic care.",
        "The numbness was better for two days after the block but then returned.",
    ],
)
def test_prior_trial_without_benefit_fires(text):
    assert fires(text, "prior_trial_without_benefit")


@pytest.mark.parametrize(
    "text",
    [
        "No evidence showed that conservative care had been tried and failed.",
        "The request was denied as the worker has not failed physical therapy.",
        "UR failed to approve the acupuncture sessions.",
        "Records lacked any documentation that first-line medication had failed.",
        "The worker is not working at present.",
    ],
)
def test_prior_trial_without_benefit_negated_or_absent(text):
    assert not fires(text, "prior_trial_without_benefit")


@pytest.mark.parametrize(
    "text",
    [
        "Acupuncture improved her ability to walk and to sit through a shift.",
        "He reported improved function and was able to do more chores.",
        "Her medicines helped her functional mobility around the house.",
        "Therapy notes describe functional gains in lifting tolerance.",
        "There was significant improvement in pain and functioning after therapy.",
    ],
)
def test_functional_improvement_fires(text):
    assert fires(text, "functional_improvement")
    assert not fires(text, "no_functional_improvement")


@pytest.mark.parametrize(
    "text",
    [
        "There was no functional improvement with the prior sessions.",
        "The request was denied for lack of documentation of functional improvement.",
        "Notes did not reflect any functional benefit from the six visits.",
        "The records show no change in her level of functioning.",
        "Objective functional improvement was not documented.",
    ],
)
def test_no_functional_improvement(text):
    assert fires(text, "no_functional_improvement"), text
    assert not fires(text, "functional_improvement"), text


def test_functional_improvement_hypothetical_is_neither():
    text = "Further visits would require evidence of objective functional improvement."
    assert not fires(text, "functional_improvement")
    assert not fires(text, "no_functional_improvement")


@pytest.mark.parametrize("doubt", ["It was not clear that", "It is unclear whether", "It was not clear if"])
def test_doubted_improvement_is_not_functional_improvement(doubt):
    # the doubt reaches to the end of its clause, beyond the window of a plain "not"
    text = f"{doubt} the six sessions of acupuncture with the new provider had produced any measurable improvement in function."
    assert not fires(text, "functional_improvement"), text
    assert fires("The six sessions of acupuncture had produced measurable improvement in function.", "functional_improvement")


def test_pain_relief_alone_is_not_functional_improvement():
    assert not fires("Her pain decreased from 8/10 to 4/10 with the medication.", "functional_improvement")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The worker was declared permanent and stationary last spring.", True),
        ("He has reached maximum medical improvement per the panel physician.", True),
        ("She was found to be at MMI with permanent restrictions.", True),
        ("The worker is P&S.", True),
        ("The worker has not yet reached maximum medical improvement.", False),
        ("He is expected to reach maximum medical improvement in a few months.", False),
    ],
)
def test_permanent_and_stationary(text, expected):
    assert fires(text, "permanent_and_stationary") is expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Current medications include Norco and naproxen.", True),
        ("He has been taking tramadol twice daily.", True),
        ("Her medication list included gabapentin and Percocet.", True),
        ("Treatment to date has included oxycodone since at least March.", True),
        ("Hydrocodone was prescribed at the last visit.", True),
        ("The worker denies opioid use.", False),
        ("Norco was discontinued last month.", False),
        ("The physician will consider tramadol if pain persists.", False),
        ("The request for Norco 10/325 #90 was non-certified.", False),
        ("There was no indication the worker was prescribed any opioid medication.", False),
        ("The plan is to start tramadol.", False),
        ("UR noted no trial of non-opioid analgesics.", False),
    ],
)
def test_opioid_use(text, expected):
    assert fires(text, "opioid_use") is expected, text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("He underwent a right knee arthroscopy in 2014.", True),
        ("She is status post carpal tunnel release.", True),
        ("The worker had a lumbar fusion on 03-02-2015.", True),
        ("Past treatment included therapy, injections and surgery.", True),
        ("Since the surgery she has had stiffness.", True),
        ("He will consider surgery if the injections fail.", False),
        ("She is a candidate for a shoulder arthroscopy.", False),
        ("The treatment plan included a left knee arthroscopy.", False),
        ("A request for lumbar fusion was submitted.", False),
        ("Her surgical history is none.", False),
        ("The worker has had no surgery.", False),
    ],
)
def test_prior_surgery(text, expected):
    assert fires(text, "prior_surgery") is expected, text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Utilization review modified the request to six visits.", True),
        ("The therapy request was modified to six visits by the reviewer.", True),
        ("Utilization review partially approved twelve sessions.", True),
        ("Six sessions were authorized by the Claims Administrator.", True),
        ("The reviewer non-certified the brace and modified the therapy request.", True),
        ("The worker is on modified duty.", False),
        ("Treatment included rest and activity modification.", False),
        ("Utilization review non-certified the request.", False),
    ],
)
def test_ur_modified(text, expected):
    assert fires(text, "ur_modified") is expected, text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The worker is working modified duty.", True),
        ("She returned to full duty work in May.", True),
        ("His work status allows a return to work with restrictions.", True),
        ("He continues to work with restrictions.", True),
        ("He went back to regular duty last week.", True),
        ("The worker was placed off of work.", False),
        ("She is not working.", False),
        ("He is temporarily totally disabled.", False),
        ("Nobody recorded whether she was or was not working.", False),
        ("She may go back to work as of next month.", False),
        ("He was injured while working out at the gym.", False),
        ("She has difficulty with regular duties at home.", False),
    ],
)
def test_working(text, expected):
    assert fires(text, "working") is expected, text


def test_negation_scope_ends_at_clause_boundary():
    text = "She denies numbness, but current medications include Norco."
    assert fires(text, "opioid_use")


def test_negation_scope_is_windowed():
    far = "No fever was reported at the visit, and on the following day and after that the medication list included Norco."
    assert fires(far, "opioid_use")


def test_sentence_boundary_limits_scope():
    assert fires("The worker has no fever. Current medications include Norco.", "opioid_use")


# ---------------------------------------------------------------- evidence spans


def test_evidence_spans_point_at_the_text():
    text = "The worker is a 40-year-old roofer. Current medications include Norco and ibuprofen."
    s = sig(text, "opioid_use")
    assert s.value is True
    (field, start, end), *_ = s.evidence
    assert field == "summary"
    assert text[start:end].lower() == "norco"


def test_evidence_for_negated_signal_covers_the_phrase():
    text = "Denied for lack of documentation of functional improvement."
    s = sig(text, "no_functional_improvement")
    assert s.value
    assert any("functional improvement" in text[a:b] for _, a, b in s.evidence)


def test_signals_as_dict_includes_text():
    row = {"summary": "He is status post knee arthroscopy in 2012.", "item": "Physical therapy x8"}
    d = signals_as_dict(extract_signals(row), row)
    assert d["prior_surgery"]["value"] is True
    assert d["prior_surgery"]["evidence"][0]["text"].lower().startswith("status post")
    assert d["requested_quantity"]["value"] == 8
    assert d["requested_quantity"]["evidence"][0]["text"] == "x8"


def test_all_required_signals_always_present():
    out = extract_signals({})
    for name in REQUIRED_SIGNALS:
        assert name in out and isinstance(out[name], Signal)
        assert out[name].value is False and out[name].evidence == []


def test_post_decision_fields_are_ignored():
    row = {"summary": "Pain in the knee.", "item": "MRI of the knee"}
    leaky = dict(row, rationale="Current medications include Norco. The worker is working.",
                 decision="Overturned", label=1, reviewer_specialty="Orthopedic Surgery")
    a, b = extract_signals(row), extract_signals(leaky)
    assert {k: (v.value, v.evidence) for k, v in a.items()} == {k: (v.value, v.evidence) for k, v in b.items()}


# ---------------------------------------------------------------- item and fields


@pytest.mark.parametrize(
    "item,qty",
    [
        ("Acupuncture 2 times a week for 6 weeks", 12),
        ("Physical therapy 2x6 for the lumbar spine", 12),
        ("Additional chiropractic x8", 8),
        ("Norco 10/325mg #60", 60),
        ("Twelve physical therapy visits, left hip", 12),
        ("Chiropractic care 2 times a week for 4 weeks (8 sessions)", 8),
        ("Electrocardiogram QTY: 3", 3),
        ("three times a week for two weeks of therapy", 6),
        ("MRI of the lumbar spine without contrast", None),
        ("Flurbiprofen 20% cream 180g", None),
    ],
)
def test_parse_quantity(item, qty):
    assert parse_quantity(item)[0] == qty


def test_structured_signals():
    row = {
        "summary": "The injured worker is a 52-year-old woman. She has completed 6 sessions of acupuncture.",
        "item": "Additional acupuncture 2 times a week for 4 weeks",
        "original_request": "Acupuncture x12",
        "authorized_portion": "Acupuncture x4",
        "claims_admin_guideline": "Decision based on MTUS Acupuncture Medical Treatment Guidelines.",
        "date_of_injury": "2014-03-01",
        "ur_denial_date": "2016-03-01",
        "retrospective": False,
    }
    s = extract_signals(row)
    assert s["category"].value == "acupuncture"
    assert s["requested_quantity"].value == 8
    assert s["exceeds_trial"].value is True
    assert s["prior_sessions"].value == 6
    assert s["prior_same_modality"].value is True
    assert s["item_additional"].value is True
    assert s["partial_authorization"].value is True
    assert s["chronicity_days"].value == 731
    assert s["age"].value == 52
    assert "mtus" in s["ca_guideline"].value and "acupuncture" in s["ca_guideline"].value
    assert s["retrospective"].value is False


def test_requested_prior_sessions_are_not_history():
    row = {"summary": "The provider requested 12 sessions of physical therapy.", "item": "Physical therapy x12"}
    assert extract_signals(row)["prior_sessions"].value is None


def test_retrospective_from_field_or_item():
    assert extract_signals({"retrospective": True})["retrospective"].value is True
    assert extract_signals({"item": "Retrospective urine drug screen DOS 1/2/2016"})["retrospective"].value is True


@pytest.mark.parametrize(
    "text,tags",
    [
        ("The Claims Administrator did not cite any medical evidence for its decision.", {"not_cited"}),
        ("Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), Knee.", {"non_mtus", "odg"}),
        (None, {"none"}),
    ],
)
def test_guideline_tags(text, tags):
    assert set(guideline_tags(text)[0]) >= tags
    if text and "Non-MTUS" in text:
        assert "mtus" not in guideline_tags(text)[0]


def test_category_prior_is_logit_of_overturn_share():
    assert category_prior("topical") < category_prior("surgery") < 0


def test_user_rules_file(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(
        """
[cues.negation]
pre = ['\\bno\\b']
[[signal]]
name = "smoker"
patterns = ['\\bsmok(es|er|ing)\\b']
exclude = ["negation"]
"""
    )
    assert signal_names(p) == ("smoker",)
    assert extract_signals({"summary": "He smokes daily."}, rules=p)["smoker"].value
    assert not extract_signals({"summary": "He is no smoker."}, rules=p)["smoker"].value


def test_rules_are_compiled_once():
    assert load_rules() is load_rules()


def test_one_pass_matching_equals_each_matcher_on_its_own():
    """A document finds every matcher's spans in one pass over its words, trying a pattern
    only where the next word passes its gate ("was" + "unclear"); each matcher searched on
    its own (no gates, no shared plans) must find the same spans."""
    from imr_ml.signals import _SPANS_KEY, _Doc, _lower, clear_caches
    from imr_ml.synth import iter_letters

    texts = [
        "It was not clear whether he was unclear if it wasn't helping; therapy was requested and is being "
        "considered. He returned to work at full duty, was back at work, then not working. Request for",
        "No documentation of functional improvement after six sessions of acupuncture; P&S on 1/2/2015, "
        "s/p fusion, positive straight-leg raising, MRI in 2014, strength 4/5, x 6 in 2013. was",
        *[letter for _, letter, _ in iter_letters(3, seed=11)],
    ]
    rules = load_rules()
    for text in texts:
        clear_caches()
        doc = _Doc(text, rules)
        low = _lower(text)
        for m in rules.matchers:
            assert doc.seen[_SPANS_KEY][m] == m.spans(low), m.patterns


def test_literal_guided_finditer_equals_finditer():
    """Modality mentions are searched only where a pattern's literal openings occur: the
    same matches as `finditer`, whole text or a stretch of it."""
    import re

    from imr_ml.signals import _Doc, _finditer, _lower

    rules = load_rules()
    text = ("PT x6 and physical therapy, then hand therapy sessions; apt note: OT visits, ot, pt. "
            "Physiotherapy (12 visits) and Norco, norco 10/325; acupuncture / electroacupuncture.")
    doc = _Doc(text, rules)
    low = _lower(text)
    for rx in [*rules.modality.values(), re.compile(r"\bnorco\b")]:
        for start, end in [(0, len(low)), (5, 60), (30, 31), (len(low), len(low))]:
            want = [m.span() for m in rx.finditer(low, start, end)]
            assert [m.span() for m in _finditer(rx, doc, start, end)] == want, (rx.pattern, start, end)


@pytest.mark.parametrize("text", ["Additional PHYSICAL therapy x 6", "ACUPUNCTURE 2x3", "İbuprofen 800 mg",
                                  "Kelvin K-brace", "retro DOS 1/1/2015"])
def test_anycase_search_equals_ignorecase(text):
    import re

    from imr_ml.knowledge import AnyCase

    for pattern in (r"\b(physical therapy|acupunct\w*)\b", r"\bk-brace\b", r"\b(retro\w*|DOS)\b", r"ibuprofen"):
        want = re.compile(pattern, re.IGNORECASE).search(text)
        got = AnyCase(pattern).search(text)
        assert (got.span() if got else None) == (want.span() if want else None)


# ---------------------------------------------------------------- CLI


def _corpus(tmp_path):
    import json

    rows = [
        {
            "letter_id": "CM00-0000001",
            "item_index": 0,
            "summary": "The worker, a 50-year-old man, is status post lumbar fusion in 2010. "
            "Current medications include Norco. He is not working.",
            "item": "Additional physical therapy x12",
            "claims_admin_guideline": "Decision based on MTUS Chronic Pain Medical Treatment Guidelines.",
            "date_of_injury": "2010-01-01",
            "ur_denial_date": "2016-01-01",
            "retrospective": False,
            "rationale": "The worker is working full duty.",  # post-decision: must not count
            "decision": "Overturned",
        }
    ]
    p = tmp_path / "corpus.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return p


def test_cli_signals_json(tmp_path):
    import json

    from typer.testing import CliRunner

    from imr_ml.cli import app

    res = CliRunner().invoke(app, ["signals", str(_corpus(tmp_path)), "--json"])
    assert res.exit_code == 0, res.output
    (rec,) = json.loads(res.output)
    sig = rec["signals"]
    assert sig["opioid_use"]["value"] is True
    assert sig["opioid_use"]["evidence"][0]["text"] == "Norco"
    assert sig["prior_surgery"]["value"] is True
    assert sig["working"]["value"] is False  # "not working"; the rationale is never read
    assert sig["requested_quantity"]["value"] == 12
    assert {"field", "start", "end", "text"} <= set(sig["opioid_use"]["evidence"][0])


def test_cli_signals_table(tmp_path):
    from typer.testing import CliRunner

    from imr_ml.cli import app

    res = CliRunner().invoke(app, ["signals", str(_corpus(tmp_path))])
    assert res.exit_code == 0, res.output
    assert "opioid_use" in res.output and '"Norco"' in res.output


def test_cli_signals_bad_input(tmp_path):
    from typer.testing import CliRunner

    from imr_ml.cli import app

    res = CliRunner().invoke(app, ["signals", str(tmp_path / "nope.jsonl")])
    assert res.exit_code == 2
    assert "error:" in res.output and "Traceback" not in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text("this is [not toml")
    res = CliRunner().invoke(app, ["signals", str(_corpus(tmp_path)), "--rules", str(bad)])
    assert res.exit_code == 2 and "bad rules file" in res.output


def test_fewer_gc_pauses_relaxes_collection_inside_and_restores_it():
    import gc

    from imr_ml.signals import _GC_YOUNG, fewer_gc_pauses

    before = gc.get_threshold()
    assert before[0] != _GC_YOUNG
    with fewer_gc_pauses():
        assert gc.get_threshold()[0] == _GC_YOUNG and gc.get_freeze_count() > 0
        with fewer_gc_pauses():  # nested: the outer state stands
            pass
        assert gc.get_threshold()[0] == _GC_YOUNG and gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_garbage_made_inside_fewer_gc_pauses_is_still_collected():
    import gc
    import weakref

    from imr_ml.signals import fewer_gc_pauses

    class Node:
        pass

    with fewer_gc_pauses():
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        ref = weakref.ref(node)
        del node
    assert ref() is not None and gc.get_freeze_count() == 0
    gc.collect()
    assert ref() is None
