"""Why reviewers uphold or overturn: reasons found in historical rationales.

Rationales are post-decision text. They are read here to tell providers what documentation
fails requests, per treatment category — never to score a request.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from imr_ml.knowledge import categorize, load_toml

EXAMPLES_PER_REASON = 3


@dataclass(frozen=True)
class Reason:
    name: str
    label: str
    decision: str
    pattern: re.Pattern


@lru_cache(maxsize=4)
def load_reasons(path: str | None = None) -> tuple[Reason, ...]:
    data = load_toml("reasons.toml", path)
    return tuple(
        Reason(r["name"], r["label"], r["decision"],
               re.compile("|".join(f"(?:{t})" for t in r["terms"]), re.IGNORECASE))
        for r in data["reason"]
    )


def find_reasons(rationale: str, path: str | None = None) -> dict[str, tuple[int, int]]:
    """Each reason cited in one rationale, with the span of its first mention."""
    found = {}
    for reason in load_reasons(path):
        m = reason.pattern.search(rationale or "")
        if m:
            found[reason.name] = m.span()
    return found


def reasons_report(rows: list[dict], path: str | None = None) -> dict:
    """Counts of each reason by decision and treatment category, with example spans."""
    reasons = {r.name: r for r in load_reasons(path)}
    by_cat: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    n_items: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list] = defaultdict(list)
    for row in rows:
        cat = categorize(row.get("item") or "")
        decision = row.get("decision") or ("overturned" if row.get("label") else "upheld")
        n_items[cat][decision] += 1
        n_items["all"][decision] += 1
        text = row.get("rationale") or ""
        for name, (s, e) in find_reasons(text, path).items():
            by_cat[cat][decision][name] += 1
            by_cat["all"][decision][name] += 1
            if len(examples[name]) < EXAMPLES_PER_REASON:
                a, b = max(0, s - 60), min(len(text), e + 60)
                examples[name].append({"letter_id": row.get("letter_id"), "item_index": row.get("item_index"),
                                       "category": cat, "decision": decision, "start": s, "end": e,
                                       "context": text[a:b]})
    categories = {}
    for cat in sorted(n_items, key=lambda c: (c != "all", -sum(n_items[c].values()))):
        categories[cat] = {
            decision: {
                "n_items": n_items[cat][decision],
                "reasons": [
                    {"reason": name, "label": reasons[name].label, "count": k,
                     "share": round(k / n_items[cat][decision], 3)}
                    for name, k in by_cat[cat][decision].most_common()
                ],
            }
            for decision in ("upheld", "overturned")
            if n_items[cat][decision]
        }
    return {"n_items": sum(n_items["all"].values()), "categories": categories, "examples": dict(examples)}


def reasons_markdown(report: dict) -> str:
    lines = ["# Why IMR reviewers uphold or overturn", "",
             f"From the decision rationales of {report['n_items']} disputed items (post-decision text, "
             "for analysis only). Share = items of that category and decision whose rationale gives the reason.", ""]
    for cat, decisions in report["categories"].items():
        lines.append(f"## {cat}")
        for decision, d in decisions.items():
            lines += ["", f"**{decision}** ({d['n_items']} items)", "", "| reason | items | share |", "|---|---|---|"]
            lines += [f"| {r['label']} | {r['count']} | {r['share']:.0%} |" for r in d["reasons"]] or ["| (none found) | | |"]
        lines.append("")
    return "\n".join(lines)
