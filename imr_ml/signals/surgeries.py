"""The surgery a request is about, and what the guidelines fix for it: the MTUS post-surgical
course of physical medicine (8 CCR 9792.24.3: a general course of visits, of which the
initial course is half), ODG's hospital length-of-stay target and whether ODG counts it a
complex operation (an assistant surgeon). The table is `[surgery.*]` of `signals.toml`.

The surgery is looked for in the item ("Post-op PT after carpal tunnel release"), then in the
other items of the same application (the surgery a perioperative service belongs to), then in
the summary (whose document finds the table's patterns with every other matcher).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from imr_ml.text.anycase import AnyCase
from imr_ml.text.document import Document
from imr_ml.text.matcher import Matcher

Evidence = list[tuple[str, int, int]]


@dataclass(frozen=True, eq=False)  # hashed by identity: a compiled table is one object
class Surgery:
    """One row of the `[surgery]` table.

    Parameters
    ----------
    name : str
        Its key (`lumbar_fusion`).
    matcher : Matcher
        How a summary names it (its document finds it with the engine's other matchers).
    pattern : AnyCase
        The same, for a short text (an item, the other items): one search.
    postsurgical_visits : int or None
        The MTUS general course of post-surgical physical medicine, in visits.
    los_days : int or None
        ODG's best-practice hospital stay without complications, in days (0: outpatient).
    complexity : str or None
        "complex" or "simple" (ODG, surgical assistant), None when the table does not say.
    """

    name: str
    matcher: Matcher
    pattern: AnyCase
    postsurgical_visits: int | None
    los_days: int | None
    complexity: str | None


def compile_surgeries(table: Mapping[str, Mapping]) -> tuple[Surgery, ...]:
    """The `[surgery]` table, compiled (in file order: the first that matches a text wins).

    Parameters
    ----------
    table : mapping
        `[surgery.<name>]` tables with `pattern`, `postsurgical_visits`, `los_days`, `complex`.

    Returns
    -------
    tuple of Surgery
        The rows.
    """
    out = []
    for name, row in table.items():
        complex_ = row.get("complex")
        out.append(Surgery(name=name, matcher=Matcher([row["pattern"]]), pattern=AnyCase(row["pattern"]),
                           postsurgical_visits=row.get("postsurgical_visits"), los_days=row.get("los_days"),
                           complexity=None if complex_ is None else ("complex" if complex_ else "simple")))
    return tuple(out)


def first_in_document(doc: Document, surgeries: tuple[Surgery, ...]) -> tuple[str | None, Evidence]:
    """The first table row (in file order) a summary names, from the spans its document found
    with every other matcher (the table's matchers are among the engine's).

    Parameters
    ----------
    doc : Document
        The summary.
    surgeries : tuple of Surgery
        The table.

    Returns
    -------
    tuple
        (the row's name or None, its evidence span).
    """
    for surgery in surgeries:
        spans = doc.spans(surgery.matcher) if doc.may_match(surgery.matcher) else None
        if spans:
            return surgery.name, [("summary", *spans[0])]
    return None, []


@lru_cache(maxsize=4096)  # items repeat; the items of a letter share its other items
def _first_named(text: str, surgeries: tuple[Surgery, ...]) -> tuple[Surgery | None, tuple[int, int]]:
    """The first table row (in file order) that a short text names, and where."""
    for surgery in surgeries:
        m = surgery.pattern.search(text)
        if m is not None:
            return surgery, m.span()
    return None, (0, 0)


def named_surgery(item: str, other_items: str, in_summary: tuple[str | None, tuple[int, int] | None],
                  surgeries: tuple[Surgery, ...]) -> tuple[Surgery | None, tuple[tuple[str, int, int], ...]]:
    """The surgery a request is about: the first table row named by the item, else by the
    other items, else by the summary.

    Parameters
    ----------
    item, other_items : str
        The row's texts.
    in_summary : tuple
        (name, span) of `first_in_document` of the summary (None, None when it names none).
    surgeries : tuple of Surgery
        The table of the compiled rules.

    Returns
    -------
    tuple
        (the Surgery or None, its evidence spans).
    """
    for field, text in (("item", item), ("other_items", other_items)):
        if text and surgeries:
            surgery, span = _first_named(text, surgeries)
            if surgery is not None:
                return surgery, ((field, *span),)
    name, where = in_summary
    found = next((s for s in surgeries if s.name == name), None)
    return found, ((("summary", *where),) if found is not None and where else ())


def clear_surgery_memo() -> None:
    """Forget the texts read (with the other memos, to time a cold run)."""
    _first_named.cache_clear()
