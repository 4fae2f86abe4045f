"""The medication side of a row, read through the drug vocabulary (`imr_ml.knowledge`):

* the item's drug as structured signals (`item_medication`): ingredients, classes, route,
  dose form, compounded, the MTUS topical status, and the services an item names;
* the summary's names for the item's drug (`drug_term`): every name of its leading
  ingredient(s), so that "on Neurontin since 2015" is prior use of a gabapentin request;
* two numbers read from the summary: the morphine-equivalent daily dose (`morphine_equivalent`)
  and the pain relief a sentence about the item's drug states (`relief_percent`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from imr_ml.knowledge.medication import read_medication
from imr_ml.knowledge.vocabulary import load_vocabulary, name_regex
from imr_ml.signals.mentions import mentions
from imr_ml.signals.rules import SignalRules
from imr_ml.text.document import Document

Evidence = list[tuple[str, int, int]]

# The item's structured medication signals (`item_medication`), in the order they are listed.
ITEM_SIGNALS = ("item_names_drug", "item_ingredients", "item_drug_classes", "item_drug_class", "item_route",
                "item_form", "item_compounded", "item_topical_status", "item_topical_not_recommended", "item_services")

_NUMBER = r"(\d{1,3}(?:\.\d)?)"
# "MED 120", "MME of 95 mg/day", "120 mg morphine equivalents", "morphine equivalent dose of 180"
_MME = re.compile(
    r"\b(?:med|mme|morphine (?:milligram )?equivalents?(?: dose| dosage| daily dose| dosing)?"
    r"|oral morphine equivalents?)\b[^.;\d]{0,25}?" + _NUMBER
    + r"|\b" + _NUMBER + r"\s?(?:mg)?\s?(?:/\s?day\s?|per day\s?|a day\s?|daily\s?)?"
    r"(?:of\s)?(?:med|mme|(?:oral )?morphine (?:milligram )?equivalents?)\b", re.IGNORECASE)
# A guideline's ceiling quoted by UR is not the worker's dose.
_MME_QUOTE = re.compile(r"\b(exceed\w*|ceiling|limit\w*|recommend\w*|guidelines?|should not|up to|maximum|threshold|"
                        r"no more than|not more than|cut-?off|above|greater than|more than|over)\b[^.;]{0,30}$",
                        re.IGNORECASE)
# "50% relief" (or "reduces her pain by 50%"), "pain 8/10 -> 4/10", "7/10 without and 3/10 with the medication"
_RELIEF = (
    re.compile(r"\b(?:(\d{1,3})\s?(?:%|percent)\s?(?:\w+ ){0,2}?(?:pain )?(?:relief|reduction|decrease|improvement"
               r"|better|less pain|benefit)\b|(?:reduc|decreas|lower|cut|reliev|eas)\w*\s(?:\w+\s){0,2}?pain\s"
               r"(?:levels?\s|scores?\s)?by\s(?:about\s|approximately\s|roughly\s|at least\s|over\s|more than\s)?"
               r"(\d{1,3})\s?(?:%|percent))", re.IGNORECASE),
    re.compile(r"\bpain\b[^.;]{0,40}?\b(\d{1,2})\s?(?:/\s?10)?\s?(?:-+>|→|to|down to|reduced to|decreased to)\s?"
               r"(\d{1,2})\s?(?:/\s?10)?", re.IGNORECASE),
    re.compile(r"\b(\d{1,2})\s?/\s?10 (?:without|w/o|before|off)\b[^.;]{0,40}?\b(\d{1,2})\s?/\s?10\b", re.IGNORECASE),
)
_RELIEF_WITH_FIRST = re.compile(r"\b(\d{1,2})\s?/\s?10 (?:with|w/|on)\b[^.;]{0,40}?\b(\d{1,2})\s?/\s?10 "
                                r"(?:without|w/o|off)\b", re.IGNORECASE)
_MED_WORD = re.compile(r"\bmed\b")
_DIGIT = re.compile(r"\d")
_NEGATED = re.compile(r"\b(no|not|without|lack of|absence of|failed to|unclear)\b[^.;]{0,30}$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _services() -> tuple[re.Pattern, tuple[tuple[str, re.Pattern], ...]]:
    """(every service's words as one regex, to skip the items naming none; each service's)."""
    terms = load_vocabulary().services.values()
    return (re.compile("|".join(f"(?:{t.words})" for t in terms), re.IGNORECASE),
            tuple((t.name, re.compile(t.words, re.IGNORECASE)) for t in terms))


def item_medication(item: str) -> dict[str, tuple[Any, tuple]]:
    """The item's drug and services as `{signal: (value, evidence)}` (the item analysis that
    calls it is remembered per item).

    Parameters
    ----------
    item : str
        The disputed item's text.

    Returns
    -------
    dict
        One entry per name of `ITEM_SIGNALS` (empty values when the item names no drug);
        evidence spans are tuples: the result is shared, read-only.
    """
    anyone, each = _services()
    named = anyone.search(item or "") is not None
    services = [(name, m.span()) for name, rx in (each if named else ()) for m in [rx.search(item)] if m]
    out: dict[str, tuple[Any, tuple]] = {"item_services": ([n for n, _ in services],
                                                           tuple(("item", *sp) for _, sp in services))}
    med = read_medication(item or "")
    if med is None:
        # "" rather than None: a text value, of the kind the knowledge checks expect
        empty: dict[str, Any] = {"item_names_drug": False, "item_ingredients": [], "item_drug_classes": [],
                                 "item_drug_class": "", "item_route": "", "item_form": "", "item_compounded": False,
                                 "item_topical_status": "", "item_topical_not_recommended": []}
        return {**{k: (v, ()) for k, v in empty.items()}, **out}
    names = tuple(("item", *sp) for sp in med.name_spans)
    route = (("item", *med.route_span),) if med.route_span else names
    out.update({
        "item_names_drug": (True, names),
        "item_ingredients": (list(med.ingredients), names),
        "item_drug_classes": (list(med.classes), names),
        "item_drug_class": (med.drug_class, names),
        "item_route": (med.route, route),
        "item_form": (med.form or "", route if med.form else ()),
        "item_compounded": (med.compounded, route if med.compounded else ()),
        "item_topical_status": (med.topical_status or "", names if med.topical_status else ()),
        "item_topical_not_recommended": (list(med.topical_not_recommended),
                                         names if med.topical_not_recommended else ()),
    })
    return out


def drug_term(rules: SignalRules, item: str, general: bool) -> re.Pattern | None:
    """A lower-case pattern of every name of the item's leading ingredient(s) (all their
    brands, generics and products), or None when the item names no drug of the vocabulary.

    Parameters
    ----------
    rules : SignalRules
        The rules whose memo keeps the compiled pattern.
    item : str
        The item's text.
    general : bool
        Also the general words for drugs of its class ("narcotics", "muscle relaxants") and
        for any medication ("her medications"): what a finding about the drug may say.

    Returns
    -------
    re.Pattern or None
        The pattern.
    """
    med = read_medication(item or "")
    if med is None:
        return None
    vocab = load_vocabulary()
    lead = [i for i in med.ingredients if vocab.drugs[i].drug_class == med.drug_class]
    key = ("drug", tuple(lead), general)
    found = rules.memos.terms.get(key)
    if found is None:
        names = _lead_names(tuple(lead))
        alts = [r"\b(?:" + "|".join(names) + r")(?![a-z0-9])"]
        if general:
            words = vocab.classes[med.drug_class].words
            alts += [w for w in (words, vocab.medication_words) if w]
        found = rules.memos.terms.put(key, re.compile("|".join(f"(?:{a})" for a in alts)))
    return found


@lru_cache(maxsize=512)
def _lead_names(ingredients: tuple[str, ...]) -> list[str]:
    """The name regexes of these ingredients and of the products they lead (Norco for
    hydrocodone; not for acetaminophen: taking Norco is not taking Tylenol)."""
    vocab = load_vocabulary()
    names = {n.lower() for i in ingredients for n in vocab.drugs[i].names}
    for product_names, entry in vocab.products:
        rank = min(vocab.classes[vocab.drugs[i].drug_class].rank for i in entry.ingredients)
        leads = {i for i in entry.ingredients if vocab.classes[vocab.drugs[i].drug_class].rank == rank}
        if leads & set(ingredients):
            names |= {n.lower() for n in product_names}
    return [name_regex(n) for n in sorted(names, key=lambda n: (-len(n), n))]


def morphine_equivalent(doc: Document) -> tuple[float | None, Evidence]:
    """The largest morphine-equivalent daily dose a summary states ("MED 120", "95 MME"), not
    counting a guideline ceiling quoted ("not to exceed 120 mg MED").

    Parameters
    ----------
    doc : Document
        The summary (its memo keeps the answer: the items of a letter share it).

    Returns
    -------
    tuple
        (mg/day or None, evidence spans).
    """
    hit = doc.memo.get("mme")
    if hit is None:
        low = doc.low  # most summaries name no dose: skip the scan
        said = "mme" in low or "morphine" in low or _MED_WORD.search(low) is not None
        hit = doc.memo["mme"] = _mme(doc.text) if said else (None, ())
    return hit[0], list(hit[1])


def _mme(text: str) -> tuple[float | None, tuple]:
    best, ev = None, []
    for m in _MME.finditer(text):
        if _MME_QUOTE.search(text, max(0, m.start() - 40), m.start()):
            continue
        value = float(m.group(1) or m.group(2))
        if 5 <= value <= 2000:
            best = value if best is None else max(best, value)
            ev.append(("summary", m.start(), m.end()))
    return best, tuple(ev)


def _relief_of(m: re.Match, kind: int) -> float | None:
    if kind == 0:
        percent = int(m.group(1) or m.group(2))
        return float(percent) if 10 <= percent <= 100 else None
    before, after = int(m.group(1)), int(m.group(2))
    if kind == 3:
        before, after = after, before
    return 100.0 * (before - after) / before if 0 < before <= 10 and after < before else None


def relief_percent(doc: Document, term: re.Pattern | None,
                   treatments: tuple[re.Pattern, ...] = ()) -> tuple[float | None, Evidence]:
    """The largest pain relief (in %) stated in a sentence that names the item's drug or
    medications generally ("50% relief with Lyrica", "pain 8/10 -> 4/10 with meds"), or in the
    sentence after one that does, when it names no other treatment ("On Norco. Pain 8/10
    without and 4/10 with it.").

    Parameters
    ----------
    doc : Document
        The summary.
    term : re.Pattern or None
        `drug_term(..., general=True)` of the item.
    treatments : tuple of re.Pattern
        Lower-case patterns of other treatments (the `[modality]` words).

    Returns
    -------
    tuple
        (percent or None, evidence spans).
    """
    if term is None:
        return None, []
    key = ("relief", term.pattern)
    hit = doc.memo.get(key)  # the items of a letter share its summary
    if hit is None:
        hit = doc.memo[key] = _relief(doc, _about(doc, term, treatments))
    return hit[0], list(hit[1])


def _about(doc: Document, term: re.Pattern, treatments: tuple[re.Pattern, ...]) -> list[tuple[int, int]]:
    """The sentences that name the drug, and each one's next sentence when it names no other
    treatment (nor the drug: it is one of them already)."""
    named = dict.fromkeys(doc.sentence_span(s) for s, _ in mentions(doc, term))
    out = dict(named)
    for _, e in named:
        if e < len(doc.text):
            nxt = doc.sentence_span(e)
            if nxt not in named and not any(t.search(doc.low, *nxt) for t in treatments):  # one short sentence
                out[nxt] = None
    return sorted(out)


def _relief(doc: Document, sentences: list[tuple[int, int]]) -> tuple[float | None, Evidence]:
    """Relief stated in these sentences."""
    best, ev = None, []
    for s, e in sentences:
        if _DIGIT.search(doc.text, s, e) is None:
            continue
        for kind, rx in enumerate((*_RELIEF, _RELIEF_WITH_FIRST)):
            for m in rx.finditer(doc.text, s, e):
                if _NEGATED.search(doc.text, s, m.start()):
                    continue
                value = _relief_of(m, kind)
                if value is not None:
                    best = value if best is None else max(best, value)
                    ev.append(("summary", m.start(), m.end()))
    return best, ev
