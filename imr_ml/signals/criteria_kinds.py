"""Decisive facts of other kinds than an indication, read from the same criteria.

Two requests for the same service that differ only in whether the first-line care was tried,
in how many visits they ask for, or in when they come after the injury or the operation
scored the same: a criterion said only which findings indicate its service. Three optional
keys of a `[[criterion]]` (`features/criteria.toml`) say the rest, for the services whose
guideline states them, and this module reads them for the request's own criteria (those
`imr_ml.signals.criteria` found for its item) into structured fields that cited rules read:

* `first_line` (patterns of the care the guideline requires tried first, as people type it):
  stated affirmatively ("failed NSAIDs", "tried ibuprofen and Tylenol w/o relief", "s/p 12 PT
  visits") -> `service_first_line_tried`; denied ("no prior PT", "has not tried NSAIDs")
  and none stated -> `service_first_line_untried`. The cue sets are those of a drug's use
  (`use_negation`: "discontinued ibuprofen" or "could not tolerate NSAIDs" still tried it) and
  of plans (`hypothetical`: "recommend a trial of PT" has not tried it yet).
* `max_quantity` (and `max_quantity_with_response`, the allowance after documented functional
  improvement of the same modality) against `requested_quantity` -> `service_quantity_exceeds`.
  For a category with a `[trial_max]` (signals.toml) the service's own allowance replaces the
  category's in `exceeds_trial`, whose rule already reads it: one fact, one rule.
* `window` (`since` the injury or the operation, `min_days`/`max_days`) against
  `chronicity_days` (from the dates; for a typed note without them, "injured 3 wks ago") or
  `days_since_surgery` -> `service_outside_window`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from imr_ml.knowledge.validate import compiling
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.signals.criteria import Criteria, Criterion, Evidence, load_criteria
from imr_ml.signals.readers import reference_date
from imr_ml.signals.rules import SignalRules
from imr_ml.text.document import Document
from imr_ml.text.engine import matcher_of
from imr_ml.text.negex import TextRule, overlaps, rule_spans
from imr_ml.text.timex import time_expressions

# The cue sets (of `signals.toml`) that drop first-line care (denied, or only planned), and
# those that make a denial of it: a drug stopped, weaned or not tolerated was still tried.
TRIED_EXCLUDE = ("use_negation", "hypothetical")
UNTRIED_BY = ("use_negation",)

# The rules read first-line care for a service being started (one under way is judged by its
# functional improvement), and only where no other signal already reads the same fact for a cited
# rule: `service_started_after_first_line` / `_without_first_line` say so themselves, so those
# rules need no conditions on other signals (which would vote those signals' directions,
# `imr_ml.modeling.estimator.directions`); the checklist reads the plain `service_first_line_*`.
UNDER_WAY = ("prior_same_modality", "long_term_use")
TRIED_READ_ELSEWHERE = ("failed_conservative_care", "prior_trial_without_benefit", "first_line_analgesic_failed",
                        "first_line_neuropathic_tried", "first_line_anticonvulsant_failed", "sleep_hygiene_tried")
UNTRIED_READ_ELSEWHERE = ("no_conservative_care",)

# The structured fields this module gives (`imr_ml.signals.fields` lists them).
FIELD_NAMES = ("service_first_line_known", "service_first_line_tried", "service_first_line_untried",
               "service_started_after_first_line", "service_started_without_first_line",
               "service_first_line_document", "service_quantity_max", "service_quantity_exceeds",
               "service_outside_window")

# An injury timed in words, for a typed note without dates ("injured 3 wks ago", "DOI 1/2/2025",
# "burned on 3/4/2025"): the first time expression within a few words after the event's word.
_INJURY = re.compile(r"\b(doi|date of injury|injur(ed|y)|hurt|burn(ed|t)?|fell|fall|accident|onset)\b")
_INJURY_REACH = 40


def first_line_rules(loaded: Criteria, c: Criterion, rules: SignalRules) -> tuple[TextRule, TextRule]:
    """The criterion's two NegEx rules for its first-line care (tried; denied), compiled the
    first time they are asked for.

    Parameters
    ----------
    loaded : Criteria
        The criteria the criterion belongs to (they keep the compiled rules).
    c : Criterion
        A criterion with `first_line`.
    rules : SignalRules
        The signal rules whose cue sets qualify the patterns.

    Returns
    -------
    (TextRule, TextRule)
        The tried and the untried rule.
    """
    key = ("first_line", c.service, rules)
    found = loaded.compiled.get(key)
    if found is None:
        with compiling("criteria.toml", loaded.path):
            care = matcher_of(load_vocabulary().expand_all(c.first_line))
            tried = TextRule(name=f"{c.service}_first_line", description=c.first_line_document, field="summary",
                             patterns=care, standalone=None, negated=None, exclude=rules.cue_sets(TRIED_EXCLUDE),
                             require=(), unless=None)
            untried = TextRule(name=f"{c.service}_first_line_untried", description=c.first_line_document,
                               field="summary", patterns=None, standalone=None, negated=care,
                               exclude=rules.cue_sets(TRIED_EXCLUDE), require=(), unless=None,
                               negated_by=rules.cue_sets(UNTRIED_BY))
            found = loaded.compiled[key] = (tried, untried)
    return found


def _first_line(loaded: Criteria, found: tuple[Criterion, ...], doc: Document,
                rules: SignalRules) -> tuple[Evidence, Evidence]:
    """(tried, denied) evidence of the first-line care of the item's criteria."""
    tried: Evidence = []
    denied: Evidence = []
    for c in found:
        if not c.first_line:
            continue
        key = ("first_line", loaded, c.service)  # items of one letter share its summary's document
        spans = doc.memo.get(key)
        if spans is None:
            yes, no = first_line_rules(loaded, c, rules)
            spans = doc.memo[key] = (rule_spans(doc, yes), rule_spans(doc, no))
        tried += [("summary", s, e) for s, e in spans[0]]
        denied += [("summary", s, e) for s, e in spans[1] if not overlaps(s, e, spans[0])]
    return sorted(tried), sorted(denied)


