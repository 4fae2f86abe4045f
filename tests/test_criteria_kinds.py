"""Decisive facts of other kinds than an indication, as keys of a criterion (`first_line`,
`max_quantity`, `window` in `features/criteria.toml`) read by `imr_ml.signals.criteria_kinds`:
per kind tried / denied / absent in a letter's prose and in a typed note, scope, the schema's
refusals, the rules (one fact, one rule) and the built-in model's ordering, the checklist line,
and that only pre-decision text is read.

Every sentence here is written for this test (no real letter text).
"""

import re

import pytest
from servicewalk import service_walk

from imr_ml.knowledge.errors import KnowledgeError
from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.signals import extract_signals, load_rules
from imr_ml.signals.check import check_criteria
from imr_ml.signals.criteria import load_criteria
from imr_ml.signals.criteria_kinds import FIELD_NAMES, first_line_rules
from imr_ml.signals.extract import SignalValues

NORCO = "Norco 10/325 mg #60"


def kinds(summary: str, item: str, **row) -> dict:
    sig = extract_signals({"summary": summary, "item": item, **row})
    return {k: sig[k].value for k in (*FIELD_NAMES, "exceeds_trial")}


def rules_fired(summary: str, item: str, **row) -> set[str]:
    row = {"summary": summary, "item": item, **row}
    return {r.name for r in fired_rules(SignalValues(extract_signals(row)), item, load_guidelines())}


def _score(summary: str, item: str, **row) -> dict:
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring.score import score_rows

    (result,) = score_rows(load_model_dir("builtin"), [{"letter_id": "t", "item_index": 0, "summary": summary,
                                                        "item": item, **row}])
    return result


# ----------------------------------------------------------------------------- the shipped file


def test_the_shipped_file_has_the_kinds_cited_and_compiled():
    criteria, rules = load_criteria(), load_rules()
    with_first = [c for c in criteria.entries if c.first_line]
    assert len(with_first) >= 55
    assert len([c for c in criteria.entries if c.max_quantity is not None]) >= 18
    assert len([c for c in criteria.entries if c.window is not None]) >= 8
    for c in with_first:
        tried, untried = first_line_rules(criteria, c, rules)
        assert tried.patterns is not None and untried.negated is not None and c.first_line_document
    check_criteria()


# ----------------------------------------------------------------------------- first-line care

# (item, tried in a letter's prose, the same in a typed note, denied in prose, denied typed)
FIRST_LINE = [
    (NORCO, "The patient has tried ibuprofen and Tylenol without relief of the low back pain.",
     "LBP x 2 yrs, failed NSAIDs/Tylenol.", "She has not tried NSAIDs or acetaminophen for the back pain.",
     "LBP. No prior NSAIDs."),
    ("Right carpal tunnel release", "Carpal tunnel syndrome persisted after night splints and a cortisone injection.",
     "R CTS, failed splinting + steroid inj.",
     "Carpal tunnel syndrome; she has never worn a splint and had no injection.",
     "R CTS. No splinting, no injections."),
    ("Trigger point injections x4", "Myofascial pain continued after 12 physical therapy visits and NSAIDs.",
     "Myofascial pain, s/p 12 PT visits, NSAIDs w/o relief.", "Myofascial pain; the worker has not had physical "
     "therapy, stretching or NSAIDs.", "Myofascial pain, no PT, no NSAIDs."),
    ("Aimovig 70 mg monthly", "Chronic post-traumatic migraine persisted on topiramate and then propranolol.",
     "Migraines 16 d/mo, failed topamax + propranolol.", "Chronic migraine; no preventive medications have been "
     "tried.", "Migraine 16 d/mo, never tried preventives."),
    ("Methocarbamol 750 mg #60", "Acute flare of low back pain despite naproxen twice daily.",
     "LBP flare, on naproxen.", "Acute flare of low back pain; she has not taken NSAIDs or acetaminophen.",
     "LBP flare, no NSAIDs."),
]


@pytest.mark.parametrize("item, prose, note, denied, denied_note", FIRST_LINE)
def test_first_line_care_tried_denied_and_absent(item, prose, note, denied, denied_note):
    for text in (prose, note):
        k = kinds(text, item)
        assert k["service_first_line_known"] and k["service_first_line_tried"] and not k["service_first_line_untried"]
    for text in (denied, denied_note):
        k = kinds(text, item)
        assert k["service_first_line_untried"] and not k["service_first_line_tried"], text
    k = kinds("Pain for two years after a work injury.", item)
    assert k["service_first_line_known"] and not k["service_first_line_tried"] and not k["service_first_line_untried"]


