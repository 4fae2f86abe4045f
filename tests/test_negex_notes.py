"""NegEx on typed notes: how far a negation reaches across commas, and a negation word that is
part of a finding. A note and a letter that state the same facts must read the same.

Every sentence here is written for this test (no real letter text).
"""

import pytest

from imr_ml.signals import extract_signals


def fires(text: str, name: str, item: str = "Physical therapy x6") -> bool:
    return bool(extract_signals({"summary": text, "item": item})[name].value)


def fields(text: str, item: str) -> tuple[bool, bool]:
    sig = extract_signals({"summary": text, "item": item})
    return sig["service_indication_documented"].value, sig["service_indication_contradicted"].value


# ------------------------------------------------------------- a denied list keeps its scope


@pytest.mark.parametrize("text, name", [
    ("No fever, chills, or numbness.", "neuro_symptoms"),
    ("Denies fever, chills, numbness.", "neuro_symptoms"),
    ("denies numbness, tingling, weakness", "neuro_symptoms"),
    ("Negative for fever, weight loss, tingling or numbness.", "neuro_symptoms"),
    ("No swelling, erythema or numbness of the right hand.", "neuro_symptoms"),  # one site for the list
    ("No radicular pain, numbness, or tingling in the left leg.", "radiculopathy"),
    ("There was no evidence of radiculopathy, myelopathy, or instability.", "radiculopathy"),
    ("No chills, fever, and no numbness.", "neuro_symptoms"),
    # a verb after the list's "and" is the sentence's, not a new clause of the list
    ("She reports neck stiffness but no memory, concentration or word-finding problems and is working full duty.",
     "cognitive_symptoms"),
])
def test_a_denied_list_keeps_the_scope_across_its_commas(text, name):
    assert not fires(text, name), text


# ------------------------------------------------------------- a comma opening a clause ends it


@pytest.mark.parametrize("text, name", [
    ("No fever, numbness in the R hand.", "neuro_symptoms"),
    ("No fever, + numbness and tingling.", "neuro_symptoms"),
    ("No swelling, c/o numbness in the fingers.", "neuro_symptoms"),
    ("No bowel or bladder changes, reports tingling into the foot.", "neuro_symptoms"),
    ("No fever, pt has numbness at night.", "neuro_symptoms"),
    ("No fever, he reports numbness.", "neuro_symptoms"),
    ("No chills, numbness persists.", "neuro_symptoms"),
    ("No prior surgery, radiating pain to the L leg.", "radiculopathy"),
    ("No prior acu, NSAID intolerant.", "first_line_analgesic_failed"),
    ("No GI history, intolerant of NSAIDs.", "first_line_analgesic_failed"),
])
def test_a_comma_opening_a_new_clause_ends_the_scope(text, name):
    assert fires(text, name), text


# ------------------------------------------------- a negation word inside a finding stays there


@pytest.mark.parametrize("text, name", [
    ("Unable to walk > 1 block, numbness in both feet.", "neuro_symptoms"),
    ("Cannot tolerate the brace, tingling in the fingers at night.", "neuro_symptoms"),
    ("Can't sleep, numbness wakes her.", "neuro_symptoms"),
    ("Failed to improve with PT, numbness and tingling.", "neuro_symptoms"),
    ("Not improved, tingling down the arm.", "neuro_symptoms"),
    ("Never vaccinated, tingling at the puncture site.", "neuro_symptoms"),
])
def test_a_negation_word_inside_a_finding_does_not_reach_the_next(text, name):
    assert fires(text, name), text


@pytest.mark.parametrize("text, name", [
    ("Unable to feel the fingertips or numbness?", "neuro_symptoms"),  # within its own phrase it still reaches
    ("Never had numbness.", "neuro_symptoms"),
    ("Not improved numbness.", "neuro_symptoms"),  # "not" before a participle and a noun: a plain cue
    ("Could not report any numbness.", "neuro_symptoms"),
    ("Never tried acupuncture, denies numbness.", "neuro_symptoms"),
    ("Not on Norco, numbness, or tingling.", "neuro_symptoms"),  # "not" before more than one word: a list cue
])
def test_a_negation_word_still_reaches_inside_its_own_phrase(text, name):
    assert not fires(text, name), text


# ------------------------------------------------------ a letter and a note of the same facts


