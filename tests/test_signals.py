"""Signals: negation, hypotheticals, history, evidence spans, structured fields.

Every sentence here is written for this test (no real letter text).
"""

import pytest

from imr_ml.signals import (
    REQUIRED_SIGNALS,
    Signal,
    extract_signals,
    load_rules,
    signal_names,
    signals_as_dict,
)
from imr_ml.signals.readers import category_prior, guideline_tags, parse_quantity


@pytest.mark.parametrize("text, age", [
    ("72F with knee pain since a fall.", 72), ("58 yo M, LBP.", 58), ("He is a 70-year-old man.", 70),
    ("45M. Neck pain.", 45), ("Pain for 20 years; she is 61 years old.", 61), ("A 52 year old male.", 52),
    ("Norco 10 mg.", None),
])
def test_age_in_letters_and_typed_notes(text, age):
    assert extract_signals({"summary": text})["age"].value == age


@pytest.mark.parametrize("text, recent", [
    ("He underwent a rotator cuff repair on 09-14-2016 and has had ten therapy visits.", True),
    ("He underwent a rotator cuff repair in 03/2012 and completed postoperative therapy.", False),
    ("S/p L4-5 fusion 10/2016, stiff, walks 10 minutes.", True),
])
def test_recent_surgery_from_the_operation_date(text, recent):
    row = {"summary": text, "item": "Physical therapy x12", "ur_denial_date": "2016-11-20"}
    assert bool(extract_signals(row)["recent_surgery"].value) is recent


@pytest.mark.parametrize("text, recent", [
    # "underwent" dates studies, scans and injections as well as operations: only an operation counts
    ("The patient underwent elective diagnostic studies on 12/01/2016.", False),
    ("She underwent an MRI of the lumbar spine on 11/01/2016.", False),
    ("He underwent EMG/NCS on 11/01/2016.", False),
    ("He underwent a lumbar ESI on 11/01/2016.", False),
    ("The patient underwent elective lumbar fusion on 12/01/2016.", True),
    ("He underwent diagnostic arthroscopy of the knee on 11/01/2016.", True),
])
def test_a_dated_study_is_no_recent_surgery(text, recent):
    s = extract_signals({"summary": text, "item": "Physical therapy x12", "ur_denial_date": "2016-12-10"})
    assert bool(s["recent_surgery"].value) is recent, text
    assert (s["days_since_surgery"].value is not None) is recent, text


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
    text = (f"{doubt} the six sessions of acupuncture with the new provider had produced any measurable "
            "improvement in function.")
    assert not fires(text, "functional_improvement"), text
    assert fires("The six sessions of acupuncture had produced measurable improvement in function.",
                 "functional_improvement")


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
        ("Norco was discontinued last month.", True),
        ("The physician will consider tramadol if pain persists.", False),
        ("The request for Norco 10/325 #90 was non-certified.", True),
        ("There was no indication the worker was prescribed any opioid medication.", False),
        ("The plan is to start tramadol.", True),
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
    far = ("No fever was reported at the visit, and on the following day and after that the medication list "
           "included Norco.")
    assert fires(far, "opioid_use")


def test_sentence_boundary_limits_scope():
    assert fires("The worker has no fever. Current medications include Norco.", "opioid_use")


@pytest.mark.parametrize("text, ends", [
    # "PT." (physical therapy) ends a sentence before a capitalised word ...
    ("She completed 12 sessions of PT. He reports no benefit.", [31]),
    ("Norco 10 mg. She works full duty.", [11]),
    # ... and "Pt." (patient), "Dr." do not end one before a lower-case word or a name
    ("Pt. reports pain since the fall.", []),
    ("Dr. Smith notes no benefit from PT.", []),
])
def test_sentence_final_abbreviations(text, ends):
    from imr_ml.signals.rules import load_rules

    assert load_rules().engine.document(text).sentences == ends


def test_pt_period_stops_a_negation():
    # the denial of PT does not reach the next sentence's operation or drug
    assert fires("He denies any injections or PT. He underwent lumbar fusion in 2014.", "prior_surgery")
    assert fires("No prior surgery or PT. Norco 10/325 helps.", "opioid_use")
    assert not fires("No prior surgery or PT, Norco or injections.", "opioid_use")


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
    assert d["prior_surgery"]["evidence"][0]["text"].lower() == "arthroscopy"  # the operation, not "status post"
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
    assert parse_quantity(item, load_rules())[0] == qty


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


@pytest.mark.parametrize("text, item, sessions", [
    # a requested count is no prior course
    ("Req initial acu x6.", "Acupuncture x6", None),
    ("Acupuncture x6 requested.", "Acupuncture x6", None),
    ("RFA for acupuncture x6.", "Acupuncture x6", None),
    ("Rqst PT x 8 for the low back.", "Physical therapy x8", None),
    ("The provider asked for eight visits of physical therapy.", "Physical therapy x8", None),
    ("The doctor is asking for 12 sessions of acupuncture.", "Acupuncture x12", None),
    # a course had is, even beside a request
    ("Pt completed acu x6 with no benefit. Req acu x6.", "Acupuncture x6", 6),
    ("Req PT x6 after failed PT x12.", "Physical therapy x6", 12),
    ("She has had acupuncture x6.", "Acupuncture x6", 6),
])
def test_a_requested_count_is_no_prior_course(text, item, sessions):
    s = extract_signals({"summary": text, "item": item})
    assert s["prior_sessions"].value == sessions, text


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
    assert set(guideline_tags(text, load_rules())[0]) >= tags
    if text and "Non-MTUS" in text:
        assert "mtus" not in guideline_tags(text, load_rules())[0]


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
description = "The worker smokes."
patterns = ['\\bsmok(es|er|ing)\\b']
exclude = ["negation"]
"""
    )
    assert signal_names(p) == ("smoker",)
    assert extract_signals({"summary": "He smokes daily."}, rules=p)["smoker"].value
    assert not extract_signals({"summary": "He is no smoker."}, rules=p)["smoker"].value


def test_rules_are_compiled_once():
    assert load_rules() is load_rules()


def test_cue_sets_act_by_their_declared_role_not_their_name(tmp_path):
    """The engine reads each cue set's `role`: a set of role "negation" drops a target even
    when a required cue is closer; any other role yields to a closer required cue."""
    p = tmp_path / "roles.toml"
    p.write_text(
        """
