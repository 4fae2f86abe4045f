"""Contraindications, comorbidities, interactions and adverse effects as `against` data
(`features/criteria.toml`: the patterns added to existing criteria and the section
"contraindications (h12c)").

For each group of patterns: a letter-prose sentence and a one-line typed note make the service
contradicted, the negated form ("no h/o ...", "denies ...", "not on ...", an anticoagulant held)
does not, and an unrelated sentence does not. Each family's findings contradict only the services
whose criterion carries them (scope over every class of the service walk). The built-in model
orders a contraindicated request below the same request without the finding.

Every sentence here is written for this test (no letter text).
"""

import pytest
from servicewalk import service_walk

from imr_ml.signals import extract_signals

BASE = {  # what the request is for, stated the same on both sides of a pair
    "esi": "45M LBP radiating to the L leg, +SLR, MRI L4-5 HNP, failed PT x12.",
    "knee_oa": "55F R knee OA, pain 7/10, walks 2 blocks, acetaminophen not enough.",
    "opioid": "50M chronic LBP on Norco, pain 8 -> 5 with it, walks 30 min, UDS consistent.",
    "radicular": "52M lumbar radiculopathy with burning pain down the L leg.",
}


def fields(summary: str, item: str) -> tuple[list[str], bool]:
    sig = extract_signals({"summary": summary, "item": item})
    return sig["service_criteria"].value, sig["service_indication_contradicted"].value


