"""Service criteria as data (`features/criteria.toml`) read by one generic matcher
(`imr_ml.signals.criteria`): the file's schema, the scope of each criterion, NegEx on its
findings, the two fields and the two rules that read them, the checklist line, and the copy a
model directory keeps.

Every sentence here is written for this test (no real letter text).
"""

import re
from pathlib import Path

import pytest
from servicewalk import service_walk

from imr_ml.knowledge.errors import KnowledgeError
from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.knowledge.validate import knowledge_bytes
from imr_ml.signals import extract_signals
from imr_ml.signals.check import check_criteria
from imr_ml.signals.criteria import load_criteria
from imr_ml.signals.extract import SignalValues

ROOT = Path(__file__).resolve().parents[1]
EMG = "EMG/NCS bilateral upper extremities"


def fields(summary: str, item: str = EMG, **row) -> dict:
    sig = extract_signals({"summary": summary, "item": item, **row})
    return {k: sig[k].value for k in ("service_criteria", "service_indication_documented",
                                      "service_indication_contradicted")}


def documented(summary: str, item: str = EMG) -> bool:
    return fields(summary, item)["service_indication_documented"]


def contradicted(summary: str, item: str = EMG) -> bool:
    return fields(summary, item)["service_indication_contradicted"]


# ----------------------------------------------------------------------------- the file


def _written(tmp_path, text: str) -> tuple[str, str]:
    path = tmp_path / "criteria.toml"
    path.write_text(text, encoding="utf-8")
    return str(path), text


ENTRY = '''[[criterion]]
service = "{service}"
label = "a test service"
{scope}
indication = [{indication}]
document = "a finding"
citation = "a guideline"
'''


def entry(service="test_service", scope="item = '\\\\bzzscan\\\\b'", indication="'\\\\bzzfinding\\\\b'") -> str:
    return ENTRY.format(service=service, scope=scope, indication=indication)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_shipped_criteria_load_and_agree_with_the_taxonomy_and_vocabulary():
    check_criteria()
    services = [c.service for c in load_criteria().entries]
    assert len(services) >= 13 and len(set(services)) == len(services)


def test_every_shipped_criterion_compiles():
    """The shipped file's patterns are compiled here rather than at every start (a user's copy
    is compiled when loaded)."""
    from imr_ml.signals import load_rules

    criteria, rules = load_criteria(), load_rules()
    for c in (c for c in criteria.entries if c.indication):  # (the others': tests/test_criteria_kinds.py)
        documented_rule, contradicted_rule = criteria.text_rules(c, rules)
        assert documented_rule.patterns is not None and contradicted_rule.negated is not None


def test_a_regex_that_does_not_compile_is_refused_with_its_line(tmp_path):
    path, text = _written(tmp_path, entry() + "\n" + entry("other", indication="'\\\\bok\\\\b', '(unclosed'"))
    with pytest.raises(KnowledgeError, match=re.escape(f"{path}:{_line_of(text, '(unclosed')}:")
                       + r".*not a regular expression"):
        load_criteria(path)


def test_a_duplicate_service_is_refused_with_its_line(tmp_path):
    path, text = _written(tmp_path, entry() + "\n" + entry())
    line = [i for i, s in enumerate(text.splitlines(), 1) if s.startswith("service =")][1]
    with pytest.raises(KnowledgeError, match=re.escape(f"{path}:{line}:") + r".*duplicate service 'test_service'"):
        load_criteria(path)


def test_a_criterion_without_item_or_drug_class_is_refused(tmp_path):
    path, text = _written(tmp_path, entry(scope='category = ["dme"]'))
    with pytest.raises(KnowledgeError, match=re.escape(f"{path}:{_line_of(text, 'service =')}:")
                       + r".*neither `item` nor `drug_class`"):
        load_criteria(path)


def test_an_indication_list_may_not_be_empty(tmp_path):
    path, text = _written(tmp_path, entry(indication=""))
    with pytest.raises(KnowledgeError, match=re.escape(f"{path}:{_line_of(text, 'indication =')}:")):
        load_criteria(path)


@pytest.mark.parametrize("scope, needle, message", [
    ('item = \'\\bzz\\b\'\ncategory = ["dme", "imagin_mri"]', "category =", r"unknown category 'imagin_mri' "
     r"\(did you mean 'imaging_mri'\?\)"),
    ('drug_class = ["opiod"]', "drug_class =", r"unknown drug class 'opiod' \(did you mean 'opioid'\?\)"),
])
def test_unknown_categories_and_drug_classes_are_refused_with_their_line(tmp_path, scope, needle, message):
    path, text = _written(tmp_path, entry(scope=scope))
    with pytest.raises(KnowledgeError, match=re.escape(f"{path}:{_line_of(text, needle)}:") + ".*" + message):
        check_criteria(path)


