"""The vocabulary of `features/drugs.toml` and `features/abbreviations.toml`: one ingredient
per drug whatever the name a request uses, and the abbreviations of services, body regions
and qualifiers, validated on load and compiled once.

Everything that reads drug names reads them here, so that a brand, its generic and its
abbreviation are one drug everywhere: the item's category and structured fields
(`imr_ml.knowledge.medication`) and the summary's patterns, which may write `{drugs:opioid}`,
`{service:epidural}` or `{qualifier:bilateral}` and have it expanded (`expand`, `expand_all`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from imr_ml.knowledge.shorthand import Shorthand, compile_shorthand
from imr_ml.knowledge.validate import read_knowledge
from imr_ml.knowledge.vocabulary_schema import TOPICAL_STATUSES, name_key

__all__ = ["TOPICAL_STATUSES", "Drug", "DrugClass", "Entry", "Form", "Term", "Vocabulary", "VocabularyError",
           "load_vocabulary", "name_key", "name_regex"]

# What each table may hold (anything else is refused: a misspelt key would silently change
# nothing, or everything).
_PLACEHOLDER = re.compile(r"\{(drugs|service|qualifier|change):([a-z0-9_*,]+)\}")
_CHUNK = 50  # names per generated alternation: more would defeat the matcher's literal prefilter
_SEPARATORS = re.compile(r"[\s/\-]+")
_WORDS = re.compile(r"[a-z0-9]+")


class VocabularyError(ValueError):
    """A placeholder naming no class, service or qualifier of the vocabulary."""


@dataclass(frozen=True)
class DrugClass:
    name: str
    label: str
    category: str
    guideline: str
    words: str | None  # the summary's general words for drugs of the class ("narcotics")
    rank: int  # precedence: a product's class is its ingredients' class of lowest rank
    local_injection: bool  # injected into a joint, nerve or trigger point as a procedure (lidocaine, steroids)
    contraindications: tuple[str, ...] = ()  # signals naming conditions that argue against the class
    duplicate_signal: str | None = None  # the signal of current use of a drug of the class


@dataclass(frozen=True)
class Form:
    name: str
    route: str
    words: re.Pattern
    compounded: bool
    weak: bool
    systemic: bool  # given for a whole-body effect (IM, IV, SQ): a medication, not an injection procedure


@dataclass(frozen=True)
class Drug:
    ingredient: str
    drug_class: str
    classes: tuple[str, ...]  # its class first, then `other_classes`
    names: tuple[str, ...]  # every name: the ingredient, other generic names, brands
    routes: tuple[str, ...]
    mtus: str | None
    topical: str | None
    topical_form: str | None
    contraindications: tuple[str, ...] = ()  # signals: conditions that argue against this ingredient


@dataclass(frozen=True)
class Entry:
    """What a name stands for: its ingredients and, for a product, its route and form."""

    ingredients: tuple[str, ...]
    route: str | None = None
    form: str | None = None
    compounded: bool = False


@dataclass(frozen=True)
class Term:
    """A service, region or qualifier of `abbreviations.toml`."""

    name: str
    category: str | None
    means: dict[str, str]
    words: str


@dataclass(frozen=True, eq=False)
class Vocabulary:
    classes: dict[str, DrugClass]
    routes: dict[str, dict]
    compounded: dict[str, str]
    forms: tuple[Form, ...]
    medication_words: str  # words naming any medication ("medications", "meds")
    drugs: dict[str, Drug]
    products: tuple[tuple[tuple[str, ...], Entry], ...]  # (names as written, what they stand for)
    entries: dict[str, Entry]  # name key (`name_key`) -> what it stands for
    services: dict[str, Term]
    regions: dict[str, Term]
    qualifiers: dict[str, Term]
    names_rx: re.Pattern  # every name, longest first, on lower-cased text
    openings: frozenset[str]  # the first run of letters and digits of every name
    shorthand: Shorthand  # plain words of patterns that also match their shorthand ("sx")

    def may_name_a_drug(self, low: str) -> bool:
        """Whether a lower-cased text has a word some name opens with (a cheap test before
        `names_rx`: most items name no drug).

        Parameters
        ----------
        low : str
            Lower-cased text.

        Returns
        -------
        bool
            False when no name can match.
        """
        return not self.openings.isdisjoint(_WORDS.findall(low))

    def names_of(self, classes: Iterable[str]) -> list[str]:
        """Every name (generic, brand, product) of a drug of these classes ("*": all),
        including the products that contain one.

        Parameters
        ----------
        classes : iterable of str
            Class names, or "*".

        Returns
        -------
        list of str
            The names, lower case, longest first.
        """
        wanted = set(classes)
        unknown = wanted - set(self.classes) - {"*"}
        if unknown:
            raise VocabularyError(f"drugs.toml: no drug class {sorted(unknown)[0]!r} "
                                  f"(known: {', '.join(self.classes)})")
        hit = {d.ingredient for d in self.drugs.values() if "*" in wanted or wanted & set(d.classes)}
        names = {n.lower() for d in self.drugs.values() if d.ingredient in hit for n in d.names}
        names |= {n.lower() for ns, e in self.products if hit & set(e.ingredients) for n in ns}
        return sorted(names, key=lambda n: (-len(n), n))

    def entry(self, matched: str) -> Entry:
        """What a name matched by `names_rx` stands for.

        Parameters
        ----------
        matched : str
            The matched text.

        Returns
        -------
        Entry
            Its ingredients (and route, form, compounded for a product).
        """
        return self.entries[name_key(matched)]

    def expand(self, pattern: str) -> str:
        """A pattern with each `{drugs:...}`, `{service:...}`, `{qualifier:...}` replaced by
        the alternation it stands for, and its plain words also matching their shorthand.

        Parameters
        ----------
        pattern : str
            A regular expression, possibly with placeholders.

        Returns
        -------
        str
            The expanded expression.
        """
        pattern = self.shorthand.apply(pattern)
        return _PLACEHOLDER.sub(lambda m: "(?:" + "|".join(self._alternatives(m.group(1), m.group(2))) + ")", pattern)

    def expand_all(self, patterns: Iterable[str]) -> list[str]:
        """`expand` each pattern; one with a single `{drugs:...}` becomes several patterns of
        at most 50 names each, which the matcher still finds by their opening words.

        Parameters
        ----------
        patterns : iterable of str
            Regular expressions.

        Returns
        -------
        list of str
            The expanded expressions.
        """
        out: list[str] = []
        for p in patterns:
            found = list(_PLACEHOLDER.finditer(p))
            if len(found) == 1 and found[0].group(1) == "drugs":
                alts = self._alternatives(found[0].group(1), found[0].group(2))
                p = self.shorthand.apply(p)
                m = _PLACEHOLDER.search(p)
                assert m is not None  # the placeholder has no plain word to rewrite
                out.extend(p[:m.start()] + "(?:" + "|".join(alts[i:i + _CHUNK]) + ")" + p[m.end():]
                           for i in range(0, len(alts), _CHUNK))
            else:
                out.append(self.expand(p))
        return out

    def _alternatives(self, kind: str, names: str) -> list[str]:
        keys = names.split(",")
        if kind == "change":
            return number_change(names)
        if kind == "drugs":
            return [name_regex(n) for n in self.names_of(keys)]
        table = self.services if kind == "service" else self.qualifiers
        missing = [k for k in keys if k not in table]
        if missing:
            raise VocabularyError(f"abbreviations.toml: no {kind} {missing[0]!r} (known: {', '.join(table)})")
        return [table[k].words for k in keys]


# "20 -> 60", "10 lb -> 25 lb", "50 deg --> 70": a measure written before and after, with an arrow
_UNIT = r"(?:\s?(?:/\s?10|%|[a-z]{1,7}\.?))?"
_ARROW = r"\s?(?:-+>|\u2192|=>)\s?"


def number_change(direction: str) -> list[str]:
    """`{change:rise}` / `{change:fall}`: a measure written as two whole numbers of up to three
    digits with an arrow between them ("sitting 20 -> 60 min"), the second larger (rise) or
    smaller (fall); `{change:halved}`: a 0-10 score that fell to half or less ("8/10 -> 3/10",
    "from 9 to 4"). A regular expression cannot compare numbers, so the comparison is spelt out:
    more digits, or as many digits and a larger first digit (20 -> 25 is not read).

    Parameters
    ----------
    direction : str
        "rise", "fall" or "halved".

    Returns
    -------
    list of str
        The alternatives.
    """
    if direction == "halved":  # a 0-10 pain score at most half what it was ("8/10 -> 3/10", "from 9 to 4")
        return [rf"(?<![/\d.]){a}{_UNIT}(?:{_ARROW}|\s(?:to|down to)\s){b}(?![\d.])" for a in range(2, 11)
                for b in range(0, a // 2 + 1)]
    if direction not in ("rise", "fall"):
        raise VocabularyError(f"{{change:{direction}}}: a change is 'rise', 'fall' or 'halved'")
    pairs = [(r"\d", r"[1-9]\d\d?"), (r"[1-9]\d", r"[1-9]\d\d")]  # (fewer digits, more digits)
    for rest in ("", r"\d", r"\d\d"):
        pairs += [(f"{d}{rest}", f"[{d + 1}-9]{rest}") for d in range(0 if not rest else 1, 9)]
    return [rf"(?<![/\d.]){a}{_UNIT}{_ARROW}{b}\b" if direction == "rise" else rf"(?<![/\d.]){b}{_UNIT}{_ARROW}{a}\b"
            for a, b in pairs]


def name_regex(name: str) -> str:
    """The lower-case regex of a name: its words in order, any of space, hyphen or slash
    (or none) between them.

    Parameters
    ----------
    name : str
        A drug or product name.

    Returns
    -------
    str
        A regular expression without boundaries.
    """
    return r"[\s/-]*".join(re.escape(t) for t in _SEPARATORS.split(name.lower().strip()) if t)


# --------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------


def _classes(data: Mapping) -> dict[str, DrugClass]:
    return {name: DrugClass(name, t.get("label", name), t["category"], t.get("guideline", ""), t.get("words"), rank,
                           bool(t.get("local_injection", False)), tuple(t.get("contraindications", ())),
                           t.get("duplicate_signal"))
            for rank, (name, t) in enumerate(data.get("class", {}).items())}


def _forms(data: Mapping) -> tuple[Form, ...]:
    return tuple(Form(name, t["route"], re.compile(t["words"], re.IGNORECASE), bool(t.get("compounded", False)),
                      bool(t.get("weak", False)), bool(t.get("systemic", False)))
                 for name, t in data.get("form", {}).items())


def _drug(t: Mapping) -> Drug:
    return Drug(t["ingredient"], t["class"], (t["class"], *t.get("other_classes", ())),
                (t["ingredient"], *t.get("names", ()), *t.get("brands", ())), tuple(t.get("routes") or ("oral",)),
                t.get("mtus"), t.get("topical"), t.get("topical_form"), tuple(t.get("contraindications", ())))


def _entries(drugs: Mapping[str, Drug], products: Iterable[tuple[tuple[str, ...], Entry]]) -> dict[str, Entry]:
    """{name key: entry} (the schema has checked that a name stands for one thing)."""
    out = {name_key(n): Entry((d.ingredient,)) for d in drugs.values() for n in d.names}
    return out | {name_key(n): e for names, e in products for n in names}


def _terms(data: Mapping, kind: str) -> dict[str, Term]:
    return {name: Term(name, t.get("category"), dict(t.get("means", {})), t["words"])
            for name, t in data.get(kind, {}).items()}


@lru_cache(maxsize=4)
def load_vocabulary(drugs: str | None = None, abbreviations: str | None = None) -> Vocabulary:
    """The vocabulary of the shipped files (or of the given paths), validated and compiled.

    Parameters
    ----------
    drugs, abbreviations : str or None
        Paths of a drugs / abbreviations TOML; None: the shipped ones.

    Returns
    -------
    Vocabulary
        One object per pair of files.
    """
    data = read_knowledge("drugs.toml", drugs)  # checked: keys, classes, routes, forms, one meaning per name
    abbr = read_knowledge("abbreviations.toml", abbreviations)
    drug_list = [_drug(t) for t in data.get("drug", [])]
    by_ingredient = {d.ingredient: d for d in drug_list}
    products = tuple((tuple(t["names"]), Entry(tuple(t["ingredients"]), t.get("route"), t.get("form"),
                                               bool(t.get("compounded", False))))
                     for t in data.get("product", []))
    names = sorted({n.lower() for d in drug_list for n in d.names} | {n.lower() for ns, _ in products for n in ns},
                   key=lambda n: (-len(n), n))
    return Vocabulary(
        classes=_classes(data), routes={k: dict(v) for k, v in data.get("route", {}).items()},
        compounded=dict(data.get("compounded", {})), forms=_forms(data),
        medication_words=data.get("medication_words", {}).get("words", r"\bmedications?\b"),
        drugs=by_ingredient, products=products, entries=_entries(by_ingredient, products),
        services=_terms(abbr, "service"),
        regions=_terms(abbr, "region"),
        qualifiers=_terms(abbr, "qualifier"),
        names_rx=re.compile(r"(?<![a-z0-9])(?:" + "|".join(name_regex(n) for n in names) + r")(?![a-z0-9])"),
        openings=frozenset(_WORDS.match(n).group() for n in names),  # type: ignore[union-attr]
        shorthand=compile_shorthand(abbr.get("shorthand", {})))