# (group, service, item, letter prose against, typed note against, negated or held form)
GROUPS = [
    ("anticoagulant_esi", "epidural_steroid_injection", "Lumbar ESI L4-5",
     "The injured worker takes apixaban for atrial fibrillation.", "on Eliquis 5 mg bid for afib",
     "Eliquis held x3 days prior per cardiology."),
    ("anticoagulant_esi_inr", "epidural_steroid_injection", "Cervical epidural steroid injection C6-7",
     "The most recent INR was 2.6 on warfarin.", "Coumadin, INR 2.5",
     "The patient is not on anticoagulants."),
    ("anticoagulant_scs", "scs_trial", "Spinal cord stimulator trial",
     "The worker remains on rivaroxaban after a pulmonary embolism.", "takes Xarelto 20 mg daily",
     "Xarelto stopped 3 days before the trial."),
    ("anticoagulant_nsaid", "nsaid_oral", "Naproxen 550 mg #60",
     "She is maintained on warfarin for a mechanical valve.", "on Coumadin, INR 2.8",
     "Denies use of blood thinners."),
    ("renal_nsaid", "nsaid_oral", "Ibuprofen 800 mg #90",
     "Her most recent eGFR was 27 and she is followed by nephrology.", "Cr 2.4, on dialysis MWF",
     "No history of dialysis."),
    ("sulfa_celecoxib", "celecoxib", "Celebrex 200 mg #30",
     "The worker reports an allergy to sulfa drugs (hives).", "Allergies: sulfa (rash), PCN",
     "He denies a sulfa allergy."),
    ("substance_opioid", "opioid_analgesic", "Norco 10/325 #90",
     "The most recent urine drug screen was positive for methamphetamine.", "UDS + for meth 3/2024",
     "He denies illicit drug use."),
    ("alcohol_opioid", "opioid_analgesic", "Oxycodone 10 mg #60",
     "He drinks six beers a day by his own account.", "ETOH abuse, drinks 6 beers/day",
     "Denies ETOH."),
    ("cures_opioid", "opioid_analgesic", "Tramadol 50 mg #120",
     "The CURES report shows opioid prescriptions from three different prescribers.", "CURES shows 3 prescribers",
     "There is no evidence of multiple prescribers."),
    ("respiratory_opioid", "opioid_analgesic", "Norco 10/325 #90",
     "He has COPD and uses home oxygen at 2 liters.", "untreated OSA, AHI 32",
     "No sleep apnea; no COPD."),
    ("sedation_opioid", "opioid_analgesic", "Percocet 10/325 #120",
     "The worker fell twice this month while taking oxycodone.", "nodding off on Norco per wife",
     "No sedation reported."),
    ("overdose_opioid", "opioid_analgesic", "Oxycodone 10 mg #60",
     "She has a history of an accidental overdose in 2021.", "h/o OD, Narcan given 2022",
     "Denies any history of overdose."),
    ("renal_morphine", "opioid_renally_cleared", "MS Contin 15 mg #60",
     "The injured worker has end-stage renal disease on hemodialysis.", "ESRD on HD, eGFR 12",
     "No renal failure; not on dialysis."),
    ("liver_tizanidine", "tizanidine", "Tizanidine 4 mg #60",
     "Her liver enzymes were elevated at the last visit.", "LFTs 3x ULN, hep C",
     "Denies hepatitis C."),
    ("alcohol_snri", "snri_antidepressant", "Duloxetine 60 mg #30",
     "He reports heavy alcohol use on weekends and weekdays.", "drinks 6 beers/day",
     "He denies alcohol abuse."),
    ("adverse_gabapentinoid", "gabapentinoid", "Lyrica 75 mg #60",
     "She has been dizzy and sedated since starting pregabalin.", "dizzy and sedated on Lyrica",
     "No dizziness or sedation on Lyrica."),
    ("adverse_gabapentinoid_edema", "gabapentinoid", "Gabapentin 600 mg #90",
     "He has gained 20 pounds and has leg edema on gabapentin.", "gabapentin causes ankle swelling",
     "No edema."),
    ("adverse_topiramate", "topiramate", "Topiramate 50 mg #60",
     "She reports word-finding difficulty since starting topiramate.", "tingling in hands on Topamax",
     "No word-finding problems on Topamax."),
    ("diabetes_steroid_injection", "knee_steroid_injection", "Right knee cortisone injection",
     "Her diabetes remains poorly controlled, with an A1c of 10.2.", "A1c 10.2, BG 320 this am",
     "No uncontrolled diabetes."),
    ("diabetes_esi", "epidural_steroid_injection", "Lumbar ESI L4-5",
     "The worker's blood sugars have been uncontrolled despite insulin.", "uncontrolled DM, A1c 11",
     "Denies diabetes."),
    ("pacemaker_mri", "lumbar_mri", "MRI lumbar spine",
     "The injured worker has a cardiac pacemaker placed in 2019.", "has a pacemaker",
     "No pacemaker or metal implants."),
    ("chiropractic_red_flags", "chiropractic", "Chiropractic 1x6",
     "The treating physician documents a progressive foot drop on the left.",
     "worsening weakness L leg, saddle anesthesia",
     "No progressive weakness."),
    ("aquatic_precautions", "aquatic_therapy", "Aquatic therapy x8",
     "The worker has an open wound on the left shin that is still draining.", "bowel incontinence since the fall",
     "No open wounds."),
    ("stimulant_cardiac", "wakefulness_stimulant", "Modafinil 100 mg #30",
     "He has coronary artery disease with a stent placed last year.", "CAD s/p stent 2021",
     "No known heart disease."),
]

UNRELATED = ("The treating physician reviewed the prior records and the worker returns in four weeks.",
             "52F clerk, seen today, records reviewed, RTC 4 wks")


@pytest.mark.parametrize("group,service,item,prose,note,negated", GROUPS, ids=[g[0] for g in GROUPS])
def test_a_finding_against_contradicts_and_its_negation_does_not(group, service, item, prose, note, negated):
    for sentence in (prose, note):
        criteria, contradicted = fields(sentence, item)
        assert service in criteria, item
        assert contradicted, sentence
    assert fields(negated, item)[1] is False, negated
    for sentence in UNRELATED:
        assert fields(sentence, item)[1] is False


@pytest.mark.parametrize("sentence", [
    "on Eliquis, to be held 3 days before the injection",
    "Eliquis held x3 days",
    "stopped Xarelto 3 days ago for the procedure",
    "Coumadin discontinued; INR 1.1",
    "not on anticoagulants",
])
def test_a_held_or_stopped_anticoagulant_is_not_against_the_injection(sentence):
    assert fields(sentence, "Lumbar ESI L4-5") == (["epidural_steroid_injection"], False)


