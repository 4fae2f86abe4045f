"""What each knowledge file of `features/` may say: one pydantic model per file.

Every table forbids keys it does not declare, so a misspelt key (`exlcude`) is refused
instead of silently ignored; types are strict (a window of "8" is not 8); a regular
expression that does not compile is named (when the loader's compile fails); names that
become feature names are lower-case words joined by underscores.
What one entry says about another (duplicate names, cue sets a signal names) is checked by
`FileSchema.checks`; what one file says about another (signals named in a rule's `when`,
categories) by `imr_ml.signals.check`, which knows the signals a request has.

A new knowledge file is one `FileSchema` in `SCHEMAS`; `load_toml` refuses a file without one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from imr_ml.knowledge.errors import did_you_mean
from imr_ml.knowledge.synth_schema import SynthPhrasesFile, synth_checks
from imr_ml.knowledge.vocabulary_schema import AbbreviationsFile, DrugsFile, drugs_checks
from imr_ml.schema import PRE_DECISION

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]  # where in the parsed file, and what is wrong there


class Strict(BaseModel):
    """A table of a knowledge file: declared keys only, values of the declared type."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _compiles(pattern: str, info: ValidationInfo) -> str:
    """A pattern that compiles, when asked (`context={"compile": True}`): the loaders compile
    every pattern anyway, so they ask only when their compile failed, to say which one."""
    if info.context and info.context.get("compile"):
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return pattern


