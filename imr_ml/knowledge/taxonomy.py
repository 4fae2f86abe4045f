"""Domain knowledge kept as data in `features/` (TOML a clinician can read and extend).

The files ship inside the wheel as the `imr_ml.domain` package; a user may point to
their own copy of any of them instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from imr_ml.knowledge.medication import read_medication
from imr_ml.knowledge.schema import COMPARISON
from imr_ml.knowledge.validate import compiling, read_knowledge
from imr_ml.knowledge.vocabulary import load_vocabulary
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
    before_drugs: bool = False  # its terms win over a drug the item names ("post-op Norco", "lidocaine injection")

    @property
    def overturn_rate(self) -> float:
        return 1.0 - self.uphold_prior


@lru_cache(maxsize=8)
def load_taxonomy(path: str | None = None) -> tuple[Category, ...]:
    """Categories in match order (first match wins). A category's terms also hold the words
    of the services `abbreviations.toml` files under it ("TPI" is an injection)."""
    data = load_toml("taxonomy.toml", path)
    services = tuple(load_vocabulary().services.values())
    with compiling("taxonomy.toml", path):
        return tuple(_category(c, services) for c in data["category"])


@dataclass(frozen=True)
class Fallback:
    """Word shapes of a kind of service (a surgical suffix, a word of testing), read only
    when no category's terms match: a service nobody listed still gets its kind's rate and
    rules instead of none."""

    category: str
    pattern: AnyCase


@lru_cache(maxsize=8)
def load_fallbacks(path: str | None = None) -> tuple[Fallback, ...]:
    """The `[[fallback]]` entries of the taxonomy, in the order they are tried."""
    data = load_toml("taxonomy.toml", path)
    with compiling("taxonomy.toml", path):
        return tuple(Fallback(f["category"], _any_of(f["terms"]))
                     for f in data.get("fallback", ()))


def _any_of(terms) -> AnyCase:
    """One case-insensitive pattern matching any of a list's terms (each kept whole)."""
    return AnyCase("|".join(f"(?:{t})" for t in terms))


def _category(c: dict, services) -> Category:
    """A category; its terms also hold the words of the services filed under it."""
    terms = [*c["terms"], *(s.words for s in services if s.category == c["name"])]
    return Category(name=c["name"], label=c["label"], pattern=_any_of(terms),
                    guideline=c.get("guideline", ""), uphold_prior=float(c["uphold_prior"]),
                    n_prior=int(c.get("n_prior", 20)), examples=tuple(c.get("examples", ())),
                    uphold_source=c["uphold_source"], before_drugs=bool(c.get("before_drugs", False)))


def _before_drug(cat: Category, item: str, med) -> bool:
    """Whether `cat` (a `before_drugs` category) claims an item naming a drug: its terms
    match first a word other than the injection words of a drug given systemically."""
    m = cat.pattern.search(item)
    if m is None or not med.systemic:
        return m is not None
    return not any(f.words.fullmatch(m.group()) for f in load_vocabulary().forms if f.route == "injection")


@lru_cache(maxsize=8192)
def categorize(item: str, path: str | None = None) -> str:
    """The treatment category of a disputed item's text (remembered: items repeat).

    An item naming a drug of the vocabulary (`features/drugs.toml`) is in its drug's category
    whatever name it uses (brand, generic, abbreviation), unless a category marked
    `before_drugs` matches first (a perioperative service, an injection, a drug test) by
    words other than the dose form of a drug given for a whole-body effect ("Toradol 60 mg
    IM injection" is an NSAID, "post-op Toradol IM" perioperative, "lidocaine trigger point
    injection" an injection); any other item is in the first category whose terms match, and
    when none does (before "other", which comes last), in the first fallback's whose word
    shapes match ("septoplasty" is surgery by its suffix)."""
    cats = load_taxonomy(path)
    med = read_medication(item or "")
    if med is not None and any(c.name == med.category for c in cats):
        return next((c.name for c in cats if c.before_drugs and _before_drug(c, item, med)), med.category)
    text = item or ""
    for cat in cats:
        if cat.name == "other":
            break
        if cat.pattern.search(text):
            return cat.name
    return next((f.category for f in load_fallbacks(path) if f.pattern.search(text)), "other")


def conditions_hold(conditions: Iterable[tuple[str, Callable[[object], bool]]], values: Mapping) -> bool:
    """Whether every (signal name, predicate) of `conditions` holds for `values` (a plain
    loop: scoring tests some hundred conditions a request)."""
    get = values.get
    for name, test in conditions:
        if not test(get(name)):
            return False
    return True


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
