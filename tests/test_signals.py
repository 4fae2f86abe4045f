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
    far = ("No fever was reported at the visit, and on the following day and after that the medication list "
           "included Norco.")
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

    from imr_ml.modeling.modelio import load_model_dir
    from imr_ml.scoring.score import request_row, score_rows

    before = gc.get_threshold()
    row = request_row("58F, fell at work. Failed 6 weeks of PT.", "MRI right shoulder")
    list(score_rows(load_model_dir("builtin"), [row]))
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_scoring_request_after_request_does_not_accumulate_garbage():
    """A server scores one request at a time: the cycles each call makes must be collected
    without anyone calling gc.collect() (freezing the heap per call once leaked ~13 KB each)."""
    import gc

    from imr_ml.modeling.modelio import load_model_dir
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
