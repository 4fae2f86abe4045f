"""Missing-documentation hints and the service's checklist: plain-words advice a provider can
act on before submitting, from the request's own signals and `features/hints.toml`.

A hint (`[[hint]]`) is advice shown when its conditions hold. A checklist line (`[[check]]`)
is something the guideline expects for the service: every request of that service shows it,
found (quoting the text that shows it) or missing (its advice joins the hints), so that an
answer is always given, "nothing missing found" included. The file's shape is checked when
it loads (`imr_ml.knowledge.schema`), the signals it names against the request's
(`imr_ml.signals.check.check_hints`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from imr_ml.knowledge.taxonomy import condition, conditions_hold, load_taxonomy, load_toml
from imr_ml.knowledge.validate import compiling
from imr_ml.schema import as_text
from imr_ml.signals import SignalValues
from imr_ml.text.anycase import AnyCase

Conditions = tuple[tuple[str, Callable[[object], bool]], ...]


@dataclass(frozen=True)
class Check:
    """One checklist line: where it applies, what finds it, and what to add when missing.

    Parameters
    ----------
    when : tuple
        (signal name, predicate) pairs that must all hold for the line to apply.
    found : tuple
        (signal name, predicate) pairs of which one must hold for the line to be found.
    says : re.Pattern or None
        What the evidence of that signal must also say.
    line : str
        The line as the checklist shows it.
    missing : str
        What to add when it is not found (with {placeholders}).
    """

    when: Conditions
    found: Conditions
    says: re.Pattern | None
    line: str
    missing: str


@lru_cache(maxsize=4)
def load_hints(path: str | None = None) -> tuple[dict, ...]:
    """The `[[hint]]` tables of the hints TOML `path` (the model's or user's file; None: the shipped
    `features/hints.toml`), in the file's order.
    """
    return tuple(load_toml("hints.toml", path).get("hint", ()))


@lru_cache(maxsize=4)
def load_checks(path: str | None = None) -> tuple[Check, ...]:
    """The `[[check]]` lines of the hints TOML `path` (the model's or user's file; None: the shipped
    `features/hints.toml`), in the file's order.
    """
    def conditions(table: dict) -> Conditions:
        return tuple((name, condition(cond)) for name, cond in table.items())

    with compiling("hints.toml", path):  # a `says` that is no regex: refused with its line
        return tuple(Check(conditions(c["when"]), conditions(c["found"]),
                           re.compile(c["says"], re.I) if c.get("says") else None, c["line"], c["missing"])
                     for c in load_toml("hints.toml", path).get("check", ()))


@lru_cache(maxsize=256)
def _rules_for(category, path: str | None) -> tuple:
    """((conditions, item pattern or None, text), ...) of the hints whose category condition
    (if any) holds for `category`, their other conditions as predicates and their `item`
    regex compiled once: most hints name categories, so a request is tested against the few
    that can apply to it."""
    out = []
    for hint in load_hints(path):
        tests = {name: condition(cond) for name, cond in hint["when"].items()}
        if "category" in tests and not tests.pop("category")(category):
            continue
        out.append((tuple(tests.items()), AnyCase(hint["item"]) if hint.get("item") else None, hint["text"]))
    return tuple(out)


@lru_cache(maxsize=4)
def _labels(taxonomy: str | None = None) -> dict[str, str]:
    return {c.name: c.label.lower() for c in load_taxonomy(taxonomy)}


def hints_for(values: Mapping, path: str | None = None, taxonomy: str | None = None, item: str = "") -> list[str]:
    """The missing-documentation hints whose conditions all hold for a request.

    Parameters
    ----------
    values : Mapping
        Signal names (and ``category``) to the request's values; a signal it lacks counts as
        not fired / zero.
    path : str or None
        The model's or user's hints TOML, or None for the shipped `features/hints.toml`.
    taxonomy : str or None
        The taxonomy TOML whose labels fill ``{category_label}`` (None: the shipped one).
    item : str
        The requested item's text, for hints that name a kind of item (`item = '...'`);
        such a hint is not shown without it.

    Returns
    -------
    list of str
        The hints, in the file's order, with their ``{placeholders}`` filled in.
    """
    return [_filled(values, text, taxonomy) for conditions, pattern, text in _rules_for(values.get("category"), path)
            if (pattern is None or pattern.search(item or "") is not None)
            and conditions_hold(conditions, values)]


def missing_documentation(signals: dict, row: Mapping, path: str | None = None,
                          taxonomy: str | None = None) -> tuple[list[str], list[dict]]:
    """The request's checklist and everything it misses.

    Parameters
    ----------
    signals : dict
        The request's signals (`imr_ml.signals.extract_signals`), with their evidence.
    row : Mapping
        The request (the text the evidence points into).
    path : str or None
        The model's or user's hints TOML, or None for the shipped one.
    taxonomy : str or None
        The taxonomy TOML whose labels fill ``{category_label}`` (None: the shipped one).

    Returns
    -------
    (list of str, list of dict)
        The hints (each missing checklist line's advice, then the other hints that apply) and
        the checklist: ``{"line", "found", "evidence"}`` per line that applies to the service.
    """
    values = SignalValues(signals)
    checklist, missing = [], []
    for check in load_checks(path):
        if not conditions_hold(check.when, values):
            continue
        quote = _found(check, signals, row)
        checklist.append({"line": check.line, "found": quote is not None, "evidence": quote or None})
        if quote is None:
            missing.append(_filled(values, check.missing, taxonomy))
    return missing + hints_for(values, path, taxonomy, as_text(row.get("item"))), checklist


def _found(check: Check, signals: Mapping, row: Mapping) -> str | None:
    """The text that shows a checklist line ("" when a condition holds without text), or None."""
    for name, test in check.found:
        signal = signals.get(name)
        if signal is None or not test(signal.value):
            continue
        quotes = [str(row.get(f) or "")[s:e] for f, s, e in signal.evidence]
        if check.says is not None:
            quotes = [q for q in quotes if check.says.search(q)]
            if not quotes:
                continue
        return quotes[0] if quotes else ""
    return None


def _filled(values: Mapping, text: str, taxonomy: str | None) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _fill(values, m.group(1), taxonomy), text)


def _fill(values: Mapping, name: str, taxonomy: str | None) -> str:
    if name == "category_label":
        return _labels(taxonomy).get(str(values.get("category")), "treatment")
    v = values.get(name)
    if v is None and name not in values:
        return "?"
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return str(int(v) if isinstance(v, float) and v.is_integer() else v)
