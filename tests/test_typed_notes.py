"""Functional improvement as providers type it: the activity before the treatment ("able to walk
30 min and do chores with meds"), the treatment as a heading ("With meds, walks 30 min"), the
course named before a return to full duty. Each reading has sentences that must not fire."""

import pytest

from imr_ml.signals import extract_signals


def _fired(item: str, summary: str, name: str) -> bool:
    return bool(extract_signals({"item": item, "summary": summary})[name].value)


@pytest.mark.parametrize("item, summary", [
    ("Norco 10/325 #120", "On Norco 10/325 qid x 3 yrs. Pain 8/10 w/o meds, 4/10 with; able to walk 30 min and do "
                          "chores with meds."),
    ("Norco 10/325 #120", "On Norco for 3 years; Norco lets him walk 30 min and do chores."),
    ("Norco 10/325 #120", "On Norco for 3 years. With Norco, walks 30 min, does chores; without it stays in bed."),
    ("Physical therapy x12 lumbar", "40 yo F, chronic LBP. After 24 PT visits she walks a mile and returned to "
                                    "full duty."),
    ("Acupuncture x6", "50 yo F, chronic neck pain, prior acupuncture x12 reduced pain 60% and she returned to full "
                       "duty."),
])
def test_improvement_with_the_requested_treatment_is_read(item, summary):
    assert _fired(item, summary, "functional_improvement")
    assert _fired(item, summary, "functional_improvement_same_modality")


@pytest.mark.parametrize("summary", [
    "He is unable to walk more than 10 min with meds.",
    "Despite 12 PT visits she has not returned to full duty.",
    "Since the injury she returned to full duty.",
    "PT x12 without benefit; she returned to full duty in 2019, before this injury.",
])
def test_no_improvement_is_read_where_none_is_stated(summary):
    assert not _fired("Physical therapy x6", summary, "functional_improvement")


def test_a_drug_that_was_reduced_is_still_what_was_reduced():
    """"Mobic was reduced to every other day" names Mobic as the object (less dependency on the
    treatment), while "acupuncture reduced pain" names acupuncture as the subject."""
    summary = "Mobic was reduced to every other day and she walks farther now."
    assert _fired("Mobic 15 mg", summary, "functional_improvement")
    assert not _fired("Mobic 15 mg", summary, "functional_improvement_same_modality")


def test_a_return_to_full_duty_from_the_course_is_its_improvement_not_function_already_back():
    """The same words are read once: as the earlier course's functional improvement."""
    summary = "50 yo F, chronic neck pain, prior acupuncture x12 reduced pain 60% and she returned to full duty."
    assert _fired("Acupuncture x6", summary, "functional_improvement_same_modality")
    assert not _fired("Acupuncture x6", summary, "function_restored")
    assert _fired("Acupuncture x6", "She walks normally and returned to full duty in March.", "function_restored")
