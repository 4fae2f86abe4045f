"""Generic findings several services share (issue #22, experiments/service_walk.md): each new
signal fires on a sentence stating its finding and not on one without it, and each new rule fires
on a request with its documented finding and not on one without it.

Every sentence is written for this test (no real letter text, none from the sense suites)."""

import pytest

from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.signals import extract_signals
from imr_ml.signals.extract import SignalValues

SIGNAL_CASES = [
    ("opioids_stopped", "Her hydrocodone was discontinued last spring.", True),
    ("opioids_stopped", "He was weaned off opioids in 2019 and takes ibuprofen now.", True),
    ("opioids_stopped", "She continues hydrocodone 10 mg twice a day.", False),
    ("function_restored", "He is back to full duty and walks normally.", True),
    ("function_restored", "Knee range of motion is full and strength is symmetric.", True),
    ("function_restored", "She limps, and knee flexion is 90 degrees.", False),
    ("function_restored", "The goal is a return to full duty.", False),
    ("imaging_confirms_radiculopathy", "MRI: L5-S1 herniation compressing the left S1 nerve root.", True),
    ("imaging_confirms_radiculopathy", "MRI: mild bulges without root compression.", False),
    ("peripheral_entrapment_suspected", "Tinel's positive at the fibular head; peroneal neuropathy suspected.", True),
    ("peripheral_entrapment_suspected", "Leg pain in the S1 dermatome; no signs of peripheral neuropathy.", False),
    ("cognitive_symptoms", "Since the fall, memory lapses and poor concentration.", True),
    ("cognitive_symptoms", "She denies memory problems or poor concentration.", False),
    ("fused_level_targeted", "The block is planned at the fused L5-S1 segment.", True),
    ("fused_level_targeted", "Facet arthropathy at L3-4, the level above the fusion.", False),
    ("drug_testing_frequent", "Urine drug screens have been done monthly since January.", True),
    ("drug_testing_frequent", "His last urine drug screen was a year ago.", False),
    ("drug_screen_unexpected", "The office urine screen was inconsistent with the prescriptions.", True),
    ("drug_screen_unexpected", "The urine screen was consistent with the prescribed tramadol.", False),
    ("poor_motivation", "He declined to agree to the program goals.", True),
    ("poor_motivation", "She is motivated and agreed to the program goals.", False),
    ("within_cbt_program", "Biofeedback would be part of her cognitive behavioral therapy.", True),
    ("within_cbt_program", "He has had no cognitive behavioral therapy.", False),
    ("nsaid_long_term", "He has taken naproxen twice daily for three years.", True),
    ("nsaid_long_term", "Naproxen was started last week for the sprain.", False),
    ("home_program_prescribed", "The therapist taught her a home exercise program for the wrist.", True),
    ("home_program_prescribed", "No home exercise program has been given.", False),
    ("joint_instability", "The left ankle gives way on uneven ground; anterior drawer positive.", True),
    ("joint_instability", "The ankle is stable; anterior drawer negative.", False),
    ("visual_symptoms", "Blurred vision in the right eye since the splash.", True),
    ("visual_symptoms", "He denies blurred vision or eye pain.", False),
    ("opioid_use_disorder", "She meets criteria for opioid use disorder.", True),
    ("opioid_use_disorder", "No history of opioid dependence or addiction.", False),
    ("recent_surgery", "She is ten days after a right C5-6 fusion.", True),
    ("recent_surgery", "She is ten days after the fall.", False),
    ("failed_conservative_care", "Wrist pain persisting after splinting and an injection.", True),
    ("failed_conservative_care", "Wrist pain for a week; splinting has just begun.", False),
    ("hearing_symptoms", "Ringing in both ears after years of loud noise at the mill.", True),
    ("hearing_symptoms", "Denies hearing loss or tinnitus.", False),
    ("respiratory_symptoms", "Cough and wheezing since inhaling solvent fumes at work.", True),
    ("respiratory_symptoms", "No shortness of breath, wheezing or cough.", False),
    ("tmj_disorder", "Jaw clicking and pain on chewing since the blow to the face.", True),
    ("tmj_disorder", "No jaw pain; dentition intact.", False),
    ("occipital_headache", "Occipital neuralgia with tenderness over the greater occipital nerve.", True),
    ("occipital_headache", "Neck pain without headaches.", False),
    ("osteoporosis_risk", "On long-term prednisone; osteopenia on a prior scan.", True),
    ("osteoporosis_risk", "Healthy, takes no steroids, no fractures.", False),
    ("foot_deformity", "Flat feet with hallux valgus on both sides.", True),
    ("foot_deformity", "Normal arches; no deformity of the feet.", False),
    ("functional_improvement", "The unit lets her walk farther and sleep longer.", True),
]


