"""The drug and abbreviation vocabulary (features/drugs.toml, features/abbreviations.toml):
one ingredient per drug whatever the name, the route read from the item, the abbreviations of
services and regions, the placeholders patterns use, and the checks made on load.

Items and sentences are written for these tests (no real letter text).
"""

from pathlib import Path

import pytest

from imr_ml.knowledge.errors import KnowledgeError
from imr_ml.knowledge.medication import read_medication
from imr_ml.knowledge.taxonomy import categorize, load_taxonomy
from imr_ml.knowledge.vocabulary import VocabularyError, load_vocabulary
from imr_ml.signals import extract_signals

MR, OM, AD = "muscle_relaxant", "other_medication", "antidepressant"

HERE = Path(__file__).resolve().parent

# family: (names of one product in several spellings, ingredients, product class, category)
FAMILIES = {
    "hydrocodone/acetaminophen": (
        ["Norco 10/325 mg #90", "HC-APAP 10/325 #90", "HC/APAP 10-325mg", "hydrocodone-acetaminophen 10/325 #90",
         "Hydrocodone/APAP 10/325", "hydrocodone bitartrate and acetaminophen 10/325", "Vicodin 5/300", "Lortab 7.5"],
        {"hydrocodone", "acetaminophen"}, "opioid", "opioid"),
    "oxycodone/acetaminophen": (["Percocet 5/325 #60", "Endocet 10/325", "oxycodone/APAP 5/325",
                                 "Oxycodone-acetaminophen"], {"oxycodone", "acetaminophen"}, "opioid", "opioid"),
    "tramadol": (["Ultram 50mg #30", "Tramadol 50 mg", "tramadol HCl 50mg", "Tramadol ER 150mg #30", "ConZip 100mg"],
                 {"tramadol"}, "opioid", "opioid"),
    "tramadol/acetaminophen": (["Ultracet 37.5/325", "tramadol/APAP 37.5/325"], {"tramadol", "acetaminophen"}, "opioid",
                               "opioid"),
    "codeine/acetaminophen": (["Tylenol #3 #60", "Tylenol with codeine #3", "APAP/codeine 300/30", "Tylenol No. 3"],
                              {"codeine", "acetaminophen"}, "opioid", "opioid"),
    "hydrocodone/ibuprofen": (["Vicoprofen 7.5/200", "hydrocodone/ibuprofen 7.5-200"], {"hydrocodone", "ibuprofen"},
                              "opioid", "opioid"),
    "tapentadol": (["Nucynta 50mg", "Nucynta ER 100 mg", "tapentadol 50 mg"], {"tapentadol"}, "opioid", "opioid"),
    "meloxicam": (["Mobic 15mg #30", "Meloxicam 15 mg #30", "meloxicam (Mobic) 7.5mg"], {"meloxicam"}, "nsaid",
                  "nsaid"),
    "celecoxib": (["Celebrex 200mg", "celecoxib 200 mg capsules"], {"celecoxib"}, "nsaid", "nsaid"),
    "ibuprofen": (["Motrin 800mg #90", "Ibuprofen 800 mg", "IBU 800mg", "Advil 200mg"], {"ibuprofen"}, "nsaid",
                  "nsaid"),
    "naproxen": (["Naprosyn 500mg", "Anaprox DS 550mg #60", "naproxen sodium 550 mg", "Naproxen 500mg #60", "Aleve"],
                 {"naproxen"}, "nsaid", "nsaid"),
    "diclofenac (oral)": (["Voltaren 75mg #60", "Diclofenac sodium ER 100mg", "Voltaren-XR 100 mg"], {"diclofenac"},
                          "nsaid", "nsaid"),
    "diclofenac/misoprostol": (["Arthrotec 75", "diclofenac/misoprostol 75-0.2mg"], {"diclofenac", "misoprostol"},
                               "nsaid", "nsaid"),
    "cyclobenzaprine": (["Flexeril 10mg #60", "Cyclobenzaprine 10 mg #60", "Fexmid 7.5mg #60", "Amrix 15mg",
                         "cyclobenzaprine HCl 7.5 mg tablets"], {"cyclobenzaprine"}, MR, MR),
    "carisoprodol": (["Soma 350mg #60", "carisoprodol 350 mg"], {"carisoprodol"}, MR, MR),
    "tizanidine": (["Zanaflex 4mg", "tizanidine 4 mg #60"], {"tizanidine"}, MR, MR),
    "methocarbamol": (["Robaxin 750mg", "methocarbamol 750 mg"], {"methocarbamol"}, MR, MR),
    "gabapentin": (["Neurontin 300 mg #90", "Gabapentin 300 mg #90", "Gralise 600mg"], {"gabapentin"}, "anticonvulsant",
                   "other_medication"),
    "pregabalin": (["Lyrica 75mg #60", "pregabalin 75 mg"], {"pregabalin"}, "anticonvulsant", "other_medication"),
    "duloxetine": (["Cymbalta 60mg #30", "Duloxetine 60 mg #30"], {"duloxetine"}, "antidepressant_snri", AD),
    "amitriptyline": (["Elavil 25mg", "amitriptyline 25 mg qhs"], {"amitriptyline"}, "antidepressant_tca",
                      "antidepressant"),
    "trazodone": (["Desyrel 50mg", "Trazodone 50mg #30"], {"trazodone"}, "antidepressant_other", "antidepressant"),
    "zolpidem": (["Ambien 10mg #30", "Zolpidem 10 mg #30", "Ambien CR 12.5mg", "zolpidem tartrate 5mg"], {"zolpidem"},
                 "hypnotic", "other_medication"),
    "alprazolam": (["Xanax 0.5mg", "alprazolam 0.5 mg #60"], {"alprazolam"}, "benzodiazepine", "other_medication"),
    "omeprazole": (["Prilosec 20mg #60", "Omeprazole 20 mg #60", "omeprazole DR 20mg capsules"], {"omeprazole"}, "ppi",
                   "gi_protectant"),
    "pantoprazole": (["Protonix 40mg", "Pantoprazole sod DR 20mg #60"], {"pantoprazole"}, "ppi", "gi_protectant"),
    "famotidine": (["Pepcid 20mg", "famotidine 20 mg"], {"famotidine"}, "h2_blocker", "gi_protectant"),
    "lidocaine patch": (["Lidoderm 5% patch #30", "Lidocaine 5% patch #30", "lidocaine patches 5%", "Lidoderm"],
                        {"lidocaine"}, "local_anaesthetic", "topical"),
    "sumatriptan": (["Imitrex 50mg", "sumatriptan 50 mg tablets"], {"sumatriptan"}, "triptan", "other_medication"),
    "ondansetron": (["Zofran 4mg #20", "ondansetron ODT 4 mg"], {"ondansetron"}, "antiemetic", "other_medication"),
    "docusate/senna": (["Senokot-S #60", "senna-docusate 8.6/50 mg", "sennosides/docusate"], {"sennosides", "docusate"},
                       "laxative", "other_medication"),
    "butalbital": (["Fioricet #30", "Esgic #30"], {"butalbital", "acetaminophen", "caffeine"}, "barbiturate_analgesic",
                   "other_medication"),
    "acetaminophen": (["Tylenol 500mg", "APAP 500 mg", "acetaminophen 500mg #100"], {"acetaminophen"},
                      "non_opioid_analgesic", "other_medication"),
    "methylprednisolone": (["Medrol Dosepak", "Medrol dose pack 4mg", "methylprednisolone 4 mg dose pack"],
                           {"methylprednisolone"}, "corticosteroid", "other_medication"),
    "modafinil": (["Provigil 200mg", "modafinil 100 mg"], {"modafinil"}, "stimulant", "other_medication"),
    "theramine": (["Theramine #90", "Theramine capsules #60"], {"theramine"}, "medical_food", "medical_food"),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_name_of_a_drug_reads_to_the_same_ingredient_class_and_category(family):
    names, ingredients, drug_class, category = FAMILIES[family]
    for name in names:
        med = read_medication(name)
        assert med is not None, name
        assert set(med.ingredients) == ingredients, (name, med.ingredients)
        assert med.drug_class == drug_class, (name, med.drug_class)
        assert categorize(name) == category, (name, categorize(name))


@pytest.mark.parametrize("item,route,form,category,compounded", [
    ("Gabapentin 300 mg capsules", "oral", "capsule", "other_medication", False),
    ("Compound gabapentin 10% cream 120 g", "topical", "cream", "topical", True),
    ("Cyclobenzaprine 7.5 mg tablets #60", "oral", "tablet", "muscle_relaxant", False),
    ("Cyclobenzaprine 2% gel 120 g", "topical", "gel", "topical", True),
    ("Tramadol 8% cream", "topical", "cream", "topical", True),
    ("Voltaren gel 1% 100 g", "topical", "gel", "topical", False),
    ("Flector 1.3% transdermal patch #30", "topical", "patch", "topical", False),
    ("Diclofenac ER 100mg #60", "oral", "extended_release", "nsaid", False),
    ("Butrans 10 mcg/hr patch #4", "transdermal", "patch", "opioid", False),
    ("Fentanyl 25 mcg/hr patch #10", "transdermal", "patch", "opioid", False),
    ("Belbuca 150 mcg film", "transmucosal", "transmucosal", "opioid", False),
    ("Sumatriptan nasal spray 20 mg", "intranasal", "intranasal", "other_medication", False),
    ("Ketorolac 60 mg IM", "injection", "systemic_injection", "nsaid", False),
    ("Lidocaine 1% 5 ml injection", "injection", "injection", "injection", False),  # a procedure's category
    ("Soma Compound #60", "oral", None, "muscle_relaxant", False),  # "Compound" inside a product name is no form
    ("Synapryn 10 mg/ml oral suspension 500 ml", "oral", "oral_liquid", "medical_food", True),
    ("Cyclophene 5% cream 111 grams", "topical", "cream", "topical", True),
    ("Flurbiprofen 20%, cyclobenzaprine 4%", "topical", None, "topical", True),  # strengths in % are a topical
    ("Post-op Norco 10/325 #30", "oral", None, "perioperative", False),
])
def test_route_form_and_category_are_read_from_the_item(item, route, form, category, compounded):
    med = read_medication(item)
    assert (med.route, med.form, med.compounded) == (route, form, compounded), med
    assert categorize(item) == category


@pytest.mark.parametrize("item,status,not_recommended", [
    ("Lidoderm 5% patch #30", "second_line", ()),
    ("Lidocaine ointment 5% 100 g", "not_recommended", ("lidocaine",)),  # only the patch is recommended
    ("Terocin lotion 120 ml", "not_recommended", ("lidocaine",)),
    ("Menthoderm gel 120 ml", "unaddressed", ()),
    ("Capsaicin 0.025% cream", "second_line", ()),
    ("Voltaren gel 1%", "recommended", ()),
    ("Compound flurbiprofen 20%/cyclobenzaprine 4%/lidocaine 5% cream", "not_recommended",
     ("flurbiprofen", "cyclobenzaprine", "lidocaine")),
])
def test_topical_status_is_the_worst_ingredients(item, status, not_recommended):
    med = read_medication(item)
    assert med.topical_status == status
    assert med.topical_not_recommended == not_recommended


def test_items_that_name_no_drug_are_not_medications():
    for item in ["Physical therapy 2x6 lumbar spine", "MRI of the right knee", "TENS unit purchase",
                 "Home exercise kit", "Urine drug screen", "Functional restoration program",
                 "Medication management consultation"]:
        assert read_medication(item) is None, item
    assert categorize("Urine drug screen for hydrocodone") == "lab_testing"  # a drug test names the drug it tests
    assert categorize("Genetic testing for opioid metabolism") == "lab_testing"


@pytest.mark.parametrize("item,category,regions,services", [
    ("L-spine MRI", "imaging_mri", ["lumbar"], ["mri"]),
    ("MRI C-spine w/o contrast", "imaging_mri", ["cervical"], ["mri"]),
    ("T-spine x-rays", "imaging_other", ["thoracic"], ["xray"]),
    ("b/l TFESI L4-5", "injection", ["lumbar"], ["epidural"]),
    ("ESI", "injection", [], ["epidural"]),
    ("TPI x4 trapezius", "injection", [], ["trigger_point"]),
    ("MBB L3-L5 bilateral", "injection", ["lumbar"], ["facet"]),
    ("RFA L4-5", "injection", ["lumbar"], ["radiofrequency_ablation"]),
    ("EMG/NCS BUE", "electrodiagnostic", [], ["emg"]),
    ("FCE", "evaluation", [], ["functional_capacity_evaluation"]),
    ("FRP 80 hours", "program", [], ["functional_restoration"]),
    ("HELP program 2 weeks", "program", [], ["functional_restoration"]),
    ("UDS", "lab_testing", [], ["urine_drug_test"]),
    ("MUA right shoulder", "surgery", ["shoulder"], ["manipulation_under_anesthesia"]),
    ("Right TKA", "surgery", ["knee"], ["joint_replacement"]),  # by the fallback for arthroplasty acronyms
    ("PT 2x6 for the L-spine", "physical_therapy", ["lumbar"], ["therapy"]),
])
def test_service_and_region_abbreviations(item, category, regions, services):
    s = extract_signals({"summary": "Low back and neck pain.", "item": item})
    assert s["category"].value == category
    assert s["item_regions"].value == regions
    assert s["item_services"].value == services


def test_region_abbreviations_are_read_in_the_summary_too():
    s = extract_signals({"summary": "L-spine MRI 2015 showed a disc bulge. C-spine tender.", "item": "Acupuncture x6"})
    assert {"lumbar", "cervical"} <= set(s["summary_regions"].value)


@pytest.mark.parametrize("summary,foot", [
    ("He walks 500 feet with a cane.", False), ("She can walk 50 feet before resting.", False),
    ("He walks a few feet, then sits.", False), ("She stands six feet away from the line.", False),
    ("Swelling of both feet.", True), ("Right foot pain after a fall.", True), ("Plantar fasciitis.", True),
])
def test_feet_as_a_distance_is_no_body_region(summary, foot):
    """'walks 500 feet' measures walking; it does not make the foot a region of the injury."""
    s = extract_signals({"summary": summary, "item": "Front-wheeled walker"})
    assert ("ankle_foot" in s["summary_regions"].value) is foot


def test_the_vocabulary_is_broad_and_its_categories_exist():
    v = load_vocabulary()
    assert len(v.drugs) >= 100
    cats = {c.name for c in load_taxonomy()}
    assert {c.category for c in v.classes.values()} <= cats
    assert {s.category for s in v.services.values() if s.category} <= cats
    assert all(d.mtus in (None, "exempt", "non-exempt") for d in v.drugs.values())
    assert sum(d.mtus is not None for d in v.drugs.values()) >= 25


def test_placeholders_expand_to_every_name_of_the_class():
    v = load_vocabulary()
    opioid = v.names_of(["opioid"])
    assert {"norco", "hc-apap", "hydrocodone", "percocet", "ultram", "butrans", "tylenol #3"} <= set(opioid)
    assert "gabapentin" not in opioid and "tylenol" not in opioid
    expanded = v.expand_all([r"\b({drugs:opioid})\b"])
    assert len(expanded) == -(-len(opioid) // 50)  # chunks of at most 50 names
    assert all(p.startswith(r"\b((?:") for p in expanded)
    assert "transforaminal" in v.expand(r"\b{service:epidural}")
    with pytest.raises(VocabularyError, match="no drug class 'opiods'"):
        v.expand_all([r"\b({drugs:opiods})\b"])
    with pytest.raises(VocabularyError, match="no service 'epidurl'"):
        v.expand(r"{service:epidurl}")


def test_summary_drug_mentions_use_the_vocabulary():
    """'On Neurontin since 2015' is long-term use, and prior use of a gabapentin request."""
    gaba = extract_signals({"summary": "She has been on Neurontin since 2015.", "item": "Gabapentin 300 mg #90"})
    neur = extract_signals({"summary": "She has been on Neurontin since 2015.", "item": "Neurontin 300 mg #90"})
    for s in (gaba, neur):
        assert s["long_term_use"].value and s["prior_same_modality"].value
    other = extract_signals({"summary": "She has been on Norco since 2015.", "item": "Gabapentin 300 mg #90"})
    assert not other["prior_same_modality"].value
    s = extract_signals({"summary": "Current medications include HC-APAP 10/325 and Zanaflex.", "item": "Mobic 15mg"})
    assert not s["nsaid_use"].value and s["long_term_use"].value is False
    assert extract_signals({"summary": "Current medications include Mobic 15 mg daily."})["nsaid_use"].value


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("drugs,message", [
    ('[class.opioid]\ncategory = "opioid"\n[[drug]]\ningredient = "x"\nclass = "opioid"\nbrand = ["X"]\n',
     r"drugs.toml:7: drug 'x': unknown key 'brand' \(did you mean 'brands'\?\)"),
    ('[class.opioid]\ncategory = "opioid"\n[[drug]]\ningredient = "x"\nclass = "opiod"\n',
     r"drugs.toml:6: drug 'x': class: unknown class 'opiod' \(did you mean 'opioid'\?\)"),
    ('[class.opioid]\ncategory = "opioid"\n[[drug]]\ningredient = "x"\nclass = "opioid"\nbrands = ["Y"]\n'
     '[[drug]]\ningredient = "y"\nclass = "opioid"\n', "drugs.toml:9: drug 'y': the name 'y' already stands for 'x'"),
    ('[class.opioid]\ncategory = "opioid"\n[[drug]]\ningredient = "x"\nclass = "opioid"\n'
     '[[product]]\nnames = ["Z"]\ningredients = ["x", "w"]\n',
     "drugs.toml:9: product 'Z': ingredients: unknown ingredient 'w'"),
    ('[class.opioid]\ncategory = "opioid"\n[[drug]]\ningredient = "x"\nclass = "opioid"\ntopical = "maybe"\n',
     "drugs.toml:7: drug 'x': topical: 'maybe' is not allowed"),
    ('[class.opioid]\n[[drug]]\ningredient = "x"\nclass = "opioid"\n',
     r"drugs.toml:2: \[class.opioid\] lacks 'category'"),
])
def test_a_bad_drugs_file_is_refused_with_its_line(tmp_path, drugs, message):
    path = _write(tmp_path, "drugs.toml", "[route.oral]\n" + drugs)
    with pytest.raises(KnowledgeError, match=message):
        load_vocabulary(path)


def test_a_bad_abbreviations_file_is_refused(tmp_path):
    drugs = _write(tmp_path, "drugs.toml", '[class.opioid]\ncategory = "opioid"\n')
    bad = _write(tmp_path, "abbreviations.toml", "[service.x]\ncategory = \"injection\"\nwords = '(unclosed'\n")
    with pytest.raises(KnowledgeError, match="abbreviations.toml:3: .*not a regular expression"):
        load_vocabulary(drugs, bad)
    bad = _write(tmp_path, "abbreviations.toml", "[service.x]\ncategry = \"injection\"\nwords = 'x'\n")
    with pytest.raises(KnowledgeError, match="unknown key 'categry'"):
        load_vocabulary(drugs, bad)


def test_a_rule_naming_an_unknown_ingredient_is_refused(tmp_path):
    from imr_ml.signals.check import check_guidelines

    text = (HERE.parent / "features" / "guidelines.toml").read_text()
    bad = _write(tmp_path, "guidelines.toml", text.replace('item_ingredients = ["carisoprodol"]',
                                                           'item_ingredients = ["carisoprodl"]'))
    with pytest.raises(KnowledgeError, match="unknown value 'carisoprodl' \\(did you mean 'carisoprodol'\\?\\)"):
        check_guidelines(bad)