def _allowance(c: Criterion, signals: Mapping) -> int | None:
    """The most the criterion allows this request: more after documented improvement."""
    improved = signals.get("functional_improvement_same_modality")
    if c.max_quantity_with_response is not None and improved is not None and improved.value:
        return c.max_quantity_with_response
    return c.max_quantity


def _injury_days(row: Mapping) -> int | None:
    """Days since an injury the summary times in words (a typed note without dates)."""
    low = str(row.get("summary") or "").lower()
    ref = reference_date(row.get("ur_denial_date"))
    for m in _INJURY.finditer(low):
        for expr in time_expressions(low, ref, m.end(), min(len(low), m.end() + _INJURY_REACH)):
            days = expr.days_before(ref)
            if days is not None:
                return days
    return None


def _days_since(since: str, row: Mapping, signals: Mapping) -> tuple[int | None, Evidence]:
    sig = signals.get("days_since_surgery" if since == "surgery" else "chronicity_days")
    if sig is not None and sig.value is not None:
        return sig.value, list(sig.evidence)
    if since == "injury":
        days = _injury_days(row)
        return days, [("summary", 0, len(str(row.get("summary") or "")))] if days is not None else []
    return None, []


def _outside_window(found: tuple[Criterion, ...], row: Mapping, signals: Mapping) -> Evidence:
    """Evidence of a request timed outside its criterion's window ([] when inside or untimed)."""
    for c in found:
        if c.window is None:
            continue
        since, low, high = c.window
        days, ev = _days_since(since, row, signals)
        if days is not None and ((low is not None and days < low) or (high is not None and days > high)):
            return ev or [("item", 0, len(str(row.get("item") or "")))]
    return []


def read_kinds(row: Mapping, signals: Mapping, doc: Document, rules: SignalRules,
               criteria: str | Criteria | None = None) -> dict[str, tuple[Any, Evidence]]:
    """The first-line, quantity and window fields of one request (its service's criteria).

    Parameters
    ----------
    row : Mapping
        The row's PRE_DECISION fields.
    signals : Mapping
        `{name: Signal}` found so far (the item's category and drug classes, its quantity,
        `functional_improvement_same_modality`, `chronicity_days`, `days_since_surgery`).
    doc : Document
        The summary, indexed with `rules`.
    rules : SignalRules
        The compiled signal rules (their cue sets).
    criteria : str, Criteria or None
        The criteria file (None: the shipped one).

    Returns
    -------
    dict
        `{field: (value, evidence)}` of `FIELD_NAMES`, and `exceeds_trial` when the service's
        own allowance replaces its category's.
    """
    loaded = load_criteria(criteria)
    classes = signals["item_drug_classes"].value if "item_drug_classes" in signals else ()
    item = str(row.get("item") or "")
    found = loaded.of_item(item, signals["category"].value, classes or ())
    tried, denied = _first_line(loaded, found, doc, rules) if found else ([], [])
    known = [c for c in found if c.first_line]
    qty = signals["requested_quantity"]
    limits = [n for n in (_allowance(c, signals) for c in found) if n is not None]
    limit = min(limits) if limits else None
    over = limit is not None and qty.value is not None and qty.value > limit
    in_trial = limit is not None and signals["category"].value in rules.trial_max  # read as `exceeds_trial`
    denied = denied if not tried else []
    started = not _any(signals, UNDER_WAY)
    after = tried if started and not _any(signals, TRIED_READ_ELSEWHERE) else []
    without = denied if started and not _any(signals, UNTRIED_READ_ELSEWHERE) else []
    out: dict[str, tuple[Any, Evidence]] = {
        "service_first_line_known": (bool(known), []),
        "service_first_line_tried": (bool(tried), tried),
        "service_first_line_untried": (bool(denied), denied),
        "service_started_after_first_line": (bool(after), after),
        "service_started_without_first_line": (bool(without), without),
        "service_first_line_document": ("; or ".join(dict.fromkeys(c.first_line_document for c in known)), []),
        "service_quantity_max": (limit, []),
        "service_quantity_exceeds": (over and not in_trial, list(qty.evidence) if over and not in_trial else []),
        "service_outside_window": (bool(ev := _outside_window(found, row, signals)), ev),
    }
    if in_trial:
        out["exceeds_trial"] = (over, list(qty.evidence) if over else [])
    return out


def _any(signals: Mapping, names: tuple[str, ...]) -> bool:
    """Whether one of the signals `names` of `signals` holds."""
    return any(name in signals and signals[name].value for name in names)
