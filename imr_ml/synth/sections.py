"""Parts several layouts print: the items as shown, guideline citations, the how-made
paragraph and the decision rationale. Layout renderers (`imr_ml/synth/layouts/`) put them
in their order."""

from __future__ import annotations

from datetime import date, timedelta

from imr_ml.synth.pages import Draft, Kind
from imr_ml.synth.phrasing import Placeholders, fmt_date, lower_first, phrases, taxonomy
from imr_ml.synth.randomness import LetterRandom
from imr_ml.synth.records import LatentItem, LatentLetter, ShownItem

BOILERPLATE_SUMMARY = (
    "The expert reviewer developed the following clinical case summary based on a review of the "
    "case file, including all medical records:"
)
FINAL_DETERMINATION = (
    "The Final Determination was based on decisions for the disputed items/services set forth below:"
)
NO_CITATION = "The Claims Administrator did not cite any medical evidence for its decision."
DEFAULT_GUIDELINE = "MTUS Chronic Pain Medical Treatment Guidelines"
SHORTER = ("an initial evaluation only", "a shorter trial", "a reduced quantity", "a one-month supply")

# (truth column, phrase list) of the reasons a rationale may give, by outcome
REASONS = {
    1: (("functional_improvement", "reason_overturned_fi"), ("working", "reason_overturned_working")),
    0: (("prior_trial_without_benefit", "reason_upheld_trial"), ("no_functional_improvement", "reason_upheld_no_fi"),
        ("quantity_above_guideline", "reason_upheld_quantity"), ("opioid_item_without_fi", "reason_upheld_opioid")),
}
OUTCOME = {1: "overturned", 0: "upheld"}
EXTRA_REASON_CHANCE = {1: 0.5, 0: 0.4}


# ------------------------------------------------------------------ items as shown
def shown_items(letter: LatentLetter, rng: LetterRandom, partial_headings: bool) -> list[ShownItem]:
    """The item text the letter shows for each latent item; with `partial_headings`, a UR
    modification may show as a partial authorisation ("X was the original request ...")."""
    shown = []
    style = rng.choice((1, 2))
    for it in letter.items:
        name, dos = it.name, None
        if it.retrospective:
            dos = fmt_date(letter.ur_date - timedelta(days=rng.randint(3, 40)), style)
            name = _retrospective(name, dos, rng.randrange(3))
        s = ShownItem(item=name, named=name, date_of_service=dos)
        if partial_headings and it.ur_modified and not it.retrospective and rng.random() < 0.6:
            _partial(s, it, rng)
        shown.append(s)
    return shown


def _retrospective(name: str, dos: str, form: int) -> str:
    """A retrospective request's name with its date of service, in one of three forms."""
    if form == 0:
        return f"Retrospective {name} (DOS {dos})"
    if form == 1:
        return f"Retrospective request for {lower_first(name)} (DOS: {dos})"
    return f"{name}, retrospective (DOS {dos})"


