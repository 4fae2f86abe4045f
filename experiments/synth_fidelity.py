"""Ingest fidelity on synthetic letters: every generated item and decision must come back
from the letter text exactly as the generator wrote it (truth.jsonl).

Usage: python experiments/synth_fidelity.py [--letters 10000] [--seed 3] [--pdf 100]
Writes experiments/synth_fidelity.md.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--letters", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--pdf", type=int, default=100, help="also write and read back this many as PDF")
    args = ap.parse_args()
    from imr_ml.letters.ingest import SkipLetter, parse_file, parse_text
    from imr_ml.synth.generate import iter_letters, write_pdf

    t0 = time.perf_counter()
    stats = collections.Counter()
    by_layout = collections.Counter()
    misses = []
    tmp = Path(tempfile.mkdtemp())
    for k, (lid, text, truth) in enumerate(iter_letters(args.letters, seed=args.seed)):
        want = [(t["item"], "overturned" if t["label"] else "upheld") for t in truth]
        readers = [("text", lambda: parse_text(text))]
        if k < args.pdf:
            write_pdf(text, tmp / f"{lid}.pdf")
            readers.append(("pdf", lambda: parse_file(tmp / f"{lid}.pdf")))
        for how, read in readers:
            try:
                rows = read()
            except SkipLetter as exc:
                misses.append((how, lid, str(exc)))
                stats[f"{how}_letters_skipped"] += 1
                continue
            got = [(r["item"], r["decision"]) for r in rows]
            stats[f"{how}_letters"] += 1
            stats[f"{how}_items"] += len(want)
            stats[f"{how}_items_exact"] += sum(g == w for g, w in zip(got, want)) if len(got) == len(want) else 0
            stats[f"{how}_decisions_exact"] += sum(g[1] == w[1] for g, w in zip(got, want)) if len(got) == len(want) else 0
            stats[f"{how}_letter_id_exact"] += rows[0]["letter_id"] == lid
            if how == "text":
                by_layout[truth[0]["layout"]] += 1
            if got != want:
                misses.append((how, lid, f"{got[:2]} != {want[:2]}"))
    secs = time.perf_counter() - t0
    lines = ["# Ingest fidelity on synthetic letters", "",
             f"{args.letters:,} letters from `imr_ml.synth.generate` (seed {args.seed}; layouts: "
             + ", ".join(f"{k} {v:,}" for k, v in sorted(by_layout.items())) + f"), parsed from their text; the first "
             f"{args.pdf} also written as PDF and read back through pdfium. {secs:.0f} s in all.", "",
             "| read from | letters | items | items exact (name and decision) | decisions exact | letter id exact | skipped |",
             "|---|---|---|---|---|---|---|"]
    for how in ("text", "pdf"):
        if stats[f"{how}_letters"] or stats[f"{how}_letters_skipped"]:
            n = stats[f"{how}_items"]
            lines.append(f"| {how} | {stats[f'{how}_letters']:,} | {n:,} | {stats[f'{how}_items_exact'] / n:.2%} | "
                         f"{stats[f'{how}_decisions_exact'] / n:.2%} | {stats[f'{how}_letter_id_exact']:,} | "
                         f"{stats[f'{how}_letters_skipped']} |")
    if misses:
        lines += ["", "First mismatches:", ""] + [f"- {h} {lid}: {m}" for h, lid, m in misses[:10]]
    (HERE / "synth_fidelity.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
