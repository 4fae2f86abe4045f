"""Letter layouts, one module each, chosen by what the text contains.

A layout module defines `NAME`, `ORDER` (lower is tried first), `detect(text) -> bool` and
`parse(text) -> Letter` (text already cleaned by `_common.clean`), and may define
`GUIDELINES`, the guideline fields every item must have (default: both). Adding a layout is adding
a file here: modules are discovered, not listed.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from types import ModuleType

from imr_ml.letters.layouts._common import GUIDELINES, LayoutError, Letter, check_complete, clean

__all__ = ["Letter", "LayoutError", "layouts", "parse_letter_text", "NotALetter"]


class NotALetter(Exception):
    """The text is in no known layout."""


@lru_cache(maxsize=1)
def layouts() -> tuple[ModuleType, ...]:
    mods = [
        importlib.import_module(f"{__name__}.{m.name}")
        for m in pkgutil.iter_modules(__path__)
        if not m.name.startswith("_")
    ]
    return tuple(sorted(mods, key=lambda m: m.ORDER))


def parse_letter_text(text: str) -> Letter:
    """Parse one letter's text with the first layout that recognises it; a letter that is not
    whole raises LayoutError (see `_common.check_complete`)."""
    cleaned, footer_case = clean(text)
    for layout in layouts():
        if layout.detect(cleaned):
            letter = layout.parse(cleaned)
            check_complete(letter, cleaned, getattr(layout, "GUIDELINES", GUIDELINES))
            if letter.letter_id is None:
                letter.letter_id = footer_case
            return letter
    raise NotALetter("not an IMR determination letter (no known layout)")
