"""What one knowledge file says about another, checked when they are put together.

A guideline rule or a hint names signals in its `when` (a misspelt name with `= false`
would always hold), categories of the taxonomy, body regions and guideline tags of
`signals.toml`; `signals.toml` names categories in `[trial_max]`, `[modality]` and
`[prior]`. The signals a request has are exactly those `extract_signals` returns, so they are
read from it (for an empty request: the names and kinds of value do not depend on the text),
never listed by hand. Each check runs once per combination of files and refuses with
`file:line` and a suggestion (`imr_ml.knowledge.validate.refuse`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

from imr_ml.knowledge.bundle import Knowledge
from imr_ml.knowledge.errors import did_you_mean
from imr_ml.knowledge.schema import Loc, Problem, unknown
from imr_ml.knowledge.taxonomy import load_taxonomy, load_toml
from imr_ml.knowledge.validate import key_path, refuse
from imr_ml.knowledge.vocabulary import TOPICAL_STATUSES, load_vocabulary
from imr_ml.signals.criteria import load_criteria
from imr_ml.signals.extract import extract_signals
from imr_ml.signals.rules import SignalRules, load_rules

FLAG, NUMBER, VALUES = "true or false", "a number", "one of several values"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
FILLED_IN = ("category_label",)  # hint placeholders that are no signal (`imr_ml.scoring.hints`)


def _path(rules: str | Path | SignalRules | None) -> str | None:
    return rules.path if isinstance(rules, SignalRules) else (str(rules) if rules is not None else None)


@lru_cache(maxsize=32)
def signal_kinds(rules: str | SignalRules | None = None, taxonomy: str | None = None) -> dict[str, str]:
    """Every signal a request has, and the kind of its value.

    Parameters
    ----------
    rules : str, SignalRules or None
        The signals TOML (None: the shipped one).
    taxonomy : str or None
        The taxonomy TOML (None: the shipped one).

    Returns
    -------
    dict
        {name: "true or false" | "a number" | "one of several values"}.
    """
    out = {}
    for name, sig in extract_signals({}, rules, taxonomy).items():
        v = sig.value
        out[name] = FLAG if isinstance(v, bool) else VALUES if isinstance(v, list | tuple | str) else NUMBER
    return out


def _vocabularies(rules: str | SignalRules | None, taxonomy: str | None,
                  criteria: str | None = None) -> dict[str, list[str]]:
    """The values a list condition may name, for the signals whose values are known."""
    r = load_rules(rules)
    categories = [c.name for c in load_taxonomy(taxonomy)]
    v = load_vocabulary()  # the item's drug fields name its ingredients, classes, routes, forms
    return {"category": categories, "item_regions": list(r.region), "summary_regions": list(r.region),
            "ca_guideline": [*r.guideline, "other"], "surgery_named": ["", *(s.name for s in r.surgeries)],
            "surgery_complexity": ["", "complex", "simple"], "item_ingredients": list(v.drugs),
            "item_topical_not_recommended": list(v.drugs), "item_drug_classes": list(v.classes),
            "item_drug_class": ["", *v.classes], "item_route": ["", *v.routes],
            "item_form": ["", *(f.name for f in v.forms)],
            "item_topical_status": ["", *TOPICAL_STATUSES], "item_services": list(v.services),
            "service_criteria": [c.service for c in load_criteria(criteria).entries]}


def condition_problems(table: Mapping, loc: Loc, kinds: Mapping[str, str],
                       vocabularies: Mapping[str, list[str]]) -> Iterator[Problem]:
    """What is wrong with one `when` table: unknown signals, conditions of the wrong kind,
    unknown values.

    Parameters
    ----------
    table : mapping
        {signal: condition}.
    loc : tuple
        Where the table is in its file (`("rule", 3, "when")`).
    kinds : mapping
        `signal_kinds`.
    vocabularies : mapping
        The values a list condition may name, by signal.

    Yields
    ------
    (loc, message)
        One problem each.
    """
    where = key_path(loc[2:])
    for name, cond in table.items():
        at, kind = (*loc, name), kinds.get(name)
        if kind is None:
            yield at, f"{where}: {unknown('signal', name, list(kinds))}"
        elif isinstance(cond, list) and kind != VALUES or isinstance(cond, str) and kind != NUMBER \
                or isinstance(cond, bool) and kind == VALUES:
            yield at, f"{where}: {name} is {kind}, so {cond!r} can never be what it means"
        elif isinstance(cond, list) and name in vocabularies:
            for value in cond:
                if value not in vocabularies[name]:
                    yield at, f"{where}: {name}: {unknown('value', value, vocabularies[name])}"


@lru_cache(maxsize=32)
def check_guidelines(guidelines: str | None = None, rules: str | SignalRules | None = None,
                     taxonomy: str | None = None, criteria: str | None = None) -> None:
    """Refuse guideline rules whose conditions name what the signals and taxonomy do not have.

    Parameters
    ----------
    guidelines, rules, taxonomy, criteria : str or None
        The four files (None: shipped; `rules` may be compiled rules; the criteria name the
        services a `service_criteria` condition may name).
    """
    kinds, vocab = signal_kinds(rules, taxonomy), _vocabularies(rules, taxonomy, criteria)
    problems: list[Problem] = []
    for i, rule in enumerate(load_toml("guidelines.toml", guidelines).get("rule", [])):
        problems += condition_problems(rule.get("when", {}), ("rule", i, "when"), kinds, vocab)
        for j, alt in enumerate(rule.get("when_any", [])):
            problems += condition_problems(alt, ("rule", i, "when_any", j), kinds, vocab)
    refuse("guidelines.toml", guidelines, problems)


@lru_cache(maxsize=32)
def check_hints(hints: str | None = None, rules: str | SignalRules | None = None,
                taxonomy: str | None = None, criteria: str | None = None) -> None:
    """Refuse hints whose conditions or `{placeholders}` name what the request does not have.

    Parameters
    ----------
    hints : str or None
        The hints file (None: shipped).
    rules, taxonomy, criteria
        As in `check_guidelines`.
    """
    kinds, vocab = signal_kinds(rules, taxonomy), _vocabularies(rules, taxonomy, criteria)
    problems: list[Problem] = []
    data = load_toml("hints.toml", hints)
    # a hint's `when` and `text`; a checklist line's `when`, `found` and `missing`
    for table, conditions, text in (("hint", ("when",), "text"), ("check", ("when", "found"), "missing")):
        for i, entry in enumerate(data.get(table, [])):
            for key in conditions:
                problems += condition_problems(entry.get(key, {}), (table, i, key), kinds, vocab)
            for name in _PLACEHOLDER.findall(entry.get(text, "")):
                if name not in kinds and name not in FILLED_IN:
                    problems.append(((table, i, text), f"{text}: placeholder {{{name}}} is no signal"
                                     f"{did_you_mean(name, [*kinds, *FILLED_IN])}"))
    refuse("hints.toml", hints, problems)


@lru_cache(maxsize=32)
def check_signals(rules: str | SignalRules | None = None, taxonomy: str | None = None) -> None:
    """Refuse a signals file whose `[trial_max]`, `[modality]` or `[prior]` names a category
    the taxonomy does not have.

    Parameters
    ----------
    rules, taxonomy : str or None
        The two files (None: shipped; `rules` may be compiled rules).
    """
    path = _path(rules)
    data = load_toml("signals.toml", path)
    categories = [c.name for c in load_taxonomy(taxonomy)]
    problems: list[Problem] = [((table, name), unknown("category", name, categories))
                               for table in ("trial_max", "modality") for name in data.get(table, {})
                               if name not in categories]
    for j, name in enumerate(data.get("prior", {}).get("medication_categories", [])):
        if name not in categories:
            problems.append((("prior", "medication_categories", j),
                             f"medication_categories: {unknown('category', name, categories)}"))
    refuse("signals.toml", path, problems)


@lru_cache(maxsize=32)
def check_criteria(criteria: str | None = None, taxonomy: str | None = None) -> None:
    """Refuse service criteria whose `category` the taxonomy, or `drug_class` the drug
    vocabulary, does not have.

    Parameters
    ----------
    criteria, taxonomy : str or None
        The two files (None: shipped).
    """
    categories, classes = [c.name for c in load_taxonomy(taxonomy)], list(load_vocabulary().classes)
    problems: list[Problem] = []
    for i, entry in enumerate(load_toml("criteria.toml", criteria).get("criterion", [])):
        for key, what, known in (("category", "category", categories), ("drug_class", "drug class", classes)):
            problems += [(("criterion", i, key, j), f"{key}: {unknown(what, name, known)}")
                         for j, name in enumerate(entry.get(key, [])) if name not in known]
    refuse("criteria.toml", criteria, problems)
    load_criteria(criteria)  # its patterns compile


def check_knowledge(knowledge: Knowledge) -> None:
    """Refuse a set of knowledge files that do not agree with one another.

    Parameters
    ----------
    knowledge : Knowledge
        The files a model reads.
    """
    check_signals(knowledge.signals, knowledge.taxonomy)
    check_guidelines(knowledge.guidelines, knowledge.signals, knowledge.taxonomy, knowledge.criteria)
    check_hints(knowledge.hints, knowledge.signals, knowledge.taxonomy, knowledge.criteria)
    check_criteria(knowledge.criteria, knowledge.taxonomy)