@pytest.mark.parametrize("name, text, fires", SIGNAL_CASES)
def test_breadth_signal(name, text, fires):
    got = extract_signals({"item": "Office visit", "summary": text})
    assert bool(got[name]) is fires


def rules_for(item: str, summary: str) -> set[str]:
    values = SignalValues(extract_signals({"item": item, "summary": summary}))
    return {r.name for r in fired_rules(values, item, load_guidelines())}


# (rule, item, a summary that fires it, a summary that must not)
RULE_CASES = [
    ("naloxone_after_opioids_stopped", "Narcan nasal spray",
     "His oxycodone was stopped a year ago; he takes only gabapentin.",
     "He takes oxycodone 20 mg three times daily and lives alone."),
    ("naloxone_with_overdose_risk", "Narcan nasal spray",
     "He takes oxycodone 20 mg three times daily and lives alone.",
     "His oxycodone was stopped a year ago; he takes only gabapentin."),
    ("medication_continued_with_documented_lack_of_gain", "Tramadol 50 mg #60",
     "Tramadol for a year: no functional improvement with tramadol is documented.",
     "With tramadol she walks a mile and has returned to modified duty."),
    ("opioid_with_return_to_work", "Tramadol 50 mg #60",
     "On tramadol he is working modified duty six hours a day.",
     "On tramadol he remains off work on temporary total disability."),
    ("antidepressant_response_documented", "Nortriptyline 25 mg #30",
     "With nortriptyline her burning pain went from 8/10 to 4/10.",
     "Nortriptyline has been taken for a year; the pain remains 8/10."),
    ("antidepressant_continued_without_response", "Nortriptyline 25 mg #30",
     "Nortriptyline has been taken for a year; the pain remains 8/10.",
     "With nortriptyline her burning pain went from 8/10 to 4/10."),
    ("lab_monitoring_on_long_term_nsaid", "Hepatic and renal function panel",
     "She has taken meloxicam daily for two years.",
     "She takes no medication and walks daily."),
    ("lab_panel_without_indication", "Hepatic and renal function panel",
     "She takes no medication and walks daily.",
     "She has taken meloxicam daily for two years."),
    ("electrodiagnostics_radiculopathy_already_confirmed", "EMG of the left leg",
     "Left S1 radiculopathy with an absent ankle reflex; MRI shows a herniation compressing the S1 nerve root.",
     "Leg tingling with a normal exam; MRI shows a small bulge without root compression."),
    ("nerve_conduction_for_presumed_radiculopathy", "Nerve conduction study of both legs",
     "Sciatica with radiculopathy in the L5 dermatome; no signs of peripheral nerve entrapment.",
     "Foot numbness; tarsal tunnel syndrome is suspected."),
    ("nerve_conduction_for_suspected_entrapment", "Nerve conduction study of both legs",
     "Foot numbness; tarsal tunnel syndrome is suspected.",
     "Sciatica with radiculopathy in the L5 dermatome."),
    ("neuropsychological_testing_for_cognitive_deficits", "Neuropsychological evaluation",
     "After the blow to the head she has word-finding difficulty and slowed thinking.",
     "Back strain; no head injury; no cognitive complaints."),
    ("neuropsychological_testing_without_cognitive_deficits", "Neuropsychological evaluation",
     "Back strain; no head injury; no cognitive complaints.",
     "After the blow to the head she has word-finding difficulty and slowed thinking."),
    ("facet_block_at_a_fused_level", "Facet injection L5-S1",
     "Axial pain; the request targets the fused L5-S1 level.",
     "Axial pain at L3-4, the level above the fusion."),
    ("drug_screen_repeated_for_low_risk_worker", "Urine toxicology screen",
     "On tramadol, low risk; urine drug screens done monthly, all consistent.",
     "On tramadol, low risk; the last screen was a year ago."),
    ("confirmatory_drug_test_after_unexpected_screen", "Quantitative LC/MS urine drug confirmation",
     "On tramadol; today's office screen was unexpected, positive for cocaine.",
     "On tramadol; today's office screen was as expected."),
    ("confirmatory_drug_test_of_expected_result", "Quantitative LC/MS urine drug confirmation",
     "On tramadol; today's office screen was as expected.",
     "On tramadol; today's office screen was unexpected, positive for cocaine."),
    ("functional_restoration_without_motivation", "FRP 10 days",
     "He says he does not intend to return to work and declined to agree to the goals.",
     "He is eager to return to his job and agreed to the goals."),
    ("biofeedback_within_cbt", "Biofeedback x6",
     "She attends cognitive behavioral therapy; biofeedback would be part of that CBT program.",
     "Biofeedback is requested as her only treatment."),
    ("biofeedback_standalone", "Biofeedback x6",
     "Biofeedback is requested as her only treatment.",
     "She attends cognitive behavioral therapy; biofeedback would be part of that CBT program."),
    ("therapy_after_function_restored", "Physical therapy x6 right knee",
     "Knee sprain a month ago; she walks normally and is back to full duty.",
     "Knee sprain a month ago; she limps and cannot kneel."),
    ("therapy_for_residual_deficit", "Physical therapy x6 right knee",
     "Knee sprain a month ago; she limps and cannot kneel.",
     "Knee sprain a month ago; she walks normally and is back to full duty."),
    ("home_exercise_supplies_for_a_prescribed_program", "Theraband and putty",
     "The therapist taught him a home exercise program for the hand.",
     "He has not been given any exercises."),
    ("ankle_brace_for_instability_or_injury", "Lace-up ankle brace",
     "Recurrent ankle sprains; the ankle gives way on stairs.",
     "Ankle ache for a year; the ankle is stable and walking is normal."),
    ("ankle_brace_without_indication", "Lace-up ankle brace",
     "Ankle ache for a year; the ankle is stable and walking is normal.",
     "Recurrent ankle sprains; the ankle gives way on stairs."),
    ("carpal_tunnel_injection_for_cts", "Right carpal tunnel cortisone injection",
     "Night numbness with positive Phalen's and Tinel's at the right wrist.",
     "Vague hand ache; nerve studies normal; Phalen's and Tinel's negative."),
    ("carpal_tunnel_injection_without_cts", "Right carpal tunnel cortisone injection",
     "Vague hand ache; nerve studies normal; Phalen's and Tinel's negative.",
     "Night numbness with positive Phalen's and Tinel's at the right wrist."),
    ("head_imaging_for_persisting_deficits", "MRI of the brain",
     "Since the head strike she has poor concentration and memory problems.",
     "Lumbar strain lifting a box; no head injury; no neurological symptoms."),
    ("head_imaging_without_head_findings", "MRI of the brain",
     "Lumbar strain lifting a box; no head injury; no neurological symptoms.",
     "Since the head strike she has poor concentration and memory problems."),
    ("eye_examination_for_eye_symptoms", "Ophthalmology evaluation",
     "Double vision since a metal fragment struck the left eye.",
     "Knee sprain at work; no eye complaints."),
    ("eye_examination_without_eye_symptoms", "Ophthalmology evaluation",
     "Knee sprain at work; no eye complaints.",
     "Double vision since a metal fragment struck the left eye."),
    ("exercise_supplies_without_a_program", "Exercise ball and resistance bands",
     "Chronic neck pain; no exercise program has been taught.",
     "The therapist taught him a home exercise program for the neck."),
    ("home_modification_for_impaired_mobility", "Wheelchair ramp at the home entrance",
     "After the amputation he uses a wheelchair and cannot walk.",
     "He walks without an aid and climbs stairs."),
    ("home_modification_without_impaired_mobility", "Wheelchair ramp at the home entrance",
     "He walks without an aid and climbs stairs.",
     "After the amputation he uses a wheelchair and cannot walk."),
    ("lumbar_support_beyond_the_acute_phase", "Soft cervical collar",
     "Neck strain two years ago; no fracture, no surgery.",
     "She is three days after a C4-5 fusion."),
    ("trigger_finger_release_after_injections", "Right De Quervain release",
     "First dorsal compartment pain persisting after splinting and two steroid injections.",
     "Radial wrist pain for two weeks; no splint or injection tried."),
    ("buprenorphine_for_opioid_dependence", "Suboxone 8 mg/2 mg #30",
     "Opioid use disorder on high-dose oxycodone; detoxification planned.",
     "Opioid naive; mild back strain."),
    ("hearing_evaluation_for_hearing_symptoms", "Audiology evaluation",
     "Ringing in both ears after years of loud noise at the mill.", "Low back strain; no ear complaints."),
    ("hearing_evaluation_without_hearing_symptoms", "Audiology evaluation",
     "Low back strain; no ear complaints.", "Ringing in both ears after years of loud noise at the mill."),
    ("pulmonary_testing_for_respiratory_symptoms", "Spirometry",
     "Cough and wheezing since inhaling solvent fumes at work.", "Wrist sprain; lungs clear; no breathing complaints."),
    ("pulmonary_testing_without_respiratory_symptoms", "Spirometry",
     "Wrist sprain; lungs clear; no breathing complaints.", "Cough and wheezing since inhaling solvent fumes at work."),
    ("oral_splint_or_dental_care_for_tmj_or_dental_injury", "Occlusal splint",
     "Jaw clicking and pain on chewing since the blow to the face.", "Shoulder strain; no jaw or dental complaints."),
    ("oral_splint_or_dental_care_without_tmj_or_dental_injury", "Occlusal splint",
     "Shoulder strain; no jaw or dental complaints.", "Jaw clicking and pain on chewing since the blow to the face."),
    ("occipital_nerve_block_for_occipital_headache", "Left greater occipital nerve block",
     "Occipital neuralgia with tenderness over the greater occipital nerve.", "Neck pain without headaches."),
    ("occipital_nerve_block_without_occipital_headache", "Left greater occipital nerve block",
     "Neck pain without headaches.", "Occipital neuralgia with tenderness over the greater occipital nerve."),
    ("bone_density_for_osteoporosis_risk", "DEXA scan",
     "On long-term prednisone; osteopenia on a prior scan.", "Age 40; takes no steroids; no fractures."),
    ("bone_density_without_osteoporosis_risk", "DEXA scan",
     "Age 40; takes no steroids; no fractures.", "On long-term prednisone; osteopenia on a prior scan."),
    ("device_supplies_for_a_unit_in_use_with_benefit", "TENS electrodes x 3 months",
     "The TENS unit lets her walk farther and sleep longer.", "The TENS unit gave no benefit and she stopped it."),
    ("device_supplies_without_benefit", "TENS electrodes x 3 months",
     "The TENS unit gave no benefit and she stopped it.", "The TENS unit lets her walk farther and sleep longer."),
    ("cognitive_rehabilitation_for_cognitive_deficits", "Cognitive rehabilitation 8 sessions",
     "After the head injury: poor concentration, memory lapses.", "Knee sprain; no head injury; thinking clear."),
    ("cognitive_rehabilitation_without_cognitive_deficits", "Cognitive rehabilitation 8 sessions",
     "Knee sprain; no head injury; thinking clear.", "After the head injury: poor concentration, memory lapses."),
    ("orthotics_for_plantar_fasciitis", "Extra-depth diabetic shoes",
     "Diabetic neuropathic feet with hammer toes.", "Neck strain."),
    ("spine_manipulation_under_anesthesia", "Lumbar manipulation under anesthesia",
     "Chronic low back pain for three years.", None),
    ("joint_manipulation_under_anesthesia_for_stiffness", "Left shoulder manipulation under anesthesia",
     "Frozen shoulder with 70 degrees of elevation despite five months of therapy.", "Shoulder strain; motion full."),
    ("joint_manipulation_under_anesthesia_without_stiffness", "Left shoulder manipulation under anesthesia",
     "Shoulder strain; motion full.", "Frozen shoulder with 70 degrees of elevation despite five months of therapy."),
    ("facility_stay_for_skilled_needs", "Skilled nursing facility 10 days",
     "After the knee replacement: unable to walk, needs IV antibiotics.", "Walks with no aid and was sent home."),
    ("facility_stay_without_skilled_needs", "Skilled nursing facility 10 days",
     "Walks with no aid and was sent home.", "After the knee replacement: unable to walk, needs IV antibiotics."),
    ("lumbar_decompression_for_back_pain_alone", "L5-S1 microdiscectomy",
     "Axial back pain only; no leg symptoms.", "Left S1 radiculopathy with an absent ankle reflex."),
    ("lumbar_decompression_for_claudication_or_radiculopathy", "C5-6 ACDF",
     "Right C6 radiculopathy with biceps weakness.", "Axial neck pain only; no arm symptoms."),
    ("procedure_the_guidelines_do_not_recommend", "Percutaneous disc decompression L4-5",
     "Contained disc bulge with back pain.", None),
    ("procedure_the_guidelines_do_not_recommend", "Prolotherapy to the low back",
     "Chronic low back pain for three years.", None),
    ("ketamine_without_crps", "Ketamine infusion",
     "Chronic low back pain for three years.",
     "Complex regional pain syndrome of the hand with allodynia and mottled skin."),
]


