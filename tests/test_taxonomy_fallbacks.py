"""Taxonomy fallbacks (`[[fallback]]` in features/taxonomy.toml): a service that no category
lists still gets the category of its kind, read from the word shapes of the published service
vocabularies (CPT"s sections, HCPCS Level II"s code families, USAN drug stems and the shape of a
prescription), instead of "other", on which the model abstains.

Items are written for these tests from the vocabularies" structure (no real letter text)."""

from pathlib import Path

import pytest

from imr_ml.knowledge.taxonomy import categorize, load_fallbacks

# Each family"s items, written from its vocabulary: every one was "other" before the fallbacks.
FAMILIES = {
    "surgery": [
        "Right TKA", "Left THA", "ORIF of the right ankle", "Anterior cervical bone graft", "Cochlear implant",
        "Below-knee amputation revision", "Wound debridement, left foot", "Dynamic stabilization L4-5",
        "Tendon transfer, right hand", "Colonoscopy", "Diagnostic laparoscopy", "Tenolysis of the flexor tendons",
        "Adhesiolysis of the left knee", "Percutaneous pinning of the distal radius",
        "Closed reduction of the nasal fracture", "Lithotripsy", "Intraocular lens implant", "Dental implant",
        "Root canal, tooth #14", "Dental crowns x3", "Coronary stent", "Ventriculoperitoneal shunt",
        "Endoscopic sinus procedure", "Rotator cuff operation", "Lumbar disc nucleus procedure",
        "Hernia mesh implant removal", "Skin graft to the right hand", "Ganglion cyst resection", "Septoplasty",
        "Left thumb CMC arthrodesis", "Bone marrow transplant", "Lumbar artificial disc", "EGD",
        "Gastric sleeve", "Gallbladder removal", "Occipital nerve stimulator", "Defibrillator",
    ],
    "perioperative": [
        "General anesthesia", "Monitored anesthesia care", "IV sedation", "Intraoperative neuromonitoring",
        "Surgical facility fee", "Anesthesiologist", "Cardiac clearance",
    ],
    "injection": [
        "Occipital block", "Genicular block, right knee", "Arthrocentesis of the left knee",
        "Stem cell therapy, right shoulder", "Knee aspiration",
        "Genicular nerve ablation", "Knee shots", "Suprascapular block", "Nerve burning",
    ],
    "other_medication": [
        "Flu shot", "Hepatitis B vaccine series", "Tetanus booster", "Shingles vaccine", "IV fluids", "Eye drops",
        "Albuterol inhaler", "Nasal spray", "Glycopyrrolate suppositories", "Novodrug 5 mcg", "Xyzal 5 ml",
        "Zzzolin 1 tab PO BID PRN", "Mirogabalin", "Candesartan", "Metoprolol", "Rosuvastatin",
        "Sleep medication", "Pain pills", "Oral steroids", "Anticonvulsant",
        "Insulin", "Newdrug #60", "Newdrug qty 30", "Chemotherapy",
        "Hormone therapy", "Hydration therapy", "Allergy immunotherapy", "Newdrug ER 50",
    ],
    "nsaid": [
        "Loxoprofen", "Aceclofenac", "Lornoxicam", "Etoricoxib", "Bromfenac",
    ],
    "opioid": [
        "Dihydromorphine", "Pain narcotics", "Opioids",
    ],
    "muscle_relaxant": [
        "Antispasmodic", "Muscle relaxer", "Skeletal relaxant",
    ],
    "antidepressant": [
        "Dapoxetine", "Clomipramine", "Protriptyline", "SSRI", "SNRI", "Tricyclics",
    ],
    "gi_protectant": [
        "Tenatoprazole", "Nizatidine", "Antacids",
    ],
    "topical": [
        "Tiger balm", "Peppermint oil liniment", "Apply to the skin twice a day", "Comfrey 10%",
    ],
    "physical_therapy": [
        "Vestibular rehabilitation", "Home exercises instruction", "Gait training x6",
        "Massage x6", "Kinesio taping", "Core strengthening program",
        "Feldenkrais sessions x8", "Pelvic floor therapy 2x6", "Vision therapy", "Neuromuscular re-education",
        "Graston technique", "Aromatherapy", "Manual lymphatic drainage", "Epley maneuver", "HEP",
    ],
    "electrodiagnostic": [
        "EEG", "Electroencephalogram", "Visual evoked potentials", "QSART", "Quantitative sensory testing",
        "Autonomic function testing",
    ],
    "evaluation": [
        "Echocardiogram", "Electrocardiogram", "EKG", "Holter monitor 48 hours", "Cardiac stress test",
        "Methacholine challenge test", "Audiometry",
        "Tympanometry", "Visual field test", "Dilated eye examination", "Tonometry",
        "Allergy testing", "Isokinetic testing", "Gait analysis", "Neurologist", "Cardiology", "Rheumatology",
        "Dermatologist", "Podiatrist", "Dentist", "Dental treatment", "Optometrist", "Hand specialist",
        "Orthopedic surgeon", "Primary care physician", "Internal medicine", "Sports medicine specialist",
        "Pain management", "Medication management", "Telemedicine", "Emergency room", "Urgent care",
        "Medical records review", "Transfer of care to Dr. Smith", "ENT", "Physiatrist", "Gastroenterologist",
        "Home sleep test", "CPAP titration", "Urodynamic testing", "Tilt table", "Job analysis",
        "Impairment rating", "Ortho", "Neuro", "ER", "Functional capacity", "Heart test", "Wound check",
        "Handicap parking placard",
    ],
    "imaging_mri": [
        "MR imaging of the hip", "MR of the brain", "MR neurography of the brachial plexus",
    ],
    "imaging_other": [
        "Myelogram", "Arthrogram, left shoulder", "Angiogram", "Venous Doppler of the left leg", "Carotid duplex",
        "PET scan", "SPECT scan", "Bone density", "Nuclear medicine study", "Fluoroscopy",
        "3 views of the right wrist", "Flexion-extension films", "Gallium scan", "Mammogram", "Radiation therapy",
        "Sonogram of the abdomen", "Scintigraphy", "Imaging of the hip", "Modified barium swallow",
        "Upper GI series", "ABI", "Videofluoroscopy",
    ],
    "psych": [
        "EMDR", "Dialectical behavior therapy", "Hypnotherapy", "Neurofeedback 10 sessions", "Group therapy",
        "Mindfulness-based stress reduction", "Behavioral health treatment", "Mental health services",
        "Pain coping skills training", "LCSW sessions", "Family therapy", "Neurocognitive testing", "Life coaching",
    ],
    "acupuncture": [
        "Dry needling x6", "Cupping", "Moxibustion", "Traditional Chinese medicine", "Acupressure",
    ],
    "passive_modality": [
        "Cryotherapy", "Hyperbaric oxygen therapy", "PEMF therapy", "Whirlpool", "Light therapy",
        "Spinal decompression therapy", "Vibration therapy", "Inversion table", "Moist heat pack",
        "Scrambler therapy",
    ],
    "dme": [
        "Semi-electric bed", "Blood glucose meter", "Hoyer lift", "Oxygen concentrator", "CPAP",
        "BiPAP machine", "Nebulizer", "Insulin pump", "Blood pressure monitor", "Muscle stimulator", "NMES",
        "Knee immobilizer", "CAM boot", "Shoe inserts", "Prosthetic leg",
        "Below knee prosthesis", "Surgical dressings", "Medical supplies", "Thigh-high stockings",
        "Urinary catheters", "Diabetic test strips", "Hearing aids", "Eyeglasses", "Contact lenses",
        "Reacher", "Tub transfer bench", "Dentures",
        "Stationary bike", "Foam roller", "Ice machine", "Electrodes",
        "Batteries for the stimulator", "Lumbar belt", "Ergonomic keyboard", "Standing desk",
        "Lumbar roll", "Humidifier", "Sock aid", "Wrist rest", "Thumb spica", "Game Ready", "Cryo cuff",
        "Compression socks", "Wound vac", "Cast application", "Massage chair", "Therapy ball",
        "Grip strengthener", "Recumbent bike", "Transfer board", "Elevator", "Pill organizer",
    ],
    "lab_testing": [
        "Lipid profile", "Hemoglobin A1c", "TSH", "ESR and CRP", "Liver function tests", "Ferritin level",
        "Lyme titer", "Wound culture", "HLA-B27", "Rheumatoid factor antibody", "Skin biopsy", "Muscle biopsy",
        "Pathology", "Bloodwork", "Blood work", "Urinalysis", "Serum drug levels", "Pharmacogenomic testing",
        "Liquid chromatography mass spectrometry", "Immunoassay", "TB test", "COVID PCR", "Lead level",
        "Hair analysis",
    ],
    "program": [
        "Ambulance", "Medical transport to appointments", "Uber rides to therapy", "Mileage reimbursement",
        "Personal care aide", "Snow removal", "Nurse case manager", "LVN 8 hours a day", "Respite care", "Hospice",
        "Assisted living facility", "Meals on wheels", "IHSS", "Walking program", "Yoga classes", "Pilates",
        "Tai chi", "Substance abuse treatment", "Dialysis", "Wound care",
        "Smoking cessation", "Weight Watchers", "Transitional living center", "Swimming pool", "Personal trainer",
        "Driver", "Medical alert system", "Rehab facility",
    ],
    "medical_food": [
        "Herbal supplement", "Protein shakes", "Nutritional shakes",
    ],
    "chiropractic": [
        "Osteopathic manipulative treatment", "Craniosacral therapy", "Joint mobilization", "Spinal adjustments",
    ],
}
CASES = [(item, category) for category, items in FAMILIES.items() for item in items]


