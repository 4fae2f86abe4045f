"""2014-15 letters: a tidy header, "DOCUMENTS REVIEWED", then "IMR DECISION(S) AND
RATIONALE(S)" with numbered items "1. <item> is (not) medically necessary and appropriate."
and the guidelines stated as sentences."""

from __future__ import annotations

from datetime import date

from imr_ml.synth.pages import Draft, Kind, Pagination, SynthLayout
from imr_ml.synth.sections import BOILERPLATE_SUMMARY, NO_CITATION, form_date, guide_name, how_made, rationale

DOCUMENTS = (" Application of Independent Medical Review", " Utilization Review Determination",
             " Medical Records from the treating provider")


def write(draft: Draft) -> str:
    """The letter's text."""
    rng, letter = draft.rng, draft.letter
    draft.add(Kind.FIXED, f"Case Number: {letter.case_number}",
              f"Date Assigned: {form_date(letter.assigned)}   Date of Injury: {form_date(letter.date_of_injury)}",
              f"Decision Date: {form_date(letter.decision)}   UR Denial Date: {form_date(letter.ur_date)}",
              f"Priority: Standard   Application Received: {form_date(letter.received)}", "",
              "HOW THE IMR FINAL DETERMINATION WAS MADE")
    draft.wrapped(how_made(draft, with_credentials=True))
    draft.add(Kind.BLANK, "")
    draft.add(Kind.FIXED, "DOCUMENTS REVIEWED", *DOCUMENTS)
    if rng.random() < 0.5:
        draft.add(Kind.FIXED, " Medical Records from the claims administrator")
    draft.add(Kind.BLANK, "")
    draft.add(Kind.FIXED, "CLINICAL CASE SUMMARY")
    draft.wrapped(BOILERPLATE_SUMMARY + " " + draft.sep.join(draft.summary))
    draft.add(Kind.BLANK, "")
    draft.add(Kind.FIXED, "IMR DECISION(S) AND RATIONALE(S)")
    pronoun = rng.choice(("his", "her", "his/her"))
    for k, (it, shown) in enumerate(zip(letter.items, draft.shown), 1):
        guide = guide_name(it, letter.region)
        draft.wrapped(f"{k}. {shown.item} is {'' if it.label else 'not '}medically necessary and appropriate.",
                      Kind.HEADING)
        ca = NO_CITATION if it.ca_no_citation else f"The Claims Administrator based its decision on the {guide}."
        draft.wrapped(ca, Kind.FIXED)
        draft.wrapped(f"The Expert Reviewer based {pronoun} decision on the {guide}.", Kind.FIXED)
        draft.add(Kind.FIXED, "The Expert Reviewer's decision rationale:")
        draft.wrapped(rationale(draft, it, shown))
        draft.add(Kind.BLANK, "")
    return "\n".join(draft.pages()) + "\n"


LAYOUT = SynthLayout(
    name="2014", first_decision=date(2014, 1, 15), decision_days=700, case_year=None,
    pagination=Pagination(page_lines=(44, 52), final_footer_chance=0.5),
    write=write,
)
