"""Clinical signals read from the PRE-DECISION fields of one disputed item.

`extract_signals(row)` returns `{name: Signal(value, evidence)}`. `evidence` lists the
`(field, start, end)` character spans of the row's text that made the signal fire, so a
report can highlight them.

The text signals are the NegEx rules of `imr_ml.text` compiled from `features/signals.toml`
(patterns, cue sets with their roles and scope windows, clause terminators): see the
comments at the top of that file. Only the fields in `imr_ml.schema.PRE_DECISION` are ever
read; the row is reduced to them first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from imr_ml.knowledge.medication import read_medication
from imr_ml.knowledge.taxonomy import categorize
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.schema import PRE_DECISION, as_text
from imr_ml.signals.attribution import about_treatments, names_item, treatment_term
from imr_ml.signals.criteria import Criteria, read_criteria
from imr_ml.signals.criteria_kinds import read_kinds
from imr_ml.signals.dose import dose_signals, item_dose, summary_dose
from imr_ml.signals.fields import read_fields
from imr_ml.signals.medication import drug_term, item_medication, morphine_equivalent, relief_percent
from imr_ml.signals.prior import item_term, prior_modality
from imr_ml.signals.readers import parse_quantity
from imr_ml.signals.rules import SignalRules, load_rules
from imr_ml.signals.surgeries import first_in_document
from imr_ml.text.anycase import AnyCase
from imr_ml.text.document import Document
from imr_ml.text.matcher import lower_text
from imr_ml.text.negex import rule_spans

# The eight signals the project promises (names are part of the API).
REQUIRED_SIGNALS = (
    "prior_trial_without_benefit",
    "functional_improvement",
    "no_functional_improvement",
    "permanent_and_stationary",
    "opioid_use",
    "prior_surgery",
    "ur_modified",
    "working",
)

# Item-level readings of three response signals (same modality / drug as the item).
SAME_MODALITY_SIGNALS = (
    "prior_trial_without_benefit_same_modality",
    "functional_improvement_same_modality",
    "no_functional_improvement_same_modality",
)

Evidence = list[tuple[str, int, int]]


@dataclass
class Signal:
    """A signal's value and the `(field, start, end)` spans that support it.

    Parameters
    ----------
    value : object
        The value (bool, number, list of tags ...).
    evidence : list of (str, int, int)
        The supporting spans.
    """

    value: Any
    evidence: list[tuple[str, int, int]] = dc_field(default_factory=list)

    def __bool__(self) -> bool:  # a Signal is truthy when its value is
        return bool(self.value)


# An age, not a duration ("for 20 years"): "52-year-old", "52 years of age", "52 y/o",
# "52yo", and a typed note's "52F" / "52 M" at the start of a sentence.
_AGE = AnyCase(r"\b(\d{1,3})[- ]?(?:years?|yrs?)[- ]?old\b|\b(\d{1,3}) (?:years?|yrs?) of age\b|\b(\d{1,3})[- ]?y/?o\b"
               r"|(?:^|[.;]\s*)(\d{2}) ?(?:[fm]|yo ?[fm]|male|female)\b")


def _text_signal(doc: Document, rule, field: str) -> Signal:
    spans = [(field, s, e) for s, e in rule_spans(doc, rule)]
    return Signal(bool(spans), spans)


# The Signal of a text rule that could not match: one object shared by every such rule and
# row (Signals are read-only), rather than ~140 new ones a request.
_NOT_FOUND = Signal(False, [])


def _text_signals(doc: Document, r: SignalRules, field: str) -> dict[str, Signal]:
    """The text rules of one field in its document, in the rules' order; a rule none of whose
    targets can match there (most of them, in a text) is not evaluated."""
    live = r.engine.live_rules(doc)
    if live is None:
        return {rule.name: _text_signal(doc, rule, field) for rule in r.engine.field_rules.get(field, ())}
    return {rule.name: _text_signal(doc, rule, field) if rule in live else _NOT_FOUND
            for rule in r.engine.field_rules.get(field, ())}


def _regions(low: str, r: SignalRules, field: str, doc: Document | None = None) -> tuple[list[str], Evidence]:
    """(body regions named, evidence) of a lower-cased text (with its document, read from
    the matches it found in one pass)."""
    found, ev = [], []
    for name, pat in r.region.items():
        if doc is not None:
            spans = doc.spans(pat) if doc.may_match(pat) else None
            sp = spans[0] if spans else None
        else:
            sp = pat.search(low)
        if sp:
            found.append(name)
            ev.append((field, *sp))
    return found, ev


def _item_analysis(item: str, r: SignalRules, taxonomy: str | None):
    """(category, {name: Signal}, modality term) of an item's own text.

    Items repeat across letters ("Acupuncture 1x6"), so this is remembered per text; like the
    summary's, its Signals are shared by every row that names the item (read-only).
    """
    key = (item, taxonomy)
    hit = r.memos.items.get(key)
    if hit is not None:
        return hit
    category = categorize(item, taxonomy)
    sig = {"category": Signal(category, [("item", 0, len(item))] if item else [])}
    qty, span = parse_quantity(item, r)
    sig["requested_quantity"] = Signal(qty, [("item", *span)] if span else [])
    trial = r.trial_max.get(category)
    exceeds = qty is not None and trial is not None and qty > trial
    sig["exceeds_trial"] = Signal(exceeds, [("item", *span)] if exceeds and span else [])
    for key_word in ("additional", "post_op", "purchase", "rental", "retrospective"):
        pat = r.item.get(key_word)
        m = pat.search(item) if pat is not None else None
        # "retrospective" here is the item's wording only; the row's flag is added later
        name = key_word if key_word == "retrospective" else f"item_{key_word}"
        sig[name] = Signal(bool(m), [("item", *m.span())] if m else [])
    sig["item_regions"] = Signal(*_regions(lower_text(item), r, "item"))
    sig.update((name, Signal(value, list(ev))) for name, (value, ev) in item_medication(item).items())
    dose = item_dose(item, read_medication(item), load_vocabulary())
    sig.update((name, Signal(value, list(ev))) for name, (value, ev) in dose_signals(dose, "item").items())
    return r.memos.items.put(key, (category, sig, item_term(r, category, item, taxonomy)))


def _summary_analysis(summary: str, r: SignalRules) -> tuple[Document, dict[str, Signal]]:
    """(document, {signal: Signal}) of a summary's text rules; the last few are remembered."""
    hit = r.memos.summaries.get(summary)
    if hit is not None:
        return hit
    doc = r.engine.document(summary)
    res = _text_signals(doc, r, "summary")
    res["summary_regions"] = Signal(*_regions(doc.low, r, "summary", doc))
    res["summary_surgery"] = Signal(*first_in_document(doc, r.surgeries))
    m = _AGE.search(summary)
    age, evidence = None, []
    if m and m.lastindex is not None:
        age = int(next(g for g in m.groups() if g))
        if 14 <= age <= 100:
            evidence = [("summary", m.start(m.lastindex), m.end())]
        else:
            age = None
    res["age"] = Signal(age, evidence)
    return r.memos.summaries.put(summary, (doc, res))