@pytest.mark.parametrize("summary, tried, untried", [
    ("Ibuprofen was discontinued because of GI upset.", True, False),  # stopped: still tried
    ("Unable to tolerate ibuprofen because of GI upset.", True, False),
    ("Recommend a trial of NSAIDs before anything stronger.", False, False),  # only planned
    ("Plan: start ibuprofen.", False, False),
    ("Norco 10/325 (hydrocodone/acetaminophen) for two years.", False, False),  # the opioid's own APAP
    ("Tylenol #3 at night.", False, False),  # codeine
])
def test_first_line_care_is_read_with_the_cue_sets_of_a_drug_s_use_and_of_plans(summary, tried, untried):
    k = kinds(summary, NORCO)
    assert (k["service_first_line_tried"], k["service_first_line_untried"]) == (tried, untried)


def test_the_first_line_rules_fire_once_and_defer_to_the_generic_ones():
    # "failed conservative care" has its own rule for surgery: the service's rule does not add to it
    release = "Right carpal tunnel release"
    assert "service_first_line_tried" in rules_fired("R CTS, splinting and a steroid injection.", release)
    fired = rules_fired("R CTS, failed conservative care including splinting.", release)
    assert "failed_conservative_care" in fired and "service_first_line_tried" not in fired
    assert "service_first_line_untried" in rules_fired("LBP. No prior NSAIDs.", NORCO)
    assert not {"service_first_line_tried", "service_first_line_untried"} & rules_fired("LBP.", NORCO)


def test_the_checklist_asks_for_the_first_line_care():
    result = _score("Low back pain for two years after a work injury.", NORCO)
    line = next(c for c in result["checklist"] if "tried before this service" in c["line"])
    assert line["found"] is False
    assert any("non-opioid analgesics (NSAIDs or acetaminophen) tried first was tried first" in h
               for h in result["hints"])
    found = _score("Low back pain, failed NSAIDs and Tylenol.", NORCO)
    assert next(c for c in found["checklist"] if "tried before this service" in c["line"])["found"] is True
    mri = _score("Neck pain." + FILLER, "MRI cervical spine")
    assert not any("tried before this service" in c["line"] for c in mri["checklist"])


# ----------------------------------------------------------------------------- quantity


@pytest.mark.parametrize("item, summary, limit, over", [
    ("Cognitive behavioral therapy x6", "Chronic pain with fear-avoidance.", 4, True),
    ("CBT 1x4", "Chronic pain with fear-avoidance.", 4, False),
    ("Chiropractic 2x6", "Chronic low back pain.", 6, True),
    ("Chiropractic 2x3", "Chronic low back pain.", 6, False),
    ("Chiropractic for flare-up x4", "Flare of low back pain; returned to work after chiropractic.", 2, True),
    ("H-wave unit 60 day rental", "Myofascial pain.", 30, True),
    ("H-wave unit 30 day rental", "Myofascial pain.", 30, False),
    ("Knee cortisone injection x4", "Knee osteoarthritis.", 3, True),
])
def test_a_quantity_above_the_service_s_allowance(item, summary, limit, over):
    k = kinds(summary, item)
    assert k["service_quantity_max"] == limit and _over(k) is over


def _over(k: dict) -> bool:
    """Above the allowance, as the field that reads it says: `exceeds_trial` where the category has a
    trial (the service's allowance replaces it there), `service_quantity_exceeds` elsewhere."""
    return bool(k.get("exceeds_trial") or k["service_quantity_exceeds"])


def test_documented_improvement_raises_the_allowance():
    item = "Chiropractic x12"
    plain = kinds("Chronic low back pain.", item)
    improved = kinds("Chronic low back pain. After 6 chiropractic visits function improved: she returned to full "
                     "duty and walks 2 miles.", item)
    assert plain["service_quantity_max"] == 6 and _over(plain)
    assert improved["service_quantity_max"] == 18 and not _over(improved)


