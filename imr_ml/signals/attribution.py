"""Which treatment a response finding is about: "failed PT" is about physical therapy, not the
traction unit requested in the same sentence.

A finding ("did not help", "without benefit", "improved function") is attributed to the
treatment named nearest to it in its sentence, with the treatments listed alongside that one
("PT, chiropractic and acupuncture failed" is about all three). The `*_same_modality`
signals hold when the disputed item's own modality or drug is among them. Treatments are the
`[modality]` words of `signals.toml`, the terms of the taxonomy's medication categories and
the drug names of `drugs.toml`, so a finding next to another treatment is never credited to the item.
"""

from __future__ import annotations

import re

from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.knowledge.vocabulary import load_vocabulary
from imr_ml.signals.prior import compiled_term
from imr_ml.signals.rules import SignalRules
from imr_ml.text.document import Document

Span = tuple[int, int]

# What may stand between two treatments of one list: separators, counts and their units.
_LIST_GLUE = re.compile(r"(?:[\s,/&+()#.\-]|\d+|\b(?:x|sessions?|visits?|treatments?|weeks?|wks?|months?|mos?|of|and|"
                        r"or|as well as|plus|including|along with|a|an|the|trials?|courses?|therapy|care|with)\b)*")

# A treatment named as what was reduced ("Mobic cut from daily to twice a week", "less Norco")
# is the object of a functional improvement (less dependency on treatment), not its subject.
_REDUCED_BEFORE = re.compile(r"\b(?:cut|cutting|reduced|reducing|decreased|decreasing|less|fewer|lowered|lowering|"
                             r"tapered|tapering|weaned|weaned off|stopped|stopped needing|"
                             r"no longer (?:needs?|requires?|takes?))\b"
                             r"(?:\s+[\w-]+){0,3}\s*$")
# ... unless the verb has a symptom for its object: "acupuncture x12 reduced pain 60%" is its subject.
_REDUCED_AFTER = re.compile(r"\s*(?:[\w-]+\s+){0,2}(?:was |were |has been |is )?"
                            r"(?:cut|reduced|decreased|lowered|tapered|stopped)\b"
                            r"(?!\s+(?:(?:his|her|their|the|my)\s+)?(?:pain|symptoms?|sx|spasms?|swelling|"
                            r"numbness|tingling|headaches?|vas|nrs)\b)")

# A treatment named as what is asked for now ("an epidural injection was requested") is no
# earlier course: a finding read with that sentence is not about it.
_REQUESTED_AFTER = re.compile(r"\s*(?:[\w-]+\s+){0,2}(?:was|were|is|are|has been|have been|being)\s+"
                              r"(?:requested|ordered|proposed|sought)\b")


# How far an item mention overlapping a treatment span may reach beyond it (a drug's longest
# name, "hydrocodone bitartrate/acetaminophen").
_NAME_REACH = 60


def _reduced(doc: Document, window_start: int, s: int, e: int) -> bool:
    """The mention is what was reduced, or what is being requested: not the subject of a finding."""
    return bool(_REDUCED_BEFORE.search(doc.low, max(window_start, s - 40), s) or _REDUCED_AFTER.match(doc.low, e)
                or _REQUESTED_AFTER.match(doc.low, e))


def treatment_term(rules: SignalRules, taxonomy: str | None = None) -> re.Pattern:
    """One lower-case pattern naming any treatment: every `[modality]`, the terms of the
    medication categories and every drug name of `drugs.toml` (compiled once per rules and
    taxonomy).

    Parameters
    ----------
    rules : SignalRules
        The rules.
    taxonomy : str, optional
        A taxonomy TOML path.

    Returns
    -------
    re.Pattern
        The pattern.
    """
    drugs = [c.pattern.lower.pattern for c in load_taxonomy(taxonomy) if c.name in rules.prior.medication_categories]
    alts = [m.pattern for m in rules.modality.values()] + drugs + [load_vocabulary().names_rx.pattern]
    return compiled_term(rules, "|".join(f"(?:{a})" for a in alts))


def _distance(a: int, b: int, s: int, e: int) -> int:
    return 0 if s < b and a < e else min(abs(s - b), abs(a - e))


def _listed_with(doc: Document, chosen: list[Span], found: list[Span]) -> list[Span]:
    """`chosen` and the treatments listed next to them (only separators and counts between)."""
    keep = set(chosen)
    grew = True
    while grew:
        grew = False
        for s, e in found:
            if (s, e) in keep:
                continue
            for ks, ke in list(keep):
                lo, hi = (ke, s) if s >= ke else (e, ks) if e <= ks else (0, 0)
                if hi >= lo and _LIST_GLUE.fullmatch(doc.low, lo, hi):
                    keep.add((s, e))
                    grew = True
                    break
    return sorted(keep)


def about_treatments(doc: Document, window: Span, finding: Span, any_treatment: re.Pattern) -> list[Span]:
    """The treatment mentions in `window` that the finding at `finding` is about: the nearest
    one (all the nearest on a tie) and those listed with it; none when the window names none.

    Parameters
    ----------
    doc : Document
        The summary.
    window : (int, int)
        Where to look (the finding's sentence, or its reading span).
    finding : (int, int)
        The finding's evidence span.
    any_treatment : re.Pattern
        `treatment_term`.

    Returns
    -------
    list of (int, int)
        Spans of the treatments meant.
    """
    key = ("treatments", any_treatment.pattern, window)
    found = doc.memo.get(key)
    if found is None:  # searched in the window only: the pattern is long, the window short
        found = doc.memo[key] = [m.span() for m in doc.finditer(any_treatment, *window)
                                 if not _reduced(doc, window[0], *m.span())]
    if not found:
        return []
    dist = [_distance(*finding, s, e) for s, e in found]
    best = min(dist)
    return _listed_with(doc, [sp for sp, d in zip(found, dist) if d == best], found)


def names_item(doc: Document, treatments: list[Span], item_term: re.Pattern) -> bool:
    """Whether one of `treatments` is the item's own modality or drug.

    Parameters
    ----------
    doc : Document
        The summary.
    treatments : list of (int, int)
        Treatment spans (`about_treatments`).
    item_term : re.Pattern
        The item's modality or drug (`imr_ml.signals.prior.item_term`).

    Returns
    -------
    bool
        True when an item mention overlaps one of them.
    """
    low = doc.low
    for ts, te in treatments:  # searched near each treatment only: the item's term is long, the spans few
        for m in item_term.finditer(low, max(0, ts - _NAME_REACH), min(len(low), te + _NAME_REACH)):
            if m.start() < te and ts < m.end():
                return True
    return False
