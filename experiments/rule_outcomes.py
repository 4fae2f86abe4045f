"""Each guideline rule against the real outcomes (writes rule_outcomes.md).

    .venv/bin/python experiments/rule_outcomes.py [--letters DIR] [--out FILE]

For each rule of `features/guidelines.toml`: the real disputed items it fires on, how many
were overturned, that rate with its 95% Wilson interval, and the overturn rate of the same
items' categories in these letters (what the category alone would say). A rule with a
positive strength should fire on items overturned more often than their categories, a
negative one on items overturned less often. These are the 111 letters the knowledge was
developed on (half A read while writing the rules), so agreement here is optimistic; the
strengths were never fitted to them. Only counts are written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from real_rows import HERE, LETTERS, load_rows

NARROWED = """## What was narrowed, and why

Before this table existed the two MRI rules pointed against the outcomes (measured with this script at
commit b57325f, all 111 letters): `imaging_red_flags_or_deficit` (+0.8) fired on 22 items, 2 overturned
(9% [3%, 28%] against the category's 9%), and `imaging_without_indication` (-0.7) on 28 items, 4
overturned (14% [6%, 31%] against 10%). The signals did not mean what the guideline means:

* `red_flags` counted any fracture, abscess, weight loss or night pain. ACOEM's red flags are a
  *suspected* fracture after significant trauma, tumour (cancer history, unexplained weight loss),
  spinal or deep infection (fever, osteomyelitis, discitis, epidural abscess), cauda equina,
  progressive neurological deficit, myelopathy, acute dislocation or neurovascular compromise. A
  fracture already diagnosed and treated is now `fracture_healing` (a reason for follow-up films, not
  for an MRI); night pain counts only when severe.
* `neuro_deficit` counted Tinel/Phalen/Spurling, generalised or pain-limited weakness and grip
  strength. ACOEM's objective deficit is dermatomal or nerve-distribution sensory loss, reflex loss,
  myotomal weakness graded on examination, atrophy. Provocative tests are now `nerve_provocative_test`
  (they still support EMG/NCS and carpal tunnel release); weakness the examiner puts down to pain is
  dropped by the `pain_limited` cue set.
* The rules now follow ACOEM's wording: red flags alone (`imaging_red_flags`); an objective deficit in
  a worker who has not responded to treatment or would consider surgery
  (`mri_nerve_compromise_after_failed_care`); signs of a tissue tear in the shoulder or knee after
  failed care (`extremity_imaging_tissue_injury`); and "without indication" when none of these nor a
  surgical question is documented (radicular pain without an objective deficit or failed care alone
  are not indications: ACOEM asks for electrodiagnostic evidence first). Failed conservative care alone
  no longer raises an MRI.

No strength was changed to fit these letters; the definitions were read from the guideline text.
"""


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _agrees(a) -> str:
    return "—" if a is None else "yes" if a else "**no**"


def table(result: dict, title: str) -> list[str]:
    h = result["headline"]
    against = (f"; clearly against (interval on the wrong side of the category rate): "
               f"{', '.join(f'`{r}`' for r in h['clearly_against'])}" if h["clearly_against"] else
               "; none clearly against (no interval on the wrong side of the category rate)")
    lines = [f"## {title}", "",
             f"{result['n_items']} items, {result['n_overturned']} overturned. {h['n_fired']} of {h['n_rules']} rules "
             f"fire on at least one item; {h['n_agree']} point the way their strength says, {h['n_against']} the "
             f"other way, {h['n_level']} neither (items overturned exactly as often as their categories)"
             + against + ".", "",
             "| rule | strength | items | overturned | rate [95% interval] | category rate | observed | agrees |",
             "|---|---:|---:|---:|---|---:|---|---|"]
    for r in sorted(result["rules"], key=lambda r: (-r["n_items"], r["rule"])):
        if not r["n_items"]:
            continue
        ci = r["rate_ci"]
        lines.append(f"| `{r['rule']}` | {r['strength']:+.1f} | {r['n_items']} | {r['n_overturned']} | "
                     f"{_pct(r['rate'])} [{_pct(ci[0])}, {_pct(ci[1])}] | {_pct(r['category_rate'])} | "
                     f"{r['observed']} | {_agrees(r['agrees'])} |")
    silent = sorted(r["rule"] for r in result["rules"] if not r["n_items"])
    lines += ["", f"Rules that fire on no item here ({len(silent)}): " + (", ".join(f"`{s}`" for s in silent) or "none")
              + ".", ""]
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--letters", type=Path, default=LETTERS)
    ap.add_argument("--out", type=Path, default=HERE / "rule_outcomes.md")
    args = ap.parse_args(argv)
    if not args.letters.is_dir():
        print(f"letters not found: {args.letters} (real data is not part of the repository)", file=sys.stderr)
        return 2
    from imr_ml.reporting.rule_outcomes import rule_outcomes

    rows = load_rows(args.letters)
    lines = ["# Guideline rules against real outcomes", "", __doc__.split("\n\n")[2].replace("\n", " "), ""]
    lines += table(rule_outcomes(rows, [r["label"] for r in rows]), "All 111 letters")
    lines += NARROWED.splitlines() + [""]
    b = [r for r in rows if r["half"] == "B"]
    lines += table(rule_outcomes(b, [r["label"] for r in b]), "Half B only (letters not read while writing rules)")
    text = "\n".join(lines)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
