"""A medication item read through the drug vocabulary: its ingredients, class, route, dose
form, whether it is compounded, and the treatment category that follows.

"Neurontin 300 mg #90" and "Gabapentin 300 mg #90" read alike (gabapentin, an anticonvulsant,
oral); "Compound gabapentin 10% cream" is gabapentin applied to the skin, a compounded
topical whose ingredient the guidelines do not recommend. Rules condition on these fields, so
a rule about compounded topicals never fires on oral gabapentin.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from imr_ml.knowledge.vocabulary import TOPICAL_STATUSES, Drug, Entry, Form, Vocabulary, load_vocabulary

Span = tuple[int, int]


class Medication(NamedTuple):
    """What an item says of the drug it asks for.

    Parameters
    ----------
    ingredients : tuple of str
        Canonical ingredients, in the order named.
    classes : tuple of str
        Their classes (each ingredient's class and other classes), without repeats.
    drug_class : str
        The product's class: the first class of `drugs.toml` among the ingredients' own.
    category : str
        The treatment category (a compounded product's or a route's category before the class's).
    route : str
        "oral", "topical", "transdermal", "injection" ...
    form : str or None
        The dose form read ("patch", "cream", "extended_release" ...), if any.
    compounded : bool
        A compounded product (said so, a compounding kit, or an oral drug put on the skin).
    topical_status : str or None
        For a product applied to the skin: the worst MTUS topical status of its ingredients.
    topical_not_recommended : tuple of str
        The ingredients the guidelines do not recommend on the skin (in this form).
    name_spans : tuple of (int, int)
        Where the item names the drug(s).
    route_span : (int, int) or None
        The words that gave the route, when the item states it.
    systemic : bool
        The item gives the drug for a whole-body effect by injection ("Toradol 60 mg IM"): a
        medication in its drug's category, not an injection procedure.
    """

    ingredients: tuple[str, ...]
    classes: tuple[str, ...]
    drug_class: str
    category: str
    route: str
    form: str | None
    compounded: bool
    topical_status: str | None
    topical_not_recommended: tuple[str, ...]
    name_spans: tuple[Span, ...]
    route_span: Span | None
    systemic: bool = False


def _overlaps(span: Span, spans: tuple[Span, ...]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in spans)


def _form_words(low: str, forms: tuple[Form, ...], names: tuple[Span, ...]) -> tuple[Form | None, Span | None, bool]:
    """(the first form whose words the item uses outside the drug names, its span, whether
    some compounding word is used); `weak` forms only count when nothing stronger does."""
    chosen: tuple[Form, Span] | None = None
    weak: tuple[Form, Span] | None = None
    compounded = False
    for form in forms:
        span = next((m.span() for m in form.words.finditer(low) if not _overlaps(m.span(), names)), None)
        if span is None:
            continue
        compounded = compounded or form.compounded
        if form.weak:
            weak = weak or (form, span)
        elif chosen is None:
            chosen = (form, span)
    picked = chosen or weak
    return (picked[0], picked[1], compounded) if picked else (None, None, compounded)


def _route(lead: Drug, stated: Form | None, product: Entry | None) -> tuple[str, str | None]:
    """(route, form): the item's own words first, then a product's route, then the weak
    hints ("20%"), then the lead drug's usual route. A skin route of a drug marketed only as a
    transdermal system (fentanyl, buprenorphine) is transdermal."""
    route: str
    form: str | None
    if stated is not None and not stated.weak:
        route, form = stated.route, stated.name
    elif product is not None and product.route:
        route, form = product.route, product.form
    elif stated is not None:
        route, form = stated.route, None
    else:
        route, form = lead.routes[0], None
    if route == "topical" and "topical" not in lead.routes and "transdermal" in lead.routes:
        route = "transdermal"
    return route, form


def _topical(drugs: list[Drug], form: str | None) -> tuple[str, tuple[str, ...]]:
    """(worst topical status, the ingredients not recommended) of drugs applied to the skin."""
    statuses = {}
    for d in drugs:
        status = d.topical or "not_recommended"  # no marketed topical form: a compound of an oral drug
        if d.topical_form and form != d.topical_form:
            status = "not_recommended"
        statuses[d.ingredient] = status
    worst = max(statuses.values(), key=TOPICAL_STATUSES.index)
    return worst, tuple(i for i, s in statuses.items() if s == "not_recommended")


def _category(vocab: Vocabulary, drug_class: str, route: str, compounded: bool) -> str:
    if compounded and route in vocab.compounded:
        return vocab.compounded[route]
    return vocab.routes.get(route, {}).get("category") or vocab.classes[drug_class].category


@lru_cache(maxsize=8192)
def read_medication(item: str, vocab: Vocabulary | None = None) -> Medication | None:
    """The drug an item asks for, read through the vocabulary (remembered: items repeat).

    Parameters
    ----------
    item : str
        The disputed item's text.
    vocab : Vocabulary or None
        The vocabulary (None: the shipped one).

    Returns
    -------
    Medication or None
        None when the item names no drug of the vocabulary.
    """
    vocab = vocab or load_vocabulary()
    low = (item or "").lower()
    if not vocab.may_name_a_drug(low):
        return None
    found = [(m.span(), vocab.entry(m.group())) for m in vocab.names_rx.finditer(low)]
    if not found:
        return None
    names = tuple(span for span, _ in found)
    ingredients = tuple(dict.fromkeys(i for _, e in found for i in e.ingredients))
    drugs = [vocab.drugs[i] for i in ingredients]
    classes = tuple(dict.fromkeys(c for d in drugs for c in d.classes))
    lead = min(drugs, key=lambda d: vocab.classes[d.drug_class].rank)
    product = next((e for _, e in found if e.route or e.form or e.compounded), None)
    stated, span, compounding = _form_words(low, vocab.forms, names)
    route, form = _route(lead, stated, product)
    on_skin = route == "topical"
    compounded = compounding or (product is not None and product.compounded) or (
        on_skin and any("topical" not in d.routes for d in drugs))
    status, not_recommended = _topical(drugs, form) if on_skin else (None, ())
    return Medication(ingredients, classes, lead.drug_class, _category(vocab, lead.drug_class, route, compounded),
                      route, form, compounded, status, not_recommended, names,
                      span if stated is not None and span is not None else None,
                      route == "injection" and (stated is not None and stated.systemic
                                                or not vocab.classes[lead.drug_class].local_injection))