@pytest.mark.parametrize("rule, item, with_finding, without", RULE_CASES)
def test_breadth_rule_fires_on_its_finding_only(rule, item, with_finding, without):
    assert rule in rules_for(item, with_finding)
    if without is not None:
        assert rule not in rules_for(item, without)


def test_procedure_not_recommended_is_scoped_to_its_items():
    assert "procedure_the_guidelines_do_not_recommend" not in rules_for(
        "Lumbar epidural steroid injection", "Chronic low back pain for three years.")
    # manipulation under anesthesia is not recommended for the spine, an option for a frozen joint
    assert "spine_manipulation_under_anesthesia" not in rules_for(
        "Right knee manipulation under anesthesia", "Arthrofibrosis after knee arthroplasty.")


def test_cannot_walk_is_impaired_walking():
    got = extract_signals({"item": "x", "summary": "Since the fracture she cannot walk or transfer safely."})
    assert got["mobility_impairment"]
    assert not extract_signals({"item": "x", "summary": "She walks well; she cannot drive."})["mobility_impairment"]


@pytest.mark.parametrize("item, category", [
    ("Kyphoplasty T12", "surgery"), ("Prolotherapy", "injection"), ("Resistance bands and therapy putty", "dme"),
    ("Grab bars for the shower", "dme"), ("Raised toilet seat", "dme"),
])
def test_items_of_the_walk_have_a_category(item, category):
    assert extract_signals({"item": item, "summary": "x"})["category"].value == category


