"""Non-drug services: the signals their rules read, the rules themselves (each with a sentence
that fires it and one that must not), the "same therapy" scope of prior-course rules and the
hints that fit the situation.

Every sentence here is written for this test (no real letter text).
"""

import pytest

from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.signals import extract_signals
from imr_ml.signals.extract import SignalValues


def values(summary: str, item: str, **row) -> SignalValues:
    return SignalValues(extract_signals({"summary": summary, "item": item, **row}))


def rules_for(summary: str, item: str, **row) -> set[str]:
    return {r.name for r in fired_rules(values(summary, item, **row), item, load_guidelines())}


def fires(summary: str, name: str) -> bool:
    return bool(extract_signals({"summary": summary, "item": "x"})[name].value)


# ---------------------------------------------------------------- narrowed to the guideline's meaning

# ACOEM: an objective deficit is dermatomal sensory loss, reflex loss, myotomal weakness, atrophy.
@pytest.mark.parametrize("text", [
    "Decreased sensation in the left L5 dermatome.",
    "Diminished sensation in the median nerve distribution of the right hand.",
    "The left Achilles reflex is absent.",
    "Reflexes were 1+ at the left ankle.",
    "Left EHL strength 4/5.",
    "Weakness of right ankle dorsiflexion 4-/5.",
    "Thenar atrophy on the right.",
    "New left foot drop.",
])
def test_neuro_deficit_is_an_objective_deficit(text):
    assert fires(text, "neuro_deficit"), text


@pytest.mark.parametrize("text", [
    "Right shoulder pain and weakness with overhead reaching.",
    "Rotator cuff strength 4/5 limited by pain.",
    "Generalized weakness of the right arm.",
    "Positive Tinel's and Phalen's at the right wrist.",
    "Positive Spurling's test on the left.",
    "Grip strength is 4/5 on the right.",
    "Reflexes 2+ and symmetric, strength 5/5 throughout.",
    "She reports numbness of the hand.",
])
def test_neuro_deficit_is_not_pain_limited_weakness_or_a_provocative_test(text):
    assert not fires(text, "neuro_deficit"), text


def test_provocative_nerve_tests_are_their_own_signal():
    assert fires("Positive Tinel's and Phalen's at the right wrist.", "nerve_provocative_test")
    assert not fires("Tinel's and Phalen's were negative.", "nerve_provocative_test")


# ACOEM red flags: suspected fracture, tumour, infection, cauda equina, progressive deficit.
@pytest.mark.parametrize("text", [
    "Saddle anesthesia and new urinary retention.",
    "Progressive weakness of both legs.",
    "Suspected scaphoid fracture after a fall on the outstretched hand.",
    "History of breast cancer; unexplained weight loss of 20 pounds.",
    "Fever and rising back pain; discitis is suspected.",
    "Positive Hoffmann sign and clonus.",
])
def test_red_flags_are_acoem_red_flags(text):
    assert fires(text, "red_flags"), text


@pytest.mark.parametrize("text", [
    "Treated for a nondisplaced fracture of the radial head.",
    "Healed fracture of the fifth finger in 2012.",
    "Pericolic abscess drained after a colon injury.",
    "He lost 30 pounds on a diet.",
    "Pain wakes him at night.",
    "History of shoulder dislocation years ago.",
])
def test_red_flags_are_not_any_fracture_infection_or_night_pain(text):
    assert not fires(text, "red_flags"), text


def test_a_fracture_under_treatment_is_fracture_healing():
    assert fires("Treated for a nondisplaced fracture of the radial head.", "fracture_healing")
    assert fires("L1 compression fracture with delayed union.", "fracture_healing")
    assert not fires("Healed fracture of the fifth finger in 2012.", "fracture_healing")


def test_mri_rules_follow_the_narrowed_signals():
    item = "MRI of the lumbar spine"
    deficit = "LBP; decreased sensation L5 dermatome, EHL 4/5, despite 8 weeks of PT."
    assert "mri_nerve_compromise_after_failed_care" in rules_for(deficit, item)
    assert "mri_nerve_compromise_after_failed_care" not in rules_for(deficit.replace("EHL 4/5", "pain-limited "
                                                                     "weakness").replace("decreased sensation L5 "
                                                                     "dermatome", "numbness"), item)
    assert "imaging_red_flags" in rules_for("LBP; saddle anesthesia since yesterday.", item)
    assert "imaging_without_indication" in rules_for("Low back pain, weakness from pain, treated for a "
                                                     "wrist fracture last month.", item)


# ---------------------------------------------------------------- the same therapy

TRACTION = "Home cervical traction unit"


def test_a_failed_other_therapy_is_not_a_failed_course_of_the_item():
    v = values("45M, chronic neck pain. Failed PT. Requesting home cervical traction unit.", TRACTION)
    assert v["prior_trial_without_benefit"] and not v["prior_trial_without_benefit_same_modality"]
    assert "therapy_prior_course_failed" not in rules_for(
        "45M, chronic neck pain. Failed PT. Requesting home cervical traction unit.", TRACTION)


@pytest.mark.parametrize("summary", [
    "45M, chronic neck pain. Traction in the clinic did not help.",
    "45M, chronic neck pain. Failed PT and traction.",
    "45M, chronic neck pain. PT, traction and chiropractic care failed to help.",
])
def test_a_failed_course_of_the_same_therapy_still_counts(summary):
    assert values(summary, TRACTION)["prior_trial_without_benefit_same_modality"], summary


def test_a_finding_is_about_the_nearest_treatment_named():
    summary = "Acupuncture helped a little but chiropractic care did not help at all."
    assert values(summary, "Chiropractic 2x3")["prior_trial_without_benefit_same_modality"]
    assert not values(summary, "Acupuncture x6")["prior_trial_without_benefit_same_modality"]
    drugs = "Norco did not help. Flexeril was started last month."
    assert not values(drugs, "Flexeril 10mg #60")["prior_trial_without_benefit_same_modality"]


def test_a_reduced_medicine_is_the_object_of_an_improvement_not_its_subject():
    summary = "Finished 6 acupuncture visits. Now working full shifts again, ibuprofen cut to twice a week."
    assert values(summary, "Additional acupuncture x6")["functional_improvement_same_modality"]