def _feature_name(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", name):
        raise ValueError(f"{name!r} is not a name: use lower-case words joined by single underscores "
                         "(it becomes part of a feature name)")
    return name


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    return value


def _sourced(value: str) -> str:
    if not re.match(r"(published|assumed)\b", value):
        raise ValueError("says where the rate comes from: \"published: <report>\" or \"assumed: <why>\"")
    return value


COMPARISON = re.compile(r"^\s*([<>=])\s*(-?\d+(?:\.\d+)?)\s*$")


def _condition(value: Any) -> Any:
    """true/false, a comparison such as ">6", or a list of values (`taxonomy.condition`)."""
    if isinstance(value, bool) or (isinstance(value, str) and COMPARISON.match(value)):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(f"{value!r} is no condition: write true / false, a comparison such as \">6\" or \"=0\", "
                     "or a list of values such as [\"acupuncture\"]")


Regex = Annotated[str, AfterValidator(_compiles)]
Name = Annotated[str, AfterValidator(_feature_name)]
Text = Annotated[str, AfterValidator(_text)]
Condition = Annotated[Any, AfterValidator(_condition)]
Conditions = dict[str, Condition]

# The roles a cue set may declare. "negation" drops a trigger whatever else is near; every
# other role qualifies it (a closer `require` cue wins: `imr_ml.text.negex.keep_target`). A
# role with new behaviour is a name here and a branch there.
CUE_ROLES = ("negation", "hypothetical", "history", "current_use", "medication", "order")


# ----------------------------------------------------------------------------- signals.toml


class Settings(Strict):
    default_window: int | None = Field(default=None, ge=0)
    terminators: list[Regex] = []
    headings: list[Regex] = []  # headings and list labels that open a clause
    forward_terminators: list[Regex] = []  # end the reach of cues before them only ("due to")
    abbreviations: list[str] = []
    sentence_final_abbreviations: list[str] = []  # of those, the ones whose period ends a sentence before a capital


class CueSet(Strict):
    role: str | None = None
    window: int | None = Field(default=None, ge=0)
    pre: list[Regex] = []
    post: list[Regex] = []
    pseudo: list[Regex] = []
    clause_pre: list[Regex] = []
    phrase_pre: list[Regex] = []  # pre cues that are part of a finding: they reach no further than a comma
    comma_bounds: list[Regex] = []  # commas that open a new clause: this set's cues before them stop there


class TextSignal(Strict):
    name: Name
    description: Text
    field: Literal[PRE_DECISION] = "summary"  # type: ignore[valid-type]  # the pre-decision fields, unpacked
    exclude: list[str] = []
    require: list[str] = []
    negated_by: list[str] | None = None
    also_fields: list[Literal[PRE_DECISION]] = []  # type: ignore[valid-type]  # fields a standalone target also counts in
    patterns: list[Regex] = []
    standalone: list[Regex] = []
    negated: list[Regex] = []
    unless: list[Regex] = []


class ItemWords(Strict):
    additional: Regex | None = None
    post_op: Regex | None = None
    retrospective: Regex | None = None
    purchase: Regex | None = None
    rental: Regex | None = None
    hospital_stay: Regex | None = None  # a request for inpatient days
    quantity: list[Regex] = []


class PriorUse(Strict):
    medication_categories: list[str] = []
    skip_words: list[str] = []
    generic_words: list[str] = []
    history_cues: list[str] = []
    exclude_cues: list[str] = []
    count_exclude_cues: list[str] = []


class Surgery(Strict):
    """An operation: the post-surgical therapy and hospital stay the guidelines allow."""

    pattern: Regex
    postsurgical_visits: int | None = Field(default=None, gt=0)
    los_days: int | None = Field(default=None, ge=0)
    complex: bool = False


class SignalsFile(Strict):
    settings: Settings = Settings()
    cues: dict[str, CueSet] = {}
    signal: list[TextSignal] = []
    item: ItemWords = ItemWords()
    trial_max: dict[str, Annotated[int, Field(gt=0)]] = {}
    modality: dict[str, Regex] = {}
    prior: PriorUse = PriorUse()
    region: dict[Name, Regex] = {}
    guideline: dict[Name, Regex] = {}
    surgery: dict[Name, Surgery] = {}


def _signals_checks(data: dict) -> Iterator[Problem]:
    yield from duplicates(data, "signal")
    cues = data.get("cues", {})
    for name, table in cues.items():
        role = table.get("role", name)
        if role not in CUE_ROLES:
            yield ("cues", name, "role"), unknown("role", role, CUE_ROLES)
    for i, spec in enumerate(data.get("signal", [])):
        for key in ("exclude", "require", "negated_by"):
            for ref in spec.get(key) or ():
                if ref not in cues:
                    yield ("signal", i, key), unknown("cue set", ref, cues)
        if not any(spec.get(k) for k in ("patterns", "standalone", "negated")):
            yield ("signal", i, "name"), "has no patterns, standalone or negated patterns: it can never fire"
    settings = data.get("settings", {})
    for word in settings.get("sentence_final_abbreviations", ()):
        if word not in settings.get("abbreviations", ()):
            yield ("settings", "sentence_final_abbreviations"), unknown("abbreviation", word,
                                                                         settings.get("abbreviations", ()))
    for key in ("history_cues", "exclude_cues", "count_exclude_cues"):
        for ref in data.get("prior", {}).get(key, ()):
            if ref not in cues:
                yield ("prior", key), unknown("cue set", ref, cues)
    for j, pattern in enumerate(data.get("item", {}).get("quantity", ())):
        groups = set(re.findall(r"\(\?P<(\w+)>", pattern))
        if not ({"n"} <= groups or {"a", "b"} <= groups):
            yield ("item", "quantity", j), "a quantity pattern names its count (?P<n>...) or (?P<a>...) and (?P<b>...)"


# ----------------------------------------------------------------------------- guidelines.toml


class Prior(Strict):
    signal_sd: float | None = Field(default=None, gt=0)
    field_sd: float | None = Field(default=None, gt=0)
    category_sd: float | None = Field(default=None, gt=0)
    word_sd: float | None = Field(default=None, gt=0)
    intercept_mean: float | None = None
    intercept_sd: float | None = Field(default=None, gt=0)
    category_prior_mean: float | None = None
    category_prior_sd: float | None = Field(default=None, gt=0)


class Rule(Strict):
    name: Name
    label: Text
    when: Conditions = {}
    when_any: list[Conditions] = []
    item: Regex | None = None
    strength: float = Field(allow_inf_nan=False)
    sd: float | None = Field(default=None, gt=0)
    direction: Literal["fixed", "free"] = "free"
    citation: Text


class GuidelinesFile(Strict):
    prior: Prior = Prior()
    rule: list[Rule] = []


def _guidelines_checks(data: dict) -> Iterator[Problem]:
    yield from duplicates(data, "rule")
    for i, rule in enumerate(data.get("rule", [])):
        if not rule.get("when") and not rule.get("when_any") and not rule.get("item"):
            yield ("rule", i, "name"), "has no condition (`when`, `when_any` or `item`): it would fire on every request"


# ----------------------------------------------------------------------------- taxonomy.toml


class Category(Strict):
    name: Name
    label: Text
    terms: list[Regex] = Field(min_length=1)
    guideline: str = ""
    uphold_prior: float = Field(gt=0, lt=1)
    uphold_source: Annotated[str, AfterValidator(_sourced)]
    n_prior: int | None = Field(default=None, gt=0)
    before_drugs: bool = False  # its terms win over a drug the item names ("post-op Norco")
    examples: list[str] = []


class Fallback(Strict):
    category: Name
    terms: list[Regex] = Field(min_length=1)
    why: Text


class TaxonomyFile(Strict):
    category: list[Category] = Field(min_length=1)
    fallback: list[Fallback] = []


def _taxonomy_checks(data: dict) -> Iterator[Problem]:
    yield from duplicates(data, "category")
    names = [c.get("name") for c in data.get("category", []) if isinstance(c, dict)]
    if data.get("category") and "other" not in names:
        yield ("category",), "no category is named 'other': items that match no category need its rate"
    elif names and names[-1] != "other":
        yield ("category", len(names) - 1, "name"), "'other' must be the last category: it takes what no other takes"
    for i, fb in enumerate(data.get("fallback", [])):
        if isinstance(fb, dict) and (fb.get("category") not in names or fb.get("category") == "other"):
            yield ("fallback", i, "category"), f"names no category of this file: {fb.get('category')!r}"


# ----------------------------------------------------------------------------- hints.toml


class Hint(Strict):
    when: Conditions = Field(min_length=1)
    item: Regex | None = None
    text: Text


class Check(Strict):
    """One line of a service's documentation checklist (`imr_ml.scoring.hints`)."""

    when: Conditions = Field(min_length=1)
    found: Conditions = Field(min_length=1)
    says: Regex | None = None
    line: Text
    missing: Text


class HintsFile(Strict):
    hint: list[Hint] = []
    check: list[Check] = []


# ----------------------------------------------------------------------------- criteria.toml


class Window(Strict):
    """When, after an event, the guideline gives a service (`imr_ml.signals.criteria_kinds`)."""

    since: Literal["injury", "surgery"]
    min_days: Annotated[int, Field(ge=0)] | None = None
    max_days: Annotated[int, Field(gt=0)] | None = None


class Criterion(Strict):
    """What a service's guideline requires documented (`imr_ml.signals.criteria` reads it);
    the care tried first, the most it allows and when (`imr_ml.signals.criteria_kinds`)."""

    service: Name
    label: Text
    item: Regex | None = None
    category: list[str] = []
    drug_class: list[str] = []
    first_line: list[Regex] = []
    first_line_document: Text | None = None
    max_quantity: Annotated[int, Field(gt=0)] | None = None
    max_quantity_with_response: Annotated[int, Field(gt=0)] | None = None
    window: Window | None = None
    kinds_citation: Text | None = None
    indication: list[Regex] = []
    against: list[Regex] = []
    document: Text
    citation: Text


class CriteriaFile(Strict):
    criterion: list[Criterion] = []


def _criteria_checks(data: dict) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for i, entry in enumerate(data.get("criterion", [])):
        service = entry.get("service")
        if service in first:
            yield ("criterion", i, "service"), f"duplicate service {service!r} (also criterion #{first[service] + 1})"
        first.setdefault(service, i)
        if not entry.get("item") and not entry.get("drug_class"):
            yield ("criterion", i, "service"), "has neither `item` nor `drug_class`: it would apply to every request"
        yield from _kind_checks(entry, i)


def _kind_checks(entry: dict, i: int) -> Iterator[Problem]:
    """The optional kinds of a criterion, each whole: first-line care with what to document,
    a larger allowance only above the plain one, a window with a bound in order."""
    if not any(entry.get(k) for k in ("indication", "first_line", "max_quantity", "window")):
        at = "indication" if "indication" in entry else "service"
        yield ("criterion", i, at), "says nothing: give `indication`, `first_line`, `max_quantity` or `window`"
    kinds = any(entry.get(k) is not None for k in ("first_line", "max_quantity", "window"))
    if kinds != bool(entry.get("kinds_citation")):
        yield ("criterion", i, "service"), ("`first_line`, `max_quantity` and `window` need `kinds_citation` "
                                            "(where the guideline states them), and it needs one of them")
    if bool(entry.get("first_line")) != bool(entry.get("first_line_document")):
        yield ("criterion", i, "first_line"), "`first_line` and `first_line_document` go together: give both or neither"
    plain, more = entry.get("max_quantity"), entry.get("max_quantity_with_response")
    if more is not None and (plain is None or more <= plain):
        yield (("criterion", i, "max_quantity_with_response"),
               "needs a `max_quantity` below it (the allowance without a response)")
    window = entry.get("window")
    if isinstance(window, dict):
        low, high = window.get("min_days"), window.get("max_days")
        if low is None and high is None:
            yield ("criterion", i, "window"), "gives neither `min_days` nor `max_days`"
        elif low is not None and high is not None and low >= high:
            yield ("criterion", i, "window", "min_days"), f"min_days {low} is not below max_days {high}"


# ----------------------------------------------------------------------------- reasons.toml


class Reading(Strict):
    skip: list[Regex] = []
    finding: list[Regex] = []
    guideline: list[Regex] = []
    applied: list[Regex] = []
    sentence_negation: list[Regex] = []
    conditional: list[Regex] = []
    history: list[Regex] = []


class Reason(Strict):
    name: Name
    label: Text
    decision: Literal["upheld", "overturned"]
    terms: list[Regex] = Field(min_length=1)
    negatable: bool = False
    from_guideline: bool = False
    fallback: bool = False


class ReasonsFile(Strict):
    reading: Reading = Reading()
    reason: list[Reason] = []


def _reasons_checks(data: dict) -> Iterator[Problem]:
    yield from duplicates(data, "reason")


# ----------------------------------------------------------------------------- shared


def unknown(what: str, name: object, known) -> str:
    """"unknown <what> 'x' (did you mean 'y'?)", or the known names when none is close."""
    return f"unknown {what} {name!r}{did_you_mean(str(name), [str(k) for k in known])}"


def duplicates(data: dict, table: str) -> Iterator[Problem]:
    """Problems of every `[[table]]` entry whose `name` an earlier entry already has."""
    entries = data.get(table, [])
    counts = Counter(e.get("name") for e in entries if isinstance(e, dict))
    first: dict[str, int] = {}
    for i, e in enumerate(entries):
        name = e.get("name") if isinstance(e, dict) else None
        if name is not None and counts[name] > 1:
            if name in first:
                yield (table, i, "name"), f"duplicate name {name!r} (also {table} #{first[name] + 1})"
            else:
                first[name] = i


def _synth_checks(data: dict) -> Iterator[Problem]:
    yield from duplicates(data, "region")
    yield from synth_checks(data)


@dataclass(frozen=True)
class FileSchema:
    """A knowledge file's shape (`model`) and the checks between its entries (`checks`)."""

    model: type[BaseModel]
    checks: Callable[[dict], Iterator[Problem]] | None = None


SCHEMAS: dict[str, FileSchema] = {
    "signals.toml": FileSchema(SignalsFile, _signals_checks),
    "guidelines.toml": FileSchema(GuidelinesFile, _guidelines_checks),
    "taxonomy.toml": FileSchema(TaxonomyFile, _taxonomy_checks),
    "hints.toml": FileSchema(HintsFile),
    "reasons.toml": FileSchema(ReasonsFile, _reasons_checks),
    "synth_phrases.toml": FileSchema(SynthPhrasesFile, _synth_checks),
    "drugs.toml": FileSchema(DrugsFile, drugs_checks),
    "abbreviations.toml": FileSchema(AbbreviationsFile),
    "criteria.toml": FileSchema(CriteriaFile, _criteria_checks),
}