# Rules that read the absence of a finding the synthetic phrase bank never writes for their
# category (`features/synth_phrases.toml` has no spasm and no psychological symptom): they fire on
# every synthetic item of it, yet a sentence stating the finding turns them off.
UNSTATED_IN_SYNTH = {
    "muscle_relaxant_without_flare_or_spasm": ("Cyclobenzaprine 7.5 mg #30", "Paraspinal muscle spasm on exam."),
    "psychotherapy_without_psychological_symptoms": ("Cognitive behavioral therapy x6", "PHQ-9 of 17; depressed mood."),
}


def test_no_rule_is_a_category_rate_on_the_synthetic_corpus(synth_rows):
    """No rule fires on every item of a category (at least 5 items) unless it reads a finding
    the generator never writes; each such rule is turned off by a sentence stating it."""
    from imr_ml.reporting.rule_outcomes import category_rate_rules, fired_per_row

    fired = fired_per_row(synth_rows)
    assert len({cat for cat, _ in fired}) >= 10  # the corpus spans the categories
    flagged = {name for name, _, _ in category_rate_rules(fired)}
    assert flagged <= set(UNSTATED_IN_SYNTH), flagged - set(UNSTATED_IN_SYNTH)
    for name, (item, finding) in UNSTATED_IN_SYNTH.items():
        assert name in rules_for(item, "Chronic pain for a year.")
        assert name not in rules_for(item, finding)


