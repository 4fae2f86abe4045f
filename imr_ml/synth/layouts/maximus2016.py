"""2016-17 letters: a header block (Case Number / Date Assigned / ... with "Application" and
"Received:" split over lines), credentials as "State(s) of Licensure:" lines, items as
"<item>:  Upheld" (the decision sometimes on the next line, a UR modification sometimes as
a partial authorisation heading), then "Claims Administrator guideline:", "MAXIMUS
guideline:" and "Decision rationale:" blocks."""

from __future__ import annotations

from datetime import date

from imr_ml.synth.pages import Draft, Kind, Pagination, SynthLayout
from imr_ml.synth.sections import (
    BOILERPLATE_SUMMARY,
    FINAL_DETERMINATION,
    decision_word,
    form_date,
    guideline_blocks,
    how_made,
    rationale,
    summary_paragraphs,
)


def write(draft: Draft) -> str:
    """The letter's text."""
    rng, letter = draft.rng, draft.letter
    priority = "Expedited" if rng.random() < 0.03 else "Standard"
    draft.add(Kind.FIXED, " ", f"Case Number: {letter.case_number}  ",
              f"Date Assigned: {form_date(letter.assigned)} Date of Injury:  {form_date(letter.date_of_injury)} ",
              f"Decision Date: {form_date(letter.decision)} UR Denial Date:  {form_date(letter.ur_date)} ",
              f"Priority:  {priority} Application ", "Received:  ", f"{form_date(letter.received)} ", " ",
              "HOW THE IMR FINAL DETERMINATION WAS MADE ")
    draft.wrapped(how_made(draft, with_credentials=False))
    draft.add(Kind.FIXED, " ", "The Expert Reviewer has the following credentials: ",
              f"State(s) of Licensure: {draft.licensure} ", f"Certification(s)/Specialty: {draft.specialty} ", " ",
              "CLINICAL CASE SUMMARY ")
    draft.wrapped(BOILERPLATE_SUMMARY, Kind.FIXED)
    draft.add(Kind.BLANK, " ")
    summary_paragraphs(draft)
    draft.add(Kind.BLANK, " ")
    if rng.random() < 0.5:
        draft.add(Kind.FIXED, "")
    draft.add(Kind.FIXED, "IMR ISSUES, DECISIONS AND RATIONALES ", FINAL_DETERMINATION + " ")
    draft.add(Kind.BLANK, " ")
    for it, shown in zip(letter.items, draft.shown):
        word = decision_word(it.label)
        head = shown.heading or f"{shown.item}:"
        r = rng.random()
        if r < 0.15:
            draft.wrapped(head, Kind.HEADING)
            draft.add(Kind.HEADING, f"{word} ")
        else:
            draft.wrapped(f"{head}{'  ' if r < 0.6 else ' '}{word}", Kind.HEADING)
        if rng.random() < 0.85:
            draft.add(Kind.BLANK, " ")
        guideline_blocks(draft, it)
        draft.wrapped("Decision rationale: " + rationale(draft, it, shown))
        draft.add(Kind.BLANK, " ")
    return "\n".join(draft.pages())


LAYOUT = SynthLayout(
    name="2016", first_decision=date(2016, 6, 1), decision_days=380, case_year=None,
    pagination=Pagination(page_lines=(44, 52), breaks_in_headings=True, bare_break_chance=0.3),
    write=write, partial_headings=True,
)