def _partial(s: ShownItem, it: LatentItem, rng: LetterRandom) -> None:
    """Turn `s` into a partial authorisation: part of the request authorised, the rest (or the
    whole original request) under review."""
    q, restate = it.quantity, it.restate
    if restate and q and q >= 4 and rng.random() < 0.6:
        auth = rng.choice([a for a in (q // 2, q // 3, (2 * q) // 3, 6) if 0 < a < q])
        original, authorized, s.item = restate(q), restate(auth), restate(q - auth)
        s.heading = (
            f"{original} was the original request. {authorized} was authorized by the Claims "
            f"Administrator. The remaining IMR eligible portion of the original request, {s.item} is:"
        )
    else:
        original = s.named
        authorized = restate(max(1, q // 2)) if restate and q and q >= 2 else rng.choice(SHORTER)
        s.heading = (
            f"{original} was the original request. The Claims Administrator authorized {authorized}, "
            f"leaving the original request IMR eligible. The original request, {original} is:"
        )
    s.original_request, s.authorized_portion = original, authorized


# ------------------------------------------------------------------ guidelines
def guideline_sentence(it: LatentItem, region: dict, rng: LetterRandom) -> str:
    """A "Decision based on ..." citation of the item's guideline, sometimes with ODG."""
    cat = it.category
    g = taxonomy()[cat].guideline or DEFAULT_GUIDELINE
    r = rng.random()
    if cat in phrases()["chapter_cited"] and r < 0.5:
        s = f"Decision based on MTUS {region['chapter']} 2004."
    elif r < 0.8 and g.startswith("MTUS") and ", " in g:
        s = f"Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): {g.split(', ', 1)[1]}."
    else:
        s = f"Decision based on {g}."
    if rng.random() < 0.35:
        s += f" Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), {region['odg']}."
    return s


def guide_name(it: LatentItem, region: dict) -> str:
    """The guideline's name as a sentence cites it."""
    return taxonomy()[it.category].guideline or f"MTUS {region['chapter']}"


def guideline_blocks(draft: Draft, it: LatentItem) -> None:
    """The "Claims Administrator guideline:" and "MAXIMUS guideline:" blocks of an item."""
    region = draft.letter.region
    ca = NO_CITATION if it.ca_no_citation else guideline_sentence(it, region, draft.rng)
    draft.wrapped("Claims Administrator guideline: " + ca, Kind.FIXED)
    draft.add(Kind.BLANK, " ")
    draft.wrapped("MAXIMUS guideline: " + guideline_sentence(it, region, draft.rng), Kind.FIXED)
    draft.add(Kind.BLANK, " ")


# ------------------------------------------------------------------ prose blocks
def how_made(draft: Draft, with_credentials: bool) -> str:
    """The paragraph on how the determination was made, with the reviewer's credentials as a
    sentence where the layout states them there."""
    ph = phrases()
    parts = []
    for s in ph["how_made"]:
        if s != "{cred}":
            parts.append(s)
        elif with_credentials:
            spec = draft.specialty.replace(" & ", " and ")
            parts.append(draft.rng.choice(ph["credentials_sentence"]).format(spec=spec, state=draft.licensure))
    return " ".join(parts)


def summary_paragraphs(draft: Draft) -> None:
    """The case summary as one paragraph, or two separated by a blank line."""
    summary, rng = draft.summary, draft.rng
    if len(summary) > 8 and rng.random() < 0.3:
        k = rng.randint(3, len(summary) - 3)
        draft.wrapped(draft.sep.join(summary[:k]))
        draft.add(Kind.BLANK, " ")
        draft.wrapped(draft.sep.join(summary[k:]))
    else:
        draft.wrapped(draft.sep.join(summary))


def decision_word(label: int) -> str:
    """How a heading states the outcome."""
    return "Overturned" if label else "Upheld"


def rationale(draft: Draft, it: LatentItem, shown: ShownItem) -> str:
    """The reviewer's rationale arguing the drawn outcome from the item's planted effects."""
    rng, ph = draft.rng, phrases()
    name = lower_first(shown.named)
    words = Placeholders(draft.words)
    words["item"] = name
    words["mod"] = it.modality or "this treatment"
    words["guide"] = guide_name(it, draft.letter.region).replace("Non-MTUS Citation ", "")
    outcome = OUTCOME[it.label]
    out = [rng.choice(ph[f"rationale_open_{outcome}"]), rng.choice(ph["rationale_guideline"])]
    generic = ph[f"reason_{outcome}_generic"]
    reasons = [s for column, key in REASONS[it.label] if it.x[column] for s in ph[key]] or generic
    out += rng.sample(reasons, min(len(reasons), rng.randint(1, 2)))
    extra = rng.choice(generic)
    if rng.random() < EXTRA_REASON_CHANCE[it.label] and extra not in out:
        out.append(extra)
    if draft.layout.necessity_closing:
        out.append(f"The {name} is {'' if it.label else 'not '}medically necessary and appropriate.")
    else:
        out.append(rng.choice(ph[f"close_{outcome}"]))
    return " ".join(s.format_map(words) for s in out if s)


def form_date(day: date) -> str:
    """A date in a header field ("03/04/2016")."""
    return fmt_date(day, 1)