def test_a_rule_firing_on_every_item_of_its_category_is_found():
    from imr_ml.reporting.rule_outcomes import category_rate_rules

    fired = [("dme", ["a", "b"])] * 4 + [("dme", ["a"]), ("psych", ["a"])] + [("lab_testing", ["c"])] * 2
    assert category_rate_rules(fired) == [("a", "dme", 5)]
    assert category_rate_rules(fired, min_items=2) == [("a", "dme", 5), ("c", "lab_testing", 2)]


@pytest.mark.parametrize("text, fires", [
    ("An absent left ankle reflex and numbness of the lateral foot.", True),  # "absent" is the reflex's finding
    ("Numbness is absent.", False),
    ("Tingling was absent at follow-up.", False),
])
def test_absent_negates_what_it_is_said_of_only(text, fires):
    assert bool(extract_signals({"item": "x", "summary": text})["neuro_symptoms"]) is fires


def test_an_absent_reflex_stays_a_deficit():
    for text in ("An absent left ankle reflex.", "The Achilles reflex is absent."):
        assert extract_signals({"item": "x", "summary": text})["neuro_deficit"], text


@pytest.mark.parametrize("text, fires", [
    ("Utilization review denied it, stating the guideline criteria were not met.", True),
    ("UR found it not medically necessary.", True),
    ("The criteria were met and the block was done.", False),
])
def test_ur_guideline_criteria_not_met_reads_like_not_necessary(text, fires):
    assert bool(extract_signals({"item": "x", "summary": text})["ur_not_recommended"]) is fires