@pytest.fixture(scope="module")
def unlisted(tmp_path_factory):
    """The category each item gets from the shipped taxonomy with its fallbacks cut off."""
    shipped = Path(__file__).resolve().parents[1] / "features" / "taxonomy.toml"
    plain = tmp_path_factory.mktemp("taxonomy") / "taxonomy.toml"
    plain.write_text(shipped.read_text(encoding="utf-8").split("\n[[fallback]]")[0], encoding="utf-8")
    return lambda item: categorize(item, str(plain))


@pytest.mark.parametrize("item,category", CASES)
def test_a_service_nobody_listed_gets_its_kinds_category(item, category):
    assert categorize(item) == category


def test_the_families_hold_three_or_more_items_each_and_were_all_unlisted(unlisted):
    """The items test the fallbacks, not the categories' terms nor the drug vocabulary."""
    assert all(len(items) >= 3 for items in FAMILIES.values())
    assert [item for item, _ in CASES if unlisted(item) != "other"] == []


def test_every_fallback_is_the_one_that_reads_some_item():
    """No fallback is dead: each is the first to match at least one item of the families."""
    fallbacks = load_fallbacks()
    first = {next(i for i, f in enumerate(fallbacks) if f.pattern.search(item)) for item, _ in CASES}
    assert first == set(range(len(fallbacks)))