def _text(row: Mapping, key: str) -> str:
    return as_text(row.get(key))


def _also_in_fields(row: dict, r: SignalRules, out: dict[str, Signal]) -> None:
    """Signals whose rule reads other fields too (`also_fields`): a `standalone` target in
    the disputed item or the other items of the letter makes the signal when the summary did
    not ("Norco 10/325 #90" requested for a worker whose summary names no drug)."""
    for rule in r.text_rules:
        if not rule.also_fields or rule.standalone is None or out[rule.name].value:
            continue
        for field in rule.also_fields:
            text = _text(row, field)
            if not text:
                continue
            key = ("also", rule.name, text)  # items repeat from letter to letter
            span = r.memos.items.get(key)
            if span is None:
                span = r.memos.items.put(key, rule.standalone.first(lower_text(text)) or ())
            if span:
                out[rule.name] = Signal(True, [(field, *span)])
                break


def _same_modality(row: dict, sdoc: Document, r: SignalRules, out: dict[str, Signal], term, taxonomy) -> None:
    """The item-level reading of the response signals: did the prior trial / improvement
    concern the disputed item's own modality (or drug)? True when the treatment the finding
    is about (`imr_ml.signals.attribution`: the nearest named in its sentence, with those
    listed alongside) is the item's; for a request of one item (a typed note, a one-item
    letter) and a finding whose sentence names no treatment at all, the sentence before it is
    read too. "Failed PT" before a traction-unit request is about PT, not traction."""
    one_item = not _text(row, "other_items").strip()
    treatments = treatment_term(r, taxonomy)
    for base in ("prior_trial_without_benefit", "functional_improvement", "no_functional_improvement"):
        if base not in out:
            continue
        ev = []
        if term is not None:
            for f, a, b in out[base].evidence:
                meant = about_treatments(sdoc, sdoc.sentence_span(a), (a, b), treatments)
                if not meant and one_item:
                    meant = about_treatments(sdoc, sdoc.reading_span(a), (a, b), treatments)
                if names_item(sdoc, meant, term):
                    ev.append((f, a, b))
        out[f"{base}_same_modality"] = Signal(bool(ev), ev)


