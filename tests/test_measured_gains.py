"""Knowledge added for the second sense suite's last gaps (issue #22): measured gains written
with arrows, a programme or device continued with or without gains, a surgery still to come,
chondromalacia, the whole post-surgical course, "Pt" the patient, vitamin B12. Each signal
and rule fires on a sentence stating the fact and not on one without it.

Every sentence is written for this test (no real letter text, none from the sense suites).
"""

import re

import pytest

from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.knowledge.vocabulary import VocabularyError, load_vocabulary, number_change
from imr_ml.signals import extract_signals
from imr_ml.signals.extract import SignalValues


def signal(summary: str, name: str, item: str = "Office visit") -> bool:
    return bool(extract_signals({"summary": summary, "item": item, "ur_denial_date": "2021-03-01"})[name].value)


def rules_for(summary: str, item: str) -> set[str]:
    values = SignalValues(extract_signals({"summary": summary, "item": item, "ur_denial_date": "2021-03-01"}))
    return {r.name for r in fired_rules(values, item, load_guidelines())}


# ---------------------------------------------------------------- {change:rise} / {change:fall}

@pytest.mark.parametrize("text, rise", [
    ("20 -> 60", True), ("9 -> 12", True), ("10 lb -> 25 lb", True), ("50 deg --> 70", True), ("15 → 45", True),
    ("60 -> 20", False), ("20 -> 25", False), ("12 -> 9", False), ("3/10 -> 7/10", True), ("7/10 -> 3/10", False),
])
def test_number_change_compares_the_two_numbers(text, rise):
    up = re.compile("|".join(number_change("rise")))
    down = re.compile("|".join(number_change("fall")))
    assert bool(up.search(text)) is rise
    assert bool(down.search(text)) is (not rise and text != "20 -> 25")


def test_number_change_refuses_another_direction():
    with pytest.raises(VocabularyError):
        load_vocabulary().expand("{change:sideways}")


@pytest.mark.parametrize("text, fires", [
    ("Completed 4 wks of PT: sitting tolerance 20 -> 60 min, lift 10 -> 25 lb.", True),
    ("After the trial his Oswestry went 46 -> 24.", True),
    ("Since the fall, sitting tolerance 60 -> 20 min.", False),
    ("Goal: walking 2 -> 6 blocks.", False),
    ("Pain 7/10 -> 3/10.", False),  # pain relief alone is no functional improvement (9792.20(e))
])
def test_a_measured_gain_is_functional_improvement(text, fires):
    assert signal(text, "functional_improvement") is fires


# ---------------------------------------------------------------- signals

@pytest.mark.parametrize("name, text, fires", [
    ("surgery_scheduled", "Right shoulder arthroscopy was certified and is set for next Monday.", True),
    ("surgery_scheduled", "He is scheduled for a left knee arthroscopy on 4/2.", True),
    ("surgery_scheduled", "He underwent a left knee arthroscopy nine weeks ago.", False),
    ("surgery_scheduled", "The fusion was not certified.", False),
    ("tens_failed", "Failed PT, NSAIDs and TENS.", True),
    ("tens_failed", "TENS helped; PT failed.", False),
    ("knee_osteoarthritis", "Standing films: medial compartment osteoarthritis of the right knee.", True),
    ("knee_osteoarthritis", "MRI: chondromalacia of the patella of the right knee, joint spaces preserved.", False),
    ("frp_evaluation_done", "The program was recommended after an interdisciplinary evaluation.", True),
    ("frp_evaluation_done", "An interdisciplinary evaluation was requested.", False),
])
def test_signal(name, text, fires):
    assert signal(text, name) is fires


def test_pt_reports_is_the_patient_not_physical_therapy():
    """A finding in a sentence about what "Pt" reports is credited to the requested therapy
    named just before, not to physical therapy."""
    item = "Chiropractic x6"
    helped = "Had 6 chiro visits. Pt reports now able to drive and lift the grandkids."
    assert signal(helped, "functional_improvement_same_modality", item)
    assert not signal("Had 6 PT visits. Pt reports now able to drive and lift the grandkids.",
                      "functional_improvement_same_modality", item)


# ---------------------------------------------------------------- rules

