"""The latent facts of one synthetic letter, drawn before any text: the patient, the claim's
dates, the disputed items, and each item's planted effects, log-odds and label (the
data-generating process of `imr_ml.synth.dgp`)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from datetime import date, timedelta
from typing import NamedTuple

from imr_ml.synth.dgp import (
    DIAGNOSTIC,
    EFFECTS,
    GUIDELINE_TRIAL_VISITS,
    INTERCEPT,
    NOISE_SD,
    STATE_PROBS,
    STATES,
    SURGICAL,
    VISIT_QTYS,
    LayoutMix,
    category_table,
    sigmoid,
    state_group,
)
from imr_ml.synth.layouts import LAYOUTS
from imr_ml.synth.pages import SynthLayout
from imr_ml.synth.phrasing import Placeholders, cap, phrases, visits
from imr_ml.synth.randomness import LetterRandom
from imr_ml.synth.records import LatentItem, LatentLetter


class _Request(NamedTuple):
    """What an item asks for, before its state and outcome are drawn."""

    name: str
    kind: str
    modality: str | None
    quantity: int | None
    above_guideline: int
    restate: Callable[[int], str] | None


def draw_letter(rng: LetterRandom, index: int, seed: int, layout_mix: LayoutMix) -> LatentLetter:
    """Letter `index` of run `seed`: its layout from `layout_mix`, then the patient, the
    dates backwards from the decision, and the items."""
    layout = LAYOUTS[_pick_layout(rng, layout_mix)]
    decision, assigned, received, ur_date, chron_days = _draw_dates(rng, layout)
    doi = ur_date - timedelta(days=chron_days)
    chron_years = chron_days / 365.25
    age = rng.randint(max(22, int(chron_years) + 19), 68)
    female = int(rng.random() < 0.45)
    year = layout.case_year if layout.case_year is not None else assigned.year % 100
    region = rng.choice(phrases()["region"])
    side = rng.choice(("right", "left"))
    working = int(rng.random() < (0.38 if chron_years < 5 else 0.22))
    ps = int(rng.random() < min(0.55, 0.1 + 0.06 * chron_years))
    prior_surgery = int(rng.random() < 0.25)
    ca_letter = rng.random() < 0.10
    chosen = _draw_categories(rng)
    opioid_use = int(rng.random() < 0.45 or "opioid" in chosen)
    words = _patient_words(rng, side, female)
    letter_x = {"permanent_and_stationary": ps, "opioid_use": opioid_use, "working": working,
                "chronicity_years": round(chron_years, 3), "age_decades": round((age - 45) / 10.0, 2),
                "female": female}
    items = [_draw_item(rng, cat, words, region, letter_x, prior_surgery, ca_letter) for cat in chosen]
    return LatentLetter(
        index=index, layout=layout.name, case_number=_case_number(index, seed, year), words=words,
        region=region, age=age, female=female, working=working, permanent_and_stationary=ps,
        prior_surgery=prior_surgery, opioid_use=opioid_use, chronicity_days=chron_days, date_of_injury=doi,
        ur_date=ur_date, received=received, assigned=assigned, decision=decision, items=items,
    )


def _pick_layout(rng: LetterRandom, mix: LayoutMix) -> str:
    """A layout name drawn from the (name, weight) pairs of `mix` (weights sum to 1)."""
    r = rng.random()
    acc = 0.0
    for name, w in mix:
        acc += w
        if r < acc:
            return name
    return mix[-1][0]


def _draw_dates(rng: LetterRandom, layout: SynthLayout) -> tuple[date, date, date, date, int]:
    """(decision, assigned, received, UR denial, days from injury to UR denial): the decision
    in the layout's era, the others backwards from it; ~15% of claims under a year old, the
    rest log-normal with a median of ~3 years."""
    decision = layout.first_decision + timedelta(days=rng.randrange(layout.decision_days))
    assigned = decision - timedelta(days=rng.randint(18, 45))
    received = assigned - timedelta(days=rng.randint(2, 12))
    ur_date = received - timedelta(days=rng.randint(4, 30))
    if rng.random() < 0.15:
        chron_days = rng.randint(30, 364)
    else:
        chron_days = int(min(20.0, max(1.0, rng.lognormvariate(math.log(3.0), 0.7))) * 365.25)
    return decision, assigned, received, ur_date, chron_days


def _case_number(index: int, seed: int, year: int) -> str:
    """Unique within a run and across runs of different seeds."""
    digits = (index * 7_919_111 + seed * 1_000_003 + 12_345) % 10_000_000
    return f"CM{year:02d}-{digits:07d}"


def _draw_categories(rng: LetterRandom) -> list[str]:
    """1 item in ~60% of letters, otherwise 2-8, categories by weight without replacement."""
    cats, cum, _ = category_table()
    n_items = 1 if rng.random() < 0.6 else min(8, 2 + int(rng.expovariate(0.7)))
    chosen: list[str] = []
    while len(chosen) < n_items:
        c = cats[bisect_right(cum, rng.random() * cum[-1])]
        if c not in chosen:
            chosen.append(c)
    return chosen


def _patient_words(rng: LetterRandom, side: str, female: int) -> Placeholders:
    """Placeholder values for the patient: side, pronouns, how the letter calls them."""
    words = Placeholders(
        side=side, Side=cap(side),
        he="she" if female else "he", He="She" if female else "He",
        his="her" if female else "his", His="Her" if female else "His",
        him="her" if female else "him",
    )
    pt = rng.choice(phrases()["people"])
    words["pt"], words["Pt"] = pt, cap(pt)
    return words


def _draw_item(rng: LetterRandom, cat: str, words: Placeholders, region: dict, letter_x: dict,
               prior_surgery: int, ca_letter: bool) -> LatentItem:
    """One disputed item: the request, its state, the planted effects and the label.
    `letter_x` holds the effects every item of the letter shares (patient and claim)."""
    request = _draw_request(rng, cat, words, region)
    state = "none" if cat in DIAGNOSTIC else rng.choices(STATES, STATE_PROBS[state_group(cat)])[0]
    ur_modified = int(rng.random() < 0.15)
    retrospective = int(rng.random() < 0.10)
    ca_no_citation = int(ca_letter or rng.random() < 0.03)
    x = {
        "prior_trial_without_benefit": int(state == "prior_trial_without_benefit"),
        "functional_improvement": int(state == "functional_improvement"),
        "no_functional_improvement": int(state == "no_functional_improvement"),
        "permanent_and_stationary": letter_x["permanent_and_stationary"],
        "opioid_use": letter_x["opioid_use"],
        "opioid_item_without_fi": int(cat == "opioid" and state != "functional_improvement"),
        "prior_surgery_surgical_item": int(prior_surgery and cat in SURGICAL),
        "ur_modified": ur_modified,
        "working": letter_x["working"],
        "retrospective": retrospective,
        "chronicity_years": letter_x["chronicity_years"],
        "quantity_above_guideline": request.above_guideline,
        "ca_no_citation": ca_no_citation,
        "age_decades": letter_x["age_decades"],
        "female": letter_x["female"],
    }
    noise = rng.gauss(0.0, NOISE_SD)
    logit = INTERCEPT + category_table()[2][cat] + noise
    for k, coef in EFFECTS.items():
        logit += coef * x[k]
    p = sigmoid(logit)
    return LatentItem(
        category=cat, name=request.name, kind=request.kind, modality=request.modality, quantity=request.quantity,
        restate=request.restate, item_state=state, ur_modified=ur_modified, retrospective=retrospective,
        ca_no_citation=ca_no_citation, x=x, noise=noise, logit=logit, p=p, label=int(rng.random() < p),
    )


def _draw_request(rng: LetterRandom, cat: str, words: Placeholders, region: dict) -> _Request:
    """The item's name, what kind of quantity it has, and the modality the summary names."""
    spec = phrases()["items"][cat]
    if "drugs" in spec:
        drug = rng.choice(spec["drugs"])
        qty = rng.choice((30, 60, 60, 90, 90, 120))

        def restate_drug(q: int, drug: str = drug) -> str:
            """The drug with another count ("Norco 10/325 #60")."""
            return f"{drug} #{q}"

        return _Request(restate_drug(qty), "med", drug.split()[0], qty, 0, restate_drug)
    tpl = rng.choice(spec["templates"])
    sub = Placeholders(words)
    sub["site"] = rng.choice(region["site"]).format_map(words)
    for key, options in (("injection", "injection_item"), ("surgery", "surgery_item"), ("emg", "emg")):
        if "{" + key + "}" in tpl:
            sub[key] = rng.choice(region[options]).format_map(words)
    modality = rng.choice(spec["mod"]) if "mod" in spec else None
    if "{visits}" not in tpl:
        return _Request(tpl.format_map(sub), "plain", modality, None, 0, None)
    if cat != "perioperative":
        modality = _named_modality(rng, tpl, cat, modality)
    style = rng.randrange(6)
    qty = rng.choice(VISIT_QTYS)
    above = int(qty > GUIDELINE_TRIAL_VISITS) if spec.get("visit_based") else 0

    def restate_visits(q: int, tpl: str = tpl, sub: Placeholders = sub, style: int = style) -> str:
        """The item with another number of visits, phrased as the item phrases them."""
        filled = Placeholders(sub)
        filled["visits"] = visits(q, style)
        return tpl.format_map(filled)

    return _Request(restate_visits(qty), "visits", modality, qty, above, restate_visits)


def _named_modality(rng: LetterRandom, tpl: str, cat: str, modality: str | None) -> str | None:
    """The modality as the item names it ("Paraffin wax bath {visits}" -> "paraffin wax
    bath"); acupuncture and chiropractic items keep their own word 40% of the time."""
    head = tpl.split("{", 1)[0].strip()
    for cut in (" for", " to"):
        if head.endswith(cut):
            head = head[: -len(cut)]
    head = head.removeprefix("Additional ")
    if head and (modality is None or cat not in ("acupuncture", "chiropractic") or rng.random() < 0.6):
        return head[:1].lower() + head[1:]
    return modality
