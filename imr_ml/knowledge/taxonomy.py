"""Domain knowledge kept as data in `features/` (TOML a clinician can read and extend).

The files ship inside the wheel as the `imr_ml.domain` package; a user may point to
their own copy of any of them instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from imr_ml.knowledge.schema import COMPARISON
from imr_ml.knowledge.validate import compiling, read_knowledge
from imr_ml.text.anycase import AnyCase


def load_toml(name: str, path: str | Path | None = None) -> dict:
    """Read `features/<name>` (or the user's `path`), as a dict, refused (`KnowledgeError`,
    with `file:line`) unless it fits the schema of its kind (`imr_ml.knowledge.schema`)."""
    return read_knowledge(name, path)


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    pattern: AnyCase
    guideline: str
    uphold_prior: float
    n_prior: int
    examples: tuple[str, ...]
    uphold_source: str = ""  # "published: ..." or "assumed: ..."

    @property
    def overturn_rate(self) -> float:
        return 1.0 - self.uphold_prior


@lru_cache(maxsize=8)
def load_taxonomy(path: str | None = None) -> tuple[Category, ...]:
    """Categories in match order (first match wins)."""
    data = load_toml("taxonomy.toml", path)
    with compiling("taxonomy.toml", path):
        return tuple(_category(c) for c in data["category"])


def _category(c: dict) -> Category:
    return Category(name=c["name"], label=c["label"], pattern=AnyCase("|".join(f"(?:{t})" for t in c["terms"])),
                    guideline=c.get("guideline", ""), uphold_prior=float(c["uphold_prior"]),
                    n_prior=int(c.get("n_prior", 20)), examples=tuple(c.get("examples", ())),
                    uphold_source=c["uphold_source"])


@lru_cache(maxsize=8192)
def categorize(item: str, path: str | None = None) -> str:
    """The treatment category of a disputed item's text (remembered: items repeat)."""
    for cat in load_taxonomy(path):
        if cat.pattern.search(item or ""):
            return cat.name
    return "other"


def condition(cond) -> Callable[[object], bool]:
    """A condition written in the knowledge files (`hints.toml`, `guidelines.toml`) as a
    predicate on a signal's value: `true`/`false` (fired or not), `">6"`/`"<1"`/`"=0"`
    (a number the signal gave; none counts as 0), or a list (the value is one of these; a
    list value, such as body regions, needs one of its entries to be)."""
    if isinstance(cond, bool):
        return lambda value: bool(value) is cond
    if isinstance(cond, list):
        allowed = frozenset(cond)
        return lambda value: (not allowed.isdisjoint(value)) if isinstance(value, list | tuple | set) \
            else value in allowed
    m = COMPARISON.match(str(cond))
    if not m:  # the schema refuses any other condition when the file is read
        raise ValueError(f"{cond!r} is no condition")
    op, num = m.group(1), float(m.group(2))
    compare = {"<": float.__lt__, ">": float.__gt__, "=": float.__eq__}[op]
    return lambda value: compare(float(value or 0), num)  # type: ignore[arg-type]  # a signal's number