def _dose_of_summary(item: str, sdoc: Document, r: SignalRules, out: dict[str, Signal]) -> None:
    """A bare drug name ("Neurontin") takes the dose the summary states for the same
    ingredient ("Neurontin 600 mg three times daily"); the items of a letter share the reading."""
    if not out["item_names_drug"].value or out["item_daily_dose_mg"].value is not None \
            or out["item_morphine_equivalent"].value is not None or out["item_dose_above_max"].value:
        return
    med = read_medication(item)
    if med is None or not sdoc.text:
        return
    key = ("dose", med.ingredients, med.route, med.form)
    found = sdoc.memo.get(key)
    if found is None:
        dose = summary_dose(sdoc.low, drug_term(r, item, general=False), med, load_vocabulary())
        found = sdoc.memo[key] = dose_signals(dose, "summary")
    if found["item_daily_dose_mg"][0] is not None or found["item_morphine_equivalent"][0] is not None:
        out.update((name, Signal(value, list(ev))) for name, (value, ev) in found.items())


def _larger(stated: Signal, computed: Signal, assumed: bool) -> Signal:
    """The morphine-equivalent dose a rule reads: the larger of the summary's stated total and
    the item's computed dose (a stated total covers every opioid; an item's own dose may be
    higher than an old total), unless that dose is a quantity `assumed` to last 30 days."""
    if computed.value is not None and not assumed and (stated.value is None or computed.value > stated.value):
        return computed
    return stated


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------


def extract_signals(row: Mapping, rules: str | SignalRules | None = None,
                    taxonomy: str | None = None, criteria: str | Criteria | None = None) -> dict[str, Signal]:
    """Every signal of one row.

    Parameters
    ----------
    row : mapping
        A dict / pandas row with the PRE_DECISION keys; only those are read.
    rules : str or SignalRules, optional
        A path to a signals TOML (default: the shipped one), or compiled rules.
    taxonomy : str, optional
        A path to a taxonomy TOML.
    criteria : str or Criteria, optional
        A path to a service criteria TOML (`imr_ml.signals.criteria`).

    Returns
    -------
    dict of str to Signal
        Every signal. It is shared with later calls for the same row (scoring reads it
        again for evidence and hints): do not modify.
    """
    row = {k: (row.get(k) if hasattr(row, "get") else None) for k in PRE_DECISION}
    r = load_rules(rules)
    key = (taxonomy, str(getattr(criteria, "path", criteria)), str(bool(row["retrospective"])),
           *[_text(row, k) for k in PRE_DECISION if k != "retrospective"])
    hit = r.memos.rows.get(key)
    if hit is None:
        hit = r.memos.rows.put(key, _extract(row, r, taxonomy, criteria))
    return hit


