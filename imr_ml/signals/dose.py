"""The dose a medication item asks for, read from its own words: the daily dose of each
ingredient, whether one is above its label maximum (`features/drugs.toml` `[dose]`), the
days the quantity lasts and the morphine milligram equivalents (MME) a day.

"Gabapentin 1600 mg TID" is 4,800 mg a day against Neurontin's 3,600; "Norco 10/325 1-2 q4h"
is up to 12 tablets, 120 mg of hydrocodone (120 MME) and 3,900 mg of acetaminophen; "Lidoderm
5% patch #120" is four patches a day against the label's three. The item is read as a
prescription is written: the strength right after the drug's name ("300 mg", "10/325" in the
order `drugs.toml` lists the product's ingredients, "5%", "75 mcg/hr"), the units a dose
("1-2 tabs": the upper bound), the frequency ("TID", "q4-6h": the shorter interval, "every 8
hours", "2x/day"), the quantity ("#90", "qty 120", "90 tablets") and the days ("x 30 days");
a quantity without a frequency is taken as a 30-day supply (the evidence says so). A bare
name ("Neurontin") takes the sig the summary states for the same ingredient, when it states
the strength and the frequency. No strength, no dose: never an "above the maximum" guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from imr_ml.knowledge.medication import Medication
from imr_ml.knowledge.vocabulary import Vocabulary

ASSUMED_DAYS = 30  # a quantity without a frequency or days: a month's supply
ACETAMINOPHEN = "acetaminophen"  # judged by its own rule, not by "above the label maximum"

_NUM = r"\d+(?:\.\d+)?"
_MASS = r"(?:mg|mcg|µg|ug|gm|g|grams?|%)"
# the strength right after the name: "300 mg", "10/325", "10 mg/325 mg", "10-325", "5%", "75 mcg/hr"
_STRENGTH = re.compile(rf"({_NUM})\s?({_MASS})?((?:\s?[/-]\s?{_NUM}\s?{_MASS}?){{0,3}})(\s?/\s?(?:hr|h|hour)\b)?")
_PART = re.compile(rf"({_NUM})\s?({_MASS})?")
# words that may stand between the name and its strength ("Tramadol ER 50 mg", "Norco tab 10/325")
_BETWEEN = re.compile(r"[a-z\s.,:()\-]{0,24}")
_COUNT_WORD = r"(?:tabs?|tablets?|caps?|capsules?|caplets?|pills?|patch(?:es)?)\b"
_SMALL = {"one": 1, "two": 2, "three": 3, "four": 4, "half": 0.5, "1/2": 0.5}
_SMALL_RX = r"(\d+(?:\.\d+)?|one|two|three|four|half|1/2)"
_UNITS = re.compile(rf"(?<![\d.#])(?:take\s)?{_SMALL_RX}(?:\s?(?:-|to|or)\s?{_SMALL_RX})?\s?{_COUNT_WORD}")
_QUANTITY = re.compile(rf"#\s?(\d+)|\b(?:qty|quantity|disp|dispense|no\.)\s?[:.#]?\s?#?\s?(\d+)"
                       rf"|(?<![\d.#])(\d{{2,4}})\s?{_COUNT_WORD}")
_DAYS = re.compile(r"\b(?:x|for|×)\s?(\d{1,3})\s?(days?|d|weeks?|wks?|months?|mos?)\b"
                   r"|\b(\d{1,3})[- ]?(day|week|month)s?[- ](?:supply|rx|prescription)\b")
_CAP = re.compile(r"\b(?:max(?:imum)?|not to exceed|nte|no more than|do not exceed|up to)\s?:?\s?(\d{1,2})\s?"
                  rf"(?:{_COUNT_WORD}|doses?)?\s?(?:/|a|per|in|each)\s?(?:day|24\s?h(?:ours?|rs?)?)\b")
_ER = re.compile(r"\b(er|xr|sr|cr|xl|extended[- ]release|sustained[- ]release|controlled[- ]release|"
                 r"long[- ]acting|contin|oxycontin|ms contin)\b")
_TIMES = {"once": 1, "twice": 2, "thrice": 3, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_PER_DAY = r"(?:a|per|each|/)\s?day|daily"
# (pattern, per day from the match): tried in this order, the first found after the strength counts
_FREQUENCIES: tuple[tuple[re.Pattern, Callable[[re.Match], float]], ...] = (
    (re.compile(r"\b(?:q\.?\s?|every\s)(\d{1,2})\s?(?:-|to)\s?(\d{1,2})\s?(?:h|hr|hrs|hours?)\b"),
     lambda m: 24 / max(1, min(int(m.group(1)), int(m.group(2))))),
    (re.compile(r"\b(?:q\.?\s?|every\s)(\d{1,2})\s?(?:h|hr|hrs|hours?)\b"), lambda m: 24 / max(1, int(m.group(1)))),
    (re.compile(rf"\b(\d)\s?(?:x|times)\s?(?:{_PER_DAY})\b"), lambda m: float(m.group(1))),
    (re.compile(rf"\b(once|twice|thrice|one|two|three|four|five|six)(?: times)?\s(?:{_PER_DAY})\b"),
     lambda m: float(_TIMES[m.group(1)])),
    (re.compile(r"\bq\.?i\.?d\b\.?"), lambda m: 4.0),
    (re.compile(r"\bt\.?i\.?d\b\.?"), lambda m: 3.0),
    (re.compile(r"\bb\.?i\.?d\b\.?"), lambda m: 2.0),
    (re.compile(r"\b(?:q\.?d|daily|q\s?day|every (?:day|morning|night|evening)|q\.?am|q\.?pm|q\.?hs|h\.?s|"
                r"at bedtime|nightly|at night|in the morning)\b\.?"), lambda m: 1.0),
    (re.compile(r"\b(?:weekly|(?:once )?(?:a|per|each|every) week|q\.? ?(?:1 ?)?wk|q\.? ?week)\b"), lambda m: 1 / 7),
    (re.compile(r"\b(?:monthly|(?:once )?(?:a|per|each|every) month)\b"), lambda m: 1 / 30),
)
_PER_VOLUME = re.compile(rf"{_NUM}\s?{_MASS}?\s?/\s?(?:{_NUM}\s?)?(?:ml|cc|l|g|gm)\b")
_COUNTED = re.compile(rf"\s?(?:-\s?\d\s?)?{_COUNT_WORD}")
_BARE_UNITS = re.compile(r"(?<![\d.#/])([1-4])(?:\s?-\s?([1-4]))?\s+(?:po\s+|by mouth\s+|orally\s+)?")


class Dose(NamedTuple):
    """What an item's sig comes to a day.

    Parameters
    ----------
    daily_mg : dict
        {ingredient: mg a day} of the ingredients whose strength was read.
    lead : str
        The ingredient the dose is about (the product's leading one: hydrocodone of Norco).
    above : tuple of (str, float)
        (ingredient, its maximum) of each ingredient above its label maximum (not acetaminophen),
        when the dose is written (a frequency or days): "Prilosec 20 mg #90" may be a 90-day supply.
    mme : float or None
        Morphine milligram equivalents a day of its opioids (CDC factors of `drugs.toml`).
    days_supply : float or None
        Days the quantity lasts at that dose.
    assumed_days : bool
        The quantity was taken as a 30-day supply (no frequency or days written).
    span : (int, int)
        Where the sig is written (from its strength: the drug's name is another finding's quote).
    max_mg : float or None
        The label maximum it is judged against: of the first ingredient above it, else of the
        lead (mg a day; patches at once for a patch).
    """

    daily_mg: dict[str, float]
    lead: str
    above: tuple[tuple[str, float], ...]
    mme: float | None
    days_supply: float | None
    assumed_days: bool
    span: tuple[int, int]
    max_mg: float | None = None


def _limit(vocab: Vocabulary, ingredient: str, extended: bool) -> float | None:
    limits = vocab.drugs[ingredient].dose
    if limits is None:
        return None
    return (limits.er_max_daily_mg if extended and limits.er_max_daily_mg else limits.max_daily_mg) or None


def _small(word: str | None) -> float | None:
    if word is None:
        return None
    return _SMALL[word] if word in _SMALL else float(word)


def _strengths(m: re.Match) -> list[tuple[float, str | None]]:
    """[(value, unit)] of a strength match ("10/325 mg": both in mg)."""
    parts = [(float(p.group(1)), p.group(2)) for p in _PART.finditer(m.group(0).split("/h")[0])]
    last = next((u for _, u in reversed(parts) if u), None)  # "10/325 mg": the unit written last
    return [(v, u or last) for v, u in parts]


def _mg(value: float, unit: str | None) -> float | None:
    if unit in (None, "mg"):
        return value
    if unit in ("g", "gm", "gram", "grams"):
        return value * 1000
    if unit in ("mcg", "µg", "ug"):
        return value / 1000
    return None  # a percentage: no mass


def _frequency(low: str, start: int, end: int) -> tuple[float | None, int, int]:
    """(doses a day, where the frequency starts and ends) of the first frequency written in [start, end)."""
    found = [(m.start(), read(m), m.end()) for rx, read in _FREQUENCIES for m in [rx.search(low, start, end)] if m]
    if not found:
        return None, start, start
    begin, per_day, stop = min(found)
    return per_day, begin, stop


class _Sig(NamedTuple):
    strengths: list[tuple[float, str | None]]
    per_hour: bool  # "75 mcg/hr": a patch's rate
    units: float | None
    per_day: float | None
    quantity: int | None
    days: float | None
    end: int
    cap: float | None = None  # "not to exceed 8 tabs a day": the most units a day
    start: int = 0  # where the strength starts



def read_sig(low: str, name_end: int, end: int, combination: bool) -> _Sig | None:
    """The sig written after a drug's name: strength, units, frequency, quantity, days.

    Parameters
    ----------
    low : str
        The lower-cased text.
    name_end : int
        Where the drug's name ends.
    end : int
        Where the sig may run to (the end of the item, or of the summary's sentence).
    combination : bool
        The name stands for several ingredients ("10-325" is then two strengths).

    Returns
    -------
    _Sig or None
        None when no strength follows the name.
    """
    gap = _BETWEEN.match(low, name_end, end)
    start = gap.end() if gap else name_end
    m = _STRENGTH.match(low, start, end)
    if m is None or low[max(0, start - 1):start] == "#":
        return None
    if (not m.group(2) and _COUNTED.match(low, m.end())) or ("-" in m.group(3) and not combination) \
            or _PER_VOLUME.match(low, m.start()):  # "25 mg/ml": a concentration, the dose is a volume
        return None  # "Norco 1-2 tabs": units, not a strength
    strengths = _strengths(m)
    rest = m.end()
    units_m = _UNITS.search(low, rest, end)
    units = None
    if units_m and _small(units_m.group(2) or units_m.group(1)) is not None:
        value = _small(units_m.group(2) or units_m.group(1))
        units = value if value is not None and value <= 4 else None
    per_day, begin, stop = _frequency(low, rest, end)
    if units is None and per_day is not None:
        bare = _BARE_UNITS.search(low, rest, begin + 1)
        if bare and bare.end() == begin:  # "1-2 q4h": the units just before the frequency
            units = float(bare.group(2) or bare.group(1))
    q_m = next((q for q in _QUANTITY.finditer(low, rest, end) if any(g and int(g) >= 5 for g in q.groups())), None)
    qty = next(int(g) for g in q_m.groups() if g and int(g) >= 5) if q_m else None
    days_m = _DAYS.search(low, rest, end)
    days = None
    if days_m:
        n, what = (days_m.group(1), days_m.group(2)) if days_m.group(1) else (days_m.group(3), days_m.group(4))
        days = float(n) * (7 if what.startswith("w") else 30 if what.startswith("mo") else 1)
    last = max([m.end(), stop, *(x.end() for x in (units_m, days_m, q_m) if x)])
    cap_m = _CAP.search(low, rest, end)
    last = max(last, cap_m.end()) if cap_m else last
    return _Sig(strengths, bool(m.group(4)), units, per_day, qty, days or None, last,
                float(cap_m.group(1)) if cap_m else None, m.start())


def dose_from(low: str, name: tuple[int, int], end: int, med: Medication, vocab: Vocabulary,
              need_frequency: bool = False, ingredients: tuple[str, ...] = ()) -> Dose | None:
    """The daily dose of the sig after one name of the item's drug.

    Parameters
    ----------
    low : str
        The lower-cased text (the item, or the summary).
    name : (int, int)
        The span of the drug's name there.
    end : int
        Where the sig may run to.
    med : Medication
        The item's drug (`imr_ml.knowledge.medication.read_medication`): route, form, lead.
    vocab : Vocabulary
        The drug vocabulary.
    need_frequency : bool
        Refuse a quantity without a frequency (the summary's mentions: "#90" there may be
        anything UR saw).
    ingredients : tuple of str
        The ingredients the strengths are of, in order (default: the name's own, as
        `drugs.toml` lists them).

    Returns
    -------
    Dose or None
        None when no strength follows the name, or no frequency or quantity turns it into a
        daily dose, or the route is neither oral nor a patch.
    """
    ingredients = ingredients or vocab.entry(low[name[0]:name[1]]).ingredients
    patch = med.form == "patch" or med.route == "transdermal"
    if med.route != "oral" and not patch:
        return None
    sig = read_sig(low, name[1], end, len(ingredients) > 1)
    if sig is None or (sig.per_day is None and (need_frequency or sig.quantity is None)):
        return None
    lead = next((i for i in ingredients if vocab.drugs[i].drug_class == med.drug_class), ingredients[0])
    if patch:
        return _patch_dose(sig, lead, vocab)
    units = sig.units or 1.0
    assumed = sig.per_day is None and sig.days is None
    if sig.per_day is not None:
        per_day = min(units * sig.per_day, sig.cap or units * sig.per_day)
        days = sig.quantity / per_day if sig.quantity else sig.days
    else:
        days = sig.days or ASSUMED_DAYS
        per_day = (sig.quantity or 0) / days
    daily = {i: mg * per_day for i, (v, u) in zip(ingredients, sig.strengths, strict=False)
             for mg in [_mg(v, u)] if mg is not None}
    if lead not in daily:
        return None
    extended = _ER.search(low, name[0], end) is not None
    limits = {i: _limit(vocab, i, extended) for i in daily if i != ACETAMINOPHEN}
    above = () if assumed else tuple((i, lim) for i, lim in limits.items() if lim is not None and daily[i] > lim + 1e-6)
    factors = {i: vocab.drugs[i].dose.mme_factor for i in daily if vocab.drugs[i].dose}  # type: ignore[union-attr]
    mme = sum(daily[i] * f for i, f in factors.items() if f) if any(factors.values()) else None
    limit = above[0][1] if above else _limit(vocab, lead, extended)
    return Dose(daily, lead, above, mme, days, assumed, (sig.start, sig.end), limit)


def _patch_dose(sig: _Sig, lead: str, vocab: Vocabulary) -> Dose | None:
    """A patch: fentanyl's rate in mcg/hr to MME; lidocaine's patches on at once against the label's."""
    limits = vocab.drugs[lead].dose
    if limits is None:
        return None
    value, unit = sig.strengths[0]
    if limits.mme_factor and (sig.per_hour or unit in ("mcg", "µg", "ug")):
        return Dose({}, lead, (), value * limits.mme_factor * (sig.units or 1.0), None, False, (sig.start, sig.end))
    if not limits.max_patches:
        return None
    assumed = sig.units is None and sig.days is None
    at_once = sig.units if sig.units is not None else (sig.quantity or 0) / (sig.days or ASSUMED_DAYS)
    above = ((lead, float(limits.max_patches)),) if not assumed and at_once > limits.max_patches + 1e-6 else ()
    days = sig.quantity / at_once if sig.quantity and at_once else sig.days
    return Dose({}, lead, above, None, days, assumed, (sig.start, sig.end), float(limits.max_patches))


# --------------------------------------------------------------------------------------
# The item's dose as signals
# --------------------------------------------------------------------------------------

# The dose signals of a request (`dose_signals`), in this order.
DOSE_SIGNALS = ("item_daily_dose_mg", "item_dose_max_mg", "item_dose_above_max", "item_days_supply",
                "item_morphine_equivalent", "item_acetaminophen_mg", "item_dose_from_quantity")
_SIG = "item: strength, units, frequency, \"#90\" (a bare name: the summary's sig of its drug)"
# (signal, meaning, source) of each, for the registry of fields (`imr_ml.signals.fields`) and its README table
DOSE_FIELDS = (
    ("item_daily_dose_mg", "mg a day of the ingredient judged: the first above its maximum, else the item's leading"
     " one (hydrocodone of Norco)", _SIG),
    ("item_dose_max_mg", "that ingredient's label maximum, mg a day (a patch: patches at once)", "`drugs.toml` [dose]"),
    ("item_dose_above_max", "an ingredient above its label maximum (acetaminophen has its own rule)", _SIG),
    ("item_days_supply", "days the quantity lasts (30 when no frequency or days are written)", _SIG),
    ("item_morphine_equivalent", "MME a day of its opioids (CDC 2016 factors, `drugs.toml` `mme_factor`)", _SIG),
    ("item_acetaminophen_mg", "acetaminophen mg a day", _SIG),
    ("item_dose_from_quantity", "the daily dose is the quantity taken as a 30-day supply (no frequency or days written:"
     " no \"above the maximum\" then, nor an MME that `morphine_equivalent` reads)", _SIG),
)
_JOINED = re.compile(r"\s?(?:[/+&-]|and|with|w/)\s?")
_SENTENCE_END = re.compile(r"[.;\n](?:\s|$)")


def item_dose(item: str, med: Medication | None, vocab: Vocabulary) -> Dose | None:
    """The dose the item's own words ask for (`dose_from` after its first drug name).

    Parameters
    ----------
    item : str
        The disputed item's text.
    med : Medication or None
        Its drug (`read_medication(item)`).
    vocab : Vocabulary
        The drug vocabulary.

    Returns
    -------
    Dose or None
        None when the item names no drug or writes no dose of it.
    """
    if med is None:
        return None
    low = item.lower()
    start, stop = med.name_spans[0]
    ingredients = vocab.entry(low[start:stop]).ingredients
    for a, b in med.name_spans[1:]:  # "hydrocodone/APAP", "ibuprofen and famotidine": one combination
        if not _JOINED.fullmatch(low, stop, a):
            break
        stop, ingredients = b, (*ingredients, *vocab.entry(low[a:b]).ingredients)
    return dose_from(low, (start, stop), len(low), med, vocab, ingredients=ingredients)


def summary_dose(low: str, term: re.Pattern | None, med: Medication, vocab: Vocabulary) -> Dose | None:
    """The dose the summary states for the item's drug ("... Neurontin 600 mg three times
    daily"): the first mention of the item's leading ingredient whose sig has a strength and a
    frequency within its sentence.

    Parameters
    ----------
    low : str
        The lower-cased summary.
    term : re.Pattern or None
        `drug_term(..., general=False)` of the item: the names of its leading ingredient.
    med, vocab
        As in `dose_from`.

    Returns
    -------
    Dose or None
        None when no mention states a full sig.
    """
    if term is None:
        return None
    for m in term.finditer(low):
        stop = _SENTENCE_END.search(low, m.end())
        found = dose_from(low, m.span(), stop.start() if stop else len(low), med, vocab, need_frequency=True)
        if found is not None:
            return found
    return None


def dose_signals(dose: Dose | None, field: str) -> dict[str, tuple]:
    """`{signal: (value, evidence)}` of a dose, quoting its span in `field`.

    Parameters
    ----------
    dose : Dose or None
        The dose read (None: every signal empty, "above the maximum" false).
    field : str
        "item" or "summary": where the sig was read.

    Returns
    -------
    dict
        One entry per name of `DOSE_SIGNALS`; evidence is a tuple (shared, read-only).
    """
    if dose is None:
        return {"item_daily_dose_mg": (None, ()), "item_dose_max_mg": (None, ()), "item_dose_above_max": (False, ()),
                "item_days_supply": (None, ()), "item_morphine_equivalent": (None, ()),
                "item_acetaminophen_mg": (None, ()), "item_dose_from_quantity": (False, ())}
    ev = ((field, *dose.span),)
    daily = _rounded(dose.daily_mg.get(dose.above[0][0] if dose.above else dose.lead))
    apap = _rounded(dose.daily_mg.get(ACETAMINOPHEN))
    limit = dose.max_mg
    return {"item_daily_dose_mg": (daily, ev if daily is not None else ()),
            "item_dose_max_mg": (limit, ev if limit is not None else ()),
            "item_dose_above_max": (bool(dose.above), ev if dose.above else ()),
            "item_days_supply": (_rounded(dose.days_supply), ev if dose.days_supply is not None else ()),
            "item_morphine_equivalent": (_rounded(dose.mme), ev if dose.mme is not None else ()),
            "item_acetaminophen_mg": (apap, ev if apap is not None else ()),
            "item_dose_from_quantity": (dose.assumed_days, ev if dose.assumed_days else ())}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