def test_an_unknown_key_is_refused(tmp_path):
    path, text = _written(tmp_path, entry().replace("document =", "documnet = 'x'\ndocument ="))
    with pytest.raises(KnowledgeError, match=r"unknown key 'documnet' \(did you mean 'document'\?\)"):
        load_criteria(path)


# ----------------------------------------------------------------------------- scope


def test_only_the_items_own_criteria_are_read():
    summary = "Dysesthesias and grip weakness in both hands, carpal tunnel syndrome at the wrists."
    assert documented(summary)
    assert fields(summary, "X-ray right ankle") == {"service_criteria": ["xray_ankle_foot"],
                                                   "service_indication_documented": False,
                                                   "service_indication_contradicted": False}
    assert fields(summary, "Paraffin bath unit") == {"service_criteria": [], "service_indication_documented": False,
                                                      "service_indication_contradicted": False}
    # an indication of the lower limbs' study is not the upper limbs'
    assert fields("EHL weakness on the left.", EMG)["service_indication_documented"] is False
    assert documented("EHL weakness on the left.", "EMG/NCV bilateral lower extremities")



# The service-walk classes each seed criterion is written for; every other class's item must
# find no seed criterion.
SEED_CLASSES = {
    "emg_ncs_upper": {"EMG/NCS upper"}, "emg_ncs_lower": {"EMG/NCS lower"},
    "mr_arthrogram_shoulder": {"MR arthrogram"}, "tens_trial": {"TENS unit"},
    "knee_brace": {"knee brace"}, "wrist_splint": {"wrist splint"}, "cane_walker": {"walker / crutches"},
    "bone_scan": set(), "ct_extremity": set(), "xray_ankle_foot": {"ankle X-ray"},
    "cervical_traction": {"home cervical traction"}, "foot_orthotics": {"foot orthotics"},
    "ankle_brace": {"ankle brace"},
}


def test_no_seed_criterion_reaches_another_service_class_of_the_walk():
    seeds = {c.service: c for c in load_criteria().entries if c.service in SEED_CLASSES}
    assert set(seeds) == set(SEED_CLASSES)
    walk = service_walk()
    for service, classes in SEED_CLASSES.items():
        assert classes <= {cls for _, cls, _, _ in walk}, service
    wrong = []
    for _, cls, item, _ in walk:
        sig = extract_signals({"summary": "", "item": item})
        found = set(sig["service_criteria"].value) & set(SEED_CLASSES)
        wrong += [(service, cls, item) for service in found if cls not in SEED_CLASSES[service]]
        wrong += [(service, cls, item, "missed") for service, classes in SEED_CLASSES.items()
                  if cls in classes and service not in found]
    assert wrong == []


# ----------------------------------------------------------------------------- NegEx on the findings


@pytest.mark.parametrize("summary", [
    "She reports weakness of the right hand.",
    "c/o n/t b/l hands",
    "Dysesthesias of the left 4th and 5th fingers for two months.",
    "Carpal tunnel syndrome on the right.",
    "CTS R, grip weakness",
    "Cubital tunnel syndrome on the left.",
    "Pain in a C6 dermatomal pattern.",
])
def test_an_indication_stated_is_documented(summary):
    assert documented(summary) and not contradicted(summary)


@pytest.mark.parametrize("summary", [
    "She denies grip weakness.",
    "No dysesthesias in the hands.",
    "Negative Tinel and Phalen signs.",
    "Tinel's negative bilaterally.",
    "Sensation intact to light touch; reflexes 2+ and symmetric.",
    "The dysesthesias in her hand have resolved.",
])
def test_an_indication_denied_or_a_finding_against_is_contradicted(summary):
    assert contradicted(summary) and not documented(summary)


@pytest.mark.parametrize("summary", [
    "EMG to r/o carpal tunnel syndrome.",
    "The study will evaluate for radiculopathy.",
    "Requesting EMG to rule out radiculopathy.",
    "Neck pain for six months after a lifting injury.",
    "",
])
def test_a_planned_or_absent_indication_is_neither(summary):
    assert not documented(summary) and not contradicted(summary)


