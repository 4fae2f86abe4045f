"""Generic decisive facts of a medication request (`imr_ml.signals.decisive`): a documented
condition that argues against the requested drug's class or ingredient, and another drug of the
same class taken now. Each fires in a typed note and in a letter's summary that state the fact,
and not in one that states its absence, its end or a drug of another class.

Summaries and items are written for these tests (no real letter text).
"""

import pytest

from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.signals import SignalValues, extract_signals
from imr_ml.signals.rules import signal_names


def _fields(item: str, summary: str) -> tuple[bool, bool, set[str]]:
    signals = extract_signals({"item": item, "summary": summary})
    values = SignalValues(signals)
    fired = {r.name for r in fired_rules(values, item, load_guidelines())}
    return signals["class_contraindication"].value, signals["same_class_duplicate"].value, fired


CONTRAINDICATED = [
    # (item, summary that documents the condition, one that does not)
    ("Venlafaxine ER 75 mg #30", "39F, neuropathic leg pain. BP today 172/108, untreated HTN, not yet seen by PCP.",
     "39F, neuropathic leg pain. BP today 118/76, no HTN hx."),
    ("Effexor XR 75 mg #30", "The injured worker has uncontrolled hypertension despite two agents.",
     "The injured worker has no uncontrolled hypertension; blood pressure is 124/78."),
    ("Methadone 5 mg TID #90", "49F CRPS RUE. Baseline ECG: QTc 512 ms.", "49F CRPS RUE. Baseline ECG: QTc 418 ms."),
    ("Zolpidem 5 mg #14", "PSG 2024: OSA AHI 31, declined CPAP, untreated.",
     "PSG 2024: OSA AHI 31, adherent to CPAP (7 h/night)."),
    ("Ambien 10 mg #30", "He has untreated obstructive sleep apnea and chronic low back pain.",
     "He has obstructive sleep apnea treated with CPAP nightly, and chronic low back pain."),
    ("Bupropion XL 150 mg #30", "The injured worker has a seizure disorder managed by neurology.",
     "The injured worker has no history of seizures."),
    ("Lorazepam 1 mg #30", "Untreated OSA per sleep study.", "Sleep study normal, no apnea."),
]


@pytest.mark.parametrize(("item", "fires", "quiet"), CONTRAINDICATED)
def test_a_documented_contraindication_of_the_drug_or_its_class_fires_one_rule(item, fires, quiet):
    on, _, fired = _fields(item, fires)
    assert on and "drug_class_contraindication" in fired
    off, _, fired = _fields(item, quiet)
    assert not off and "drug_class_contraindication" not in fired


def test_a_contraindication_of_another_class_does_not_fire():
    """Uncontrolled hypertension argues against an SNRI, not against gabapentin; a QTc over 500
    against methadone, not against oxycodone."""
    assert not _fields("Gabapentin 300 mg #90", "Untreated HTN, BP 176/104.")[0]
    assert not _fields("Oxycodone 10 mg #60", "ECG: QTc 512 ms.")[0]


DUPLICATES = [
    # (item, summary with another drug of its class taken now, one without)
    ("Cyclobenzaprine 5 mg qhs #10", "On naproxen. Also takes tizanidine 4 TID daily from another MD, continuing.",
     "On naproxen. Takes no other muscle relaxant."),
    ("Meloxicam 15 mg daily, #30",
     "He also takes prescription naproxen 500 mg twice daily from his primary physician, which will continue.",
     "He is taking no other anti-inflammatory medication, and his renal function is normal."),
    ("Pregabalin 75 mg twice daily, #60", "He takes gabapentin 1,800 mg a day, which will continue.",
     "Gabapentin gave no benefit over eight weeks and was stopped last month; pregabalin is to replace it."),
]


@pytest.mark.parametrize(("item", "fires", "quiet"), DUPLICATES)
def test_another_drug_of_the_same_class_taken_now_fires_one_rule(item, fires, quiet):
    _, on, fired = _fields(item, fires)
    assert on and "same_class_duplicate" in fired
    _, off, fired = _fields(item, quiet)
    assert not off and "same_class_duplicate" not in fired


def test_the_requested_drug_itself_or_a_drug_of_another_class_is_no_duplicate():
    """"Currently on Mobic" before a Meloxicam refill is the same ingredient; naproxen before a
    muscle relaxant is another class."""
    assert not _fields("Meloxicam 15 mg #30", "She is currently taking Mobic 15 mg daily.")[1]
    assert not _fields("Cyclobenzaprine 10 mg #30", "She is currently taking naproxen 500 mg twice daily.")[1]


