"""Prior use of the disputed item's own treatment in the summary: how many sessions of its
modality were had before, and whether it (or its drug) is mentioned as past or current use."""

from __future__ import annotations

import re
from typing import NamedTuple

from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.signals.medication import drug_term
from imr_ml.signals.mentions import mentions
from imr_ml.signals.rules import SignalRules
from imr_ml.text.anycase import lower_pattern
from imr_ml.text.document import Document
from imr_ml.text.negex import CueHit, nearest_of
from imr_ml.text.numbers import NUMBER, number_groups, parse_number

Evidence = list[tuple[str, int, int]]

_PRIOR_COUNT = (
    # "completed 4 of 8 acupuncture visits", "attended 2 out of 10 therapy sessions"
    r"\b(?:completed|attended|had|received|undergone|underwent|finished)\s+(?P<n>\d+)\s+(?:out\s+)?of\s+(?:the\s+)?(?:\d+\s+)?(?:\w+\s+){0,3}?(?:MOD)",
    # "at least 8 visits of chiropractic", "9 acupuncture sessions", "ten (10) PT visits"
    r"\b(?P<n>\d+)\s*(?:\(\d+\)\s*)?(?:prior\s+|previous\s+|completed\s+|authorized\s+|approved\s+|certified\s+)?(?:sessions?|visits?|treatments?)?\s*(?:of\s+)?(?:(?!for\b)\w+\s+){0,2}?(?:MOD)",
    # "physical therapy x 12", "chiropractic visits #8"
    r"(?:MOD)\s*(?:sessions?|visits?|treatments?)?\s*(?:x|×|#)\s*(?P<n>\d+)",
    # "physical therapy (number of sessions not found)" is not a count; "PT for 8 sessions" is
    r"(?:MOD)\s+(?:for\s+)?(?P<n>\d+)\s+(?:sessions?|visits?|treatments?)",
)
_STOPS = re.compile(r"[.!?]")
_ANY_NUMBER = re.compile(r"\d|" + NUMBER)  # what a count pattern's (?P<n>...) group can match, anywhere


class PriorModality(NamedTuple):
    """What the summary says of prior use of the item's modality (or drug).

    Parameters
    ----------
    sessions : int or None
        Sessions had before, when counted.
    mentioned : bool
        Whether it is mentioned as past or current use.
    evidence : list of (str, int, int)
        The spans that say so.
    """

    sessions: int | None
    mentioned: bool
    evidence: Evidence


_NONE = PriorModality(None, False, [])


def compiled_term(rules: SignalRules, pattern: str) -> re.Pattern:
    """A lower-case pattern compiled once per rules.

    Parameters
    ----------
    rules : SignalRules
        The rules whose memo keeps it.
    pattern : str
        The regex.

    Returns
    -------
    re.Pattern
        The compiled pattern.
    """
    found = rules.memos.terms.get(pattern)
    return found if found is not None else rules.memos.terms.put(pattern, re.compile(pattern))


def _count_patterns(rules: SignalRules, modality: str) -> tuple[re.Pattern, ...]:
    found = rules.memos.counts.get(modality)
    if found is None:
        found = tuple(re.compile(lower_pattern(number_groups(p.replace("MOD", modality)))) for p in _PRIOR_COUNT)
        rules.memos.counts.put(modality, found)
    return found