def test_the_service_s_allowance_replaces_the_category_s_and_one_rule_reads_it():
    # psych's `[trial_max]` is 6; CBT's own initial trial is 3-4 visits
    k = kinds("Chronic pain with fear-avoidance.", "Cognitive behavioral therapy x6")
    assert k["exceeds_trial"] and not k["service_quantity_exceeds"]  # one field, one rule
    fired = rules_fired("Chronic pain with fear-avoidance.", "Cognitive behavioral therapy x6")
    assert "therapy_exceeds_initial_trial" in fired and "service_quantity_exceeds" not in fired
    # a device has no category trial: the service's own rule says it
    fired = rules_fired("Myofascial pain.", "H-wave unit 60 day rental")
    assert "service_quantity_exceeds" in fired and "therapy_exceeds_initial_trial" not in fired
    # a category trial without a service allowance is unchanged
    assert kinds("Chronic low back pain.", "Physical therapy x8")["exceeds_trial"]


# ----------------------------------------------------------------------------- window


@pytest.mark.parametrize("item, summary, row, outside", [
    ("HIV PEP Truvada", "Needlestick injury 5 days ago from a patient of unknown status.", {}, True),
    ("HIV PEP Truvada", "Needlestick injury yesterday from a patient of unknown status.", {}, False),
    ("HIV PEP Truvada", "Needlestick injury from a patient of unknown status.",
     {"date_of_injury": "2024-03-01", "ur_denial_date": "2024-03-02"}, False),
    ("HIV PEP Truvada", "Needlestick injury from a patient of unknown status.",
     {"date_of_injury": "2024-03-01", "ur_denial_date": "2024-03-20"}, True),
    ("EMG/NCS bilateral upper extremities", "Hand numbness since she was injured 1 week ago.", {}, True),
    ("EMG/NCS bilateral upper extremities", "Hand numbness since she was injured 3 months ago.", {}, False),
    ("EMG/NCS bilateral upper extremities", "Hand numbness.", {}, False),  # untimed: no finding
    ("DVT compression device", "Right TKA 5 days ago.", {}, False),
    ("DVT compression device", "Right TKA on 1/5/2024.", {"ur_denial_date": "2024-04-20"}, True),
])
def test_a_request_outside_its_window(item, summary, row, outside):
    assert kinds(summary, item, **row)["service_outside_window"] is outside


def test_the_window_rule_reads_the_field():
    assert "service_outside_window" in rules_fired("Needlestick injury 5 days ago.", "HIV PEP Truvada")
    assert "service_outside_window" not in rules_fired("Needlestick injury yesterday.", "HIV PEP Truvada")


# ----------------------------------------------------------------------------- the built-in model

FILLER = " The worker has had pain since a work injury two years ago."

# (item, the better side, the worse side): one pair per kind for a handful of services
PAIRS = [
    (NORCO, "LBP, failed NSAIDs and Tylenol.", "LBP, has not tried NSAIDs or Tylenol."),
    ("Methocarbamol 750 mg #60", "LBP flare, on naproxen.", "LBP flare, no NSAIDs."),
    ("Aimovig 70 mg monthly", "Migraine 16 d/mo, failed topamax and propranolol.",
     "Migraine 16 d/mo, never tried preventives."),
    ("Right carpal tunnel release", "R CTS, splinting and a steroid injection.",
     "R CTS, no splinting and no injections."),
    ("H-wave unit 30 day rental", "Myofascial pain.", None),
    ("Biofeedback x4", "Chronic pain with fear-avoidance.", None),
]


@pytest.mark.parametrize("item, better, worse", PAIRS)
def test_the_builtin_model_orders_a_pair_per_kind(item, better, worse):
    if worse is None:  # a quantity: the same note, more than the allowance
        more = re.sub(r"\d+(?= day| ?$)", lambda m: str(int(m.group()) * 3), item)
        assert _score(better + FILLER, item)["p_overturned"] > _score(better + FILLER, more)["p_overturned"]
    else:
        assert _score(better + FILLER, item)["p_overturned"] > _score(worse + FILLER, item)["p_overturned"]


def test_the_builtin_model_orders_a_window_pair():
    source = " from a patient with HIV; the nurse has no symptoms and takes no medication."
    inside = _score("Needlestick injury yesterday" + source, "HIV PEP Truvada")["p_overturned"]
    outside = _score("Needlestick injury 10 days ago" + source, "HIV PEP Truvada")["p_overturned"]
    assert inside > outside


# ----------------------------------------------------------------------------- scope

