"""2013 letters: no case-number header (the case number appears only in page footers), a
blank line after every text line, credentials as a sentence, items often in upper case and
each rationale closing "The <item> is (not) medically necessary and appropriate."."""

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
    if rng.random() < 0.4:
        draft.add(Kind.FIXED,
                  f"Date Assigned: {form_date(letter.assigned)} Date of Injury: {form_date(letter.date_of_injury)} ",
                  f"Decision Date: {form_date(letter.decision)} UR Denial Date: {form_date(letter.ur_date)} ",
                  f"Priority: Standard Application Received: {form_date(letter.received)} ")
        draft.add(Kind.BLANK, " ")
    draft.add(Kind.FIXED, " HOW THE IMR FINAL DETERMINATION WAS MADE ")
    draft.wrapped(how_made(draft, with_credentials=True))
    draft.add(Kind.BLANK, " ")
    draft.add(Kind.FIXED, "CLINICAL CASE SUMMARY ")
    draft.wrapped(BOILERPLATE_SUMMARY, Kind.FIXED)
    draft.add(Kind.BLANK, " ")
    summary_paragraphs(draft)
    draft.add(Kind.BLANK, " ")
    draft.add(Kind.FIXED, "IMR ISSUES, DECISIONS AND RATIONALES ", FINAL_DETERMINATION + " ")
    draft.add(Kind.BLANK, " ")
    upper = rng.random() < 0.6
    for it, shown in zip(letter.items, draft.shown):
        if upper:
            shown.item = shown.item.upper()
        draft.wrapped(f"{shown.item}:  {decision_word(it.label)}", Kind.HEADING)
        draft.add(Kind.BLANK, " ")
        guideline_blocks(draft, it)
        text = rationale(draft, it, shown)
        if rng.random() < 0.4:  # the rationale restates the start of the summary
            text = draft.sep.join(draft.summary[:6]) + " " + text
        draft.wrapped("Decision rationale: " + text)
        draft.add(Kind.BLANK, " ")
    return "\n\n".join(draft.pages()) + "\n"


LAYOUT = SynthLayout(
    name="2013", first_decision=date(2013, 7, 15), decision_days=160, case_year=13,
    pagination=Pagination(page_lines=(20, 26), ensure_footer=True, final_footer_chance=0.5),
    write=write, necessity_closing=True,
)
