"""The medication rules of features/guidelines.toml and their hints: each fires on a request
that states its finding and not on one that does not; rules about what is put on the skin
never fire on a tablet; brand, generic and abbreviation score alike with the built-in model.

Summaries and items are written for these tests (no real letter text).
"""

import pytest

import imr_ml
from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.scoring.hints import hints_for
from imr_ml.signals import SignalValues, extract_signals


def _values(summary: str, item: str, other_items: str = "") -> SignalValues:
    return SignalValues(extract_signals({"summary": summary, "item": item, "other_items": other_items}))


def fired(summary: str, item: str, other_items: str = "") -> set[str]:
    return {r.name for r in fired_rules(_values(summary, item, other_items), item, load_guidelines())}


# rule: ((summary, item) that fires it, (summary, item) that must not)
CASES = {
    "opioid_without_functional_improvement": (
        ("Chronic low back pain. Norco 10/325 TID since 2014. Pain 7/10.", "Norco 10/325 #90"),
        ("Chronic low back pain. With Norco she can now walk 30 minutes and do her housework.", "HC-APAP 10/325 #90")),
    "opioid_functional_improvement": (
        ("Chronic low back pain. With Norco she can now walk 30 minutes and do her housework.",
         "Hydrocodone/APAP 10/325 #90"),
        ("Chronic low back pain. Norco 10/325 TID since 2014. Pain 7/10.", "Norco 10/325 #90")),
    "opioid_monitoring_documented": (
        ("Takes Percocet daily. UDS 5/2016 consistent. CURES reviewed.", "Percocet 5/325 #60"),
        ("Takes Percocet daily. No urine drug screen on file.", "Percocet 5/325 #60")),
    "opioid_long_term_unmonitored": (
        ("She has been taking Norco for 18 months.", "Norco 10/325 #90"),
        ("She has been taking Norco for 18 months. UDS in May was consistent.", "Norco 10/325 #90")),
    "opioid_weaning_advised": (("UR recommended weaning of Norco.", "Norco 10/325 #60"),
                               ("Norco 10/325 TID.", "Norco 10/325 #60")),
    "opioid_aberrant_behaviour": (
        ("Takes oxycodone. The last UDS was inconsistent, positive for cocaine.", "Oxycodone 10 mg #60"),
        ("Takes oxycodone. No aberrant behaviors. UDS consistent.", "Oxycodone 10mg #60")),
    "opioid_dose_above_90_mme": (
        ("She takes OxyContin 40 mg TID; her MED is 180 mg a day.", "OxyContin 40mg #90"),
        ("The MTUS advises not to exceed 120 mg MED. She takes tramadol 50 mg daily.", "Tramadol 50mg #30")),
    "medication_dose_above_label_maximum": (("Neuropathic leg pain.", "Gabapentin 1600 mg TID #270"),
                                            ("Neuropathic leg pain.", "Gabapentin 1200 mg TID #270")),
    "acetaminophen_above_4g_day": (("Chronic low back pain.", "Norco 5/325 2 tabs q3h"),
                                   ("Chronic low back pain.", "Norco 10/325 1 tab q4h")),
    "opioid_postoperative_short_term": (
        ("She is 2 weeks post-op from a rotator cuff repair.", "Percocet 5/325 #30"),
        ("She had a rotator cuff repair in 2012 and has taken Percocet since 2012.", "Percocet 5/325 #30")),
    "opioid_with_benzodiazepine": (("Medications include Norco and Xanax 0.5 mg.", "Norco 10/325 #90"),
                                   ("Medications include Norco. Xanax was discontinued.", "Norco 10/325 #90")),
    "buprenorphine_for_opioid_dependence": (
        ("He has requested early refills of Norco; a taper is recommended.", "Suboxone 8/2 mg film #30"),
        ("Chronic low back pain, stable.", "Butrans 10 mcg/hr patch #4")),
    "nsaid_without_documented_benefit": (("Chronic neck pain for 4 years.", "Naproxen 550mg #60"),
                                         ("Naproxen gives her 50% relief.", "Anaprox DS 550mg #60")),
    "nsaid_long_term_without_benefit": (
        ("She has taken Mobic for over 2 years.", "Meloxicam 15mg #30"),
        ("She has taken Mobic for over 2 years; with it she can now walk a mile.", "Meloxicam 15mg #30")),
    "nsaid_documented_benefit": (("Ibuprofen reduces her pain by 40% relief.", "Motrin 800mg #90"),
                                 ("Ibuprofen helps somewhat.", "Motrin 800mg #90")),
    "nsaid_osteoarthritis": (("Right knee osteoarthritis.", "Naproxen 500mg #60"),
                             ("Right knee strain; no arthritis on x-ray.", "Naproxen 500mg #60")),
    "nsaid_acute_pain": (("Acute flare of low back pain after lifting last week.", "Ibuprofen 800mg #30"),
                         ("Chronic low back pain, unchanged.", "Ibuprofen 800 mg #30")),
    "nsaid_cardiorenal_risk": (("History of chronic kidney disease stage 3.", "Naproxen 500mg #60"),
                               ("Normal renal function.", "Naproxen 500mg #60")),
    "cox2_for_gi_risk": (("History of a bleeding ulcer.", "Celebrex 200mg #30"),
                         ("History of a bleeding ulcer.", "Naproxen 500mg #60")),
    "ketorolac_for_chronic_pain": (("Chronic low back pain for years.", "Toradol 10mg #20"),
                                   ("Acute flare of low back pain yesterday.", "Ketorolac 60 mg IM")),
    "muscle_relaxant_long_term": (("On Soma for over a year.", "Carisoprodol 350mg #60"),
                                  ("Acute spasm after a fall last week.", "Flexeril 10mg #20")),
    "muscle_relaxant_acute_flare": (("Acute flare-up with spasm last week.", "Cyclobenzaprine 10mg #20"),
                                    ("Chronic pain. On Flexeril since 2014.", "Fexmid 7.5mg #60")),
    "muscle_relaxant_without_flare_or_spasm": (("Chronic low back pain, no spasm.", "Tizanidine 4mg #60"),
                                               ("Paraspinal muscle spasm on exam.", "Tizanidine 4mg #60")),
    "muscle_relaxant_continued_without_benefit": (
        ("Paraspinal spasm. Current medications include Robaxin.", "Methocarbamol 750mg #60"),
        ("Paraspinal spasm. Current medications include Robaxin, with which she can now sleep and work.",
         "Methocarbamol 750mg #60")),
    "carisoprodol": (("Low back pain.", "Soma 350mg #60"), ("Low back pain.", "Methocarbamol 750mg #60")),
    "antispasticity_agent_for_spasticity": (("Spasticity from a spinal cord injury.", "Baclofen 10mg #90"),
                                            ("Spasticity from a spinal cord injury.", "Cyclobenzaprine 10mg #90")),
    "anticonvulsant_neuropathic": (("Burning pain in both feet from neuropathy.", "Lyrica 75mg #60"),
                                   ("Mechanical low back pain without leg symptoms.", "Pregabalin 75mg #60")),
    "anticonvulsant_without_neuropathic_pain": (("Mechanical low back pain without leg symptoms.", "Lyrica 75mg #60"),
                                                ("Burning pain in both feet from neuropathy.", "Pregabalin 75 mg")),
    "anticonvulsant_response_documented": (("Radicular pain; gabapentin gives 50% relief.", "Neurontin 600mg #90"),
                                           ("Radicular pain; gabapentin helps a little.", "Neurontin 600mg #90")),
    "anticonvulsant_continued_without_response": (
        ("Radicular pain. Current medications include gabapentin.", "Gabapentin 600mg #90"),
        ("Radicular pain. Current medications include gabapentin with 40% relief.", "Gabapentin 600mg #90")),
    "antidepressant_for_neuropathic_pain": (("Diabetic neuropathy with burning feet.", "Cymbalta 60mg #30"),
                                            ("Diabetic neuropathy with burning feet.", "Zoloft 50mg #30")),
    "antidepressant_for_depression": (("Depression since the injury.", "Sertraline 50mg #30"),
                                      ("Denies depression or anxiety.", "Sertraline 50mg #30")),
    "antidepressant_without_indication": (("Low back strain.", "Duloxetine 60 mg #30"),
                                          ("Low back strain with depression.", "Duloxetine 60 mg #30")),
    "ssri_for_pain": (("Chronic knee pain.", "Prozac 20mg #30"), ("Chronic knee pain and depression.", "Prozac 20mg")),
    "hypnotic_long_term": (("Insomnia. On Ambien since 2013.", "Zolpidem 10mg #30"),
                           ("Insomnia for 3 weeks after the injury.", "Zolpidem 10mg #30")),
    "hypnotic_short_term_for_insomnia": (("Insomnia for 3 weeks after the injury.", "Ambien 10mg #30"),
                                         ("Denies sleep problems.", "Ambien 10mg #30")),
    "hypnotic_without_insomnia": (("Denies sleep problems.", "Lunesta 2mg #30"),
                                  ("Difficulty sleeping due to pain.", "Eszopiclone 2mg #30")),
    "benzodiazepine_long_term": (("She has been taking Xanax for 3 years for anxiety.", "Alprazolam 1mg #60"),
                                 ("Acute anxiety after the assault last week.", "Alprazolam 0.5mg #20")),
    "benzodiazepine_short_course": (("Acute anxiety after the assault last week.", "Xanax 0.5mg #20"),
                                    ("She has been taking Xanax for 3 years for anxiety.", "Alprazolam 1mg #60")),
    "benzodiazepine_without_indication": (("Chronic neck pain.", "Valium 5mg #30"),
                                          ("Neck spasm on exam.", "Diazepam 5mg #30")),
    "benzodiazepine_with_opioids": (("Current medications include Norco and Klonopin.", "Clonazepam 1mg #60"),
                                    ("Current medications include Klonopin.", "Clonazepam 1mg #60")),
    "anxiolytic_without_anxiety_or_insomnia": (("Chronic low back pain.", "Hydroxyzine 25mg #30"),
                                               ("Anxiety since the injury.", "Vistaril 25mg #30")),
    "antipsychotic_without_psychiatric_diagnosis": (("Chronic pain.", "Seroquel 50mg #30"),
                                                    ("Bipolar depression.", "Quetiapine 50mg #30")),
    "wakefulness_agent_without_sleep_disorder": (("Sedated by Norco.", "Provigil 200mg #30"),
                                                 ("Obstructive sleep apnea on CPAP.", "Modafinil 200mg #30")),
    "ppi_gi_risk": (("History of GI bleed.", "Omeprazole 20mg #30"), ("Denies GI problems.", "Omeprazole 20mg #30")),
    "ppi_age_over_65": (("A 70-year-old man taking naproxen.", "Prilosec 20mg #30"),
                        ("A 50-year-old man taking naproxen.", "Prilosec 20mg #30")),
    "ppi_without_gi_risk": (("A 50-year-old man. Medications include naproxen.", "Protonix 20mg #30"),
                            ("A 50-year-old man. No medications.", "Pantoprazole 20mg #30")),
    "ppi_without_nsaid_or_gi_symptoms": (("A 50-year-old man. He takes no NSAIDs.", "Nexium 40mg #30"),
                                         ("A 50-year-old man. Medications include Mobic.", "Esomeprazole 40mg")),
    "laxative_with_opioids_or_constipation": (("Constipation from Norco.", "Colace 100mg #60"),
                                              ("No constipation; no opioids.", "Docusate 100mg #60")),
    "laxative_without_opioids_or_constipation": (("No constipation; no opioids.", "Colace 100mg #60"),
                                                 ("Constipation from Norco.", "Docusate 100mg #60")),
    "antiemetic_after_surgery": (("She is 1 week post-op from a knee arthroscopy.", "Zofran 4mg #20"),
                                 ("Nausea from Norco for months.", "Ondansetron 4mg #20")),
    "antiemetic_outside_postoperative_period": (("Nausea from Norco for months.", "Zofran 4mg #20"),
                                                ("She is 1 week post-op from a knee arthroscopy.", "Ondansetron 4mg")),
    "topical_nonrecommended_ingredient": (
        ("Neuropathic pain.", "Compound gabapentin 10%/cyclobenzaprine 4% cream 240 g"),
        ("Neuropathic pain.", "Gabapentin 300 mg #90")),
    "topical_compound_unspecified": (("Knee pain.", "Compound cream 240 g"),
                                     ("Knee pain.", "Compound ketoprofen 20% cream 240 g")),
    "topical_without_first_line_trial": (("Knee pain.", "Menthoderm gel 120 ml"),
                                         ("Burning neuropathic pain; failed gabapentin.", "Menthoderm gel 120 ml")),
    "topical_after_first_line_trial": (
        ("Post-herpetic neuralgia; gabapentin and nortriptyline were tried and stopped for sedation.",
         "Lidoderm 5% patch #30"),
        ("Post-herpetic neuralgia.", "Lidoderm 5% patch #30")),
    "lidocaine_patch_without_neuropathic_pain": (("Knee osteoarthritis.", "Lidocaine 5% patch #30"),
                                                 ("Burning neuropathic pain of the foot.", "Lidoderm 5% patch #30")),
    "topical_nsaid_peripheral_joint": (("Left knee osteoarthritis.", "Voltaren gel 1% 100 g"),
                                       ("Left knee osteoarthritis.", "Diclofenac ER 100 mg #60")),
    "topical_nsaid_spine_hip_shoulder": (("Low back pain.", "Voltaren gel 1% 100 g for the lumbar spine"),
                                         ("Low back pain.", "Voltaren gel 1% 100 g for the left knee")),
    "topical_nsaid_without_osteoarthritis": (("Low back strain.", "Flector patch #30"),
                                             ("Hand osteoarthritis.", "Flector patch #30")),
    "compounded_oral_suspension": (("Low back pain.", "Tabradol 1mg/ml oral suspension 250 ml"),
                                   ("He has dysphagia after a stroke.", "Tabradol 1mg/ml oral suspension 250 ml")),
    "medical_food_without_deficiency": (("Chronic pain.", "Theramine #90"), ("Vitamin D deficiency.", "Theramine #90")),
    "triptan_for_migraine": (("Post-traumatic migraines twice a week.", "Maxalt 10mg #9"),
                             ("Tension headaches.", "Rizatriptan 10mg #9")),
    "triptan_without_migraine": (("Tension headaches.", "Maxalt 10mg #9"),
                                 ("Post-traumatic migraines twice a week.", "Rizatriptan 10mg #9")),
    "barbiturate_containing_analgesic": (("Headaches.", "Fioricet #30"), ("Headaches.", "Tylenol 500mg #100")),
    "acetaminophen_first_line": (("Knee osteoarthritis.", "Tylenol 500mg #100"),
                                 ("Knee osteoarthritis and cirrhosis.", "Acetaminophen 500mg #100")),
    "acetaminophen_liver_disease": (("Knee osteoarthritis and cirrhosis.", "Tylenol 500mg #100"),
                                    ("Knee osteoarthritis.", "APAP 500mg #100")),
    "oral_steroid_acute_radicular_pain": (("Acute sciatica with a positive straight leg raise.", "Medrol Dosepak"),
                                          ("Chronic mechanical low back pain.", "Methylprednisolone 4mg dose pack")),
    "oral_steroid_without_radicular_pain": (("Chronic mechanical low back pain.", "Medrol Dosepak"),
                                            ("Acute sciatica with a positive straight leg raise.", "Medrol dose pack")),
    "glucosamine_for_osteoarthritis": (("Knee osteoarthritis.", "Glucosamine 1500 mg #30"),
                                       ("Low back strain.", "Glucosamine 1500 mg #30")),
    "supplement_without_indication": (("Low back strain.", "Vitamin D 50000 IU #4"),
                                      ("Vitamin D deficiency.", "Vitamin D 50000 IU #4")),
    "naloxone_with_overdose_risk": (("Current medications include OxyContin 40 mg TID.", "Narcan nasal spray #2"),
                                    ("No opioids.", "Narcan nasal spray #2")),
    "testosterone_for_opioid_hypogonadism": (
        ("Low testosterone. Current medications include Norco.", "AndroGel 1% 5 g"),
        ("Low testosterone.", "AndroGel 1% 5 g")),
    "testosterone_without_hypogonadism": (("Fatigue.", "AndroGel 1% 5 g"), ("Hypogonadism documented.", "AndroGel 1%")),
    "vitamin_b12_for_deficiency": (("Labs show vitamin B12 deficiency.", "Cyanocobalamin 1000 mcg IM"),
                                   ("Chronic neck pain.", "Cyanocobalamin 1000 mcg IM")),
    "taper_supply_for_a_planned_wean": (("On Norco 4 years, no gain. Plan: written taper, one less every 2 weeks.",
                                         "Norco 10/325 #45"), ("On Norco 4 years, no gain. Plan: continue.",
                                             "Norco 10/325 #90")),
    "benzodiazepine_short_course_for_acute_spasm": (("Acute low back spasm after lifting yesterday.",
        "Diazepam 5 mg #7"),
                                                    ("Diazepam nightly since 2016 for back spasm.",
                                                        "Diazepam 5 mg #30")),
    "tricyclic_with_cardiac_conduction_disease": (("Neuropathic foot pain; EKG shows left bundle branch block.",
        "Nortriptyline 10 mg"),
                                                  ("Neuropathic foot pain; EKG normal.", "Nortriptyline 10 mg")),
    "hypnotic_after_sleep_hygiene": (("Insomnia; sleep hygiene tried for 6 weeks without change.", "Zolpidem 5 mg #14"),
                                     ("Insomnia; no sleep history taken.", "Zolpidem 5 mg #14")),
    "second_line_anticonvulsant_after_first_line_failed": (("Radiculopathy; gabapentin gave no relief.",
        "Topiramate 25 mg"),
                                                           ("Radiculopathy; no anticonvulsant tried.",
                                                               "Topiramate 25 mg")),
    "second_line_anticonvulsant_first": (("Radiculopathy; no anticonvulsant tried.", "Carbamazepine 200 mg"),
                                         ("Radiculopathy; pregabalin not tolerated (edema).", "Carbamazepine 200 mg")),
    "capsaicin_after_other_treatments_failed": (("Knee pain; NSAIDs and acetaminophen failed.",
        "Capsaicin 0.025% cream"),
                                                ("Knee pain; no medication tried yet.", "Capsaicin 0.025% cream")),
    "drug_class_contraindication": (("BP today 172/108, untreated HTN.", "Venlafaxine ER 75 mg #30"),
                                    ("BP today 118/76, no HTN hx.", "Venlafaxine ER 75 mg #30")),
    "same_class_duplicate": (("Also takes tizanidine 4 mg TID daily, continuing.", "Cyclobenzaprine 5 mg #10"),
                             ("Takes no other muscle relaxant.", "Cyclobenzaprine 5 mg #10")),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_its_finding_and_not_without_it(rule):
    (s_yes, i_yes), (s_no, i_no) = CASES[rule]
    assert rule in fired(s_yes, i_yes), (rule, sorted(fired(s_yes, i_yes)))
    assert rule not in fired(s_no, i_no), (rule, sorted(fired(s_no, i_no)))


def test_every_medication_rule_has_cases():
    names = [r.name for r in load_guidelines().rules]
    first, after = names.index("opioid_without_functional_improvement"), names.index("preop_testing_with_risk_factor")
    medications = names[first:after]  # the section before the non-drug services
    missing = [n for n in medications if n not in CASES]
    assert not missing, missing


def test_one_of_the_four_as_alone_is_not_opioid_monitoring():
    # MTUS on-going management asks for drug screens, an agreement and the 4 A's: "no side
    # effects" alone is one A, not the monitoring the rule credits
    assert "opioid_monitoring_documented" not in fired("Takes Norco. No side effects.", "Norco 10/325 #60")
    assert "opioid_monitoring_documented" in fired("Takes Norco. Signed opioid agreement on file.", "Norco 10/325 #60")


@pytest.mark.parametrize("item,category", [
    ("Toradol 60 mg IM", "nsaid"), ("Ketorolac 60 mg IM injection", "nsaid"), ("Toradol injection", "nsaid"),
    ("Depo-Medrol 80 mg IM", "other_medication"), ("Imitrex 6 mg SQ", "other_medication"),
    ("Post-op Toradol IM", "perioperative"), ("Kenalog 40 mg injection right knee", "injection"),
    ("Trigger point injections with lidocaine", "injection"), ("Lumbar ESI with Depo-Medrol", "injection"),
])
def test_a_drug_given_systemically_is_a_medication_not_an_injection_procedure(item, category):
    from imr_ml.knowledge.taxonomy import categorize

    assert categorize(item) == category


def test_procedure_rules_do_not_read_a_systemic_injection():
    summary = "Chronic low back pain. Failed physical therapy and NSAIDs."
    assert "failed_conservative_care" in fired(summary, "Lumbar epidural steroid injection L4-5")
    shot = fired(summary, "Toradol 60 mg IM injection")
    assert "failed_conservative_care" not in shot and "ketorolac_for_chronic_pain" in shot
    assert "joint_steroid_injection_after_failed_care" not in fired(summary, "Depo-Medrol 80 mg IM")
    assert "joint_steroid_injection_after_failed_care" in fired(summary, "Kenalog 40 mg injection right knee")


def test_concurrent_nsaid_may_be_another_disputed_item():
    summary = "A 50-year-old man with low back pain."
    assert "ppi_without_gi_risk" in fired(summary, "Omeprazole 20mg #60", other_items="Naproxen 550mg #60")
    assert "ppi_without_nsaid_or_gi_symptoms" in fired(summary, "Omeprazole 20mg #60")


@pytest.mark.parametrize("item", ["Cyclobenzaprine 7.5mg #60", "Gabapentin 300 mg #90", "Flexeril 10 mg",
                                  "Neurontin 600mg #90", "Ketoprofen 75 mg capsules", "Tramadol ER 150mg #30"])
def test_rules_about_the_skin_never_fire_on_an_oral_drug(item):
    rules = fired("Chronic low back pain with spasm and burning leg pain.", item)
    assert not {r for r in rules if r.startswith("topical_")}, rules


# Brand / generic / abbreviation: the same request in other words.
PAIRS = [
    ("Neurontin 300 mg #90", "Gabapentin 300 mg #90"), ("Norco 10/325 #90", "Hydrocodone/acetaminophen 10/325 #90"),
    ("HC-APAP 10/325 #90", "Norco 10/325 #90"), ("Flexeril 10mg #60", "Cyclobenzaprine 10mg #60"),
    ("Fexmid 7.5mg #60", "Cyclobenzaprine 7.5mg #60"), ("Mobic 15mg #30", "Meloxicam 15mg #30"),
    ("Prilosec 20mg #60", "Omeprazole 20mg #60"), ("Ambien 10mg #30", "Zolpidem 10mg #30"),
    ("Lidoderm 5% patch #30", "Lidocaine 5% patch #30"), ("Ultram 50mg #60", "Tramadol 50mg #60"),
    ("Celebrex 200mg #30", "Celecoxib 200mg #30"), ("Lyrica 75mg #60", "Pregabalin 75mg #60"),
    ("Cymbalta 60mg #30", "Duloxetine 60mg #30"), ("Percocet 5/325 #60", "Oxycodone/APAP 5/325 #60"),
    ("Soma 350mg #60", "Carisoprodol 350mg #60"), ("Xanax 0.5mg #30", "Alprazolam 0.5mg #30"),
    ("Protonix 20mg #60", "Pantoprazole 20mg #60"), ("Zanaflex 4mg #60", "Tizanidine 4mg #60"),
    ("Motrin 800mg #90", "Ibuprofen 800mg #90"), ("Tylenol #3 #60", "APAP/codeine 300/30 #60"),
]
SUMMARIES = [
    "A 52-year-old man with chronic low back pain radiating to the left leg since a fall in 2014. He has been on "
    "Norco, Neurontin and Flexeril for two years. UDS consistent. Pain 8/10 without and 5/10 with medications.",
    "47F, knee OA, GERD on naproxen, insomnia and depression. Takes Lyrica and Ambien; function unchanged.",
]


@pytest.fixture(scope="module")
def builtin():
    return imr_ml.load_model("builtin")


@pytest.mark.parametrize("a,b", PAIRS)
def test_brand_and_generic_score_alike(builtin, a, b):
    for summary in SUMMARIES:
        pa, pb = (builtin.score({"summary": summary, "item": x})[0]["p_overturned"] for x in (a, b))
        assert abs(pa - pb) <= 0.05, (a, b, pa, pb)
        assert pa == pytest.approx(pb, abs=1e-9)  # the vocabulary makes them the same request


def test_opioid_hints_fit_the_dose_and_the_other_drugs():
    # the monitoring checklist is the general opioid hint's (h23a owns a checklist); these follow facts
    high = hints_for(_values("Takes Norco and OxyContin, MED 180 mg/day.", "OxyContin 40 mg #60"))
    low = hints_for(_values("Takes Norco, MED 40 mg/day.", "Norco 10/325 #60"))
    assert any("90 mg morphine equivalents" in h for h in high)
    assert not any("90 mg morphine equivalents" in h for h in low)
    both = hints_for(_values("Takes Norco and Xanax daily.", "Hydrocodone/APAP 10/325 #60"))
    assert any("benzodiazepine" in h for h in both)
    assert not any("benzodiazepine" in h for h in low)


def test_topical_hint_names_the_ingredients_not_recommended():
    hints = hints_for(_values("Knee pain.", "Compound flurbiprofen 20%/gabapentin 10% cream 240 g"))
    assert any("flurbiprofen, gabapentin" in h for h in hints), hints
    assert not any("flurbiprofen" in h for h in hints_for(_values("Knee pain.", "Flurbiprofen 100 mg tablets #60")))


# ----------------------------------------------------------------------- the signals these rules read

SIGNAL_CASES = {
    "nsaid_use": (["Current medications include Mobic 15 mg.", "She takes ibuprofen 800 mg TID.",
                   "Medications: Anaprox DS, Norco."],
                  ["Motrin was discontinued.", "Consider naproxen.", "NSAIDs are recommended for osteoarthritis."]),
    "benzodiazepine_use": (["She takes Klonopin 1 mg at night.", "Medications include alprazolam."],
                           ["Xanax was stopped in 2015.", "Avoid benzodiazepines."]),
    "first_line_neuropathic_tried": (["Failed Lyrica.", "Gabapentin was tried and stopped for sedation.",
                                      "She takes Cymbalta 60 mg daily."],
                                     ["She has not tried gabapentin.", "Consider a trial of Lyrica."]),
    "side_effects_assessed": (["No side effects.", "Denies side effects from Norco.", "Adverse effects: constipation."],
                              ["There was no documentation of side effects.", "Side effects were not documented.",
                               "Monitor for side effects."]),
    "osteoarthritis": (["Right knee osteoarthritis.", "DJD of the hip.", "Tricompartmental OA."],
                       ["No arthritis on x-ray.", "Rule out arthritis."]),
    "muscle_spasm": (["Paraspinal muscle spasm on exam.", "Spasms in the trapezius."],
                     ["No spasm.", "Denies muscle spasms."]),
    "spasticity": (["Spasticity from a spinal cord injury.", "Multiple sclerosis with leg stiffness."],
                   ["No spasticity."]),
    "cardiorenal_risk": (["Chronic kidney disease stage 3.", "History of MI in 2012.", "CHF."],
                         ["Normal renal function.", "Denies heart failure."]),
    "liver_disease": (["Cirrhosis.", "Hepatitis C.", "Elevated liver enzymes."], ["No liver disease."]),
    "constipation": (["Constipation from Norco.", "Opioid-induced constipation."],
                     ["Denies constipation.", "Colace to prevent constipation."]),
    "migraine": (["Post-traumatic migraines twice a week."], ["No migraines.", "Tension headaches."]),
    "sleep_disorder": (["Obstructive sleep apnea on CPAP.", "Narcolepsy."], ["No sleep apnea."]),
    "nutritional_deficiency": (["Vitamin D deficiency.", "Malabsorption after gastric bypass."],
                               ["No vitamin deficiency."]),
    "dysphagia": (["He has dysphagia after a stroke.", "She cannot swallow pills."], ["Denies dysphagia."]),
    "hypogonadism": (["Low testosterone on long-term opioids.", "Hypogonadism."], ["Testosterone level normal."]),
}


@pytest.mark.parametrize("name,text,expected",
                         [(n, t, True) for n, (pos, _) in SIGNAL_CASES.items() for t in pos]
                         + [(n, t, False) for n, (_, neg) in SIGNAL_CASES.items() for t in neg])
def test_medication_signals(name, text, expected):
    s = extract_signals({"summary": text})[name]
    assert bool(s.value) is expected, (name, text, [text[a:b] for _, a, b in s.evidence])


@pytest.mark.parametrize("summary,item,relief", [
    ("Gabapentin gives her 50% relief.", "Neurontin 300 mg #90", 50),
    ("Pain 8/10 without and 4/10 with her medications.", "Norco 10/325 #90", 50),
    ("With Norco pain goes from 8/10 to 6/10.", "Norco 10/325 #90", 25),
    ("Acupuncture gave 70% relief. She takes Norco.", "Norco 10/325 #90", None),  # relief of another treatment
    ("There was no 50% relief with Lyrica.", "Lyrica 75mg", None),
    ("Norco reduces her pain by 50% and she walks longer.", "Norco 10/325 #90", 50),
    ("Lyrica decreases his pain level by about 40 percent.", "Lyrica 75mg", 40),
    ("Lyrica does not reduce her pain by 50%.", "Lyrica 75mg", None),
])
def test_medication_relief_is_read_from_sentences_about_the_drug(summary, item, relief):
    value = extract_signals({"summary": summary, "item": item})["medication_relief"].value
    assert value == (pytest.approx(relief) if relief is not None else None)


@pytest.mark.parametrize("summary,mme", [
    ("Her MED is 180 mg a day.", 180), ("Morphine equivalent dose of 95 mg.", 95), ("120 MME daily.", 120),
    ("Guidelines advise not to exceed 120 mg MED.", None), ("Medications reviewed.", None),
])
def test_morphine_equivalent_dose(summary, mme):
    assert extract_signals({"summary": summary, "item": "Norco 10/325 #90"})["morphine_equivalent"].value == mme