def _segments_naming(low: str, mentions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The stretches between `.`, `!` and `?` that hold one of `mentions`, in text order.

    Neither the modality words nor the prior-count patterns match those characters, so a
    count is found in one of these stretches or nowhere: searching them alone gives what a
    search of the whole text gives, several times faster.
    """
    out: list[tuple[int, int]] = []
    for ms, me in mentions:
        if out and ms < out[-1][1]:
            continue
        s = max(low.rfind(".", 0, ms), low.rfind("!", 0, ms), low.rfind("?", 0, ms)) + 1
        stop = _STOPS.search(low, me)
        out.append((s, stop.start() if stop else len(low)))
    return out


def prior_modality(doc: Document, rules: SignalRules, category: str, item: str) -> PriorModality:
    """Prior sessions and prior use of the item's modality (or drug) in a summary.

    Parameters
    ----------
    doc : Document
        The summary.
    rules : SignalRules
        The rules.
    category : str
        The item's category.
    item : str
        The item's text.

    Returns
    -------
    PriorModality
        Shared by the items of one letter that share a modality: read-only.
    """
    mod = rules.modality.get(category)
    if mod is None:
        if category not in rules.prior.medication_categories:
            return _NONE
        named = drug_term(rules, item, general=False)  # every name of the item's drug
        word = re.match(r"\s*([A-Za-z][A-Za-z\-]{3,})", item or "")
        if named is None and (not word or word.group(1).lower() in rules.prior.skip_words):
            return _NONE
        term = named or compiled_term(rules, r"\b" + re.escape(word.group(1).lower()) + r"\b")  # type: ignore[union-attr]
    else:
        term = mod
    key = ("prior", term.pattern, mod is not None)
    hit = doc.memo.get(key)
    if hit is None:
        hit = doc.memo[key] = _prior_mentions(doc, rules, term, mod is not None)
    return hit


def _prior_count(doc: Document, rules: SignalRules, term: re.Pattern) -> tuple[int | None, Evidence]:
    """The largest count of prior sessions of `term` and its evidence. A count a request or
    plan reaches is dropped ("Req initial acu x6"), unless a history cue is closer ("req PT
    x6 after PT x12" keeps the 12)."""
    count, evidence = None, []
    cancel = rules.cue_sets(rules.prior.count_exclude)
    history = rules.cue_sets(rules.prior.history)
    # Every count pattern holds a number: stretches without one cannot match.
    segments = [seg for seg in _segments_naming(doc.low, mentions(doc, term)) if _ANY_NUMBER.search(doc.low, *seg)]
    for pat, (ss, se) in ((p, seg) for p in _count_patterns(rules, term.pattern) for seg in segments):
        for m in pat.finditer(doc.low, ss, se):
            asked = nearest_of(doc, cancel, m.start(), m.end())
            if asked is not None:
                had = nearest_of(doc, history, m.start(), m.end())
                if had is None or had.distance >= asked.distance:
                    continue
            n = parse_number(m.group("n"))
            if n is None or n > 100:
                continue
            count = n if count is None else max(count, n)
            evidence.append(("summary", m.start(), m.end()))
    return count, evidence


def _negates_cue(ex: list[CueHit], req: list[CueHit]) -> bool:
    """Whether a negation or hypothetical cue stands before the history cue itself ("has
    not had physical therapy", "never received acupuncture"): it then governs the history."""
    first = min(r.span[0] for r in req)
    return any(r.span[1] <= first for r in ex)


def _prior_mentions(doc: Document, rules: SignalRules, term: re.Pattern, count_sessions: bool) -> PriorModality:
    count, evidence = _prior_count(doc, rules, term) if count_sessions else (None, [])
    mentioned = bool(evidence)
    history = rules.cue_sets(rules.prior.history)
    cancel = rules.cue_sets(rules.prior.exclude)
    for s, e in mentions(doc, term):
        req = [h for h in (nearest_of(doc, [c], s, e) for c in history) if h is not None]
        if not req:
            continue
        ex = [h for h in (nearest_of(doc, [c], s, e) for c in cancel) if h is not None]
        if ex and (min(r.distance for r in ex) <= min(r.distance for r in req) or _negates_cue(ex, req)):
            continue
        mentioned = True
        evidence.append(("summary", s, e))
        break
    return PriorModality(count, mentioned, evidence)


def item_term(rules: SignalRules, category: str, item: str, taxonomy: str | None = None) -> re.Pattern | None:
    """A pattern naming the item's modality in a summary (its drug name for medications).

    Parameters
    ----------
    rules, category, item
        As in `prior_modality`.
    taxonomy : str, optional
        A taxonomy TOML path.

    Returns
    -------
    re.Pattern or None
        The lower-case pattern, or None when nothing names it.
    """
    alts = []
    mod = rules.modality.get(category)
    if mod is not None:
        alts.append(mod.pattern)
    medication = category in rules.prior.medication_categories
    named = drug_term(rules, item, general=True) if medication else None
    if named is not None:  # every name of the item's drug, and the words for its class and for medications
        alts.append(named.pattern)
    elif medication:
        for w in re.findall(r"[A-Za-z][A-Za-z\-]{3,}", item or "")[:2]:
            if w.lower() not in rules.prior.generic_words:
                alts.append(r"\b" + re.escape(w.lower()) + r"\b")
                break
    for cat in load_taxonomy(taxonomy):
        if cat.name == category and category != "other" and not medication:
            alts.append(cat.pattern.lower.pattern)
    if not alts:
        return None
    return compiled_term(rules, "|".join(f"(?:{a})" for a in alts))