@pytest.mark.parametrize("specific,general", [
    (("Eye drops", "other_medication"), ("Eye exam", "evaluation")),
    (("Echocardiogram", "evaluation"), ("Angiogram", "imaging_other")),
    (("Diabetic test strips", "dme"), ("TB test", "lab_testing")),
    (("Fluoroscopy", "imaging_other"), ("Cystoscopy", "surgery")),
    (("Densitometry", "imaging_other"), ("Audiometry", "evaluation")),
    (("Exercise ball", "dme"), ("Home exercises", "physical_therapy")),
    (("Work reintegration program", "program"), ("Vestibular rehabilitation", "physical_therapy")),
    (("Genicular nerve ablation", "injection"), ("Endometrial ablation", "surgery")),
    (("Knee shots", "injection"), ("Flu shot", "other_medication")),
    (("Anesthesiologist", "perioperative"), ("Neurologist", "evaluation")),
    (("Pathology", "lab_testing"), ("Dermatology", "evaluation")),
    (("Medication management", "evaluation"), ("Sleep medication", "other_medication")),
    (("Dental implant", "surgery"), ("Dental treatment", "evaluation")),
    (("Hep B shots", "other_medication"), ("HEP", "physical_therapy")),
    (("Ferritin level", "lab_testing"), ("Lumbar disc nucleus procedure at two levels", "surgery")),
])
def test_the_more_specific_shape_comes_first(specific, general):
    assert categorize(specific[0]) == specific[1]
    assert categorize(general[0]) == general[1]


