"""A CSV of distinct typed requests, as a claims file holds them: every row its own worker,
item and notes, no two summaries alike (the corpus benchmark scores letters whose items share
a summary, so the analyses of a summary are reused there and never here).

Usage: python experiments/distinct_requests.py ROWS OUT.csv [--seed 0]

Row ``i`` of seed ``s`` is drawn from its own random stream, so a file is deterministic and
any prefix of a larger file is the smaller file. The latent facts (patient, claim dates,
disputed item, its state and planted outcome) come from the synthetic letter generator
(`imr_ml.synth.draw`). Half the rows say them as a letter's case summary does (the
generator's own sentences, `imr_ml.synth.summary`), half as a provider's office types a
note ("52F cashier, LBP since 03/2016. Had 8 PT, no change. On Norco 10/325 tid. TTD.").
Each summary carries the vital signs of the visit, drawn as a bijection of the row number
(blood pressure, heart rate and weight: 19.4 million combinations), so every summary is
unique by construction; `write_requests` checks it anyway. And each names its treating
physician and clinic, from 65,600 made-up surnames: a claims file's vocabulary keeps growing
with its rows (names, places, misspellings), where the phrase bank's alone would not.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

from imr_ml.synth.dgp import DEFAULT_LAYOUT_MIX
from imr_ml.synth.draw import draw_letter
from imr_ml.synth.phrasing import Placeholders, fmt_date, lower_first, phrases
from imr_ml.synth.randomness import LetterRandom
from imr_ml.synth.records import LatentItem, LatentLetter
from imr_ml.synth.sections import NO_CITATION, guideline_sentence, shown_items
from imr_ml.synth.summary import build_summary

COLUMNS = ("claim", "summary", "item", "claims_admin_guideline", "date_of_injury", "ur_denial_date", "ur_decision")
# vital signs as a mixed-radix number: systolic 100-159, diastolic 60-99, pulse 55-99, weight 110-289 lb
VITALS_RADIX = (60, 40, 45, 180)
VITALS_SPAN = 60 * 40 * 45 * 180
VITALS_STEP = 7_368_787  # coprime with VITALS_SPAN: i -> i * step mod span is a bijection

# how a note names a modality, and short forms of the body regions' complaints
NOTE_MODALITY = {"physical therapy": "PT", "acupuncture": "acu", "chiropractic care": "chiro",
                 "chiropractic manipulative therapy": "chiro", "spinal manipulation": "chiro",
                 "cognitive behavioral therapy": "CBT", "occupational therapy": "OT"}
NOTE_COMPLAINT = {"lumbar": ("LBP", "low back pain w/ sciatica", "L/S pain"),
                  "cervical": ("neck pain", "C-spine pain w/ HA", "neck pain radiating to arm"),
                  "shoulder": ("{s} shoulder pain", "{s} shoulder pain, worse overhead"),
                  "knee": ("{s} knee pain", "{s} knee pain and swelling"),
                  "wrist": ("{s} wrist/hand pain", "numbness {s} hand")}
NOTE_STATE = {
    "prior_trial_without_benefit": ("Had {n} {mod}, no real change.", "Tried {mod} x{n}, didn't help.",
                                    "{n} {mod} visits done w/o benefit."),
    "functional_improvement": ("Finished {n} {mod}; pain {p1}->{p2}, able to {act} again.",
                               "After {n} {mod} back to modified duty, meds cut down.",
                               "{mod} x{n} helped: {tol} tolerance up from 15 to 45 min."),
    "no_functional_improvement": ("{n} {mod} so far, pain {p1}->{p1}, function unchanged.",
                                  "Did {mod} x{n}, no objective functional gains documented.",
                                  "Completed {n} {mod}, still can't {act}."),
    "none": ("No prior {mod}.", "Has not tried {mod} yet.", "Wants to start {mod}."),
}
# surnames of two or three of these syllables (40**2 + 40**3 of them), and their clinics
SYLLABLES = ("ka", "mor", "lin", "des", "ta", "vi", "ro", "shen", "pa", "gu", "bel", "tor", "ri", "na", "wes",
             "ko", "man", "ho", "zel", "fa", "quin", "sa", "dor", "le", "mi", "bran", "chu", "ne", "ol", "ar",
             "stev", "yu", "ber", "gon", "da", "fer", "lo", "ish", "ten", "val")
CLINICS = ("Medical Group", "Health Partners", "Occupational Medicine Clinic", "Family Practice", "Medical Associates")
NOTE_WORK = {1: ("Working full duty.", "Back at work, mod duty.", "Still working regular job."),
             0: ("TTD.", "Off work since {year}.", "Not working.", "On TTD, not back to work.")}


def vitals(i: int) -> tuple[int, int, int, int]:
    """(systolic, diastolic, pulse, weight) of row `i`: distinct for every i < VITALS_SPAN."""
    x = (i * VITALS_STEP + 1_234_567) % VITALS_SPAN
    out = []
    for radix in VITALS_RADIX:
        x, digit = divmod(x, radix)
        out.append(digit)
    return 100 + out[0], 60 + out[1], 55 + out[2], 110 + out[3]


def surname(rng: LetterRandom) -> str:
    """A made-up surname ("Kamorlin", "Vishen")."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _letter_summary(letter: LatentLetter, rng: LetterRandom, shown, vit) -> str:
    """The generator's case summary, with the treating physician and the visit's vital
    signs among its sentences."""
    sentences = build_summary(letter, Placeholders(letter.words), rng, shown)
    sentences.insert(rng.randint(1, len(sentences)),
                     "Vital signs: blood pressure {}/{}, heart rate {}, weight {} pounds.".format(*vit))
    sentences.insert(rng.randint(1, len(sentences)), f"The primary treating physician is Dr. {surname(rng)} "
                     f"of {surname(rng)} {rng.choice(CLINICS)}.")
    return " ".join(sentences)


