"""The clinical case summary of a synthetic letter: every latent signal said in words.

Several phrasings per signal, affirmed and negated forms, hedges, plans that are not
history, and distractor sentences about modalities that are not disputed, so that a signal
extractor is tested on language rather than on one sentence per fact.
"""

from __future__ import annotations

from datetime import timedelta

from imr_ml.synth.dgp import DIAGNOSTIC
from imr_ml.synth.phrasing import Placeholders, cap, fmt_date, join_and, lower_first, phrases
from imr_ml.synth.randomness import LetterRandom
from imr_ml.synth.records import LatentLetter, ShownItem

# phrase list of the sentence on a disputed modality, by the item's state
STATE_PHRASES = {"prior_trial_without_benefit": "trial_no_benefit", "functional_improvement": "functional_improvement",
                 "no_functional_improvement": "no_functional_improvement", "none": "naive"}


class _Sentences:
    """Fills phrase-bank templates for one letter. Values drawn for a sentence (a year, a
    date, pain scores) stay in `words` until another sentence redraws them."""

    def __init__(self, letter: LatentLetter, words: Placeholders, rng: LetterRandom) -> None:
        self.letter, self.words, self.rng, self.ph = letter, words, rng, phrases()
        self.date_style = rng.randrange(4)
        female = letter.female
        words["age"] = letter.age
        words["man"] = "woman" if female else "man"
        words["sexword"] = "female" if female else "male"
        words["complaint"] = rng.choice(letter.region["complaint"]).format_map(words)
        words["mech"] = rng.choice(self.ph["mechanisms"]).format_map(words)
        words["doi"] = fmt_date(letter.date_of_injury, self.date_style)
        words["urdate"] = fmt_date(letter.ur_date, self.date_style)
        words["job"] = rng.choice(self.ph["jobs"])
        words["vdate"] = fmt_date(letter.ur_date - timedelta(days=rng.randint(5, 60)), self.date_style)

    def fill(self, tpl: str, **extra: object) -> str:
        """`tpl` with its placeholders filled; `extra` values are set for this and later ones."""
        if "{" not in tpl:
            return tpl
        words, rng, letter = self.words, self.rng, self.letter
        if "{year}" in tpl:
            words["year"] = rng.randint(letter.date_of_injury.year, letter.ur_date.year)
        if "{date}" in tpl:
            span = max(1, (letter.ur_date - letter.date_of_injury).days)
            words["date"] = fmt_date(letter.date_of_injury + timedelta(days=rng.randrange(span)), self.date_style)
        if "{p" in tpl:
            words["p1"] = rng.randint(5, 9)
            words["p2"] = rng.randint(2, 4)
        if "{n}" in tpl:
            words["n"] = rng.choice((4, 6, 6, 8, 12))
        if "{activity}" in tpl:
            words["activity"] = rng.choice(self.ph["activities"]).format_map(words)
        if "{tolerance}" in tpl:
            words["tolerance"] = rng.choice(self.ph["tolerances"])
        if extra:
            words.update(extra)
        return tpl.format_map(words)

    def say(self, key: str, **extra: object) -> str:
        """One sentence of the phrase list `key`."""
        return self.fill(self.rng.choice(self.ph[key]), **extra)


def build_summary(letter: LatentLetter, words: Placeholders, rng: LetterRandom, shown: list[ShownItem]) -> list[str]:
    """The summary's sentences: the opening, the UR decision restated (before or after the
    clinical body) and the clinical body in random order."""
    sentences = _Sentences(letter, words, rng)
    tpl = rng.choice(sentences.ph["opening"])
    opening = [sentences.fill(tpl)]
    if "{mech}" not in tpl and rng.random() < 0.6:
        opening.append(sentences.say("mechanism_sentence"))
    ur = _utilization_review(sentences, shown)
    body = [sentences.say("visit"), sentences.say("pain")]
    body += rng.sample(letter.region["exam"], rng.randint(1, 3))
    body += _medications(sentences)
    body += _work_and_surgery(sentences)
    body += _modality_responses(sentences)
    body.append(sentences.say("plan"))
    rng.shuffle(body)
    ordered = opening + ur + body if rng.random() < 0.7 else opening + body + ur
    return [s for s in ordered if s]