def test_a_drug_on_the_skin_beside_one_by_mouth_is_no_duplicate():
    """A Flector patch with oral ibuprofen is for the topical rules, not two NSAIDs by mouth."""
    assert not _fields("Flector 1.3% patch #30", "She is currently taking ibuprofen 600 mg three times daily.")[1]
    assert not _fields("Etodolac 400 mg #60", "She currently uses a Flector patch daily.")[1]
    assert _fields("Etodolac 400 mg #60", "She is currently taking ibuprofen 600 mg three times daily.")[1]


def test_every_contraindication_and_duplicate_signal_names_a_signal():
    """A misspelt signal name in drugs.toml would silently never fire."""
    vocab, known = load_vocabulary(), set(signal_names())
    named = {s for c in vocab.classes.values() for s in (*c.contraindications, c.duplicate_signal) if s}
    named |= {s for d in vocab.drugs.values() for s in d.contraindications}
    assert named and named <= known, sorted(named - known)


@pytest.mark.parametrize(("summary", "impaired"), [
    ("The injured worker is a 34-year-old roofer who fell nine feet and walks with a cane.", True),
    ("40M (DOI 02/2025 fall from roof). L-spine strain, walks independently.", False),
    ("She was injured in a fall off a loading dock and walks without an assistive device.", False),
    ("52F slipped and fell at work, now walks unaided.", False),
    ("58F, fell at work 3/10/2015 on outstretched R arm. R shoulder pain + weakness.", False),
    ("He has had recurrent falls at home and an antalgic gait.", True),
    ("T11 complete SCI, manual wheelchair full-time after a fall from a scaffold.", True),
])
def test_a_fall_that_caused_the_injury_is_not_impaired_walking(summary, impaired):
    """The injury's mechanism ("fell nine feet") says nothing of how the worker walks now."""
    signals = extract_signals({"item": "Manual wheelchair rental", "summary": summary})
    assert signals["mobility_impairment"].value is impaired


@pytest.mark.parametrize("summary", [
    "The surgeon ordered strict non-weight-bearing on the left foot for six weeks.",
    "Strict NWB L foot x 6 wks per surgeon.",
    "The surgeon ordered NWB on the left foot for six weeks and requested a knee scooter rental.",
])
def test_a_weight_bearing_order_is_the_worker_s_state_not_a_plan(summary):
    signals = extract_signals({"item": "Knee scooter, 6-week rental", "summary": summary})
    assert signals["reduced_weight_bearing"].value and signals["mobility_impairment"].value


@pytest.mark.parametrize(("item", "normal", "confirms"), [
    ("B/l hearing aids", "Audiogram: thresholds <20 dB all freqs b/l, word recognition 100%.",
     "Audiogram: b/l high-freq SNHL, 50 dB at 2-4 kHz, word recognition 76%."),
    ("CPAP device with supplies", "The study showed an apnea-hypopnea index of 2 with normal oxygen saturation.",
     "The study showed an apnea-hypopnea index of 34 with oxygen desaturation to 81 percent."),
    ("Canalith repositioning procedure, 3 sessions", "The Dix-Hallpike test is negative on both sides.",
     "The right Dix-Hallpike test reproduces vertigo with torsional nystagmus."),
])
def test_a_normal_confirming_test_argues_against_the_treatment(item, normal, confirms):
    assert "treatment_despite_normal_diagnostic_test" in _fields(item, normal)[2]
    assert "treatment_despite_normal_diagnostic_test" not in _fields(item, confirms)[2]


def test_a_normal_test_planned_or_before_an_evaluation_does_not_fire():
    assert "treatment_despite_normal_diagnostic_test" not in _fields("Audiometry", "Audiogram 2019 normal.")[2]
    assert not extract_signals({"item": "CPAP", "summary": "OSA, AHI 31 on PSG."})["diagnostic_test_normal"].value


@pytest.mark.parametrize(("item", "quiet", "limiting"), [
    ("R inguinal hernia repair (laparoscopic)", "R inguinal bulge, reducible. Asymptomatic, small, full duty.",
     "R inguinal bulge, reducible. Pain 7/10 w/ lifting, cannot do regular duty."),
    ("Left dorsal wrist ganglion excision",
     "The ganglion is painless, does not limit her work, and she wants it removed for its appearance.",
     "The ganglion causes pain with wrist extension that prevents her from sorting mail."),
])
def test_a_procedure_for_an_asymptomatic_condition_fires_one_rule(item, quiet, limiting):
    assert "procedure_for_asymptomatic_condition" in _fields(item, quiet)[2]
    assert "procedure_for_asymptomatic_condition" not in _fields(item, limiting)[2]
    was = "The knee was asymptomatic before the injury; now painful with locking."
    assert "procedure_for_asymptomatic_condition" not in _fields("Knee arthroscopy", was)[2]
