"""The shape of the drug and service vocabulary: `features/drugs.toml` (drug classes, routes,
dose forms, drugs by ingredient, products by name) and `features/abbreviations.toml`
(services, body regions and qualifiers as providers abbreviate them).

Apart from `schema` for its length; `SCHEMAS` there lists these two like every other file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from imr_ml.knowledge.errors import did_you_mean

Loc = tuple[str | int, ...]
TOPICAL_STATUSES = ("recommended", "unaddressed", "second_line", "not_recommended")  # MTUS, best to worst


def _named(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", name):
        raise ValueError(f"{name!r} is not a name: use lower-case words joined by single underscores")
    return name


def _pattern(pattern: str) -> str:  # a vocabulary pattern is compiled when read (VocabularyError otherwise)
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return pattern


Name = Annotated[str, AfterValidator(_named)]
Regex = Annotated[str, AfterValidator(_pattern)]
Names = Annotated[list[str], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


class Words(_Strict):
    words: Regex


class DrugClass(_Strict):
    label: str = ""
    category: str
    guideline: str = ""
    words: Regex | None = None
    local_injection: bool = False
    contraindications: list[Name] = []
    duplicate_signal: Name | None = None


class Route(_Strict):
    label: str = ""
    category: str | None = None


class Form(_Strict):
    route: str
    words: Regex
    compounded: bool = False
    weak: bool = False
    systemic: bool = False


class Drug(_Strict):
    ingredient: str
    drug_class: str = Field(alias="class")
    other_classes: list[str] = []
    names: list[str] = []
    brands: list[str] = []
    routes: list[str] = []
    mtus: Literal["exempt", "non-exempt"] | None = None
    topical: Literal[TOPICAL_STATUSES] | None = None  # type: ignore[valid-type]  # the statuses, unpacked
    topical_form: str | None = None
    contraindications: list[Name] = []


class Product(_Strict):
    names: Names
    ingredients: Names
    route: str | None = None
    form: str | None = None
    compounded: bool = False


class DrugsFile(_Strict):
    medication_words: Words | None = None
    drug_class: dict[Name, DrugClass] = Field(default={}, alias="class")
    route: dict[Name, Route] = {}
    compounded: dict[str, str] = {}
    form: dict[Name, Form] = {}
    drug: list[Drug] = []
    product: list[Product] = []


class Term(_Strict):
    category: str | None = None
    means: dict[str, str] = {}
    words: Regex


def _plain(words: str) -> str:
    """Refuse a `[shorthand]` key that is not plain lower-case words (it is found literally in patterns)."""
    if not re.fullmatch(r"[a-z]+(?:[ -][a-z]+)*", words):
        raise ValueError(f"{words!r}: a shorthand key is plain lower-case words, as patterns write them")
    return words


class AbbreviationsFile(_Strict):
    service: dict[Name, Term] = {}
    region: dict[Name, Term] = {}
    qualifier: dict[Name, Term] = {}
    shorthand: dict[Annotated[str, AfterValidator(_plain)], Regex] = {}


def _refs(loc: Loc, what: str, names: list[str] | str | None, known) -> Iterator[tuple[Loc, str]]:
    """Problems of the names (a list, or one value) that `known` lacks."""
    listed = names if isinstance(names, list) else [] if names is None else [names]
    for j, name in enumerate(listed):
        if name not in known:
            at = (*loc, j) if isinstance(names, list) else loc
            yield at, f"{loc[-1]}: unknown {what} {name!r}{did_you_mean(str(name), [str(k) for k in known])}"


def name_key(name: str) -> str:
    """A drug or product name as the vocabulary files it (lower case, no space, hyphen or
    slash: "HC-APAP" = "hc/apap")."""
    return re.sub(r"[\s/\-]+", "", name.lower())


def drugs_checks(data: dict) -> Iterator[tuple[Loc, str]]:
    """What `drugs.toml` says about itself: classes, routes, forms and ingredients it names
    exist; an ingredient is listed once; a name stands for one thing."""
    classes, routes, forms = data.get("class", {}), data.get("route", {}), data.get("form", {})
    for name, form in forms.items():
        yield from _refs(("form", name, "route"), "route", form["route"], routes)
    for route in data.get("compounded", {}):
        yield from _refs(("compounded", route), "route", route, routes)
    meaning: dict[str, object] = {}
    seen: set[str] = set()
    for i, drug in enumerate(data.get("drug", [])):
        if drug["ingredient"] in seen:
            yield ("drug", i, "ingredient"), f"the ingredient {drug['ingredient']!r} is listed twice"
        seen.add(drug["ingredient"])
        yield from _refs(("drug", i, "class"), "class", drug["class"], classes)
        yield from _refs(("drug", i, "other_classes"), "class", drug.get("other_classes", []), classes)
        yield from _refs(("drug", i, "routes"), "route", drug.get("routes", []), routes)
        yield from _refs(("drug", i, "topical_form"), "form", drug.get("topical_form"), forms)
        for name in (drug["ingredient"], *drug.get("names", []), *drug.get("brands", [])):
            yield from _one_meaning(meaning, name, drug["ingredient"], ("drug", i, "ingredient"))
    for i, product in enumerate(data.get("product", [])):
        yield from _refs(("product", i, "ingredients"), "ingredient", product["ingredients"], seen)
        yield from _refs(("product", i, "route"), "route", product.get("route"), routes)
        yield from _refs(("product", i, "form"), "form", product.get("form"), forms)
        entry = (tuple(product["ingredients"]), product.get("route"), product.get("form"), product.get("compounded"))
        for name in product["names"]:
            yield from _one_meaning(meaning, name, entry, ("product", i, "names"))


def _one_meaning(meaning: dict, name: str, entry: object, loc: Loc) -> Iterator[tuple[Loc, str]]:
    key = name_key(name)
    if key in meaning and meaning[key] != entry:
        yield loc, f"the name {name!r} already stands for {meaning[key]!r}"
    meaning.setdefault(key, entry)