def test_a_letter_and_a_typed_note_stating_the_same_facts_give_the_same_fields():
    letter = ("This is a 46-year-old female who sustained an industrial injury on 03/02/2015 while lifting boxes. "
              "According to the progress report of 01/10/2016, she complains of neck pain with dysesthesias "
              "in the right hand. On examination there is grip weakness on the right. Treatment to date has "
              "included physical therapy and medications. A request was made for "
              "EMG/NCS of the bilateral upper extremities.")
    note = "46F neck pain, dysesthesias R hand, grip weakness R. Failed PT, meds."
    assert fields(letter) == fields(note) == {"service_criteria": ["emg_ncs_upper"],
                                              "service_indication_documented": True,
                                              "service_indication_contradicted": False}
    denied_letter = ("The injured worker is a 46-year-old female with chronic neck pain. On examination, she "
                     "denied any numbness or tingling in the upper extremities, and Tinel and Phalen signs were "
                     "negative.")
    denied_note = "46F neck pain. Denies numbness/tingling. Neg Tinel, neg Phalen."
    assert fields(denied_letter) == fields(denied_note) == {"service_criteria": ["emg_ncs_upper"],
                                                            "service_indication_documented": False,
                                                            "service_indication_contradicted": True}


def test_the_fields_read_only_pre_decision_text():
    row = {"summary": "Neck pain for six months after a lifting injury.", "item": EMG,
           "rationale": "The records document numbness and a positive Tinel sign; the study is medically necessary.",
           "reviewer_guideline": "numbness, tingling, positive Tinel", "decision": "overturned"}
    sig = extract_signals(row)
    assert not sig["service_indication_documented"].value and not sig["service_indication_contradicted"].value
    pre = {k: row[k] for k in ("summary", "item")}
    assert {k: v.value for k, v in extract_signals(pre).items()} == {k: v.value for k, v in sig.items()}


# ----------------------------------------------------------------------------- rules, words, checklist


def _rules(summary: str, item: str = EMG) -> set[str]:
    values = SignalValues(extract_signals({"summary": summary, "item": item}))
    return {r.name for r in fired_rules(values, item, load_guidelines())}


def test_the_two_rules_read_the_two_fields():
    assert "service_indication_documented" in _rules("Grip weakness in the right hand.")
    assert "service_indication_contradicted" not in _rules("Grip weakness in the right hand.")
    assert "service_indication_contradicted" in _rules("Denies numbness; negative Tinel.")
    assert not {"service_indication_documented", "service_indication_contradicted"} & _rules("Neck pain.")


def _score(summary: str, item: str) -> dict:
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring.score import score_rows

    row = {"letter_id": "t", "item_index": 0, "summary": summary, "item": item}
    (result,) = score_rows(load_model_dir("builtin"), [row])
    return result


FILLER = " The worker has had pain since a work injury two years ago and has tried medication and therapy."

# One documented and one contradicted summary per seed service (written for this test).
SEED_PAIRS = {
    "emg_ncs_upper": (EMG, "Dysesthesias and grip weakness in the right hand, carpal tunnel syndrome.",
                      "Denies numbness or tingling; sensation intact; negative Tinel."),
    "emg_ncs_lower": ("EMG/NCV bilateral lower extremities",
                      "EHL weakness on the left, pain in an L5 dermatomal pattern.",
                      "No numbness or tingling in the legs; SLR negative; reflexes 2+ and symmetric."),
    "mr_arthrogram_shoulder": ("MR arthrogram left shoulder", "Suspected labral tear with a positive O'Brien test.",
                               "Negative O'Brien and apprehension tests; the shoulder is stable."),
    "tens_trial": ("TENS unit purchase", "Neuropathic pain; a 30-day TENS trial reduced pain and improved walking.",
                   "A TENS trial did not help the pain."),
    "knee_brace": ("Hinged knee brace", "The knee gives way; positive Lachman test after an ACL tear.",
                   "The knee is stable with a negative Lachman test."),
    "wrist_splint": ("Right wrist splint", "Carpal tunnel syndrome with night numbness and a positive Phalen sign.",
                     "Negative Tinel and Phalen; sensation intact."),
    "cane_walker": ("Front-wheeled walker", "Antalgic gait with two falls this month; unsteady.",
                    "Normal gait; ambulates independently without an assistive device."),
    "bone_scan": ("Three-phase bone scan", "Suspected CRPS with allodynia and skin color changes of the hand.",
                  "The fracture has healed; non-specific low back pain."),
    "ct_extremity": ("CT scan of the right wrist", "Suspected scaphoid fracture not seen on X-ray.",
                     "X-rays were normal; a soft tissue sprain."),
    "xray_ankle_foot": ("X-ray right ankle",
                        "Twisted the ankle, tender over the lateral malleolus, unable to bear weight.",
                        "Able to bear weight; the ankle is non-tender."),
    "cervical_traction": ("Home cervical traction unit",
                          "Radicular pain into the right arm with a positive Spurling test.",
                          "Axial neck pain; negative Spurling test."),
    "foot_orthotics": ("Custom foot orthotics", "Plantar fasciitis with heel pain for 6 months.",
                       "Orthotics did not help; non-specific low back pain."),
    "ankle_brace": ("Ankle brace", "Recurrent ankle sprains with instability and giving way.",
                    "The ankle is stable; negative anterior drawer test."),
}