def _extract(row: dict, r: SignalRules, taxonomy, criteria=None) -> dict[str, Signal]:
    summary = _text(row, "summary")
    item = _text(row, "item")
    out: dict[str, Signal] = {}

    # Items of one letter share its summary: its analysis is cached.
    sdoc, summary_signals = _summary_analysis(summary, r)
    out.update(summary_signals)  # shared, not copied: results are read-only
    docs = {"summary": sdoc}
    for rule in r.engine.rules_off("summary"):
        if rule.field not in docs:
            docs[rule.field] = r.engine.document(_text(row, rule.field))
        out[rule.name] = _text_signal(docs[rule.field], rule, rule.field)

    _also_in_fields(row, r, out)

    # The disputed item (its own analysis is shared by every row naming the same item).
    category, item_signals, term = _item_analysis(item, r, taxonomy)
    out.update(item_signals)  # shared, not copied: results are read-only

    _same_modality(row, sdoc, r, out, term, taxonomy)
    medication = category in r.prior.medication_categories
    out["medication_relief"] = Signal(*relief_percent(sdoc, term if medication else None, tuple(r.modality.values())))
    _dose_of_summary(item, sdoc, r, out)
    out["morphine_equivalent"] = _larger(Signal(*morphine_equivalent(sdoc)), out["item_morphine_equivalent"],
                                         out["item_dose_from_quantity"].value)

    count, mentioned, ev = prior_modality(sdoc, r, category, item)
    out["prior_sessions"] = Signal(count, [e for e in ev if count is not None][:3])
    out["prior_same_modality"] = Signal(bool(mentioned), ev[:3] if mentioned else [])

    # The service's criteria (`features/criteria.toml`), then the other structured fields.
    out.update({name: Signal(value, ev) for name, (value, ev) in read_criteria(item, out, sdoc, r, criteria).items()})
    out.update({name: Signal(value, ev) for name, (value, ev) in read_fields(row, out, r, taxonomy).items()})
    # Its first-line care, quantity and window (the same criteria; after the times they read).
    out.update({name: Signal(value, ev) for name, (value, ev) in read_kinds(row, out, sdoc, r, criteria).items()})
    return out


class SignalValues(Mapping):
    """A row's signal values, read through its Signals (for hints and guideline rules,
    without copying).

    Parameters
    ----------
    signals : dict of str to Signal
        The row's signals (`extract_signals`).
    """

    __slots__ = ("_signals",)

    def __init__(self, signals: dict):
        self._signals = signals

    def __getitem__(self, name):
        return self._signals[name].value

    def get(self, name, default=None):
        """A signal's value, or `default` when the row has no such signal.

        Parameters
        ----------
        name : str
            The signal's name.
        default : object, optional
            What a missing signal reads as.

        Returns
        -------
        object
            The value.
        """
        sig = self._signals.get(name)
        return default if sig is None else sig.value

    def __iter__(self):
        return iter(self._signals)

    def __len__(self) -> int:
        return len(self._signals)


def signals_as_dict(signals: Mapping[str, Signal], texts: Mapping[str, str] | None = None) -> dict:
    """Signals in a JSON-ready form.

    Parameters
    ----------
    signals : mapping of str to Signal
        A row's signals.
    texts : mapping of str to str, optional
        The row's fields, to quote each evidence span's text.

    Returns
    -------
    dict
        ``{name: {"value": ..., "evidence": [{"field", "start", "end", "text"}]}}``.
    """
    out = {}
    for name, sig in signals.items():
        ev = []
        for f, s, e in sig.evidence:
            d = {"field": f, "start": s, "end": e}
            if texts is not None:
                d["text"] = (texts.get(f) or "")[s:e]
            ev.append(d)
        out[name] = {"value": sig.value, "evidence": ev}
    return out