def _note_summary(letter: LatentLetter, it: LatentItem, item: str, rng: LetterRandom, vit) -> str:
    """A typed note of the same facts, in a provider's office's shorthand."""
    ph, w = phrases(), letter.words
    sex = "F" if letter.female else "M"
    side = "R" if w["side"] == "right" else "L"
    head = rng.choice((f"{letter.age}{sex}", f"{letter.age} y/o {sex}", f"{letter.age}yo {sex}"))
    complaint = rng.choice(NOTE_COMPLAINT[letter.region["name"]]).format(s=side)
    doi = letter.date_of_injury
    since = rng.choice((f"since {doi.month:02d}/{doi.year}", f"DOI {fmt_date(doi, 2)}", f"injured {doi.year}"))
    parts = [f"{head} {rng.choice(ph['jobs'])}, {complaint} {since}."]
    if it.modality:
        mod = NOTE_MODALITY.get(it.modality.lower(), it.modality)
        act = rng.choice(ph["activities"]).format_map(Placeholders(w))
        parts.append(rng.choice(NOTE_STATE[it.item_state]).format(
            n=rng.choice((4, 6, 8, 12)), mod=mod, p1=rng.randint(5, 9), p2=rng.randint(2, 4), act=act,
            tol=rng.choice(ph["tolerances"])))
    meds = rng.sample(ph["background_meds"], rng.randint(0, 2))
    if letter.opioid_use:
        meds.insert(0, rng.choice(("Norco 10/325 tid", "tramadol 50 bid", "Percocet 5/325 prn", "oxycodone 10 q6h")))
    parts.append(("Meds: " + ", ".join(meds) + ".") if meds else "No meds currently.")
    if not letter.opioid_use and rng.random() < 0.4:
        parts.append("No opioids.")
    parts.append(rng.choice(NOTE_WORK[letter.working]).format(year=rng.randint(doi.year, letter.ur_date.year)))
    if letter.permanent_and_stationary and rng.random() < 0.8:
        parts.append(rng.choice(("P&S.", "Declared P&S {}.", "MMI/P&S per QME {}.")).format(letter.ur_date.year - 1))
    if letter.prior_surgery and rng.random() < 0.9:
        parts.append("s/p " + rng.choice(letter.region["surg"]).format_map(Placeholders(w)).removeprefix("a ")
                     .removeprefix("an ") + ".")
    parts.append("BP {}/{}, HR {}, wt {} lb.".format(*vit))
    parts.append(f"PTP Dr. {surname(rng)}, {surname(rng)} {rng.choice(CLINICS)}.")
    if it.ur_modified or rng.random() < 0.5:
        verb = "modified" if it.ur_modified else rng.choice(("denied", "non-certified"))
        parts.append(f"UR {verb} {fmt_date(letter.ur_date, 1)}.")
    parts.append(rng.choice(("Req", "Requesting", "Asking for")) + f" {lower_first(item)}.")
    return " ".join(parts)