def test_every_seed_service_has_its_pair():
    assert set(SEED_PAIRS) == set(SEED_CLASSES)


@pytest.mark.parametrize("service", sorted(SEED_PAIRS))
def test_the_builtin_model_orders_a_documented_and_a_contradicted_request_of_each_seed(service):
    item, yes, no = SEED_PAIRS[service]
    assert extract_signals({"summary": yes, "item": item})["service_criteria"].value[:1] == [service]
    assert documented(yes, item) and not contradicted(yes, item)
    assert contradicted(no, item) and not documented(no, item)
    p_yes = _score(yes + FILLER, item)["p_overturned"]
    p_no = _score(no + FILLER, item)["p_overturned"]
    p_none = _score("Pain." + FILLER, item)["p_overturned"]
    assert p_yes > p_no and p_yes > p_none


def test_the_explanation_names_the_service_and_quotes_the_finding():
    result = _score("Dysesthesias and grip weakness in the right hand." + FILLER, EMG)
    (line,) = [c for c in result["contributions"] if c["feature"] == "rule__service_indication_documented"
               or any(p["feature"] == "rule__service_indication_documented" for p in c["parts"])]
    part = next(p for p in line["parts"] if p["feature"] == "rule__service_indication_documented")
    assert part["label"].startswith("guideline: EMG/NCS of the upper limbs: ")
    assert {"dysesthesias", "grip weakness"} <= {e["text"].lower() for e in line["evidence"]}


def test_the_checklist_asks_for_the_criterions_document_when_no_indication_is():
    result = _score("Pain." + FILLER, "Hinged knee brace")
    knee = next(c for c in load_criteria().entries if c.service == "knee_brace")
    assert f"document {knee.document}" in result["hints"]
    line = next(c for c in result["checklist"] if "its indication" in c["line"])
    assert line["found"] is False
    found = _score("The knee gives way on stairs." + FILLER, "Hinged knee brace")
    assert f"document {knee.document}" not in found["hints"]
    assert next(c for c in found["checklist"] if "its indication" in c["line"])["evidence"] == "gives way"
    assert not any("its indication" in c["line"] for c in _score("Pain." + FILLER, "Infrared therapy x6")["checklist"])


# ----------------------------------------------------------------------------- a model's own copy


def test_a_model_scores_with_the_criteria_copy_it_was_trained_with(synth_rows, tmp_path):
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.modeling.training.train import TrainOptions, save, train
    from imr_ml.scoring.score import score_rows

    own = tmp_path / "criteria.toml"
    shipped = knowledge_bytes("criteria.toml").decode("utf-8")
    own.write_text(shipped.replace("'\\bn/t\\b',", "'\\bzzfinding\\b', '\\bn/t\\b',", 1))
    opts = TrainOptions(estimate=False, grid=({"prior_weight": 1.0},), n_splits=3, baselines=False,
                        calibration="sigmoid", pipeline={"criteria": str(own)})
    out = tmp_path / "model"
    save(train(synth_rows[:300], opts), out)
    own.write_text(shipped)  # the file changes after training: the model keeps its copy
    loaded = load_model_dir(out)
    assert loaded.knowledge.criteria.startswith(str(out.resolve() / "current" / "knowledge" / "criteria-"))
    row = {"letter_id": "t", "item_index": 0, "item": EMG, "summary": "Zzfinding of the right hand." + FILLER}
    (result,) = score_rows(loaded, [row])
    fired = {p["feature"] for c in result["contributions"] for p in c["parts"]}
    assert "rule__service_indication_documented" in fired
    assert not documented(row["summary"])  # the shipped criteria do not know the word


def test_a_rule_naming_a_service_that_has_no_criterion_is_refused(tmp_path):
    from imr_ml.signals.check import check_guidelines

    shipped = knowledge_bytes("guidelines.toml").decode("utf-8")
    bad = tmp_path / "guidelines.toml"
    text = shipped.replace("when = { service_indication_contradicted = true }",
                           'when = { service_indication_contradicted = true, service_criteria = ["ankle_brac"] }')
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=re.escape(f"{bad}:{_line_of(text, 'ankle_brac')}:")
                       + r".*unknown value 'ankle_brac' \(did you mean 'ankle_brace'\?\)"):
        check_guidelines(str(bad))