def test_a_low_risk_injection_is_not_contradicted_by_an_anticoagulant():
    """The 2018 ASRA/ESRA guideline places trigger point, peripheral joint and thoracolumbar facet
    injections at low bleeding risk: anticoagulants are no argument against them."""
    for item in ("Trigger point injections x4", "Right knee cortisone injection", "Medial branch block L4-5"):
        assert fields("on Xarelto 20 mg daily for afib", item)[1] is False, item


# Each family's sentence, and the services whose criterion carries it (and so may be contradicted).
FAMILIES = [
    ("on Eliquis 5 mg bid, INR 2.5",
     {"epidural_steroid_injection", "scs_trial", "scs_permanent", "intrathecal_pump", "kyphoplasty",
      "stellate_ganglion_block", "lumbar_sympathetic_block", "nsaid_oral", "celecoxib"}),
    ("A1c 10.2, uncontrolled DM",
     {"epidural_steroid_injection", "knee_steroid_injection", "shoulder_steroid_injection", "hip_steroid_injection",
      "hand_wrist_steroid_injection", "elbow_steroid_injection", "plantar_fascia_injection", "oral_corticosteroid",
      "antipsychotic"}),
    ("has a pacemaker",
     {"cervical_mri", "lumbar_mri", "thoracic_mri", "repeat_spine_mri", "elbow_mri", "wrist_hand_mri", "hip_mri",
      "ankle_foot_mri", "mr_arthrogram_shoulder", "brain_mri"}),
    ("UDS + for meth, ETOH abuse, CURES shows 3 prescribers, untreated OSA, COPD on 2L O2",
     {"opioid_analgesic", "snri_antidepressant", "benzodiazepine_short_course", "wakefulness_stimulant",
      "sedative_hypnotic", "beta_blocker", "testosterone_replacement"}),
    ("ESRD on dialysis, eGFR 12, Cr 4.1", {"opioid_renally_cleared", "nsaid_oral", "baclofen", "snri_antidepressant"}),
    ("sulfa allergy", {"celecoxib"}),
    ("LFTs 3x ULN, hep C", {"tizanidine", "snri_antidepressant"}),
    ("dizzy and sedated on Lyrica, gained 20 lb on gabapentin", {"gabapentinoid"}),
    ("word-finding problems since starting Topamax", {"topiramate"}),
    ("progressive foot drop, saddle anesthesia", {"chiropractic"}),
    ("open wound on the shin, bowel incontinence", {"aquatic_therapy", "chiropractic"}),
]


@pytest.mark.parametrize("sentence,services", FAMILIES, ids=[f[0][:30] for f in FAMILIES])
def test_a_family_contradicts_only_the_services_that_carry_it(sentence, services):
    wrong = []
    for _, cls, item, _ in service_walk():
        sig = extract_signals({"summary": sentence, "item": item})
        if sig["service_indication_contradicted"].value and not set(sig["service_criteria"].value) & services:
            wrong.append((cls, item, sig["service_criteria"].value))
    assert wrong == []


# The new criteria: which service-walk classes each reaches.
NEW_CLASSES = {
    "epidural_steroid_injection": {"epidural steroid injection", "repeat ESI", "cervical ESI"},
    "opioid_analgesic": {"opioid", "tramadol"},
    "opioid_renally_cleared": set(),
    "celecoxib": set(),
}


def test_the_new_criteria_reach_only_their_classes_of_the_walk():
    reached = {s: set() for s in NEW_CLASSES}
    for _, cls, item, _ in service_walk():
        found = set(extract_signals({"summary": "Pain.", "item": item})["service_criteria"].value)
        for service in found & set(reached):
            reached[service].add(cls)
    assert reached == NEW_CLASSES


@pytest.mark.parametrize("item,service", [
    ("Suboxone 8/2 mg #60", "opioid_analgesic"), ("Butrans 10 mcg/hr patch", "opioid_analgesic"),
    ("Opioid taper program", "opioid_analgesic"), ("IV sedation for lumbar ESI", "epidural_steroid_injection"),
    ("Fluoroscopic guidance for ESI", "epidural_steroid_injection"),
    ("Norco 10/325 #90", "opioid_renally_cleared"), ("Naproxen 550 mg #60", "celecoxib"),
])
def test_a_neighbouring_service_stays_out(item, service):
    assert service not in fields("Pain.", item)[0]