def request(i: int, seed: int = 0) -> dict:
    """Row `i` of run `seed`: a distinct typed request with the `COLUMNS` of a claims CSV.

    Parameters
    ----------
    i : int
        The row number.
    seed : int
        The run.

    Returns
    -------
    dict
        {column: text}.
    """
    rng = LetterRandom(seed * 4_294_967_296 + 1_000_000_007 + i)
    letter = draw_letter(rng, i, seed, DEFAULT_LAYOUT_MIX)
    shown = shown_items(letter, rng, False)
    k = rng.randrange(len(letter.items))
    it, item = letter.items[k], shown[k].item
    vit = vitals(i)
    if rng.random() < 0.5:
        summary = _letter_summary(letter, rng, shown, vit)
    else:
        summary = _note_summary(letter, it, item, rng, vit)
    r = rng.random()
    guideline = "" if r < 0.3 else NO_CITATION if it.ca_no_citation else guideline_sentence(it, letter.region, rng)
    iso = rng.random() < 0.5
    doi, ur = letter.date_of_injury, letter.ur_date

    def day(d):
        return d.isoformat() if iso else fmt_date(d, 1)

    return {"claim": f"CLM{seed:02d}{i:08d}", "summary": summary, "item": item, "claims_admin_guideline": guideline,
            "date_of_injury": day(doi) if rng.random() < 0.9 else "",
            "ur_denial_date": day(ur) if rng.random() < 0.9 else "",
            "ur_decision": ("modified" if it.ur_modified else "denied") if rng.random() < 0.3 else ""}


def iter_requests(n: int, seed: int = 0, start: int = 0) -> Iterator[dict]:
    """Rows ``start`` .. ``start + n - 1`` of run `seed` (see `request`)."""
    for i in range(start, start + n):
        yield request(i, seed)


def write_requests(n: int, path: str | Path, seed: int = 0) -> dict:
    """Write `n` distinct requests to a CSV; raises if two summaries were ever equal.

    Returns
    -------
    dict
        Rows, letter-style and note-style counts, distinct items and the file's size.
    """
    seen: set[bytes] = set()
    notes = 0
    items: set[str] = set()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        writer.writeheader()
        for row in iter_requests(n, seed):
            digest = hashlib.blake2b(row["summary"].encode(), digest_size=8).digest()
            if digest in seen:
                raise AssertionError(f"summary of {row['claim']} repeats an earlier one")
            seen.add(digest)
            notes += row["summary"].startswith(tuple("0123456789"))
            items.add(row["item"])
            writer.writerow(row)
    return {"rows": n, "note_style": notes, "letter_style": n - notes, "distinct_items": len(items),
            "bytes": Path(path).stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(write_requests(args.rows, args.out, args.seed))


if __name__ == "__main__":
    main()