# The services of the entries that have no findings (their kinds are all they say), and the
# walk's classes each may reach.
NEW_CLASSES = {
    "opioid_analgesic": {"opioid", "tramadol"}, "muscle_relaxant_second_line": {"muscle relaxant"},
    "celecoxib": set(), "cgrp_preventive": set(), "gepant_acute": set(), "h_wave": {"H-wave"},
    "psychotherapy_cbt": {"psychotherapy / CBT"}, "biofeedback": {"biofeedback"}, "chiropractic_flare_up": set(),
}


def test_a_criterion_s_kinds_reach_only_its_own_service():
    walk = service_walk()
    for service, classes in NEW_CLASSES.items():
        assert classes <= {cls for _, cls, _, _ in walk}, service
    criteria, wrong = load_criteria(), []
    for _, cls, item, _ in walk:
        sig = extract_signals({"summary": "", "item": item})
        found = {c.service for c in criteria.of_item(item, sig["category"].value, sig["item_drug_classes"].value or ())}
        wrong += [(s, cls, item) for s in found & set(NEW_CLASSES) if cls not in NEW_CLASSES[s]]
        wrong += [(s, cls, item, "missed") for s, classes in NEW_CLASSES.items() if cls in classes and s not in found]
    assert wrong == []


def test_kinds_do_not_fire_for_another_service_s_item():
    failed = "Failed NSAIDs, Tylenol, physical therapy, splinting and a cortisone injection; no preventives."
    for item in ("MRI lumbar spine", "Gabapentin 300 mg #90", "Physical therapy x6", "Lumbar support brace"):
        k = kinds(failed, item)
        assert not any(k[f] for f in ("service_first_line_known", "service_first_line_tried",
                                      "service_first_line_untried")), item
    post_op = kinds("Post-op pain after a knee arthroscopy; no NSAIDs.", "Post-op Norco #20")
    assert not post_op["service_first_line_known"]


def test_the_fields_read_only_pre_decision_text():
    row = {"summary": "Low back pain for two years.", "item": NORCO,
           "rationale": "The records document failed NSAIDs and Tylenol; the opioid is medically necessary.",
           "reviewer_guideline": "failed NSAIDs", "decision": "overturned"}
    sig = extract_signals(row)
    assert not sig["service_first_line_tried"].value
    pre = {k: row[k] for k in ("summary", "item")}
    assert {k: v.value for k, v in extract_signals(pre).items()} == {k: v.value for k, v in sig.items()}


# ----------------------------------------------------------------------------- the schema

BASE = '''[[criterion]]
service = "test_service"
label = "a test service"
item = '\\bzzscan\\b'
{kinds}
document = "a finding"
citation = "a guideline"
'''


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("kinds_lines, needle, message", [
    ("first_line = ['\\bzzcare\\b']\nkinds_citation = 'x'", "first_line =", r"`first_line_document` go together"),
    ("max_quantity = 6", "service =", r"need `kinds_citation`"),
    ("max_quantity = 6\nmax_quantity_with_response = 4\nkinds_citation = 'x'", "max_quantity_with_response",
     r"needs a `max_quantity` below it"),
    ("window = { since = 'injury', min_days = 30, max_days = 7 }\nkinds_citation = 'x'", "window",
     r"min_days 30 is not below"),
    ("window = { since = 'onset', max_days = 7 }\nkinds_citation = 'x'", "window", r"since"),
    ("max_quantiy = 6\nkinds_citation = 'x'", "max_quantiy",
     r"unknown key 'max_quantiy' \(did you mean 'max_quantity'\?\)"),
    ("max_quantity = 0\nkinds_citation = 'x'", "max_quantity", r"greater than 0"),
    ("", "service =", r"says nothing"),
])
def test_a_wrong_kind_is_refused_with_its_line(tmp_path, kinds_lines, needle, message):
    text = BASE.format(kinds=kinds_lines)
    path = tmp_path / "criteria.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=re.escape(f"{path}:{_line_of(text, needle)}:") + ".*" + message):
        check_criteria(str(path))


def test_a_first_line_pattern_that_does_not_compile_is_refused(tmp_path):
    text = BASE.format(kinds="first_line = ['(unclosed']\nfirst_line_document = 'care'\nkinds_citation = 'x'")
    path = tmp_path / "criteria.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=re.escape(f"{path}:{_line_of(text, '(unclosed')}:") + ".*not a regular"):
        load_criteria(str(path))
