"""Letter layouts, one module each, registered in `LAYOUTS` in the order they are tried.

A layout is any object with the `LetterLayout` shape: a `name` (the corpus's `layout`
column), the `guidelines` every item must state, `matches(text)` and `parse(text)`. The
first layout whose `matches` accepts a letter parses it; `check_complete` then refuses a
letter cut short. Adding a layout is a module here and one entry in `LAYOUTS`.
"""

from __future__ import annotations

from typing import Protocol

from imr_ml.letters.layouts import maximus2013, maximus2014, maximus2016, notice2013, professional_review
from imr_ml.letters.layouts._common import check_complete, clean, rationale_ending
from imr_ml.letters.letter import Letter

__all__ = ["LAYOUTS", "LetterLayout", "NotALetter", "parse_letter_text", "rationale_ending"]


class LetterLayout(Protocol):
    """What the parser needs of a layout."""

    name: str
    guidelines: tuple[str, ...]  # Item fields every item must have: "claims_admin_guideline", "reviewer_guideline"

    def matches(self, text: str) -> bool:
        """Whether `text` (cleaned) is a letter in this layout."""
        ...

    def parse(self, text: str) -> Letter:
        """The letter in `text` (cleaned); raises LayoutError when it is incomplete."""
        ...


# Tried in this order: the more specific layouts first (a 2016 letter also has a case summary,
# which is all that tells a 2013 MAXIMUS letter).
LAYOUTS: tuple[LetterLayout, ...] = (
    professional_review.ProfessionalReview(),
    notice2013.Notice2013(),
    maximus2014.Maximus2014(),
    maximus2016.LAYOUT,
    maximus2013.LAYOUT,
)


class NotALetter(Exception):
    """The text is in no known layout."""


def parse_letter_text(text: str) -> Letter:
    """Parse one letter's text with the first layout that recognises it; a letter that is not
    whole raises LayoutError (see `_common.check_complete`)."""
    cleaned, footer_case = clean(text)
    for layout in LAYOUTS:
        if layout.matches(cleaned):
            letter = layout.parse(cleaned)
            check_complete(letter, cleaned, layout.guidelines)
            if letter.letter_id is None:
                letter.letter_id = footer_case
            return letter
    raise NotALetter("not an IMR determination letter (no known layout)")