def _utilization_review(sentences: _Sentences, shown: list[ShownItem]) -> list[str]:
    """The UR decision restated: what was denied and what modified, retrospective dates of
    service, the appeal."""
    rng, say, items = sentences.rng, sentences.say, sentences.letter.items
    denied = [lower_first(s.named) for s, it in zip(shown, items) if not it.ur_modified]
    modified = [lower_first(s.named) for s, it in zip(shown, items) if it.ur_modified]
    out = []
    if len(denied) > 2 and rng.random() < 0.4:
        k = rng.randint(1, len(denied) - 1)
        out.append(say("ur_denied", items=join_and(denied[:k])))
        rest = join_and(denied[k:])
        out.append(say("ur_denied_also", items=rest, Items=cap(rest)))
    elif denied:
        out.append(say("ur_denied", items=join_and(denied)))
    if denied and modified:
        out.append(say("ur_modified_also", items=join_and(modified)))
    elif not denied:
        out.append(say("ur_modified", items=join_and(modified)))
    for s, it in zip(shown, items):
        if it.retrospective and rng.random() < 0.7:
            out.append(say("retro", dos=s.date_of_service))
    out.append(say("appeal"))
    return out


def _medications(sentences: _Sentences) -> list[str]:
    """The medication list (requested drugs, an opioid the patient takes, background drugs)
    and whether opioids are used."""
    rng, say, ph, letter = sentences.rng, sentences.say, sentences.ph, sentences.letter
    meds = [it.modality for it in letter.items if it.kind == "med" and it.modality]
    if letter.opioid_use and not any(it.category == "opioid" for it in letter.items):
        meds.append(rng.choice(ph["opioid_names"]))
    meds += rng.sample(ph["background_meds"], rng.randint(0, 3))
    unique: dict[str, str] = {}
    for m in meds:
        unique.setdefault(m.lower(), m)  # "Norco" requested and "norco" taken are one drug
    meds = list(unique.values())
    out = []
    if meds:
        out.append(say("meds_list", meds=join_and(meds)))
    elif rng.random() < 0.5:
        out.append(say("meds_none"))
    if letter.opioid_use:
        if rng.random() < 0.3:
            out.append(say("opioid_explicit"))
    elif rng.random() < 0.4:
        tpl = rng.choice(ph["opioid_none"])
        out.append(sentences.fill(tpl, drug=rng.choice(ph["opioid_names"])))
    return out


def _work_and_surgery(sentences: _Sentences) -> list[str]:
    """Work status, permanent and stationary status, prior and planned surgery."""
    rng, say, ph, letter = sentences.rng, sentences.say, sentences.ph, sentences.letter
    if letter.working:
        out = [say("work_yes" if rng.random() < 0.92 else "work_unclear")]
    else:
        out = [say("work_no" if rng.random() < 0.9 else "work_unclear")]
    if letter.permanent_and_stationary:
        if rng.random() < 0.95:
            out.append(say("ps_yes"))
    elif rng.random() < 0.3:
        out.append(say("ps_no"))
    surgery = rng.choice(letter.region["surg"]).format_map(sentences.words)
    if letter.prior_surgery:
        if rng.random() < 0.95:
            out.append(say("surgery_yes", surg=surgery))
    elif rng.random() < 0.35:
        out.append(say("surgery_no"))
    if rng.random() < (0.1 if letter.prior_surgery else 0.3):
        tpl = rng.choice(ph["surgery_plan"])
        out.append(sentences.fill(tpl, surg=rng.choice(letter.region["surg"]).format_map(sentences.words)))
    return out


def _modality_responses(sentences: _Sentences) -> list[str]:
    """How the patient responded to each disputed modality so far, and sometimes a
    distractor about a modality that is not disputed."""
    rng, say, ph = sentences.rng, sentences.say, sentences.ph
    out = []
    for it in sentences.letter.items:
        mod = it.modality
        if not mod or it.category in DIAGNOSTIC:
            continue
        key = STATE_PHRASES[it.item_state]
        if key == "trial_no_benefit" and it.kind == "med":
            key = "trial_no_benefit_med"
        out.append(say(key, mod=mod, Mod=cap(mod)))
    if rng.random() < 0.5:
        mod = rng.choice(ph["distractor_modalities"])
        pool = rng.choice((ph["functional_improvement"], ph["no_functional_improvement"], ph["trial_no_benefit"]))
        out.append(sentences.fill(rng.choice(pool), mod=mod, Mod=cap(mod)))
    return out
