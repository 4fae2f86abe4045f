"""Signals added for the fresh held-out suite's gaps (issue #22): each fires on a sentence
stating its finding and not on one without it; the items the suite named are categorised.
Every sentence is written for this test (no real letter text, none from the sense suites)."""

import pytest

from imr_ml.signals import extract_signals

SIGNAL_CASES = [
    ("sleep_apnea_signs", "Loud snoring with witnessed apneas; Epworth 16.", True),
    ("sleep_apnea_signs", "Wakes twice a night from shoulder pain; no snoring; Epworth 4.", False),
    ("vestibular_symptoms", "Positional vertigo and imbalance since the fall.", True),
    ("vestibular_symptoms", "Denies vertigo, dizziness or imbalance; Romberg normal.", False),
    ("fusion_nonunion_risk", "Smokes a pack a day and has type 2 diabetes.", True),
    ("fusion_nonunion_risk", "Revision for pseudarthrosis of the prior L5-S1 fusion.", True),
    ("fusion_nonunion_risk", "Non-smoker without diabetes or osteoporosis.", False),
    ("pain_halved", "During the trial pain went from 8/10 to 3/10.", True),
    ("pain_halved", "Pain 7/10 -> 5/10 with the trial.", False),
    ("implant_trial_done", "A seven-day percutaneous SCS trial was completed last month.", True),
    ("implant_trial_done", "No intrathecal trial has been done.", False),
    ("full_thickness_tear", "MRI: full-thickness supraspinatus tear, 2 cm.", True),
    ("full_thickness_tear", "MRI: supraspinatus tendinosis without a full-thickness tear.", False),
    ("neurogenic_claudication", "Buttock and leg heaviness after walking a block, relieved by sitting.", True),
    ("neurogenic_claudication", "Axial back pain only; walks without leg symptoms.", False),
    ("eds_confirms_ulnar", "NCS showed slowing of the ulnar nerve across the elbow.", True),
    ("eds_confirms_ulnar", "NCS of the ulnar nerve across the elbow were normal.", False),
    ("psych_comorbidity", "PHQ-9 of 18 and high fear-avoidance.", True),
    ("psych_comorbidity", "PHQ-9 of 3, socially active.", False),
    ("prior_steroid_injection", "Two steroid injections gave a week of relief each.", True),
    ("prior_steroid_injection", "No steroid injections tried.", False),
    ("head_injury_ct_criteria", "He lost consciousness for a minute and vomited twice.", True),
    ("head_injury_ct_criteria", "No loss of consciousness, no vomiting; GCS 15.", False),
    ("pseudarthrosis_suspected", "Films show lucency around the S1 screws.", True),
    ("pseudarthrosis_suspected", "Films show a solid fusion with intact hardware.", False),
    ("large_cuff_tear", "MRI: massive retracted two-tendon tear.", True),
    ("large_cuff_tear", "MRI: small 1 cm partial supraspinatus tear.", False),
    ("recent_surgery", "24F s/p R ACL recon 3 wks, quad lag.", True),
    ("recent_surgery", "24F s/p fall 3 wks, knee sprain.", False),
    ("benzodiazepine_use", "CURES also shows alprazolam 1 mg three times daily from another prescriber.", True),
    ("benzodiazepine_use", "She takes no sedatives or benzodiazepines.", False),
]


@pytest.mark.parametrize("name, text, fires", SIGNAL_CASES)
def test_fresh_gap_signal(name, text, fires):
    got = extract_signals({"item": "Office visit", "summary": text})
    assert bool(got[name]) is fires


@pytest.mark.parametrize("item, category", [
    ("Polysomnography", "evaluation"), ("VNG", "evaluation"), ("Right stellate ganglion block", "injection"),
    ("Provocative discography L3-S1", "injection"), ("External bone growth stimulator", "dme"), ("TLSO", "dme"),
    ("C5-6 ACDF", "surgery"), ("Brostrom ankle ligament reconstruction", "surgery"), ("IDET L4-5", "surgery"),
    ("Psych eval and treatment", "psych"), ("Home hot tub", "dme"), ("Thermography of the legs", "imaging_other"),
])
def test_items_the_suite_named_have_a_category(item, category):
    assert extract_signals({"item": item, "summary": "x"})["category"].value == category


def test_the_treatment_being_requested_is_no_earlier_course():
    """A failure read with the sentence before it is not credited to the injection that sentence asks for."""
    item = "Lumbar epidural steroid injection L5-S1"

    def same(summary):
        row = {"item": item, "summary": summary}
        return bool(extract_signals(row)["prior_trial_without_benefit_same_modality"])

    assert not same("An L5-S1 epidural injection was requested. Eight weeks of therapy and medications have failed.")
    assert same("She had an L5-S1 epidural injection in May. It did not help.")
