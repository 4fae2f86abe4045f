"""The surgery a request is about, and what the guidelines fix for it: the MTUS post-surgical
course of physical medicine (8 CCR 9792.24.3: a general course of visits, of which the
initial course is half), ODG's hospital length-of-stay target and whether ODG counts it a
complex operation (an assistant surgeon). The table is `[surgery.*]` of `signals.toml`.

The surgery is looked for in the item ("Post-op PT after carpal tunnel release"), then in the
other items of the same application (the surgery a perioperative service belongs to), then in
the summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from imr_ml.text.anycase import AnyCase

Evidence = list[tuple[str, int, int]]


@dataclass(frozen=True)
class Surgery:
    """One row of the `[surgery]` table.

    Parameters
    ----------
    name : str
        Its key (`lumbar_fusion`).
    pattern : AnyCase
        How an item or a summary names it.
    postsurgical_visits : int or None
        The MTUS general course of post-surgical physical medicine, in visits.
    los_days : int or None
        ODG's best-practice hospital stay without complications, in days (0: outpatient).
    complexity : str or None
        "complex" or "simple" (ODG, surgical assistant), None when the table does not say.
    """

    name: str
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
        out.append(Surgery(name=name, pattern=AnyCase(row["pattern"]),
                           postsurgical_visits=row.get("postsurgical_visits"), los_days=row.get("los_days"),
                           complexity=None if complex_ is None else ("complex" if complex_ else "simple")))
    return tuple(out)


@lru_cache(maxsize=2048)  # the items of a letter share its summary and other items
def named_surgery(item: str, other_items: str, summary: str, rules: Any) -> tuple[Surgery | None, Evidence]:
    """The surgery a request is about: the first table row named by the item, else by the
    other items, else by the summary.

    Parameters
    ----------
    item, other_items, summary : str
        The row's texts.
    rules : SignalRules
        Compiled rules (hashable by identity) with their `surgeries`.

    Returns
    -------
    tuple
        (the Surgery or None, its evidence span).
    """
    for field, text in (("item", item), ("other_items", other_items), ("summary", summary)):
        if not text:
            continue
        for surgery in rules.surgeries:
            m = surgery.pattern.search(text)
            if m is not None:
                return surgery, [(field, m.start(), m.end())]
    return None, []
