"""Where a term (a modality's words, a drug's names) occurs in a summary, remembered with the
summary's document: the items of a letter ask about the same text again and again."""

from __future__ import annotations

import re

from imr_ml.text.document import Document


def mentions(doc: Document, term: re.Pattern) -> list[tuple[int, int]]:
    """Spans of `term` in a document (remembered with it: items of a letter share them).

    Parameters
    ----------
    doc : Document
        The summary.
    term : re.Pattern
        A lower-case pattern.

    Returns
    -------
    list of (int, int)
        Its match spans.
    """
    key = ("term", term.pattern)
    spans = doc.memo.get(key)
    if spans is None:
        spans = doc.memo[key] = [m.span() for m in doc.finditer(term)]
    return spans