def test_cold_unit_for_a_scheduled_surgery_and_not_weeks_after_one():
    item = "Cold therapy unit 7-day rental, right knee"
    before = rules_for("Right knee ACL reconstruction was certified and is scheduled for next week.", item)
    after = rules_for("She underwent right knee ACL reconstruction ten weeks ago and still swells.", item)
    none = rules_for("Right knee sprain, no surgery planned.", item)
    assert "cold_therapy_unit_first_week_after_surgery" in before and "cold_therapy_without_surgery" not in before
    assert "cold_therapy_unit_beyond_7_days" in after and "cold_therapy_unit_first_week_after_surgery" not in after
    assert "cold_therapy_without_surgery" in none and "cold_therapy_unit_beyond_7_days" not in none


def test_hyaluronic_acid_reads_osteoarthritis_of_the_knee_item_and_not_chondromalacia():
    item = "Synvisc injection, right knee"
    oa = rules_for("Films show severe joint space narrowing and osteophytes: osteoarthritis. Failed NSAIDs and PT.",
        item)
    cm = rules_for("MRI shows chondromalacia patellae, no arthritis. Failed NSAIDs and PT.", item)
    assert "hyaluronic_acid_knee_oa_after_failed_care" in oa and "hyaluronic_acid_without_knee_oa" not in oa
    assert "hyaluronic_acid_without_knee_oa" in cm and "hyaluronic_acid_knee_oa_after_failed_care" not in cm
    hip = rules_for("Hip osteoarthritis. Failed NSAIDs and PT.", "Hyaluronic acid injection, left hip")
    assert "hyaluronic_acid_without_knee_oa" in hip


def test_frp_with_surgery_still_considered_and_continued_without_gains():
    item = "Functional restoration program x10 days"
    base = ("Chronic LBP, failed PT, medications and injections. "
            "The program was requested after a multidisciplinary evaluation.")
    assert "functional_restoration_after_evaluation" in rules_for(base, item)
    pending = rules_for(base + " The spine surgeon recommended a fusion and she is considering it.", item)
    assert "functional_restoration_without_evaluation_or_with_surgery_pending" in pending
    more = "FRP additional 2 weeks"
    assert "functional_restoration_continued_without_gains" in rules_for(
        "Completed FRP weeks 1-2: lifting unchanged, sitting 15 min unchanged.", more)
    assert "functional_restoration_continued_without_gains" not in rules_for(
        "Completed FRP weeks 1-2: lift 10 -> 25 lb, sitting 15 -> 45 min.", more)


def test_device_kept_after_a_trial_without_gain():
    item = "H-wave unit purchase"
    assert "device_kept_after_trial_without_gain" in rules_for(
        "Failed PT and TENS. Completed a 30-day H-wave trial: used weekly, pain and sitting unchanged.", item)
    assert "device_kept_after_trial_without_gain" not in rules_for(
        "Failed PT and TENS. Completed a 30-day H-wave trial: sitting tolerance 20 -> 60 min.", item)
    assert "device_kept_after_trial_without_gain" not in rules_for(
        "Failed PT and TENS. Completed a 30-day H-wave trial: pain and sitting unchanged.",
            "H-wave 30-day trial rental")


def test_postsurgical_therapy_beyond_the_whole_general_course():
    summary = "Open carpal tunnel release on the right three weeks ago; stiff, weak grip."
    within = rules_for(summary, "Post-op OT x6, right hand")
    beyond = rules_for(summary, "Post-op OT x16, right hand")
    assert "postsurgical_therapy_beyond_general_course" in beyond
    assert "postsurgical_therapy_beyond_general_course" not in within


def test_vitamin_b12_is_one_ingredient_whatever_its_name_with_its_rules():
    for item in ("Vitamin B12 1000 mcg IM", "Cyanocobalamin injection", "Methylcobalamin 1 mg #30"):
        v = extract_signals({"summary": "x", "item": item})
        assert v["item_ingredients"].value == ["vitamin b12"]
    assert "supplement_without_indication" in rules_for("Chronic neck pain.", "B12 injections x4")
    deficient = rules_for("Chronic neck pain; labs show vitamin B12 deficiency.", "B12 injections x4")
    assert "vitamin_b12_for_deficiency" in deficient and "supplement_without_indication" not in deficient
