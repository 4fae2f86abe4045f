"""The text behind a feature: the spans of the request an explanation quotes for it.

A signal quotes the words that made it fire; a structured field the signal that holds its
value (one level of a one-hot field only its own words: "requested for the cervical spine"
quotes "cervical", never the "lumbar" of the same item); a guideline rule the evidence of the
conditions that made it fire (a condition that does not hold, an absence, or a list entry
outside the rule's levels is not quoted); a word where it occurs. Findings that quote
overlapping text are one finding (`imr_ml.scoring.findings`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from imr_ml.knowledge.guidelines import load_guidelines
from imr_ml.modeling.estimator.directions import condition_polarity
from imr_ml.signals.fields import evidence_signal
from imr_ml.text.anycase import AnyCase

Span = tuple[str, int, int]
QUOTED = 3  # spans quoted per finding


@lru_cache(maxsize=65536)
def evidence_source(name: str, guidelines: str | None) -> tuple:
    """Where the evidence of the feature named `name` is found, by the model's guidelines TOML
    `guidelines` (None: the shipped one), worked out once per feature name.

    ("signal", name), ("level", signal, level) for one level of a one-hot field, ("rule", its
    quotable conditions), ("word", field, AnyCase regex, first word), ("item",) or ().
    """
    parts = name.split("__")
    group = parts[0]
    if group == "rule":  # the conditions that may be quoted: presence tests and scopes, not absences
        rule = next((r for r in load_guidelines(guidelines).rules if r.name == parts[1]), None)
        return ("rule", tuple((n, test) for alt in ((rule.when,) + rule.when_any) for n, test in alt
                              if n != "category" and condition_polarity(test) >= 0)) if rule else ()
    if group == "signal":
        return ("signal", parts[1])
    if group == "field":  # the registry names the signal that explains a structured field
        signal = evidence_signal(parts[1])
        if not signal:
            return ()
        return ("level", signal, parts[2]) if len(parts) == 3 else ("signal", signal)
    if len(parts) >= 3 and parts[1] == "tfidf":
        terms = parts[2].split("_")  # a TF-IDF term: lower-case words
        return ("word", group, AnyCase(r"\b" + r"\s+".join(map(re.escape, terms)) + r"\b"), terms[0])
    if group == "item":
        return ("item",)
    return ()


def _listed(value, evidence) -> bool:
    """Whether a signal's value is a list whose entries line up with its evidence spans."""
    return isinstance(value, list | tuple) and len(value) == len(evidence)


def _level_spans(signals: dict, signal: str, level: str) -> list[Span]:
    sig = signals.get(signal)
    if sig is None:
        return []
    if _listed(sig.value, sig.evidence):
        return [span for v, span in zip(sig.value, sig.evidence) if v == level]
    return list(sig.evidence) if sig.value in (level, [level], (level,)) else []


def _rule_spans(conditions: tuple, signals: dict) -> list[Span]:
    """The evidence of the conditions that made a rule fire."""
    out: list[Span] = []
    for name, test in conditions:
        sig = signals.get(name)
        if sig is None or not sig.evidence or not test(sig.value):
            continue
        if _listed(sig.value, sig.evidence):
            out += [span for v, span in zip(sig.value, sig.evidence) if test([v])]
        else:
            out += sig.evidence
    return list(dict.fromkeys(out)) if len(out) > 1 else out


def evidence_spans(name: str, row: dict, signals: dict, guidelines: str | None = None) -> list[Span]:
    """Every span of the request behind one feature.

    Parameters
    ----------
    name : str
        A feature name.
    row : dict
        The request.
    signals : dict
        Its signals (`imr_ml.signals.extract_signals`).
    guidelines : str or None
        The model's guidelines TOML.

    Returns
    -------
    list of (str, int, int)
        (field, start, end) spans, in the order the sources give them.
    """
    source = evidence_source(name, guidelines)
    if not source:
        return []
    kind = source[0]
    if kind == "signal":
        return list(signals[source[1]].evidence) if source[1] in signals else []
    if kind == "level":
        return _level_spans(signals, source[1], source[2])
    if kind == "rule":
        return _rule_spans(source[1], signals)
    if kind == "word":
        m = source[2].search(row.get(source[1]) or "", opening=source[3])
        return [(source[1], m.start(), m.end())] if m else []
    item = row.get("item") or ""
    return [("item", 0, len(item))] if item else []


def quoted(row: dict, spans: list[Span], limit: int = QUOTED) -> list[dict]:
    """The first `limit` spans as the evidence a result shows: field, offsets and the text.

    Parameters
    ----------
    row : dict
        The request the offsets refer to.
    spans : list of (str, int, int)
        Spans of it.
    limit : int
        Spans kept.

    Returns
    -------
    list of dict
        ``field``, ``start``, ``end``, ``text``.
    """
    return [{"field": f, "start": s, "end": e, "text": str(row.get(f) or "")[s:e]} for f, s, e in spans[:limit]]
