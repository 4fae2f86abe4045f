"""How many real medication items have a cited rule that applies, by half of the letters, and
how brand and generic names of the same drug score (writes medication_coverage.md).

    .venv/bin/python experiments/medication_coverage.py [--corpus /tmp/real_corpus.jsonl]

A medication item is one whose category (read through features/drugs.toml) is a drug
category. The medication rules were written looking at half A only (experiments/halves.py:
letters whose SHA-256 of the case number starts 0-7); half B is the honest figure. The
letters are read from ../shared and never written into the project; only counts and rule
names are (no item text, no case number).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from halves import half  # noqa: E402

from imr_ml.knowledge.guidelines import fired_rules, load_guidelines  # noqa: E402
from imr_ml.signals import SignalValues, extract_signals  # noqa: E402

LETTERS = Path("/work/shared/data/dwc-imr-letters/pdf")
MEDICATION = ("opioid", "nsaid", "muscle_relaxant", "gi_protectant", "topical", "medical_food", "antidepressant",
              "other_medication")
# Brand / generic / abbreviation spellings of one request, scored by the built-in model.
PAIRS = [("Neurontin 300 mg #90", "Gabapentin 300 mg #90"), ("Norco 10/325 #90", "Hydrocodone/APAP 10/325 #90"),
         ("HC-APAP 10/325 #90", "Norco 10/325 #90"), ("Flexeril 10mg #60", "Cyclobenzaprine 10mg #60"),
         ("Fexmid 7.5mg #60", "Cyclobenzaprine 7.5mg #60"), ("Mobic 15mg #30", "Meloxicam 15mg #30"),
         ("Prilosec 20mg #60", "Omeprazole 20mg #60"), ("Ambien 10mg #30", "Zolpidem 10mg #30"),
         ("Lidoderm 5% patch #30", "Lidocaine 5% patch #30"), ("Ultram 50mg #60", "Tramadol 50mg #60"),
         ("Celebrex 200mg #30", "Celecoxib 200mg #30"), ("Lyrica 75mg #60", "Pregabalin 75mg #60"),
         ("Cymbalta 60mg #30", "Duloxetine 60mg #30"), ("Percocet 5/325 #60", "Oxycodone/APAP 5/325 #60")]
SUMMARY = ("The injured worker is a 52-year-old man with chronic low back pain radiating to the left leg since a "
           "fall in 2014. He has been on Norco, Neurontin and Flexeril for two years. Pain 8/10 without and 5/10 "
           "with medications.")


def _rows(corpus: str) -> list[dict]:
    from imr_ml.letters.ingest import ingest_paths, read_corpus, write_corpus

    if Path(corpus).exists():
        return read_corpus(corpus)
    rows, _ = ingest_paths([LETTERS], jobs=2)
    write_corpus(rows, corpus)
    return rows


def coverage(rows: list[dict]) -> dict:
    """{half: (items, items with a rule, Counter of categories, Counter of categories covered, Counter of rules)}."""
    g = load_guidelines()
    out = {h: [0, 0, Counter(), Counter(), Counter()] for h in "AB"}
    for r in rows:
        v = SignalValues(extract_signals(r))
        if v["category"] not in MEDICATION:
            continue
        stats = out[half(r["letter_id"])]
        fired = [x.name for x in fired_rules(v, r["item"], g)]
        stats[0] += 1
        stats[1] += bool(fired)
        stats[2][v["category"]] += 1
        stats[3][v["category"]] += bool(fired)
        stats[4].update(fired)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/tmp/real_corpus.jsonl")
    args = ap.parse_args()
    import imr_ml

    cov = coverage(_rows(args.corpus))
    lines = ["# Medication items with an applicable rule", "",
             "Real letters (../shared, 111 letters), split by `experiments/halves.py`. The medication rules, the drug "
             "vocabulary and its signals were written looking at half A only; half B is the honest figure. A medication "
             "item is one whose category (read through `features/drugs.toml`) is a drug category.", "",
             "| half | medication items | with a rule | share |", "|---|---|---|---|"]
    for h, (n, k, *_rest) in cov.items():
        lines.append(f"| {h} | {n} | {k} | {k / n:.0%} |" if n else f"| {h} | 0 | 0 | — |")
    lines += ["", "By category (items with a rule / items):", "", "| category | half A | half B |", "|---|---|---|"]
    for cat in MEDICATION:
        a, b = (f"{cov[h][3][cat]}/{cov[h][2][cat]}" for h in "AB")
        lines.append(f"| {cat} | {a} | {b} |")
    rules = cov["A"][4] + cov["B"][4]
    lines += ["", "Rules that fired on medication items (both halves):", "", "| rule | items |", "|---|---|"]
    lines += [f"| `{name}` | {n} |" for name, n in rules.most_common()]
    model = imr_ml.load_model("builtin")
    lines += ["", "Brand / generic / abbreviation pairs, scored by the built-in model on one typed summary:", "",
              "| a | b | P(a) | P(b) |", "|---|---|---|---|"]
    for a, b in PAIRS:
        pa, pb = (model.score({"summary": SUMMARY, "item": x})[0]["p_overturned"] for x in (a, b))
        lines.append(f"| {a} | {b} | {pa:.3f} | {pb:.3f} |")
    text = "\n".join(lines) + "\n"
    (HERE / "medication_coverage.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
