"""Precision and recall of `imr_ml.reporting.reasons.find_reasons` against hand-labelled sentences.

`experiments/reasons_annotations.jsonl` holds rationale sentences written for this purpose
(not copied from letters), each with `kind` (finding: the reviewer's own conclusion;
history: the case history a rationale restates; guideline: quoted or paraphrased guideline
text) and `reasons`, the reasons it gives (none for most history and guideline text).

With `--corpus`, also the most frequent reason per treatment category among upheld items of
an ingested corpus (counts only, never text).

    python experiments/eval_reasons.py [--annotations FILE] [--corpus corpus.jsonl] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from imr_ml.reporting.reasons import find_reasons, load_reasons, reasons_report  # noqa: E402

DEFAULT_ANNOTATIONS = HERE / "reasons_annotations.jsonl"


def load_annotations(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(annotations: list[dict]) -> dict:
    """Per-reason TP/FP/FN, precision and recall, and the micro average over reasons."""
    counts = {r.name: Counter() for r in load_reasons()}
    for a in annotations:
        found, truth = set(find_reasons(a["text"])), set(a["reasons"])
        for name, c in counts.items():
            c["tp"] += name in found and name in truth
            c["fp"] += name in found and name not in truth
            c["fn"] += name in truth and name not in found
    counts["all (micro)"] = sum(counts.values(), Counter())
    return {name: _rates(c) for name, c in counts.items()}


def _rates(c: Counter) -> dict:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None}


def top_reasons(corpus: Path) -> dict:
    """The most frequent reason (label, share) per category among upheld items."""
    rows = [json.loads(line) for line in open(corpus, encoding="utf-8") if line.strip()]
    out = {}
    for cat, decisions in reasons_report(rows)["categories"].items():
        up = decisions.get("upheld")
        if up:
            out[cat] = {"n_items": up["n_items"],
                        "top": [(r["reason"], r["share"]) for r in up["reasons"][:2]]}
    return out


def markdown(results: dict) -> str:
    f = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
    lines = ["| reason | TP | FP | FN | precision | recall |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| `{n}` | {r['tp']} | {r['fp']} | {r['fn']} | {f(r['precision'])} | {f(r['recall'])} |"
              for n, r in results.items()]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--annotations", type=Path, default=DEFAULT_ANNOTATIONS)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = {"sentences": evaluate(load_annotations(args.annotations))}
    if args.corpus:
        results["top_reasons_upheld"] = top_reasons(args.corpus)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(markdown(results["sentences"]))
    for cat, t in results.get("top_reasons_upheld", {}).items():
        print(f"{cat} ({t['n_items']}): " + "; ".join(f"{n} {s:.0%}" for n, s in t["top"]))


if __name__ == "__main__":
    main()
