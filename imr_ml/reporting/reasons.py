"""Why reviewers uphold or overturn: reasons found in historical rationales.

Rationales are post-decision text. They are read here to tell providers what documentation
fails requests, per treatment category — never to score a request.

Only the reviewer's own finding counts: a rationale restates the case history and quotes the
guideline before it concludes, and those sentences say nothing about why this request
failed. Each sentence gets a role from the `[reading]` cues of features/reasons.toml
(`sentence_role`), and a reason is looked for only where that role allows it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from imr_ml.knowledge.taxonomy import categorize, load_toml
from imr_ml.knowledge.validate import compiling
from imr_ml.signals import load_rules
from imr_ml.text import nearest_cue

EXAMPLES_PER_REASON = 3
ROLES = ("skip", "guideline", "finding", "history")


@dataclass(frozen=True)
class Reason:
    name: str
    label: str
    decision: str
    pattern: re.Pattern
    negatable: bool = False  # a negation cue reaching the match drops it
    from_guideline: bool = False  # also read in unconditional guideline sentences
    fallback: bool = False  # counts in a sentence only when no other reason does


@dataclass(frozen=True)
class Reading:
    """Cues that give each sentence of a rationale its role."""
    cues: dict  # role -> compiled alternation
    conditional: re.Pattern  # a guideline sentence that states a condition gives no reason
    applied: re.Pattern  # a guideline sentence applied to this case is a finding
    sentence_negation: re.Pattern  # negates what follows it in its sentence


def _alternation(terms) -> re.Pattern:
    return re.compile("|".join(f"(?:{t})" for t in terms), re.IGNORECASE)


@lru_cache(maxsize=4)
def load_reasons(path: str | None = None) -> tuple[Reason, ...]:
    data = load_toml("reasons.toml", path)
    with compiling("reasons.toml", path):
        return tuple(
            Reason(r["name"], r["label"], r["decision"], _alternation(r["terms"]), bool(r.get("negatable")),
                   bool(r.get("from_guideline")), bool(r.get("fallback")))
            for r in data["reason"]
        )


@lru_cache(maxsize=4)
def load_reading(path: str | None = None) -> Reading:
    reading = load_toml("reasons.toml", path).get("reading") or {}

    def cue(name: str) -> re.Pattern:
        return _alternation(reading[name]) if reading.get(name) else re.compile(r"(?!x)x")

    with compiling("reasons.toml", path):
        return Reading({role: cue(role) for role in ROLES}, cue("conditional"), cue("applied"),
                       cue("sentence_negation"))


def sentence_role(sentence: str, path: str | None = None) -> str:
    """skip, finding, guideline, history or other: whose words a sentence is (the order
    of the checks is the precedence; see features/reasons.toml)."""
    reading = load_reading(path)
    for role in ROLES:
        if reading.cues[role].search(sentence):
            return "finding" if role == "guideline" and reading.applied.search(sentence) else role
    return "other"


def _allowed(reason: Reason, role: str, sentence: str, path: str | None) -> bool:
    if role in ("finding", "other"):
        return True
    return role == "guideline" and reason.from_guideline and not load_reading(path).conditional.search(sentence)


def _sentences(doc) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a parsed text."""
    starts = [0] + [b + 1 for b in doc.sentences]
    ends = [b + 1 for b in doc.sentences] + [len(doc.text)]
    return [(s, e) for s, e in zip(starts, ends) if doc.text[s:e].strip()]


def _negated(doc, sentence_start: int, start: int, end: int, path: str | None) -> bool:
    """NegEx, with the negation cues of features/signals.toml, or a sentence-wide negation
    before the match."""
    if load_reading(path).sentence_negation.search(doc.text, sentence_start, start):
        return True
    return nearest_cue(doc, doc.rules.cues["negation"], start, end) is not None


def _sentence_reasons(doc, s: int, e: int, path: str | None) -> dict[str, tuple[int, int]]:
    """The reasons one sentence gives, with the spans (into the whole text) that give them."""
    sentence = doc.text[s:e]
    role = sentence_role(sentence.strip(), path)
    found: dict[str, tuple[int, int]] = {}
    fallbacks: dict[str, tuple[int, int]] = {}
    for reason in load_reasons(path):
        if not _allowed(reason, role, sentence, path):
            continue
        for m in reason.pattern.finditer(sentence):
            span = (s + m.start(), s + m.end())
            if not (reason.negatable and _negated(doc, s, *span, path)):
                (fallbacks if reason.fallback else found)[reason.name] = span
                break
    return found or fallbacks


def find_reasons(rationale: str, path: str | None = None) -> dict[str, tuple[int, int]]:
    """Each reason the reviewer's own findings give in one rationale, with the span of its
    first mention."""
    doc = load_rules().engine.document(rationale or "")
    found: dict[str, tuple[int, int]] = {}
    for s, e in _sentences(doc):
        for name, span in _sentence_reasons(doc, s, e, path).items():
            found.setdefault(name, span)
    return found


def reasons_report(rows: list[dict], path: str | None = None, progress=None) -> dict:
    """Counts of each reason by decision and treatment category, with example spans.
    `progress(n)` hears how many rows are done."""
    reasons = {r.name: r for r in load_reasons(path)}
    by_cat: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    n_items: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list] = defaultdict(list)
    for i, row in enumerate(rows):
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
        if progress and (i + 1) % 100 == 0:
            progress(i + 1)
    if progress:
        progress(len(rows))
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
            lines += ([f"| {r['label']} | {r['count']} | {r['share']:.0%} |" for r in d["reasons"]]
                      or ["| (none found) | | |"])
        lines.append("")
    return "\n".join(lines)
