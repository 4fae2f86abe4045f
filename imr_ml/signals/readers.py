"""Readers of structured values in a row's text: counts, dates, guideline tags, a category's
prior. They take compiled rules (`imr_ml.signals.rules.load_rules`) and never load them, so
that both the text analysis and the field registry (`imr_ml.signals.fields`) can use them.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import date
from functools import lru_cache
from typing import Any

from imr_ml.dates import as_date
from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.text.document import sentence_ends
from imr_ml.text.matcher import lower_text
from imr_ml.text.numbers import parse_number
from imr_ml.text.timex import time_expressions

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


def reference_date(ur_denial) -> date:
    """The date a request is judged at: the UR denial date, or today for a request typed
    without one (a provider's office checking a request before submitting it).

    Parameters
    ----------
    ur_denial : date, str or None
        The UR denial date.

    Returns
    -------
    datetime.date
        The reference date.
    """
    return as_date(ur_denial) or date.today()


_GAP = 60  # the most characters between an operation and the time expression that dates it


def _nearest(expressions, a: int, b: int, lo: int, hi: int):
    """The expression in [lo, hi) closest to the span (a, b), within _GAP characters."""
    best, best_gap = None, _GAP + 1
    for x in expressions:
        if x.start < lo or x.end > hi:
            continue
        gap = max(x.start - b, a - x.end, 0)
        if gap < best_gap:
            best, best_gap = x, gap
    return best


@lru_cache(maxsize=1024)  # the items of a letter share its summary and dates
def surgery_days(summary: str, operations: tuple[tuple[int, int], ...], ref: date,
                 abbreviations: frozenset[str] = frozenset(),
                 final: frozenset[str] = frozenset()) -> tuple[int | None, tuple[tuple[str, int, int], ...]]:
    """Days from the latest operation the summary times to the reference date.

    Each operation mention (the `prior_surgery` / `recent_surgery` evidence) takes the
    nearest time expression of its sentence ("TKA 5 days ago", "a knee reconstruction done
    this week", "s/p fusion 10/2016", "POD 3", "6 weeks post-op"); a year alone counts from
    its last day.

    Parameters
    ----------
    summary : str
        The case summary.
    operations : tuple of (int, int)
        Spans of the operation mentions.
    ref : datetime.date
        The reference date (`reference_date`).
    abbreviations : frozenset of str
        Abbreviations whose period ends no sentence.
    final : frozenset of str
        Of those, the ones whose period ends a sentence before a capital (`sentence_ends`).

    Returns
    -------
    tuple
        (days or None, the `(field, start, end)` spans of the operation and its time).
    """
    if not operations:
        return None, ()
    low = lower_text(summary)
    ends = sentence_ends(summary, abbreviations, final)
    best: tuple[int | None, tuple] = (None, ())
    sentences: dict[tuple[int, int], list] = {}  # only the operations' sentences are read
    for a, b in operations:
        i = bisect_right(ends, a)
        lo, hi = (ends[i - 1] + 1 if i else 0), (ends[i] + 1 if i < len(ends) else len(summary))
        expressions = sentences.get((lo, hi))
        if expressions is None:
            expressions = sentences[(lo, hi)] = time_expressions(low, ref, lo, hi)
        x = _nearest(expressions, a, b, lo, hi)
        days = x.days_before(ref) if x is not None else None
        if x is not None and days is not None and (best[0] is None or days < best[0]):
            best = (days, (("summary", a, b), ("summary", x.start, x.end)) if (x.start, x.end) != (a, b)
                    else (("summary", a, b),))
    return best