[cues.denial]
role = "negation"
pre = ['\\bdenies\\b']
[cues.plan]
role = "hypothetical"
pre = ['\\bplan\\b']
[cues.now]
role = "current_use"
pre = ['\\bnow\\b']
[[signal]]
name = "smoker"
description = "The worker smokes."
patterns = ['\\bsmokes\\b']
exclude = ["denial", "plan"]
require = ["now"]
"""
    )

    def smoker(text):
        return extract_signals({"summary": text}, rules=p)["smoker"].value

    assert smoker("Plan: now he smokes.")  # the required cue is closer than the hypothetical one
    assert not smoker("He denies now he smokes.")  # a negation drops it all the same
    assert not smoker("He smokes.")  # no required cue


def test_one_pass_matching_equals_each_matcher_on_its_own():
    """A document finds every matcher's spans in one pass over its words (the word index);
    each matcher searched on its own must find the same spans."""
    from imr_ml.signals import clear_caches
    from imr_ml.synth.generate import iter_letters
    from imr_ml.text import LiteralPositions, lower_text

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
        doc = rules.engine.document(text)
        for m in rules.matchers:
            assert doc.spans(m) == m.spans(LiteralPositions(lower_text(text))), m.patterns


def test_required_literals_open_every_match():
    """The literal prefilter may only skip places where no match can start: every match of
    every shipped pattern, in letters and in hand-made text, opens with one of its literals."""
    import re

    from imr_ml.synth.generate import iter_letters
    from imr_ml.text import lower_text, required_literals
    from imr_ml.text.anycase import lower_pattern

    rules = load_rules()
    texts = [lower_text(letter) for _, letter, _ in iter_letters(4, seed=5)]
    texts.append("anticipated no changes in medication; positive seated slr; post-op day 3; breast carcinoma; "
                 "chiropractic x 6, chiro, cmt; he anticipates; s/p fusion 10/2016 (1/2/2015)")
    checked = 0
    for m in rules.matchers:
        for p in m.patterns:
            lp = lower_pattern(p)
            lp = lp[2:] if lp.startswith("\\b") else lp
            lits = required_literals(lp)
            if lits is None:
                continue
            for low in texts:
                for hit in re.finditer(lp, low):
                    if hit.end() > hit.start():
                        checked += 1
                        assert low.startswith(lits, hit.start()), (p, hit.group(), lits)
    assert checked > 100
    assert required_literals(r"(?i)abc") is None and required_literals(r"\w+ing") is None
    assert required_literals(r"anticipat(e|ed|es)\b") == ("anticipate",)


def test_literal_guided_finditer_equals_finditer():
    """Modality mentions are searched only where a pattern's literal openings occur: the
    same matches as `finditer`, whole text or a stretch of it."""
    import re

    from imr_ml.text import lower_text

    rules = load_rules()
    text = ("PT x6 and physical therapy, then hand therapy sessions; apt note: OT visits, ot, pt. "
            "Physiotherapy (12 visits) and Norco, norco 10/325; acupuncture / electroacupuncture.")
    doc = rules.engine.document(text)
    low = lower_text(text)
    for rx in [*rules.modality.values(), re.compile(r"\bnorco\b")]:
        for start, end in [(0, len(low)), (5, 60), (30, 31), (len(low), len(low))]:
            want = [m.span() for m in rx.finditer(low, start, end)]
            assert [m.span() for m in doc.finditer(rx, start, end)] == want, (rx.pattern, start, end)


@pytest.mark.parametrize("text", ["Additional PHYSICAL therapy x 6", "ACUPUNCTURE 2x3", "İbuprofen 800 mg",
                                  "Kelvin K-brace", "retro DOS 1/1/2015"])
def test_anycase_search_equals_ignorecase(text):
    import re

    from imr_ml.text.anycase import AnyCase

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
    assert res.exit_code == 2 and res.output.startswith(f"error: {bad}:1: not valid TOML")


def test_library_leaves_garbage_collection_settings_alone():
    """Analysing and scoring change no interpreter-wide state: the GC thresholds a caller set
    are the ones it finds after scoring (the CLI alone may tune them, for itself)."""
    import gc

    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring.score import request_row, score_rows

    before = gc.get_threshold()
    row = request_row("58F, fell at work. Failed 6 weeks of PT.", "MRI right shoulder")
    list(score_rows(load_model_dir("builtin"), [row]))
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_scoring_request_after_request_does_not_accumulate_garbage():
    """A server scores one request at a time: the cycles each call makes must be collected
    without anyone calling gc.collect() (freezing the heap per call once leaked ~13 KB each)."""
    import gc

    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring.score import request_row, score_rows

    loaded = load_model_dir("builtin")
    row = request_row("58F, fell at work. R shoulder pain and weakness, drop arm test positive. Failed 6 weeks of PT.",
                      "MRI right shoulder")
    for _ in range(50):
        list(score_rows(loaded, [dict(row)]))
    start = len(gc.get_objects())
    for _ in range(400):
        list(score_rows(loaded, [dict(row)]))
    assert len(gc.get_objects()) - start < 2000  # 400 calls leaked ~17,000 objects before the fix


# ---------------------------------------------------------------- signals for guideline rules
# (features/guidelines.toml refers to them by name). Letter-style and typed-note-style
# sentences, negated and planned ones.

GUIDELINE_SIGNAL_CASES = {
    "failed_conservative_care": (
        ["Failed 6 wks PT.", "Pain persists despite PT, NSAIDs and HEP.", "He has exhausted conservative treatment.",
         "No improvement with 8 weeks of therapy and meds.",
         "Her neck pain continued despite six weeks of physical therapy and a home exercise program."],
        ["The applicant has not tried conservative care.", "No conservative care has been tried.", "Has not tried PT.",
         "He has not failed physical therapy.", "Will start PT; if it fails, consider surgery.",
         "There was no documentation that she failed conservative care.", "UR failed to approve the therapy."],
    ),
    "no_conservative_care": (
        ["She has not had any therapy.", "No PT to date.", "Conservative care not yet attempted.",
         "New injury 2 weeks ago, no treatment yet.", "Surgery was requested without any prior conservative treatment.",
         "He has never tried physical therapy."],
        ["He completed 12 sessions of PT.", "She has not failed conservative care.", "Will start PT next week.",
         "No further therapy was requested.", "Surgery is not supported without conservative care."],
    ),
    "lasting_relief": (
        ["70% relief for 3 months after the last ESI with decreased Norco use.", ">50% relief x 8 wks",
         "The prior epidural injection gave 60% relief lasting eight weeks.",
         "She reported seventy percent relief for 10 weeks after the facet block."],
        ["30% relief for 2 weeks.", "Repeat blocks need at least 50% relief for six to eight weeks.",
         "She did not report 60% relief for 8 weeks.", "Relief lasted only a few days."],
    ),
    "short_relief": (
        ["30% relief for 2 weeks", "Relief lasted only a few days.", "The injection gave temporary relief.",
         "He had relief for 3 days after the block.", "20 percent improvement after the injection"],
        ["70% relief for 3 months after the last ESI.", "She had no relief from the block.",
         "He reported a 10% improvement since the last visit."],
    ),
    "drug_screen": (
        ["UDS 5/2016 consistent.", "The urine toxicology screen was appropriate.",
         "A urine drug screen on 3/1/2016 was consistent with prescribed medications."],
        ["No UDS on file.", "Plan to obtain a urine drug screen.",
         "The request for a urine drug screen was non-certified."],
    ),
    "opioid_agreement": (
        ["He signed an opioid agreement.", "Pain contract on file.", "The worker has a signed narcotic contract."],
        ["No opioid agreement was documented.", "Will have her sign a pain contract."],
    ),
    "cures_checked": (
        ["CURES ok", "The CURES report was reviewed and was consistent.", "PDMP checked 4/2016."],
        ["Plan to check CURES.", "There was no CURES report."],
    ),
    "opioid_monitoring": (
        ["UDS consistent.", "CURES ok", "Signed pain contract.", "No aberrant behaviors, no side effects.",
         "Pain 8->4 w/ meds", "Pain decreased from 8/10 to 4/10 with medications.", "The 4 A's were documented."],
        ["There was no documentation of the 4 A's.", "No UDS on file.", "Plan to check CURES.",
         "There was no documentation of side effects."],
    ),
    "aberrant_behavior": (
        ["The last UDS was inconsistent.", "He requested early refills.", "Records show multiple prescribers.",
         "The urine drug screen was positive for non-prescribed oxycodone.", "Aberrant behavior was noted."],
        ["No aberrant behaviors.", "UDS consistent.", "Monitor for aberrant behavior."],
    ),
    "weaning_recommended": (
        ["UR modified the request for weaning.", "Recommend tapering Norco.", "She is being weaned off Soma.",
         "A taper was started."],
        ["No taper was recommended.", "Norco 10/325 #90."],
    ),
    "gi_risk": (
        ["History of peptic ulcer disease.", "Hx GI bleed in 2010.",
         "Current medications include aspirin and naproxen.", "She takes warfarin.", "He is on multiple NSAIDs."],
        # age is the `age` field (the guideline rule reads it): not counted twice here
        ["Denies GI bleed.", "He is a 70-year-old man.", "No history of ulcers or bleeding.", "Consider aspirin.",
         "Epidural steroid injection was requested."],
    ),
    "gi_symptoms": (
        ["She reports dyspepsia with naproxen.", "GERD.", "Stomach upset from NSAIDs.", "History of gastritis."],
        ["Denies GI upset.", "No gastritis.", "Omeprazole to prevent GI upset."],
    ),
    "device_trial": (
        ["She completed a 30-day TENS trial with decreased pain and medication use.",
         "One-month home TENS trial gave 50% less pain.", "A trial of TENS in therapy helped."],
        ["No TENS trial was documented.", "A one-month TENS trial is recommended.",
         "Request for 30-day trial of H-wave.",
         "Treatment has included a TENS unit rental."],
    ),
    "recent_surgery": (
        ["Status post arthroscopy 3 weeks ago.", "S/p ACDF on 10/2016, now 6 weeks post-op.", "Post-op week 4.",
         "She is 2 weeks post-op from a carpal tunnel release.", "He recently underwent a rotator cuff repair."],
        ["She had a knee arthroscopy in 2009.", "Surgery is scheduled in 3 weeks.",
         "Postoperative physical therapy is requested."],
    ),
    "acute_exacerbation": (
        ["Acute flare of low back pain.", "Exacerbation 1 week ago.", "He had a flare-up after lifting.",
         "Acute muscle spasm was noted."],
        ["No flare-ups.", "Denies new injury.", "The pain is exacerbated by walking.",
         "Muscle relaxants are recommended for short-term treatment of acute exacerbations of chronic low back pain."],
    ),
    "neuropathic_pain": (
        ["Diabetic neuropathy.", "Burning pain in the foot.", "CRPS of the right hand.", "Postherpetic neuralgia."],
        ["No neuropathic pain was documented.", "Gabapentin is a first-line option for neuropathic pain.",
         "Denies burning pain."],
    ),
    "long_term_use": (
        ["He has been on Soma for over a year.", "Flexeril since 2014.", "Chronic use of opioids.",
         "She has been taking Norco for 18 months.", "Norco 10/325 TID x 2 yrs"],
        ["He has had back pain for 3 years.", "Long-term use of muscle relaxants is not recommended.",
         "Soma is not recommended for long-term use.", "She will take Flexeril for 2 weeks."],
    ),
    "significant_change": (
        ["New weakness in the left leg.", "Progressive numbness of the hand.", "Symptoms worsened since the last MRI.",
         "New injury at work in May."],
        ["No new symptoms.", "Repeat MRI is reserved for a significant change in symptoms.",
         "He saw a new pain management physician.", "No significant change in findings."],
    ),
    "surgical_planning": (
        ["The surgeon recommended an MRI to plan the surgery.", "She is a candidate for decompression.",
         "Surgical consultation recommended.", "Fusion is being considered."],
        ["She is not a surgical candidate.", "He does not want surgery.", "No surgical plans."],
    ),
    "imaging_concordant": (
        ["MRI shows L5-S1 herniation compressing the S1 nerve root.", "Full-thickness rotator cuff tear on MRI.",
         "EMG confirmed left L5 radiculopathy.", "The findings correlate with the MRI."],
        ["MRI showed no herniation.", "MRI to rule out a tear.", "The MRI was normal.",
         "An MRI was requested to evaluate for a tear."],
    ),
    "insomnia": (
        ["She reports difficulty sleeping.", "Insomnia.", "He wakes up at night from pain.", "Ambien for sleep."],
        ["Denies sleep problems.", "No insomnia.", "Will try Ambien if sleep becomes a problem."],
    ),
}


@pytest.mark.parametrize(
    "name,text,expected",
    [(n, t, True) for n, (pos, _) in GUIDELINE_SIGNAL_CASES.items() for t in pos]
    + [(n, t, False) for n, (_, neg) in GUIDELINE_SIGNAL_CASES.items() for t in neg],
)
def test_guideline_signals(name, text, expected):
    s = sig(text, name)
    assert bool(s.value) is expected, (name, text, [text[a:b] for _, a, b in s.evidence])
    if expected:
        assert s.evidence and all(f == "summary" and 0 <= a < b <= len(text) for f, a, b in s.evidence)


def test_guideline_signals_are_features_with_descriptions():

    rules = {r.name: r for r in load_rules().text_rules}
    for name in GUIDELINE_SIGNAL_CASES:
        assert name in rules and rules[name].description, name


def test_guideline_signal_evidence_points_at_the_phrase():
    text = "The worker is a 50-year-old man. The last UDS was consistent. He has been on Soma for over a year."
    ds = sig(text, "drug_screen")
    assert [text[a:b] for _, a, b in ds.evidence] == ["UDS"]
    lt = sig(text, "long_term_use")
    assert any("for over a year" in text[a:b] for _, a, b in lt.evidence)


_NORCO_NOTE = "Norco 10/325 TID x 2 yrs, UDS consistent, CURES ok, pain 8->4 w/ meds, able to walk 30 min"


@pytest.mark.parametrize(
    "text,name,expected",
    [
        ("58F, fell at work. R shoulder pain + weakness. XR neg. Failed 6 wks PT.", "prior_trial_without_benefit",
         True),
        # shoulder pain with weakness is no objective deficit (ACOEM: dermatomal, reflex, myotomal, atrophy)
        ("58F, fell at work. R shoulder pain + weakness. XR neg. Failed 6 wks PT.", "neuro_deficit", False),
        ("58F, fell at work. R shoulder pain + weakness. XR neg. Failed 6 wks PT.", "failed_conservative_care", True),
        ("58F, fell at work. R shoulder pain + weakness. XR neg. Failed 6 wks PT.", "working", False),
        ("Acupuncture x6 done, no change in function, still off work.", "no_functional_improvement", True),
        ("Acupuncture x6 done, no change in function, still off work.", "functional_improvement", False),
        ("Acupuncture x6 done, no change in function, still off work.", "off_work", True),
        ("Acupuncture x6 done, no change in function, still off work.", "working", False),
        (_NORCO_NOTE, "opioid_use", True),
        (_NORCO_NOTE, "functional_improvement", True),
        (_NORCO_NOTE, "drug_screen", True),
        (_NORCO_NOTE, "cures_checked", True),
        (_NORCO_NOTE, "long_term_use", True),
        ("LBP radiating to L leg, +SLR, diminished L ankle reflex, EHL 4/5", "radiculopathy", True),
        ("LBP radiating to L leg, +SLR, diminished L ankle reflex, EHL 4/5", "neuro_deficit", True),
        ("R leg numbness, SLR positive on the R.", "radiculopathy", True),
        ("Motor strength of the left EHL 4/5.", "neuro_deficit", True),
        ("Seen 4/5/2016 for follow-up.", "neuro_deficit", False),
        ("PT x12 w/o benefit", "prior_trial_without_benefit", True),
        ("Pt is P&S, working full duty w/ restrictions.", "permanent_and_stationary", True),
        ("Pt is P&S, working full duty w/ restrictions.", "working", True),
        ("hx fx of L1, bowel incontinence", "red_flags", True),
    ],
)
def test_typed_notes(text, name, expected):
    assert fires(text, name) is expected, (text, name)


# Findings as a provider's office types them (written for this test).
@pytest.mark.parametrize("text, name", [
 ("s/p RCR 6 wks ago, in PT.", "recent_surgery"),
 ("No relief from last ESI.", "prior_trial_without_benefit"),
 ("ESI 3/2016 gave 70% relief x 4 mo, cut Norco in half.", "lasting_relief"),
 ("UDS 9/16 consistent, CURES reviewed, opioid contract signed.", "opioid_monitoring"),
 ("Hx GERD on naproxen.", "gi_symptoms"),
 ("BMI 41, knee OA.", "reduced_weight_bearing"),
 ("PT x12 w/o improvement.", "prior_trial_without_benefit"),
 ("PT x12 w/o improvement.", "failed_conservative_care"),
 ("ADLs improved since starting acupuncture.", "functional_improvement"),
 ("Flexeril nightly x 1 yr.", "long_term_use"),
 ("New onset foot drop L.", "red_flags"),
 ("New onset foot drop L.", "significant_change"),
 ("Saddle anesthesia and urinary retention.", "red_flags"),
 ("Decreased sensation L5 dermatome, EHL 4/5.", "neuro_deficit"),
 ("MRI 2016: L4-5 HNP compressing L5 root.", "imaging_concordant"),
 ("Surgeon recommends L4-5 microdiscectomy.", "surgical_planning"),
 ("30 day TENS trial helped, pain 7->4, less meds.", "device_trial"),
 ("Acute flare of LBP 1 wk ago after lifting.", "acute_exacerbation"),
 ("Burning pain down L leg, neuropathic features.", "neuropathic_pain"),
 ("Pt states acupuncture did nothing.", "prior_trial_without_benefit"),
 ("Returned to full duty after 6 PT visits, lifting 50 lb now.", "functional_improvement"),
 ("Not sleeping, 3 hrs/night d/t pain.", "insomnia"),
 ("Failed conservative mgmt incl PT, meds, HEP x 3 mo.", "failed_conservative_care"),
 ("Has not had PT yet.", "no_conservative_care"),
 ("Works modified duty.", "working"),
 ("TTD.", "off_work"),
 ("P&S 2014.", "permanent_and_stationary"),
 ("MMI reached.", "permanent_and_stationary"),
 ("Pain contract on file, last UDS appropriate.", "opioid_monitoring"),
 ("Early refill requests x3, UDS + for cocaine.", "aberrant_behavior"),
 ("On ASA 81 mg and naproxen.", "gi_risk"),
 ("Hx bleeding ulcer 2012.", "gi_risk"),
 ("Plan: taper Norco.", "weaning_recommended"),
 ("Radicular pain L leg, + SLR at 40 deg.", "radiculopathy"),
 ("Gait unsteady, hyperreflexia both legs.", "red_flags"),
])
def test_typed_note_findings(text, name):
    row = {"summary": text, "item": "x", "ur_denial_date": "2016-11-20"}
    assert extract_signals(row)[name].value, (name, text)


def test_the_readme_table_of_structured_fields_is_the_registry():
    """features/README.md shows the table `imr_ml.signals.fields` generates (regenerate it with
    `python -m imr_ml.signals.readme`)."""
    from pathlib import Path

    from imr_ml.signals.fields import readme_table

    readme = (Path(__file__).resolve().parents[1] / "features" / "README.md").read_text(encoding="utf-8")
    assert readme_table() in readme


# ---------------------------------------------------------------- kinds of misses on unseen letters
# Typed-note and letter-style sentences written for these tests (none from a letter), one list
# per kind of miss the signals made on letters nobody wrote patterns from.

# An opioid named in a list of past treatments, a plan of care, or the request itself: the
# worker is or has been on an opioid, or one is requested for them.
OPIOID_USE = [
    "Past treatment: PT x12, chiropractic, Norco and a lumbar ESI.",
    "Prior treatments have included physical therapy, acupuncture and tramadol.",
    "Previously tried Percocet and gabapentin with little help.",
    "Meds tried: ibuprofen, Flexeril, Vicodin.",
    "Medication history includes Nucynta and Lyrica.",
    "Hx of long-term hydrocodone use.",
    "He was weaned off Norco in June.",
    "Norco was discontinued last month because of constipation.",
    "She stopped taking tramadol two weeks ago.",
    "He could not tolerate oxycodone due to nausea.",
    "Plan: continue Norco 10/325 TID, recheck in 4 weeks.",
    "Plan of care: refill tramadol 50 mg, HEP, follow up in one month.",
    "Will continue oxycodone 5 mg q6h prn for breakthrough pain.",
    "The treatment plan included Ultram 50 mg daily as needed and naproxen.",
    "Request for Norco 10/325 #90.",
    "RFA submitted for Ultram 50 mg #60.",
    "The request for tramadol ER 150 mg #30 was non-certified by utilization review.",
    "Utilization review denied the requested Percocet 5/325 #60.",
    "UR modified the Norco request to allow weaning.",
    "The provider is requesting a refill of oxycodone.",
    "Post-op Percocet was requested along with the arthroscopy.",
    "On MS Contin 30 mg BID with Norco for breakthrough pain.",
    "Takes Tylenol #3 at night.",
    "Meds: Norco, Soma, Lyrica.",
    "Current meds - tramadol 50mg bid, naproxen.",
    "The ER gave him hydrocodone/APAP 5/325 after the fall.",
    "Started on tramadol at the last visit.",
    "Opioid therapy has been ongoing since 2014.",
    "Pain is 8/10 without Norco and 4/10 with it.",
    "No side effects from Norco, which keeps her working.",
    "Norco gives no relief anymore.",
    "Allergies: None Medications: Norco 10/325, Flexeril.",
    "UR did not certify the Norco.",
    "The request for opioids was denied for lack of documented efficacy.",
]
NOT_OPIOID_USE = [
    "Denies opioid use.",
    "No opioids.",
    "She has never taken narcotics.",
    "Non-opioid analgesics such as acetaminophen were recommended.",
    "Opioids are not recommended as first-line treatment for chronic low back pain.",
    "There was no indication the patient was prescribed any opioid medication.",
    "Allergies: codeine (hives).",
    "Allergic to morphine.",
    "Opioid-naive.",
    "If pain persists, a trial of tramadol may be considered.",
    "Urine drug screen negative for opiates.",
    "She declined Norco and prefers ibuprofen.",
    "Avoid opioids given her history of substance abuse.",
    "He is not taking any narcotic pain medication.",
    "Medications: ibuprofen, Flexeril. No opioids.",
    "Guidelines support opioids only after non-opioid analgesics have failed.",
]


@pytest.mark.parametrize("text", OPIOID_USE)
def test_opioid_in_a_list_plan_or_request_is_use(text):
    assert fires(text, "opioid_use"), text


@pytest.mark.parametrize("text", NOT_OPIOID_USE)
def test_opioid_denied_avoided_or_guideline_text_is_not_use(text):
    assert not fires(text, "opioid_use"), text


@pytest.mark.parametrize("item, other", [("Norco 10/325 #90", ""), ("Ultram ER 100 mg #30", ""),
                                          ("MRI lumbar spine", "Post-op Percocet 5/325 #40"),
                                          ("Urine drug screen", "Hydrocodone-APAP 10-325 #60")])
def test_an_opioid_in_dispute_is_opioid_use(item, other):
    row = {"summary": "Chronic low back pain, 7/10, worse with sitting.", "item": item, "other_items": other}
    s = extract_signals(row)["opioid_use"]
    assert s.value and s.evidence[0][0] in ("item", "other_items")
    other = {**row, "item": "MRI lumbar spine", "other_items": "Naproxen 550 mg #60"}
    assert not extract_signals(other)["opioid_use"].value


# A course that did not help, gave no relief or failed, without the words "without benefit".
NO_BENEFIT = [
    "PT did not help.",
    "Physical therapy didn't help her neck.",
    "The acupuncture did not really help.",
    "No relief with PT.",
    "She got no relief from the ibuprofen.",
    "Gabapentin gave no relief.",
    "The injection provided no relief.",
    "Failed PT.",
    "Failed conservative treatment including NSAIDs and therapy.",
    "He failed a course of chiropractic care.",
    "She has failed 6 sessions of acupuncture.",
    "Failed trial of Lyrica.",
    "The home exercise program was not helpful.",
    "Therapy has not helped.",
    "Tramadol does not help.",
    "Chiropractic made no difference.",
    "Six visits of therapy produced no improvement.",
    "He did not improve with 12 sessions of physical therapy.",
    "Symptoms unchanged after 8 PT visits.",
    "No benefit from the ESI.",
    "The TENS unit was of no help.",
    "Meds not working.",
    "Pain no better after the cortisone injection.",
    "The brace did not relieve her wrist pain.",
    "Therapy made her pain worse.",
    "He reports the medication is ineffective.",
    "Relief from the block lasted only two days.",
    "Minimal relief with Naprosyn.",
    "PT x6 - no change.",
    "Acupuncture x 6 w/o relief.",
]
BENEFIT_OR_NO_COURSE = [
    "PT helped a lot.",
    "The injection gave good relief.",
    "She has not yet tried physical therapy.",
    "No PT to date.",
    "UR failed to approve the acupuncture.",
    "The request was denied because there was no documentation of failed conservative care.",
    "If therapy does not help, surgery will be considered.",
    "He has not failed a trial of NSAIDs.",
    "Relief from the injection lasted 4 months.",
    "Pain is relieved with rest and ice.",
    "There was no documentation that conservative care failed.",
    "No change in work status.",
    "He has had no change in medications.",
]


@pytest.mark.parametrize("text", NO_BENEFIT)
def test_a_course_that_did_not_help_is_a_prior_trial_without_benefit(text):
    assert fires(text, "prior_trial_without_benefit"), text


@pytest.mark.parametrize("text", BENEFIT_OR_NO_COURSE)
def test_benefit_or_no_course_is_not_a_prior_trial_without_benefit(text):
    assert not fires(text, "prior_trial_without_benefit"), text


# Work status given as restrictions or modified duty is working; "return to work" as a goal is not.
WORKING = [
    "Work status: modified duty.",
    "Work status: restrictions of no lifting over 20 lbs.",
    "Work status - light duty.",
    "Modified duty with no overhead work.",
    "Returned to modified duty on 3/1.",
    "She is on light duty at work.",
    "He remains on restricted duty.",
    "Released to modified work with a 10 lb lifting restriction.",
    "Full duty.",
    "Working full duty without restrictions.",
    "She works part-time as a cashier.",
    "Currently employed and working 4 hours a day.",
    "He continues to work his regular job.",
    "Remains at work with restrictions.",
    "Return to work with restrictions: no lifting over 15 lbs.",
    "She was returned to work on modified duty.",
    "Employer is accommodating his restrictions.",
    "He has been back at work since March.",
    "Continues working as a mechanic.",
    "Restrictions: no repetitive bending; employer accommodates.",
    "Pt working with restrictions.",
    "He is tolerating his regular work.",
    "Work: modified, seated work only.",
    "She has been performing her usual and customary duties.",
    "Temporary partial disability; working modified duty.",
    "Desk duty only.",
    "He is on transitional duty.",
    "Kept on modified duty.",
]
NOT_WORKING = [
    "Goal: return to work.",
    "The goal of therapy is to return to work.",
    "Functional restoration to facilitate return to work.",
    "He hopes to return to work next month.",
    "The plan is to return him to modified duty in two weeks.",
    "She would like to return to her usual job.",
    "Return to work is anticipated after surgery.",
    "Therapy goals: improve strength and return to full duty.",
    "He is off work.",
    "Not working since the injury.",
    "She has not returned to work.",
    "He was placed off work until 12/1.",
    "Modified duty is not available, so he is off work.",
    "The employer cannot accommodate restrictions.",
    "Unable to work due to radicular pain.",
    "She was terminated and is not working.",
    "No return to work date was given.",
    "Work restrictions were given; it is unclear whether she is working.",
    "Treatment included work restrictions and medications.",
    "Work status: TTD.",
    "Work status: off work, modified duty not available.",
]


@pytest.mark.parametrize("text", WORKING)
def test_work_status_as_restrictions_or_modified_duty_is_working(text):
    assert fires(text, "working"), text


@pytest.mark.parametrize("text", NOT_WORKING)
def test_return_to_work_as_a_goal_or_off_work_is_not_working(text):
    assert not fires(text, "working"), text


# "Status post" a fall, an accident or an injection is no operation.
NOT_SURGERY = [
    "S/p fall at work on 3/2/2016.",
    "Status post MVA in 2015.",
    "Status post slip and fall.",
    "S/p crush injury to the left hand.",
    "Status post lumbar ESI with 50% relief.",
    "S/p cortisone injection to the shoulder 2 weeks ago.",
    "Status post trigger point injections.",
    "Status post left shoulder strain.",
    "Status post concussion.",
    "S/p 12 sessions of PT.",
    "Status post radiofrequency ablation L4-5.",
    "S/p assault at work.",
    "Status post work injury to the low back.",
    "Status post motor vehicle accident with whiplash.",
    "S/p medial branch blocks.",
    "Status post twisting injury of the knee.",
    "Status post lifting injury.",
    "Surgery was recommended but he declined.",
    "He is not a surgical candidate.",
    "Surgical history: none.",
    "PSH: none.",
    "No prior surgeries.",
    "Surgery is scheduled for next week.",
    "Surgical consultation was requested.",
    "Knee arthroscopy will be done next month.",
]
SURGERY = [
    "S/p L4-5 fusion.",
    "Status post right knee arthroscopy.",
    "S/p R CTR 2015.",
    "Status post ACDF C5-6 in 2012.",
    "S/p TKA.",
    "Hx lumbar laminectomy.",
    "PSH: L knee meniscectomy 2010.",
    "Past surgical history: appendectomy, right shoulder arthroscopy.",
    "She had a carpal tunnel release in 2014.",
    "Two prior back surgeries.",
    "He is post-op from a rotator cuff repair.",
    "Knee reconstruction done this week.",
    "Underwent microdiscectomy last year.",
    "S/p ORIF of the ankle.",
    "Post-laminectomy syndrome.",
    "Failed back surgery syndrome.",
    "Surgical scars are well healed.",
    "Status post right total hip replacement.",
    "POD 3 after right knee arthroscopy.",
    "Status post left carpal tunnel.",
]


@pytest.mark.parametrize("text", NOT_SURGERY)
def test_status_post_an_injury_or_injection_is_not_prior_surgery(text):
    assert not fires(text, "prior_surgery"), text


@pytest.mark.parametrize("text", SURGERY)
def test_an_operation_had_is_prior_surgery(text):
    assert fires(text, "prior_surgery"), text


# ---------------------------------------------------------------- the NegEx engine's scope ends
# (both ways: where the scope must end, and where it must still reach)


@pytest.mark.parametrize("text, name, expected", [
    # a heading or list label opens a clause: a cue before it does not reach past it
    ("Allergies: None Medications: Norco 10/325", "opioid_use", True),
    ("allergies: none meds: norco 10/325 tid", "opioid_use", True),
    ("ALLERGIES: NKDA MEDICATIONS: NORCO", "opioid_use", True),
    ("Denies: fever Meds: tramadol 50 mg", "opioid_use", True),
    ("ROS: no numbness Exam: decreased sensation L5 dermatome", "neuro_deficit", True),
    ("PMH: none PSH: L knee scope 2012", "prior_surgery", True),
    # ... and a cue inside the label's own clause still reaches
    ("Allergies: Norco (rash).", "opioid_use", False),
    ("Exam: no decreased sensation in the L5 dermatome", "neuro_deficit", False),
    ("PSH: none", "prior_surgery", False),
    ("No evidence of: radiculopathy", "radiculopathy", False),  # a lower-case word before the colon is no label
    ("Aberrant behavior: none.", "aberrant_behavior", False),
])
def test_headings_and_list_labels_end_a_negation(text, name, expected):
    assert fires(text, name) is expected, text


@pytest.mark.parametrize("text, name, expected", [
    ("Radicular symptoms resolved.", "radiculopathy", False),
    ("Her radicular pain resolved after the ESI.", "radiculopathy", False),
    ("Numbness has since resolved.", "neuro_symptoms", False),
    ("Insomnia resolved with Ambien.", "insomnia", False),
    ("The acute flare has subsided.", "acute_exacerbation", False),
    ("Radiculopathy, not resolved after two ESIs.", "radiculopathy", True),
    ("Unresolved radicular pain.", "radiculopathy", True),
    ("Numbness in the hand has not yet resolved.", "neuro_symptoms", True),
    # an operation after which the pain resolved still happened
    ("He underwent a discectomy and the leg pain resolved.", "prior_surgery", True),
])
def test_resolved_after_a_finding_negates_it(text, name, expected):
    assert fires(text, name) is expected, text


@pytest.mark.parametrize("text, name, expected", [
    # a cue before "due to" / "secondary to" does not reach the cause after it ...
    ("Unable to work due to radicular pain.", "radiculopathy", True),
    ("Not working secondary to radiculopathy.", "radiculopathy", True),
    ("Off work due to radicular pain.", "radiculopathy", True),
    ("MRI requested due to radicular symptoms.", "radiculopathy", True),
    ("She stopped Norco due to constipation.", "opioid_use", True),
    # ... nor is the finding before it freed from its own cue ...
    ("Not working secondary to radiculopathy.", "working", False),
    ("No radicular pain due to the fall.", "radiculopathy", False),
    # ... a cue after the cause still reaches back to the finding ...
    ("Radiculopathy due to a disc herniation was ruled out.", "radiculopathy", False),
    # ... and cues inside the cause work as before
    ("PT was denied due to no functional improvement.", "no_functional_improvement", True),
    ("Acupuncture was modified due to lack of functional improvement.", "functional_improvement", False),
])
def test_due_to_and_secondary_to_end_a_cues_forward_reach(text, name, expected):
    assert fires(text, name) is expected, text


@pytest.mark.parametrize("text, aberrant, monitoring", [
    ("No aberrant behavior.", False, True),
    ("Aberrant behavior: none.", False, True),
    ("No early refills, no aberrancy.", False, True),
    ("No aberrant behavior monitoring was documented.", False, False),
    ("Aberrant behaviors were not assessed.", False, False),
    ("There was no documentation of side effects or aberrant behavior.", False, False),
    ("Early refill requests x3.", True, False),
])
def test_no_aberrant_behavior_is_monitoring_not_aberrance(text, aberrant, monitoring):
    s = extract_signals({"summary": text, "item": "Norco 10/325 #90"})
    assert bool(s["aberrant_behavior"].value) is aberrant, text
    assert bool(s["opioid_monitoring"].value) is monitoring, text


# ---------------------------------------------------------------- time expressions
# Days from the latest operation to the UR denial date (or to the scoring date for a typed
# request without one): relative times need no reference, dates do.


@pytest.mark.parametrize("text, ur, days", [
    ("A cryotherapy unit for the week after a knee reconstruction done this week.", None, 3),
    ("S/p TKA 5 days ago.", None, 5),
    ("Right shoulder arthroscopy yesterday.", None, 1),
    ("He underwent a carpal tunnel release last month.", None, 30),
    ("Now 2 weeks post-op from an ACL reconstruction.", None, 14),
    ("POD 3 after right knee arthroscopy.", None, 3),
    ("Post-op day 10 after a rotator cuff repair.", None, 10),
    ("Post-op week 4 after a lumbar fusion.", None, 24),
    ("Six weeks out from surgery, still stiff.", None, 42),
    ("He underwent a rotator cuff repair on 09-14-2016 and has had ten therapy visits.", "2016-11-20", 67),
    ("S/p L4-5 fusion 10/2016, stiff, walks 10 minutes.", "2016-11-20", 50),
    ("Knee arthroscopy on October 22, 2016.", "2016-11-20", 29),
    ("ACL reconstruction in 2014 and a fall last week.", "2016-11-20", 690),  # the fall is no operation
    ("Status post fall last week.", None, None),
    ("Surgery is scheduled for next week.", None, None),
    ("Arthroscopy on 12/20/2016 is planned.", "2016-11-20", None),
])
def test_days_since_surgery(text, ur, days):
    s = extract_signals({"summary": text, "item": "Cold therapy unit", "ur_denial_date": ur})
    assert s["days_since_surgery"].value == days, text
    if days is not None:
        assert s["days_since_surgery"].evidence and all(f == "summary" for f, _, _ in s["days_since_surgery"].evidence)
        assert bool(s["recent_surgery"].value) is (days <= 183)


def test_a_date_without_a_denial_date_counts_to_the_scoring_date():
    from datetime import date, timedelta

    done = (date.today() - timedelta(days=4)).strftime("%m/%d/%Y")
    s = extract_signals({"summary": f"Right knee ACL reconstruction on {done}.", "item": "Cold therapy unit"})
    assert s["days_since_surgery"].value == 4 and s["recent_surgery"].value
    old = extract_signals({"summary": "Right knee ACL reconstruction on 10/02/2016.", "item": "Cold therapy unit"})
    assert old["days_since_surgery"].value > 183 and not old["recent_surgery"].value


def test_cold_therapy_in_the_week_after_an_operation_done_this_week():
    """The cold-therapy rule reads "outside the first week after an operation"; an operation
    done this week is inside it, one two years ago is not."""
    from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
    from imr_ml.signals import SignalValues

    def fired(summary):
        row = {"summary": summary, "item": "Cold therapy unit rental 7 days"}
        return {r.name for r in fired_rules(SignalValues(extract_signals(row)), row["item"], load_guidelines())}

    assert "cold_therapy_without_surgery" not in fired(
        "A cryotherapy unit for the week after a right knee reconstruction done this week.")
    assert "cold_therapy_without_surgery" in fired("Right knee ACL reconstruction 2 years ago, knee pain since.")


@pytest.mark.parametrize("text, days", [
    ("this week", 3), ("5 days ago", 5), ("yesterday", 1), ("last month", 30), ("2 weeks post-op", 14),
    ("POD 3", 3), ("three weeks postoperatively", 21), ("a few days ago", 3), ("on 11/2", 18),
    ("on 12/20", 336),  # no year, after the reference date: last year's
    ("10/2016", 50), ("2016-11-01", 19), ("in 2012", 1420), ("Norco 10/325 #90, motor 4/5", None),
    ("12/20/2016", None),  # after the reference: not something that has happened
    ("the day before yesterday", 2), ("last night", 1), ("earlier today", 0), ("last weekend", 5),
    ("last week", 7), ("the past week", 7), ("earlier this month", 15), ("last year", 365),
    ("2 months ago", 60), ("1 yr prior", 365), ("two years earlier", 730), ("a couple of weeks ago", 14),
    ("6 wks post-op", 42), ("3 weeks s/p", 21), ("1 month after surgery", 30),
    ("October 22, 2016", 29), ("22 October 2016", 29), ("Oct. 2016", 50), ("10/22/16", 29), ("since 2015", 325),
    ("13/45/2016", None), ("02/30/2016", None),  # no such day
])
def test_time_expressions_in_days_before_the_reference(text, days):
    from datetime import date

    from imr_ml.text import lower_text
    from imr_ml.text.timex import time_expressions

    ref = date(2016, 11, 20)
    found = [x.days_before(ref) for x in time_expressions(lower_text(text), ref)]
    if days is None:
        assert all(d is None for d in found), (text, found)
    else:
        assert found == [days], (text, found)


# The eight signals in the letters' own manner ("the applicant", "the injured worker"), written for
# this test: what each must and must not read.
LETTER_STYLE = [
    ('working', False, "The applicant's work status was not furnished."),
    ('working', True, 'The applicant was returned to regular duty work.'),
    ('working', False, 'The applicant remained off of work, on total temporary disability.'),
    ('working', False, 'The applicant was kept off of work.'),
    ('working', False,
     'The applicant was placed on modified duty with restrictions, which '
     'the employer was unable to accommodate.'),
    ('working', True, 'The applicant was working with said limitations in place, the treating provider reported.'),
    ('working', False, 'It did not appear that the applicant was working with said limitations in place.'),
    ('working', True,
     'A 20-pound lifting limitation was renewed; the applicant was '
     'apparently working with said limitation in place.'),
    ('working', False, 'The applicant was described as not working.'),
    ('working', False, 'The applicant had not worked in several months.'),
    ('working', True, 'The injured worker has returned to work full time.'),
    ('working', True, 'He is currently working his usual job as a warehouse worker.'),
    ('working', False, 'The treating physician recommended that he remain off work for 4 weeks.'),
    ('working', True, 'Work status: return to modified work on 11-16-2016 with no lifting over 10 pounds.'),
    ('working', False, 'Work status: temporarily totally disabled until 12-15-2016.'),
    ('working', True, 'Work status was documented as modified duty.'),
    ('working', True, 'The injured worker was released to modified duty.'),
    ('working', False, 'The injured worker was unable to return to work.'),
    ('working', False,
     'Return to work with restrictions was not an option because the '
     'employer had no light duty available.'),
    ('working', True, 'He is performing his regular job duties.'),
    ('working', False, "The applicant's job was terminated."),
    ('working', True, 'She continues to work full duty.'),
    ('working', False, 'He wishes to return to work as soon as possible.'),
    ('working', False, 'The goal of the program is return to work.'),
    ('working', False, 'The applicant was deemed "unable to work."'),
    ('opioid_use', True, 'The applicant was given refills of Norco and Motrin.'),
    ('opioid_use', True, "Ongoing usage of Norco had failed to curtail the applicant's pain complaints."),
    ('opioid_use', True, 'The attending provider suggested that the applicant employ tramadol on an as-needed basis.'),
    ('opioid_use', True, "The injured worker's medication regimen included Percocet and Soma."),
    ('opioid_use', False, 'The applicant was not using any medications.'),
    ('opioid_use', True,
     'The applicant reported 8/10 pain without medications versus 5/10 pain '
     'with medications, including Norco.'),
    ('opioid_use', True, 'Medications have included hydrocodone, cyclobenzaprine and naproxen.'),
    ('opioid_use', True, 'The original utilization review non-certified Norco 10/325 mg #120.'),
    ('opioid_use', False, 'The provider noted that opioids would be avoided.'),
    ('opioid_use', False, 'Non-opioid medications were tried first.'),
    ('opioid_use', True, 'The request for Nucynta ER was modified to allow for weaning.'),
    ('opioid_use', True, 'He was prescribed Ultram ER at the last visit.'),
    ('opioid_use', True, 'Prior medications included Oxycontin, which was stopped because of sedation.'),
    ('opioid_use', False, 'There is no documentation of opioid use.'),
    ('opioid_use', False, 'He has no history of opioid use.'),
    ('opioid_use', True, 'The patient has been on opioid therapy for several years.'),
    ('opioid_use', True, 'The patient reports that the Norco reduces her pain from 9/10 to 5/10.'),
    ('opioid_use', False, 'The patient denied taking any narcotics.'),
    ('opioid_use', True, 'The treatment plan was to continue current medications including Tylenol #3.'),
    ('prior_trial_without_benefit', True,
     'The applicant reported that earlier physical therapy had proven '
     'unsuccessful.'),
    ('prior_trial_without_benefit', True, 'Previous acupuncture was reportedly of no benefit.'),
    ('prior_trial_without_benefit', True,
     'The injured worker reported that the epidural injection provided no '
     'lasting relief.'),
    ('prior_trial_without_benefit', True, 'She stated that the injections did not provide any relief.'),
    ('prior_trial_without_benefit', True, 'Physical therapy was ineffective in reducing her symptoms.'),
    ('prior_trial_without_benefit', True, 'He reported that the medications were not helping his pain.'),
    ('prior_trial_without_benefit', True, 'The patient failed to improve with conservative management.'),
    ('prior_trial_without_benefit', True, 'Despite 12 sessions of therapy, she continues to have significant pain.'),
    ('prior_trial_without_benefit', True,
     'The patient had only minimal benefit from the prior trigger point '
     'injections.'),
    ('prior_trial_without_benefit', True, 'Symptoms persisted despite medications and bracing.'),
    ('prior_trial_without_benefit', True, 'The worker noted that chiropractic care afforded only transient relief.'),
    ('prior_trial_without_benefit', False, 'The injured worker reported significant relief with the injection.'),
    ('prior_trial_without_benefit', False, 'There was no documentation of a trial and failure of first-line therapy.'),
    ('prior_trial_without_benefit', False, 'The request was denied due to no evidence of failed conservative care.'),
    ('prior_trial_without_benefit', False, 'The medication helps to reduce her pain.'),
    ('prior_trial_without_benefit', True, 'He had no improvement with the prior physical therapy.'),
    ('prior_trial_without_benefit', True, 'The patient has tried and failed physical therapy and medications.'),
    ('prior_trial_without_benefit', False, 'It was not clear whether prior therapy had been beneficial.'),
    ('prior_trial_without_benefit', True, 'The ESI did not significantly reduce his leg pain.'),
    ('prior_surgery', True, 'The applicant is status post left knee arthroscopy.'),
    ('prior_surgery', True, 'He had undergone a right shoulder surgery in 2013.'),
    ('prior_surgery', False, 'The applicant was apparently intent on pursuing shoulder surgery.'),
    ('prior_surgery', False, 'The attending provider suggested that the applicant consult a spine surgeon.'),
    ('prior_surgery', True, 'The injured worker underwent a left carpal tunnel release on 10-15-2016.'),
    ('prior_surgery', False, 'He had a right shoulder cortisone injection.'),
    ('prior_surgery', False, 'She was status post industrial fall.'),
    ('prior_surgery', True, 'There were well-healed arthroscopic portals.'),
    ('prior_surgery', False, 'Surgical intervention was discussed.'),
    ('prior_surgery', True, 'The patient is 8 weeks status post rotator cuff repair.'),
    ('prior_surgery', False, 'He is a candidate for lumbar fusion.'),
    ('prior_surgery', True, 'Post-operative physical therapy was started after the lumbar fusion on 09-01-2016.'),
    ('functional_improvement', True,
     'The applicant reported that his medications were ameliorating his '
     'ability to perform household chores.'),
    ('functional_improvement', True, 'She is able to walk farther and sit longer since starting therapy.'),
    ('functional_improvement', False,
     'The attending provider did not outline any meaningful or material '
     'improvements in function achieved as a result of ongoing medication consumption.'),
    ('no_functional_improvement', True,
     'The attending provider did not outline any meaningful or material '
     'improvements in function achieved as a result of ongoing medication consumption.'),
    ('no_functional_improvement', True, 'There was no evidence of objective functional improvement after 12 sessions.'),
    ('functional_improvement', True, 'He reports that Norco allows him to perform his activities of daily living.'),
    ('permanent_and_stationary', True, 'The applicant has been declared permanent and stationary.'),
    ('permanent_and_stationary', True, 'He was given permanent work restrictions by his QME.'),
    ('permanent_and_stationary', False, 'The applicant has not yet reached MMI.'),
    ('ur_modified', True, 'The claims administrator partially approved the request for 12 sessions as 6 sessions.'),
    ('ur_modified', True, 'Utilization review certified 6 of the 12 requested sessions.'),
    ('ur_modified', False, 'The applicant was on modified duty.'),
    ('opioid_use', False, 'Guidelines state that opioids should be used with caution in chronic pain.'),
    ('opioid_use', False, 'The patient was counseled on the risks of opioids.'),
    ('opioid_use', False, 'No opioids were prescribed.'),
    ('opioid_use', False, 'Prior to consideration of opioids, non-opioid analgesics should be tried.'),
    ('opioid_use', False, 'The MTUS does not support opioids for chronic non-malignant pain.'),
    ('opioid_use', True, 'Tramadol was dispensed.'),
    ('opioid_use', True, 'He takes Norco two to three times a day.'),
    ('opioid_use', True, 'Current medications: Norco 10/325 mg, gabapentin 300 mg.'),
    ('opioid_use', True, 'She reports Percocet helps.'),
    ('opioid_use', False, 'The urine drug screen was negative for opioids.'),
    ('opioid_use', True, 'Morphine equivalent dose is 60 mg per day.'),
    ('opioid_use', True, 'The injured worker was weaned from opioids in 2015.'),
    ('opioid_use', False, 'She would like to avoid narcotic medications.'),
    ('opioid_use', True, 'The request for Tramadol 50 mg #60 is not medically necessary.'),
    ('working', False, 'Light duty was requested by the physician.'),
    ('working', False, 'If modified duty is available, he may return to work.'),
    ('working', True, 'He has been working light duty since October.'),
    ('working', False, 'Modified work was recommended but not provided by the employer.'),
    ('working', True, 'The employer has been accommodating his restrictions.'),
    ('working', False, 'The employer has not accommodated his restrictions.'),
    ('working', True, 'She returned to her usual job on 10-01-2016.'),
    ('working', False, 'The patient was previously working as a cook.'),
    ('working', False, 'He worked as a truck driver at the time of injury.'),
    ('working', True, 'She is employed as a medical assistant and continues to work.'),
    ('working', False, 'The patient has been unable to work since the injury.'),
    ('working', False, 'He has been off work since 10-15-2016.'),
    ('working', True, 'Status: modified duty, no lifting more than 15 pounds.'),
    ('prior_trial_without_benefit', False, 'The injection did not change his work status.'),
    ('prior_trial_without_benefit', True, 'The prior lumbar ESI was unsuccessful.'),
    ('prior_trial_without_benefit', True, 'Conservative measures including PT and NSAIDs were ineffective.'),
    ('prior_trial_without_benefit', False, 'The physical therapy notes were not available for review.'),
    ('prior_trial_without_benefit', True, 'Prior chiropractic treatment provided minimal improvement.'),
    ('prior_trial_without_benefit', False, 'Pain is worse with standing and better with rest.'),
    ('prior_trial_without_benefit', True, 'She was no better after six weeks of physical therapy.'),
    ('prior_trial_without_benefit', False, 'The patient reports that therapy has been helpful.'),
    ('prior_trial_without_benefit', True, 'Medications have not been effective.'),
    ('prior_trial_without_benefit', True, 'The patient reported little benefit from the TENS unit.'),
    ('prior_trial_without_benefit', False, 'There was no documentation that prior PT was unsuccessful.'),
    ('prior_surgery', False, 'The orthopedic surgeon recommended a right knee arthroscopy.'),
    ('prior_surgery', False, 'Surgery was discussed as an option.'),
    ('prior_surgery', True, 'She is 3 months post right TKA.'),
    ('prior_surgery', True, 'History of L5-S1 microdiscectomy.'),
    ('prior_surgery', False, 'He denies any prior surgeries.'),
    ('prior_surgery', False, 'There was no history of surgery.'),
    ('prior_surgery', True, 'The patient had left knee surgery many years ago.'),
    ('prior_surgery', False, 'The request for left shoulder arthroscopy was denied.'),
    ('prior_surgery', False, 'Status post right knee contusion and sprain.'),
    ('prior_surgery', False, 'S/p epidural injection L5-S1 with good relief.'),
    ('prior_surgery', True, 'Hardware was noted on x-ray from the prior ORIF.'),
    ('prior_surgery', False, 'He was status post industrial injury in 2014.'),
    ('functional_improvement', False, 'His pain improved from 8/10 to 5/10.'),
    ('functional_improvement', True, 'With Norco, she can perform household chores and walk her dog.'),
    ('functional_improvement', False, 'There was no improvement in function.'),
    ('no_functional_improvement', True, 'There was no improvement in function.'),
    ('no_functional_improvement', True, 'The records did not demonstrate functional gains from prior therapy.'),
    ('no_functional_improvement', False, 'Improvement in function was documented after therapy.'),
    ('permanent_and_stationary', True, 'He has reached maximal medical improvement.'),
    ('permanent_and_stationary', False, 'He is not yet permanent and stationary.'),
    ('ur_modified', True, 'UR modified the request to 6 sessions.'),
    ('ur_modified', True, 'The claims administrator partially certified the request.'),
    ('ur_modified', False, 'The request for modified duty was approved.'),
    ('permanent_and_stationary', True, 'The AME assigned 8% whole person impairment.'),
    ('permanent_and_stationary', True, 'He was found to have 12% WPI of the lumbar spine.'),
    ('permanent_and_stationary', True, 'She was given an impairment rating by the PTP.'),
    ('permanent_and_stationary', False, 'An impairment rating has not yet been provided.'),
    ('permanent_and_stationary', False, 'The QME will provide an impairment rating once she reaches MMI.'),
    ('permanent_and_stationary', True, 'P&S per the QME on 3/2/2016, with future medical care.'),
    ('permanent_and_stationary', True,
     'The treating physician declared him permanent and stationary with a 10% impairment.'),
    ('permanent_and_stationary', False, 'She is not P&S.'),
]


@pytest.mark.parametrize("name, expected, text", LETTER_STYLE)
def test_core_signals_in_letter_style(name, expected, text):
    assert fires(text, name) is expected, (name, text)