# (item, letter prose, typed note of the same facts): the criterion fields must match.
SAME_FACTS = [
    ("Acupuncture x6", "The patient has not had acupuncture before. She has intolerance to NSAIDs.",
     "No prior acu, NSAID intolerant."),
    ("Hep B vaccine", "The nurse was never vaccinated against hepatitis B. She sustained a needle stick injury.",
     "never vaccinated, needle stick injury"),
    ("Front-wheeled walker", "He is unable to walk more than one block. He has an antalgic gait.",
     "unable to walk > 1 block, antalgic gait"),
    ("EMG/NCS BUE", "The patient denies fever. She reports numbness in the right hand.",
     "No fever, numbness in the R hand"),
    ("EMG/NCS BUE", "The patient denies fever, chills, and numbness.", "denies fever, chills, numbness"),
    ("EMG/NCS BUE", "There is no weakness. The Spurling test is positive.", "no weakness, Spurling +"),
    ("EMG/NCS BUE", "The applicant has no neck pain. He complains of tingling in the fingers.",
     "no neck pain, c/o tingling in fingers"),
    ("Front-wheeled walker", "He cannot tolerate a cane. He reports two falls.", "cannot tolerate a cane, falls x2"),
    ("MRI lumbar spine", "There is no bowel or bladder dysfunction, saddle anesthesia, or foot drop.",
     "no bowel/bladder dysfunction, saddle anesthesia, or foot drop"),
    ("EMG/NCS BLE", "He denies back surgery. He reports numbness in the left foot.",
     "no back surgery, numbness L foot"),
    ("EMG/NCS BLE", "She denies numbness and tingling in the legs.", "denies numbness, tingling BLE"),
    ("Acupuncture x6", "The worker has had no acupuncture. Pain medications are not tolerated.",
     "No acupuncture, pain meds not tolerated"),
    ("Physical therapy x6", "Physical therapy did not help. He is on modified duty.", "PT did not help, modified duty"),
    ("Physical therapy x6", "She has never had injections. Acupuncture gave no relief.",
     "never had injections, acupuncture gave no relief"),
    ("Physical therapy x6", "He is not working. He reports numbness in the hand.", "not working, numbness in the hand"),
]


@pytest.mark.parametrize("item, letter, note", SAME_FACTS)
def test_a_note_and_a_letter_of_the_same_facts_read_the_same(item, letter, note):
    assert fields(note, item) == fields(letter, item), (letter, note)


@pytest.mark.parametrize("item, letter, note", SAME_FACTS)
def test_the_same_facts_give_the_same_signals(item, letter, note):
    def on(text: str) -> set[str]:
        names = ("neuro_symptoms", "neuro_deficit", "radiculopathy", "red_flags", "first_line_analgesic_failed",
                 "prior_surgery", "opioid_use", "working", "prior_trial_without_benefit")
        sig = extract_signals({"summary": text, "item": item})
        return {n for n in names if sig[n].value}

    assert on(note) == on(letter), (letter, note)


@pytest.mark.parametrize("note", ["still can't sleep through the night", "still couldn't sleep through the night",
                                  "still cannot sleep through the night"])
def test_a_phrase_cue_still_denies_its_own_phrase(note):
    # "sleeps through the night" argues against a hypnotic; "can't sleep through the night" does not
    assert fields(note, "Zolpidem 10 mg #30")[1] is False, note


@pytest.mark.parametrize("text, expected", [
    # a drug with its dose, schedule or an assertion after the comma is taken ...
    ("No PT yet, Norco 10 mg tid.", True),
    ("No surgery, on Norco 10/325 bid.", True),
    ("no NSAIDs, tramadol 50 mg bid", True),
    ("Not taking Norco, tramadol 50 mg prn", True),
    # ... a denied list of drugs is not
    ("no opioids, NSAIDs, or muscle relaxants", False),
    ("Denies use of Norco, Percocet, or tramadol.", False),
    ("no Norco, tramadol, or oxycodone for 2 years", False),
])
def test_a_drug_list_after_a_denial(text, expected):
    assert fires(text, "opioid_use") is expected, text


@pytest.mark.parametrize("text, name, expected", [
    # a date or a duration after a comma opens nothing: the denial still reaches ...
    ("Non-certified Nucynta 50 mg #90, gym membership for 6 months (DOS 4/30/16).", "long_term_use", False),
    ("No Norco, pain since 11/2012.", "long_term_use", False),
    # ... while a pain score or a dose does open a clause
    ("Climbs stairs without a rail, and pain dropped from 9/10 to 4/10.", "pain_halved", True),
])
def test_dates_are_no_doses(text, name, expected):
    assert fires(text, name) is expected, text