@pytest.mark.parametrize("item,service", [
    ("Tylenol #3 #60", "opioid_renally_cleared"), ("Morphine sulfate ER 15 mg", "opioid_renally_cleared"),
    ("Celecoxib 200 mg", "celecoxib"), ("Bilateral L5-S1 TFESI", "epidural_steroid_injection"),
    ("Caudal epidural injection", "epidural_steroid_injection"), ("Oxycontin 20 mg #60", "opioid_analgesic"),
])
def test_the_new_criteria_reach_their_items(item, service):
    assert service in fields("Pain.", item)[0]


FILLER = " Work injury in 2019; seen today in follow-up; pain limits lifting and sitting; the plan was reviewed."

# (item, summary of the request, the contraindication added on one side)
PAIRS = [
    ("Lumbar ESI L4-5", BASE["esi"], "On Eliquis for afib."),
    ("Spinal cord stimulator trial", "Failed back surgery syndrome with leg pain; psych clearance done.",
     "Takes Xarelto 20 mg daily."),
    ("Celebrex 200 mg #30", BASE["knee_oa"], "Sulfa allergy."),
    ("Naproxen 550 mg #60", BASE["knee_oa"], "On warfarin, INR 2.5."),
    ("Norco 10/325 #90", BASE["opioid"], "UDS + for meth."),
    ("Norco 10/325 #90", BASE["opioid"], "CURES shows 3 prescribers."),
    ("Norco 10/325 #90", BASE["opioid"], "Untreated OSA, AHI 32."),
    ("MS Contin 15 mg #60", BASE["opioid"], "ESRD on dialysis."),
    ("Tizanidine 4 mg #60", "44F neck pain with paraspinal spasm on exam.", "LFTs 3x ULN."),
    ("Duloxetine 60 mg #30", BASE["radicular"], "Drinks 6 beers/day."),
    ("Lyrica 75 mg #60", BASE["radicular"], "Dizzy and sedated on Lyrica."),
    ("Right knee cortisone injection", "62F R knee OA with effusion; failed PT and NSAIDs.", "A1c 10.2."),
    ("MRI lumbar spine", "45M LBP radiating to the L leg, +SLR, EHL 4/5, failed PT 6 wks.", "Has a pacemaker."),
    ("Aquatic therapy x8", "60F obese, knee OA, cannot tolerate land-based PT.", "Open wound on the shin."),
]


@pytest.mark.parametrize("item,summary,finding", PAIRS, ids=[f"{p[0]}-{p[2]}" for p in PAIRS])
def test_the_builtin_model_orders_a_contraindicated_request_below_the_clean_one(item, summary, finding):
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring.score import score_rows

    rows = [{"letter_id": "t", "item_index": 0, "item": item, "summary": summary + FILLER},
            {"letter_id": "t", "item_index": 0, "item": item, "summary": summary + " " + finding + FILLER}]
    clean, against = score_rows(load_model_dir("builtin"), rows)
    assert against["p_overturned"] < clean["p_overturned"]


@pytest.mark.parametrize("summary,documented,contradicted", [
    ("UDS 3/2024 consistent, CURES reviewed, agreement signed.", True, False),
    ("The urine drug screen was consistent with the prescribed medications.", True, False),
    ("UDS consistent with methamphetamine.", False, True),
    ("UDS was not consistent.", False, False),
])
def test_an_opioid_continued_with_documented_adherence_is_its_indication(summary, documented, contradicted):
    sig = extract_signals({"summary": summary, "item": "Norco 10/325 #90"})
    assert (sig["service_indication_documented"].value, sig["service_indication_contradicted"].value) == (
        documented, contradicted)


def test_failed_first_line_analgesics_are_the_opioids_first_line_care_not_also_its_indication():
    """One fact, one reading: "failed NSAIDs" is the criterion's `first_line` (criteria_kinds)."""
    sig = extract_signals({"summary": "Failed NSAIDs and acetaminophen.", "item": "Norco 10/325 #90"})
    assert sig["service_first_line_tried"].value and not sig["service_indication_documented"].value
