"""The drug classes added after the analgesic core (features/*.toml, the sections headed
"medications by drug class"): every name of a new drug reads to its ingredient and class, and
each new rule fires on a request that documents its finding and not on one that does not.

Summaries and items are written for these tests (no real letter text).
"""

import pytest

from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.knowledge.medication import read_medication
from imr_ml.knowledge.taxonomy import categorize
from imr_ml.scoring.hints import hints_for
from imr_ml.signals import SignalValues, extract_signals

OM = "other_medication"

# family: (names of one drug in several spellings, ingredients, class, category)
FAMILIES = {
    "cephalexin": (["Keflex 500 mg #28", "cephalexin 500mg", "Cefalexin 250 mg"], {"cephalexin"}, "antibiotic", OM),
    "amoxicillin/clavulanate": (["Augmentin 875 mg #20", "amoxicillin-clavulanate 875/125"],
                                {"amoxicillin", "clavulanate"}, "antibiotic", OM),
    "sulfamethoxazole": (["Bactrim DS #20", "SMX-TMP 800/160", "sulfamethoxazole-trimethoprim DS"],
                         {"sulfamethoxazole"}, "antibiotic", OM),
    "ciprofloxacin": (["Cipro 500 mg", "ciprofloxacin 500mg #14"], {"ciprofloxacin"}, "antibiotic", OM),
    "doxycycline": (["Doxycycline 100 mg #20", "Vibramycin 100mg"], {"doxycycline"}, "antibiotic", OM),
    "varenicline": (["Chantix 1 mg #56", "varenicline 0.5 mg starter pack"], {"varenicline"}, "smoking_cessation",
                    OM),
    "dronabinol": (["Marinol 2.5 mg #60", "dronabinol 5 mg"], {"dronabinol"}, "cannabinoid", OM),
    "ubrogepant": (["Ubrelvy 50 mg #10", "ubrogepant 100mg"], {"ubrogepant"}, "antimigraine", OM),
    "rimegepant": (["Nurtec ODT 75 mg #8", "rimegepant 75mg"], {"rimegepant"}, "antimigraine", OM),
    "propranolol": (["Inderal LA 80 mg", "propranolol 20 mg #60"], {"propranolol"}, "beta_blocker", OM),
    "lofexidine": (["Lucemyra 0.18 mg #96", "lofexidine 0.18mg"], {"lofexidine"}, "alpha_agonist", OM),
    "lacosamide": (["Vimpat 50 mg", "lacosamide 100 mg #60"], {"lacosamide"}, "anticonvulsant", OM),
    "lemborexant": (["Dayvigo 5 mg #30", "lemborexant 10mg"], {"lemborexant"}, "hypnotic", OM),
    "fondaparinux": (["Arixtra 2.5 mg #10", "fondaparinux 2.5mg"], {"fondaparinux"}, "anticoagulant", OM),
    "psyllium": (["Metamucil #1", "psyllium powder"], {"psyllium"}, "laxative", OM),
    "naloxone": (["Kloxxado 8 mg #2", "Narcan 4 mg nasal spray"], {"naloxone"}, "opioid_antagonist", OM),
    "benzhydrocodone/acetaminophen": (["Apadaz 6.12/325 #30"], {"benzhydrocodone", "acetaminophen"}, "opioid",
                                      "opioid"),
    "atogepant": (["Qulipta 60 mg #30", "atogepant 60mg"], {"atogepant"}, "antimigraine", OM),
    "ergotamine": (["Cafergot #10", "ergotamine 1 mg"], {"ergotamine"}, "antimigraine", OM),
    "brexpiprazole": (["Rexulti 1 mg", "brexpiprazole 0.5 mg"], {"brexpiprazole"}, "antipsychotic", OM),
    "butalbital/acetaminophen": (["Bupap 50/300", "Allzital #30"], {"butalbital", "acetaminophen"},
                                 "barbiturate_analgesic", OM),
    "fish oil": (["Fish oil 1000 mg #90", "omega-3 1000 mg #60", "Lovaza 1 gram capsules"], {"omega-3 fatty acids"},
                 "supplement", OM),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_name_of_a_new_drug_reads_to_one_ingredient_and_class(family):
    names, ingredients, drug_class, category = FAMILIES[family]
    for name in names:
        med = read_medication(name)
        assert med is not None, name
        assert ingredients <= set(med.ingredients), (name, med.ingredients)
        assert med.drug_class == drug_class, (name, med.drug_class)
        assert categorize(name) == category, (name, categorize(name))


def test_common_words_are_not_drug_names():
    for text in ("Same treatment as before", "Commit to a home exercise program", "Fleet vehicle seat",
                 "Ironworker boots", "Calcium deposits on x-ray"):
        assert read_medication(text) is None, text


def _values(summary: str, item: str) -> SignalValues:
    return SignalValues(extract_signals({"summary": summary, "item": item}))


def fired(summary: str, item: str) -> set[str]:
    return {r.name for r in fired_rules(_values(summary, item), item, load_guidelines())}


# rule: ((summary, item) that fires it, (summary, item) that must not)
CASES = {
    "antibiotic_for_documented_infection": (
        ("Laceration of the right hand 5 days ago, now with cellulitis and purulent drainage.", "Keflex 500 mg #28"),
        ("Laceration of the right hand 5 days ago; healing well, no signs of infection.", "Keflex 500 mg #28")),
    "antibiotic_without_infection": (
        ("Chronic low back pain with Modic changes on MRI.", "Amoxicillin-clavulanate 500 mg #90"),
        ("Infected wound of the left thumb with erythema and pus.", "Augmentin 875 mg #20")),
    "tobacco_cessation_for_tobacco_user": (
        ("Lumbar fusion planned. He smokes one pack a day.", "Chantix 1 mg #56"),
        ("Lumbar fusion planned. He is a non-smoker.", "Chantix 1 mg #56")),
    "tobacco_cessation_without_tobacco_use": (
        ("Lumbar fusion planned. He quit smoking in 2010.", "Varenicline 1 mg #56"),
        ("Lumbar fusion planned. Current smoker, 20 pack-years.", "Varenicline 1 mg #56")),
    "cannabinoid_for_pain": (
        ("Chronic neck pain despite medications.", "Dronabinol 5 mg #60"),
        ("Nausea and vomiting from chemotherapy for lymphoma.", "Marinol 5 mg #60")),
    "cannabinoid_for_labelled_indication": (
        ("Chemotherapy-induced nausea despite ondansetron.", "Marinol 2.5 mg #60"),
        ("Chronic low back pain; no nausea.", "Marinol 2.5 mg #60")),
    "migraine_agent_for_migraine": (
        ("Post-traumatic migraines three times a week since the head injury.", "Ubrelvy 50 mg #10"),
        ("Tension-type headaches after the injury.", "Ubrelvy 50 mg #10")),
    "migraine_agent_without_migraine": (
        ("Tension-type headaches after the injury.", "Nurtec ODT 75 mg #8"),
        ("Migraine with aura, twice a week.", "Nurtec ODT 75 mg #8")),
    "beta_blocker_for_migraine_prophylaxis": (
        ("Migraines four times a month despite sumatriptan.", "Propranolol 20 mg #60"),
        ("Chronic shoulder pain.", "Propranolol 20 mg #60")),
    "beta_blocker_without_indication": (
        ("Chronic shoulder pain.", "Inderal 20 mg #60"),
        ("Migraines four times a month despite sumatriptan.", "Inderal 20 mg #60")),
    "withdrawal_agent_during_taper": (
        ("Norco is being tapered; she reports withdrawal symptoms of sweating and anxiety.", "Lucemyra 0.18 mg #96"),
        ("Chronic low back pain on Norco, stable.", "Lucemyra 0.18 mg #96")),
    "withdrawal_agent_without_taper": (
        ("Chronic low back pain on Norco, stable.", "Clonidine 0.1 mg #60"),
        ("Opioid detoxification program started this week.", "Clonidine 0.1 mg #60")),
    "anticoagulant_for_vte_risk": (
        ("Right total knee arthroplasty scheduled; history of DVT in 2015.", "Xarelto 10 mg #14"),
        ("Chronic knee pain, walking daily.", "Xarelto 10 mg #14")),
    "anticoagulant_without_vte_risk": (
        ("Chronic knee pain, walking daily.", "Lovenox 40 mg #14"),
        ("Immobilized in a cast, non-weight bearing after the ankle fracture.", "Lovenox 40 mg #14")),
    "second_line_constipation_agent_after_laxatives": (
        ("Opioid-induced constipation; Colace and senna did not help.", "Movantik 25 mg #30"),
        ("Opioid-induced constipation on Norco.", "Movantik 25 mg #30")),
    "second_line_constipation_agent_first": (
        ("Opioid-induced constipation on Norco.", "Relistor 150 mg #30"),
        ("Opioid-induced constipation despite MiraLAX and senna.", "Relistor 150 mg #30")),
    "antidepressant_response_documented": (
        ("Takes Cymbalta; with it she can now walk 30 minutes and sleeps better.", "Cymbalta 60 mg #30"),
        ("Takes Cymbalta since 2015.", "Cymbalta 60 mg #30")),
    "antidepressant_continued_without_response": (
        ("Has been taking Cymbalta for 2 years.", "Duloxetine 60 mg #30"),
        ("Has been taking Cymbalta for 2 years; with it she can now walk a mile and do housework.",
         "Duloxetine 60 mg #30")),
    "extended_release_opioid_opioid_naive": (
        ("Acute low back pain after a fall; she is opioid-naive.", "OxyContin 20 mg #60"),
        ("Acute low back pain after a fall; she is opioid-naive.", "Oxycodone 5 mg #20")),
    "second_line_opioid_after_first_line_failed": (
        ("Norco caused nausea and itching; chronic low back pain.", "Nucynta 50 mg #60"),
        ("Chronic low back pain; no opioid tried yet.", "Nucynta 50 mg #60")),
    "second_line_opioid_first": (
        ("Chronic low back pain; NSAIDs only so far.", "Tapentadol 50 mg #60"),
        ("Tramadol was ineffective; chronic low back pain.", "Tapentadol 50 mg #60")),
    "naloxone_after_opioids_stopped": (
        ("Opioids d/c'd 14 months ago; now gabapentin only. Lives alone.", "Naloxone 4 mg nasal spray #1"),
        ("MS Contin 30 mg TID and oxycodone 10 mg BID. Lives alone.", "Naloxone 4 mg nasal spray #1")),
    "lab_monitoring_on_long_term_nsaid": (
        ("Hand osteoarthritis. She has taken diclofenac 75 mg twice daily for two and a half years.",
         "CBC and comprehensive metabolic panel"),
        ("Hand osteoarthritis. She takes no medications.", "CBC and comprehensive metabolic panel")),
    "short_course_drug_beyond_four_weeks": (
        ("Anxiety after the assault; on lorazepam for 10 weeks.", "Lorazepam 1 mg #14"),
        ("Acute anxiety after the assault last week.", "Lorazepam 1 mg #14")),
    "fibromyalgia_agent_for_fibromyalgia": (
        ("Fibromyalgia diagnosed by rheumatology.", "Lyrica 75 mg #60"),
        ("Lumbar strain, axial pain only.", "Lyrica 75 mg #60")),
    "tramadol_with_seizure_or_serotonergic_risk": (
        ("Takes tramadol; also on sertraline.", "Tramadol 50 mg #60"),
        ("Takes tramadol; no other medications, no history of seizures.", "Tramadol 50 mg #60")),
    "antipsychotic_for_psychotic_or_bipolar_disorder": (
        ("Bipolar disorder treated by psychiatry.", "Seroquel 50 mg #30"),
        ("Insomnia from back pain.", "Seroquel 50 mg #30")),
    "antipsychotic_for_insomnia_or_pain": (
        ("Insomnia from back pain.", "Quetiapine 25 mg #30"),
        ("Major depression refractory to sertraline and duloxetine.", "Abilify 5 mg #30")),
    "muscle_relaxant_supply_beyond_three_weeks": (
        ("Acute spasm after lifting last week.", "Cyclobenzaprine 10 mg #90"),
        ("Acute spasm after lifting last week.", "Cyclobenzaprine 10 mg #21")),
    "hypnotic_supply_beyond_six_weeks": (
        ("Insomnia due to pain.", "Zolpidem 10 mg #30 x 2 refills"),
        ("Insomnia due to pain.", "Zolpidem 10 mg #14")),
    "bisphosphonate_for_crps_or_osteoporosis": (
        ("CRPS of the right hand with allodynia, onset 2 months ago.", "Fosamax 70 mg #4"),
        ("Chronic low back pain.", "Fosamax 70 mg #4")),
    "bisphosphonate_without_crps_or_osteoporosis": (
        ("Chronic low back pain.", "Alendronate 70 mg #4"),
        ("Osteoporosis with a T-score of -3.1.", "Alendronate 70 mg #4")),
    "prazosin_for_ptsd_nightmares": (
        ("PTSD after the robbery with nightly nightmares.", "Prazosin 1 mg #30"),
        ("Chronic shoulder pain.", "Prazosin 1 mg #30")),
    "prazosin_without_ptsd": (
        ("Chronic shoulder pain.", "Minipress 1 mg #30"),
        ("PTSD after the robbery with nightly nightmares.", "Minipress 1 mg #30")),
    "erectile_dysfunction_agent_with_documented_dysfunction": (
        ("Erectile dysfunction since the spinal cord injury.", "Cialis 5 mg #30"),
        ("Chronic low back pain.", "Cialis 5 mg #30")),
    "erectile_dysfunction_agent_without_documented_dysfunction": (
        ("Chronic low back pain.", "Sildenafil 50 mg #10"),
        ("Erectile dysfunction from chronic opioid use.", "Sildenafil 50 mg #10")),
    "topical_response_documented": (
        ("Knee osteoarthritis. Voltaren gel gives her 50% relief of knee pain.", "Voltaren gel 1% 100 g"),
        ("Knee osteoarthritis. Has used Voltaren gel since 2016.", "Voltaren gel 1% 100 g")),
    "topical_continued_without_response": (
        ("Knee osteoarthritis. Has used Voltaren gel since 2016.", "Diclofenac 1% gel 100 g"),
        ("Knee osteoarthritis. Voltaren gel gives her 50% relief of knee pain.", "Diclofenac 1% gel 100 g")),
    "opioid_started_after_non_opioids_failed": (
        ("Acute low back pain; ibuprofen and Tylenol did not help.", "Tramadol 50 mg #20"),
        ("Acute low back pain; no medications tried yet.", "Tramadol 50 mg #20")),
    "muscle_relaxant_after_nsaid_failed": (
        ("Acute low back spasm; naproxen gave no relief.", "Tizanidine 4 mg #20"),
        ("Acute low back spasm; no medications tried.", "Tizanidine 4 mg #20")),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_its_finding_and_not_without_it(rule):
    (s_yes, i_yes), (s_no, i_no) = CASES[rule]
    assert rule in fired(s_yes, i_yes), (rule, sorted(fired(s_yes, i_yes)))
    assert rule not in fired(s_no, i_no), (rule, sorted(fired(s_no, i_no)))


def test_every_rule_of_the_section_has_cases():
    names = [r.name for r in load_guidelines().rules]
    section = names[names.index("antibiotic_for_documented_infection"):]
    section = section[:section.index("muscle_relaxant_after_nsaid_failed") + 1]
    missing = [n for n in section if n not in CASES]
    assert not missing, missing


def test_the_rules_read_the_finding_not_the_drug():
    """A new class's request gets no rule from the drug alone: with the finding documented the
    positive rule fires, without it the negative one; the same drug under its brand does the same."""
    for item in ("Keflex 500 mg #28", "cephalexin 500 mg #28"):
        assert "antibiotic_for_documented_infection" in fired("Cellulitis of the forearm.", item)
        assert "antibiotic_without_infection" in fired("Forearm strain.", item)


@pytest.mark.parametrize("name,summary,expected", [
    ("nutritional_deficiency", "Vitamin D level 12 ng/mL, deficient.", True),
    ("nutritional_deficiency", "Vitamin D level normal.", False),
    ("hypogonadism", "On chronic opioids; total testosterone 180 ng/dL, low.", True),
    ("hypogonadism", "On chronic opioids; fatigue.", False),
    ("opioid_naive", "Takes ibuprofen only; no prior opioids.", True),
    ("opioid_naive", "Takes Norco; no opioid side effects.", False),
    ("long_term_use", "She has taken diclofenac twice daily for two and a half years.", True),
    ("tobacco_use", "He quit smoking in 2010.", False),
    ("taper_planned", "Benzo taper planned: reduce by 10% weekly.", True),
    ("taper_planned", "Clonazepam for 3 years; no change planned.", False),
    ("infection", "No signs of infection at the incision.", False),
])
def test_the_new_findings_are_read(name, summary, expected):
    assert bool(extract_signals({"summary": summary, "item": "Office visit"})[name].value) is expected


def test_hints_name_what_is_missing():
    without = " ".join(hints_for(_values("Chronic neck pain.", "Chantix 1 mg #56"), item="Chantix 1 mg #56"))
    smoker = " ".join(hints_for(_values("Chronic neck pain. Smokes a pack a day.", "Chantix 1 mg #56"),
                                item="Chantix 1 mg #56"))
    assert "tobacco or nicotine use" in without
    assert "tobacco or nicotine use" not in smoker
