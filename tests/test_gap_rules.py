"""The signals and rules added for the held-out suite's ties (issue #22): each fires on the
clinical fact, in a typed note and in a letter sentence, and not on its absence.
Sentences are written for this test; none comes from a letter or from the sense suites."""

import pytest

from imr_ml.signals import extract_signals

SIGNAL_CASES = [
    ("fracture_suspected", "Slipped on a ladder this morning; tender over the lateral malleolus.", True),
    ("fracture_suspected", "27M FOOSH 5 d ago, snuffbox tenderness, films neg, r/o occult scaphoid fx.", True),
    ("fracture_suspected", "Gradual knee ache, no injury, no bony tenderness, walks normally.", False),
    ("crps_signs", "The hand is mottled with allodynia to light touch.", True),
    ("crps_signs", "Skin colour and temperature are symmetric; there is no allodynia.", False),
    ("hardware_symptomatic", "Painful prominent plate at the lateral ankle, TTP over screw heads.", True),
    ("hardware_symptomatic", "Fracture healed, no TTP over hardware, no complaints.", False),
    ("manual_mobility_insufficient", "She cannot propel a manual wheelchair because of shoulder weakness.", True),
    ("manual_mobility_insufficient", "He walks three blocks with a cane and can propel a wheelchair.", False),
    ("passive_care_only", "PT plan: hot packs and ultrasound only.", True),
    ("passive_care_only", "PT plan: therapeutic exercise with heat as an adjunct.", False),
    ("homemaker_needs", "She needs help with laundry, cooking and housekeeping.", True),
    ("homemaker_needs", "She needs dressing changes by a nurse.", False),
    ("return_to_work_complex", "He is approaching MMI and the two physicians gave conflicting restrictions.", True),
    ("return_to_work_complex", "He remains in active treatment with no return-to-work plan.", False),
    ("sacroiliac_tests_positive", "FABER, Gaenslen and thigh thrust all pos on the left.", True),
    ("sacroiliac_tests_positive", "FABER, Gaenslen and thigh thrust all neg.", False),
    ("eds_confirms_cts", "NCS showed prolonged median sensory latency at the wrist.", True),
    ("eds_confirms_cts", "NCS and EMG of the arm were normal.", False),
    ("diagnosis_uncertain", "Bilateral hand numbness, ? neuropathy vs myelopathy.", True),
    ("diagnosis_uncertain", "Known right carpal tunnel syndrome improving with a splint.", False),
    ("radiculopathy", "Neck pain w/ L arm radic and C6 numbness.", True),
    ("radiculopathy", "LBP 5 wks, no radic.", False),
    ("active_exercise", "She does ther-ex and core stabilization at each visit.", True),
    ("psych_clearance", "A pre-surgical psychological screen was completed with no confounding issues.", True),
    ("psych_clearance", "No pre-surgical psychological screen has been performed.", False),
    ("return_to_work_planned", "His employer is holding his job and agreed on a return date.", True),
    ("frp_evaluation_done", "She entered the program after a multidisciplinary evaluation.", True),
    ("lasting_relief", "After the block she had sixty percent relief for two and a half months.", True),
]


@pytest.mark.parametrize("name, text, fires", SIGNAL_CASES)
def test_gap_signal(name, text, fires):
    got = extract_signals({"item": "Office visit", "summary": text})
    assert bool(got[name]) is fires




@pytest.mark.parametrize("item", ["L CTR", "Spinal cord stimulator trial"])
def test_taxonomy_names_ctr_and_scs_as_surgery(item):
    assert extract_signals({"item": item, "summary": "x"})["category"].value == "surgery"
