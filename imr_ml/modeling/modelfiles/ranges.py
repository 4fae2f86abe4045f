"""What a model was trained on, and which requests fall outside it.

A model fitted on 2016 letters says little about a 2024 injury, a category it never saw, or
a three-line note when it learned from page-long summaries. `train` records the ranges in
the manifest (`data.ranges`); scoring warns per item (`warnings`), and `score` counts each
kind on stderr. A manifest without ranges (the built-in model, older models) warns of
nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from imr_ml.dates import DATE_WARNING_TEXT
from imr_ml.knowledge.taxonomy import categorize

DATE_FIELDS = ("date_of_injury", "ur_denial_date")
LENGTH_FACTOR = 2  # "far outside": under half the shortest or over twice the longest summary


def _year(value) -> int | None:
    """The year of a YYYY-MM-DD date (what ingest and request_row store), else None."""
    text = str(value or "")[:4]
    return int(text) if len(text) == 4 and text.isdigit() else None


def _words(row: dict) -> int:
    return len((row.get("summary") or "").split())


def training_ranges(rows: Sequence[dict]) -> dict:
    """What the training letters of the training rows `rows` span, for the manifest: min/max years of
    each date field, summary length in words, items per category.
    """
    ranges: dict = {"years": {}}
    for f in DATE_FIELDS:
        years = [y for y in (_year(r.get(f)) for r in rows) if y is not None]
        if years:
            ranges["years"][f] = [min(years), max(years)]
    words = [_words(r) for r in rows]
    ranges["summary_words"] = [min(words), max(words)] if words else None
    ranges["categories"] = dict(Counter(categorize(r.get("item") or "") for r in rows))
    return ranges


def range_warnings(row: dict, category: str, ranges: dict | None) -> list[dict]:
    """Each way a request lies outside what the model was trained on.

    Parameters
    ----------
    row : dict
        The request.
    category : str
        Its treatment category.
    ranges : dict or None
        The manifest's ``data.ranges`` (None: no warnings).

    Returns
    -------
    list of dict
        ``{"kind", "message"}`` per warning.
    """
    if not ranges:
        return []
    out = []
    for f, (lo, hi) in (ranges.get("years") or {}).items():
        y = _year(row.get(f))
        if y is not None and not lo <= y <= hi:
            out.append({"kind": f"{f}_year", "message": f"{f} year {y} is outside the training letters' {lo}-{hi}"})
    cats = ranges.get("categories")
    if cats is not None and not cats.get(category):
        out.append({"kind": "unseen_category", "message": f"no training item of category {category}"})
    span = ranges.get("summary_words")
    if span:
        n = _words(row)
        if n < span[0] / LENGTH_FACTOR or n > span[1] * LENGTH_FACTOR:
            out.append({"kind": "summary_length", "message": f"summary of {n} words is far outside the training "
                                                             f"letters' {span[0]}-{span[1]}"})
    return out


def model_ranges(manifest: dict) -> dict | None:
    """The training ranges a manifest records.

    Parameters
    ----------
    manifest : dict
        A model's manifest.

    Returns
    -------
    dict or None
        ``data.ranges``, None for a model without them (built-in, older models).
    """
    return (manifest.get("data") or {}).get("ranges")


# How `score` names each kind of warning in its one stderr line per kind.
WARNING_TEXT = {
    **DATE_WARNING_TEXT,
    "date_of_injury_year": "have a date of injury outside the training letters' years",
    "ur_denial_date_year": "have a UR denial date outside the training letters' years",
    "unseen_category": "are of a category with no training items",
    "summary_length": "have a summary far shorter or longer than the training letters'",
}
