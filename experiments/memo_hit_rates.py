"""Hit rates of every memo of the analysis, on distinct typed requests and on letters' items.

Usage: python experiments/memo_hit_rates.py [--items 20000]
Writes experiments/memo_hit_rates.md. Each input is scored cold (every memo cleared first)
through `score_rows` with the built-in model, in one process, as `imr-ml score` does; the
counts are read off the memos afterwards. A memo earns its memory where it hits; on
distinct requests every summary is new, so what still hits there is what a claims file
repeats (items, citations, words).
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def _letter_rows(n_items: int) -> list[dict]:
    from imr_ml.letters.ingest import parse_text
    from imr_ml.synth.generate import iter_letters

    rows: list[dict] = []
    for lid, text, _ in iter_letters(10 * n_items, seed=2):
        rows += parse_text(text, lid)
        if len(rows) >= n_items:
            return rows[:n_items]
    return rows


def _distinct_rows(n_items: int) -> list[dict]:
    from distinct_requests import iter_requests

    from imr_ml.scoring.score import request_row

    return [request_row(r["summary"], r["item"], r["claims_admin_guideline"], r["date_of_injury"],
                        r["ur_denial_date"], ur_decision=r["ur_decision"] or None)
            for r in iter_requests(n_items)]


def counts(rows: list[dict]) -> dict[str, tuple[int, int, int, int]]:
    """{memo: (size, entries, hits, misses)} after scoring `rows` cold."""
    from imr_ml.knowledge.taxonomy import categorize
    from imr_ml.modeling.modelfiles.modelio import load_model_dir
    from imr_ml.scoring import score
    from imr_ml.scoring.contributions import feature_label
    from imr_ml.signals import clear_caches, load_rules
    from imr_ml.signals.readers import cited_guidelines, surgery_days
    from imr_ml.text.literals import required_literals

    loaded = load_model_dir("builtin")
    clear_caches()
    caches = {"categorize (item text)": categorize, "cited_guidelines (citation text)": cited_guidelines,
              "surgery_days (summary, operations, date)": surgery_days,
              "required_literals (pattern)": required_literals, "feature_label (feature)": feature_label}
    for f in caches.values():
        f.cache_clear()
    for _ in score.score_rows(loaded, rows):
        pass
    rules = load_rules()
    out = {f"memos.{name}": (m.size, len(m), m.hits, m.misses) for name, m in rules.memos.named().items()}
    index = rules.engine.index
    out["word index (words of a text)"] = (200_000, len(index.keyed_words) + len(index.plain_words),
                                           index.looked_up - index.missed, index.missed)
    for name, f in caches.items():
        info = f.cache_info()
        out[name] = (info.maxsize, info.currsize, info.hits, info.misses)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20000)
    args = ap.parse_args()
    from imr_ml.cli._app import fewer_gc_pauses

    with fewer_gc_pauses():
        results = {"distinct typed requests": counts(_distinct_rows(args.items)),
                   "items of synthetic letters": counts(_letter_rows(args.items))}
    lines = ["# Memo hit rates", "",
             f"Python {platform.python_version()}; {args.items:,} items of each input scored cold with the built-in "
             "model, one process (`score_rows`, as `imr-ml score` runs it); hits / (hits + misses) of every lookup. "
             "`python experiments/memo_hit_rates.py`.", "",
             "| memo (key) | size | " + " | ".join(f"{k}: entries, hit rate (lookups)" for k in results) + " |",
             "|---|---|" + "---|" * len(results)]
    for name in next(iter(results.values())):
        cells = []
        for res in results.values():
            size, entries, hits, misses = res[name]
            looked = hits + misses
            cells.append(f"{entries:,}, {hits / looked:.1%} ({looked:,})" if looked else f"{entries:,}, unused")
        lines.append(f"| {name} | {size:,} | " + " | ".join(cells) + " |")
    (HERE / "memo_hit_rates.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