@pytest.mark.parametrize("item", ["Left knee", "Lumbar spine", "Retrospective request", "Item 2", "Right wrist",
                                  "Air purifier"])
def test_what_names_no_service_stays_other(item):
    """A region, a word of the letter's layout or a household good names no service: the model still
    abstains."""
    assert categorize(item) == "other"


@pytest.mark.parametrize("item,category", [
    ("Acupuncture 6 visits", "acupuncture"), ("Right shoulder arthroscopy", "surgery"),
    ("Physical therapy 2x6", "physical_therapy"), ("TENS unit 30 day trial", "dme"),
    ("Urine drug screen", "lab_testing"), ("Norco 10/325 #90", "opioid"), ("Home health aide", "program"),
])
def test_a_listed_service_keeps_its_category(item, category, unlisted):
    """Fallbacks are read only when no category's terms match: listed services are unchanged."""
    assert categorize(item) == unlisted(item) == category


@pytest.mark.parametrize("item,category", [
    ("Cataract extraction", "surgery"), ("Lumbar traction unit", "passive_modality"),
    ("IV infusion of iron", "other_medication"), ("L4-5 fusion", "surgery"),
    ("Active release technique", "physical_therapy"), ("Carpal tunnel release", "surgery"),
    ("Ultrasound-guided knee injection", "injection"), ("Gel shots to the knee", "injection"),
    ("Voltaren gel", "topical"), ("TENS patches", "dme"), ("Allergy patch testing", "lab_testing"),
    ("Lidoderm patch", "topical"), ("Lumbar support", "dme"),
])
def test_a_category_term_does_not_catch_a_longer_word_or_another_service(item, category):
    """'traction' is not 'extraction', 'fusion' not 'infusion', a TENS or allergy patch no
    topical, 'gel shots' an injection, 'active release' no operation."""
    assert categorize(item) == category


@pytest.mark.parametrize("item,category", [
    ("Colostomy bags", "dme"), ("Ileostomy pouches #30", "dme"), ("Tracheostomy care supplies", "dme"),
    ("Colostomy takedown", "surgery"), ("Tracheostomy", "surgery"),
    ("Support group sessions", "psych"), ("Chronic pain support group x6", "psych"),
])
def test_an_ostomys_supplies_are_no_operation_and_a_support_group_no_therapy_course(item, category):
    """The '-ostomy' shape names an operation, not the bags and pouches it leaves (HCPCS A4361-A4435);
    'sessions' of a support group are a psychological service, not a physical medicine course."""
    assert categorize(item) == category


@pytest.mark.parametrize("item,category", [
    ("OCT of the macula", "evaluation"), ("TTE", "evaluation"), ("VNG", "evaluation"), ("ENG", "evaluation"),
    ("HRCT chest", "imaging_other"), ("CXR 2 views", "imaging_other"), ("CTA neck", "imaging_other"),
    ("QuantiFERON-TB Gold", "lab_testing"), ("CYP2D6 genotyping", "lab_testing"), ("MMPI-2-RF", "psych"),
    ("STSG to the dorsum of the hand", "surgery"), ("HBOT x20 dives", "passive_modality"),
    ("HIV PEP x28 days", "other_medication"), ("Spanish interpreter for visits", "program"),
    ("Interpreter", "program"),
    # the acronyms do not take over an item that names its own service, or a month
    ("PT after STSG 2x6", "physical_therapy"), ("MRI lumbar spine, Oct 2024", "imaging_mri"),
])
def test_service_acronyms_of_the_published_vocabularies(item, category):
    """Acronyms of CPT's Medicine section (OCT, echo, nystagmography), Radiology (CXR, HRCT,
    CTA), Pathology (interferon-gamma release assays, CYP genotypes), psychological testing
    (MMPI), grafts (STSG), hyperbaric oxygen, post-exposure prophylaxis and interpreter services
    (HCPCS T1013) get their kind's category, not "other"."""
    assert categorize(item) == category
