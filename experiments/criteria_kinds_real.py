"""The criteria kinds' fields and rules against the real outcomes (writes criteria_kinds_real.md).

    .venv/bin/python experiments/criteria_kinds_real.py [--corpus FILE] [--out FILE]

For each field `imr_ml.signals.criteria_kinds` gives (first-line care tried or denied, a
quantity above the service's allowance, a request outside its window) and each of the four
rules that read them: the real disputed items it fires on, how many were overturned, that rate
with its 95% Wilson interval, and the overturn rate of the same items' categories in these
letters (what the category alone would say). A rule of positive strength should fire on items
overturned more often than their categories, a negative one less often. The keys were written
from the guidelines' text, never from these letters; only counts are written.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from real_rows import HERE, LETTERS, half

FIELDS = ("service_first_line_known", "service_first_line_tried", "service_first_line_untried",
          "service_quantity_exceeds", "service_outside_window")
RULES = ("service_first_line_tried", "service_first_line_untried", "service_quantity_exceeds", "service_outside_window")


def _rows(corpus: Path) -> list[dict]:
    from imr_ml.letters.ingest import ingest_paths, read_corpus
    from imr_ml.modeling.training.data import canonical_rows

    rows = read_corpus(str(corpus)) if corpus.exists() else ingest_paths([LETTERS], jobs=2)[0]
    return [{**r, "half": half(str(r["letter_id"]))} for r in canonical_rows(rows)]


def _line(name: str, fired: list[tuple[str, int]], by_category: dict) -> str:
    from imr_ml.modeling.evaluation.metrics import wilson_interval

    n, k = len(fired), sum(y for _, y in fired)
    if not n:
        return f"| `{name}` | 0 | — | — | — |"
    lo, hi = wilson_interval(k, n)
    cats = Counter(c for c, _ in fired)
    base = sum(by_category[c][1] / by_category[c][0] * m for c, m in cats.items()) / n
    return f"| `{name}` | {n} | {k} | {k / n:.0%} [{lo:.0%}, {hi:.0%}] | {base:.0%} |"


def table(rows: list[dict], title: str) -> list[str]:
    """The fields' and rules' lines for `rows`."""
    from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
    from imr_ml.signals.extract import SignalValues, extract_signals

    rules = load_guidelines()
    by_category: dict[str, list[int]] = {}
    field_hits: dict[str, list] = {f: [] for f in FIELDS}
    rule_hits: dict[str, list] = {r: [] for r in RULES}
    for r in rows:
        sig = extract_signals(r)
        cat, y = sig["category"].value, int(bool(r["label"]))
        by_category.setdefault(cat, [0, 0])
        by_category[cat][0] += 1
        by_category[cat][1] += y
        for f in FIELDS:
            if sig[f].value:
                field_hits[f].append((cat, y))
        fired = {x.name for x in fired_rules(SignalValues(sig), str(r.get("item") or ""), rules)}
        for name in RULES:
            if name in fired:
                rule_hits[name].append((cat, y))
    head = ["| field or rule | items | overturned | rate [95% Wilson] | their categories' rate |",
            "|---|---|---|---|---|"]
    return ([f"## {title} ({len(rows)} items)", "", "Fields:", ""] + head
            + [_line(f, field_hits[f], by_category) for f in FIELDS]
            + ["", "Rules (as guarded in guidelines.toml):", ""]
            + head + [_line(n, rule_hits[n], by_category) for n in RULES] + [""])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/h22t/corpus.jsonl"))
    ap.add_argument("--out", type=Path, default=HERE / "criteria_kinds_real.md")
    args = ap.parse_args(argv)
    if not args.corpus.exists() and not LETTERS.is_dir():
        print(f"letters not found: {LETTERS} (real data is not part of the repository)", file=sys.stderr)
        return 2
    rows = _rows(args.corpus)
    lines = ["# Criteria kinds against real outcomes", "", __doc__.split("\n\n")[2].replace("\n", " "), ""]
    lines += table(rows, "All 111 letters")
    b = [r for r in rows if r["half"] == "B"]
    lines += table(b, "Half B only")
    text = "\n".join(lines)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
