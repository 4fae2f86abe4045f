"""Where a term (a modality's words, a drug's names) occurs in a summary, remembered with the
summary's document: the items of a letter ask about the same text again and again."""

from __future__ import annotations

import re
from bisect import bisect_left

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


def names_in(doc: Document, term: re.Pattern, start: int, end: int) -> bool:
    """Whether `term` matches within [start, end) of a document (read from its remembered
    `mentions`: the items of a letter ask the same sentences again and again).

    Parameters
    ----------
    doc : Document
        The summary.
    term : re.Pattern
        A lower-case pattern.
    start, end : int
        The stretch of text.

    Returns
    -------
    bool
        True when a match of `term` lies inside it.
    """
    spans = mentions(doc, term)
    i = bisect_left(spans, (start, -1))
    return i < len(spans) and spans[i][0] < end and spans[i][1] <= end
