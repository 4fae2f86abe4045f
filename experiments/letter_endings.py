"""How `rationale_ending` judges the end of a letter's last rationale (issue #21): a whole
rationale without its final period must not be dropped as cut, and a rationale cut short
must not pass as whole.

For every item's rationale (real letters, and synthetic letters whose phrase bank was not
read while the rules were written) three versions are judged:

- as written (every one ends with a full stop: "whole");
- its final full stop removed: "cut" here would drop a whole letter (the bug of #21);
- cut after each word (positions that end a sentence are left out: cutting there is the
  full stop removed again): "whole" here would keep a cut letter without a word.

    python experiments/letter_endings.py [--letters DIR] [--synthetic N] [--out FILE]

Reports counts only, never letter text.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from imr_ml.letters.ingest import ingest_paths, parse_text  # noqa: E402
from imr_ml.letters.layouts import rationale_ending  # noqa: E402
from imr_ml.synth.generate import iter_letters  # noqa: E402

DEFAULT_LETTERS = REPO.parent / "shared" / "data" / "dwc-imr-letters" / "pdf"
WORD_END = re.compile(r"\S+")


def judge(rationales: list[str]) -> dict[str, Counter]:
    """Counts of each judgement for the three versions of every rationale."""
    out = {"as written": Counter(), "final stop removed": Counter(), "cut after a word": Counter()}
    for text in rationales:
        text = text.strip()
        out["as written"][rationale_ending(text)] += 1
        out["final stop removed"][rationale_ending(text.rstrip(".!? "))] += 1
        for m in WORD_END.finditer(text):
            if m.end() < len(text) and m.group()[-1] not in ".!?":
                out["cut after a word"][rationale_ending(text[: m.end()])] += 1
    return out


def table(name: str, n: int, counts: dict[str, Counter]) -> list[str]:
    lines = [f"### {name} ({n} rationales)", "", "| version | judged | whole | unsure (kept, warned) | cut |",
             "|---|---|---|---|---|"]
    for version, c in counts.items():
        total = sum(c.values())
        lines.append(f"| {version} | {total} | " + " | ".join(f"{c[k]} ({c[k] / total:.1%})" for k in
                                                              ("whole", "unsure", "cut")) + " |")
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--letters", type=Path, default=DEFAULT_LETTERS)
    ap.add_argument("--synthetic", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=HERE / "letter_endings.md")
    args = ap.parse_args()
    lines = ["# How the end of a letter's last rationale is judged (`rationale_ending`)", "",
             "`python experiments/letter_endings.py`; counts only. A whole rationale judged \"cut\" would drop its "
             "letter; a cut one judged \"whole\" would keep a cut letter without a word (\"unsure\" keeps it with a "
             "warning).", ""]
    if args.letters.is_dir():
        rows, _ = ingest_paths([args.letters], jobs=2)
        real = [r["rationale"] for r in rows if r.get("rationale")]
        lines += table("Real letters (read while the rules were written)", len(real), judge(real))
    synth = [r["rationale"] for _, text, _ in iter_letters(args.synthetic, seed=3)
             for r in parse_text(text) if r.get("rationale")]
    lines += table(f"Synthetic letters ({args.synthetic}, seed 3)", len(synth), judge(synth))
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
