"""Readers of structured values in a row's text: counts, dates, guideline tags, a category's
prior. They take compiled rules (`imr_ml.signals.extract.load_rules`) and never load them, so
that both the text analysis and the field registry (`imr_ml.signals.fields`) can use them.
"""

from __future__ import annotations

import math
import re
from datetime import date
from functools import lru_cache
from typing import Any

from imr_ml.dates import as_date
from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.text.numbers import parse_number

Evidence = list[tuple[str, int, int]]

POST_SURGICAL_DAYS = 183  # the MTUS post-surgical physical medicine periods run up to about 6 months


def parse_quantity(item: str, rules: Any) -> tuple[int | None, tuple[int, int] | None]:
    """Requested quantity (visits, sessions, pills) from an item's text, and its span.

    Parameters
    ----------
    item : str
        The disputed item's text.
    rules : SignalRules
        Compiled rules; their `[item] quantity` patterns are tried in order.

    Returns
    -------
    tuple
        (quantity, (start, end)) of the first pattern that gives a count in 1..1000, or
        (None, None).
    """
    if not item:
        return None, None
    for pat in rules.quantity:
        m = pat.search(item)
        if not m:
            continue
        g = m.groupdict()
        if g.get("a") and g.get("b"):
            a, b = parse_number(g["a"]), parse_number(g["b"])
            if a is not None and b is not None and 0 < a * b <= 1000:
                return a * b, m.span()
        elif g.get("n"):
            n = parse_number(g["n"])
            if n is not None and 0 < n <= 1000:
                return n, m.span()
    return None, None


def guideline_tags(text: str | None, rules: Any) -> tuple[list[str], Evidence]:
    """Which guideline(s) the claims administrator cited.

    Parameters
    ----------
    text : str or None
        The `claims_admin_guideline` field.
    rules : SignalRules
        Compiled rules; their `[guideline]` patterns name the tags.

    Returns
    -------
    tuple
        (tags such as `mtus`, `odg`, `not_cited`; "none" for an empty field, "other" when
        no pattern matches, and the evidence spans).
    """
    if not text or not str(text).strip():
        return ["none"], []
    tags, ev = [], []
    for name, pat in rules.guideline.items():
        m = pat.search(text)
        if m:
            tags.append(name)
            ev.append(("claims_admin_guideline", m.start(), m.end()))
    if not tags:
        tags = ["other"]
    return tags, ev


@lru_cache(maxsize=1024)
def cited_guidelines(text: str, rules: Any) -> tuple[tuple[str, ...], tuple[tuple[str, int, int], ...]]:
    """`guideline_tags`, remembered per text: a handful of citations repeat across letters.

    Parameters
    ----------
    text : str
        The `claims_admin_guideline` field.
    rules : SignalRules
        Compiled rules (hashable by identity).

    Returns
    -------
    tuple
        (tags, evidence spans), as tuples (shared: read-only).
    """
    tags, ev = guideline_tags(text, rules)
    return tuple(tags), tuple(ev)


@lru_cache(maxsize=256)
def category_prior(category: str, taxonomy: str | None = None) -> float:
    """logit(1 - uphold_prior) of a category: the domain prior of an overturn, as a feature.

    Parameters
    ----------
    category : str
        A taxonomy category name.
    taxonomy : str or None
        Path of the taxonomy TOML (None: the shipped one).

    Returns
    -------
    float
        The log-odds of an overturn; 0.0 for an unknown category.
    """
    for cat in load_taxonomy(taxonomy):
        if cat.name == category:
            p = min(max(1.0 - cat.uphold_prior, 1e-3), 1 - 1e-3)
            return math.log(p / (1 - p))
    return 0.0


# A dated operation: "underwent ... on 09-14-2016", "s/p L4-5 fusion 10/2016".
_DATED_SURGERY = re.compile(
    r"\b(?:underwent|s/p|status[- ]post|had (?:an? |the |his |her )?(?:\w+ ){0,3}"
    r"(?:surgery|repair|release|fusion|arthroscopy|replacement|decompression|discectomy|microdiscectomy|laminectomy|meniscectomy|reconstruction)|surgery)\b"
    r"[^.;]{0,80}?\b(?:on|in|dated|of)?\s*(\d{1,2})[-/](?:(\d{1,2})[-/])?((?:19|20)\d\d)\b", re.IGNORECASE)
_SUMMARY_DATE = re.compile(r"\b(\d{1,2})[-/](\d{1,2})[-/]((?:19|20)\d\d)\b")


@lru_cache(maxsize=1024)  # the items of a letter share its summary and dates
def recent_dated_surgery(summary: str, ur_denial) -> Evidence:
    """Evidence of an operation dated within POST_SURGICAL_DAYS before the UR denial.

    Parameters
    ----------
    summary : str
        The case summary.
    ur_denial : date, str or None
        The UR denial date; without it, the latest date the summary names is used.

    Returns
    -------
    list
        The `(field, start, end)` spans of the recent dated operations (empty: none).
    """
    found = []
    for m in _DATED_SURGERY.finditer(summary):
        month, day, year = int(m.group(1)), int(m.group(2) or 1), int(m.group(3))
        try:
            found.append((date(year, month, day), m.start(), m.end()))
        except ValueError:  # no such day (13/40/2015): not a date, so not a dated operation
            continue
    if not found:
        return []
    ref = as_date(ur_denial)
    if ref is None:
        dates = []
        for m in _SUMMARY_DATE.finditer(summary):
            try:
                dates.append(date(int(m.group(3)), int(m.group(1)), int(m.group(2))))
            except ValueError:  # no such day: it cannot date the letter
                continue
        ref = max(dates, default=None)
    if ref is None:
        return []
    return [("summary", a, b) for d, a, b in found if 0 <= (ref - d).days <= POST_SURGICAL_DAYS]
