"""Precision / recall / F1 of the eight required signals against hand annotations, per half.

The annotations (`experiments/signal_annotations.jsonl`) were made by reading each real
letter's clinical case summary and its disputed items, not by running the extractor: one row
per (letter, signal) with the truth value, the character spans (into the ingest `summary`
field) that support it and, where the summary does not say it but a disputed item does (an
opioid requested), the item indices (`items`). The file holds offsets only, no letter text,
and names each letter by `letter` (the first 16 hex digits of the SHA-256 of its case number).

The letters are split once by `experiments/halves.py` (half A: hash 0-7, half B: 8-f).
Patterns are written looking at half A only; half B's figure is the honest one.

Letter level: a signal is predicted true for a letter when `extract_signals` fires on one of
the letter's rows as ingested (its summary, item and other items: what the model sees); the
same on the summary text alone is reported beside it. Span agreement: among true positives,
the share whose predicted summary evidence overlaps an annotated span (or that the annotation
supports by an item only).

    python experiments/eval_signals.py [--letters DIR] [--annotations FILE] [--out FILE]
                                       [--baseline FILE] [--save-baseline]

`--save-baseline` writes the counts to `eval_signals_baseline.json` (the code before a change);
later runs show them as "before". Needs the real letters (`../shared/data/dwc-imr-letters/pdf`,
not part of the repository); the report names letter keys and signals only, never letter text.
Kinds of the remaining misses are read from `signal_miss_kinds.json` (written by hand:
`{"<letter>/<signal>": "kind"}`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from experiments.halves import HALVES, half_of_key, letter_key  # noqa: E402
from imr_ml.signals import REQUIRED_SIGNALS, extract_signals  # noqa: E402

DEFAULT_LETTERS = REPO.parent / "shared" / "data" / "dwc-imr-letters" / "pdf"
SCOPES = (*HALVES, "all")
COUNTS = ("tp", "fp", "fn", "tn", "span_hit")


def load_annotations(path: Path) -> dict[str, dict[str, dict]]:
    ann: dict[str, dict[str, dict]] = defaultdict(dict)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                ann[r["letter"]][r["signal"]] = r
    return ann


def load_rows(letters: Path, keys) -> dict[str, list[dict]]:
    """The ingested rows of the annotated letters, by letter key."""
    from imr_ml.letters.ingest import ingest_paths

    rows, _ = ingest_paths([letters])
    out: dict[str, list[dict]] = defaultdict(list)
    wanted = set(keys)
    for r in rows:
        k = letter_key(r["letter_id"])
        if k in wanted:
            out[k].append(r)
    return out


def predict(rows: list[dict], summary_only: bool) -> dict[str, tuple[bool, list]]:
    """(value, summary evidence) of each required signal for one letter."""
    if summary_only:
        rows = [{"summary": rows[0]["summary"] or ""}]
    out: dict[str, tuple[bool, list]] = {}
    for row in rows:
        sig = extract_signals(row)
        for name in REQUIRED_SIGNALS:
            value, ev = out.get(name, (False, []))
            if sig[name].value:
                ev = ev + [(s, e) for f, s, e in sig[name].evidence if f == "summary"]
                value = True
            out[name] = (value, ev)
    return out


def evaluate(ann, rows_by_letter, summary_only: bool = False) -> tuple[dict, list]:
    """Counts per scope and signal, and the disagreements (letter, signal, kind, half)."""
    stats = {sc: {s: dict.fromkeys(COUNTS, 0) for s in REQUIRED_SIGNALS} for sc in SCOPES}
    errors = []
    for case, rows in sorted(rows_by_letter.items()):
        pred = predict(rows, summary_only)
        h = half_of_key(case)
        for name in REQUIRED_SIGNALS:
            a = ann[case].get(name)
            if a is None:
                continue
            gold, (value, spans) = bool(a["value"]), pred[name]
            kind = ("tp" if value else "fn") if gold else ("fp" if value else "tn")
            if kind in ("fp", "fn"):
                errors.append((case, name, "false hit" if kind == "fp" else "missed", h))
            hit = kind == "tp" and (any(ps < ge and gs < pe for ps, pe in spans for gs, ge in a["spans"])
                                    or (not a["spans"] and bool(a.get("items"))))
            for sc in (h, "all"):
                stats[sc][name][kind] += 1
                stats[sc][name]["span_hit"] += hit
    return stats, errors


def prf(st):
    tp, fp, fn = st["tp"], st["fp"], st["fn"]
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (None if p is None or r is None else 0.0)
    return p, r, f


def micro(by_signal: dict) -> dict:
    return {k: sum(s[k] for s in by_signal.values()) for k in COUNTS}


def fmt(x):
    return "n/a" if x is None else f"{x:.2f}"


def table(stats: dict, baseline: dict | None, scope: str) -> list[str]:
    head = "| signal | positives | TP | FP | FN | precision | recall | F1 |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
    if baseline:
        head, rule = head + " F1 before |", rule + "---:|"
    lines = [head + " evidence on the annotation |", rule + "---:|"]
    rows = [(f"`{n}`", stats[scope][n], (baseline or {}).get(scope, {}).get(n)) for n in REQUIRED_SIGNALS]
    rows.append(("**micro**", micro(stats[scope]), micro(baseline[scope]) if baseline else None))
    for label, st, before in rows:
        p, r, f = prf(st)
        hit = f"{st['span_hit']}/{st['tp']}" if st["tp"] and label != "**micro**" else ""
        cells = [label, st["tp"] + st["fn"], st["tp"], st["fp"], st["fn"], fmt(p), fmt(r), fmt(f)]
        if baseline:
            cells.append(fmt(prf(before)[2]) if before else "n/a")
        lines.append("| " + " | ".join(str(c) for c in cells) + f" | {hit} |")
    return lines


def summary_lines(stats, alone, baseline) -> list[str]:
    lines = ["| half | letters | micro F1 (rows as ingested) | micro F1 (summary text alone) |"
             + (" micro F1 before |" if baseline else ""), "|---|---:|---:|---:|" + ("---:|" if baseline else "")]
    for sc in SCOPES:
        n = sum(stats[sc][REQUIRED_SIGNALS[0]][k] for k in ("tp", "fp", "fn", "tn"))
        cells = [sc, n, fmt(prf(micro(stats[sc]))[2]), fmt(prf(micro(alone[sc]))[2])]
        if baseline:
            cells.append(fmt(prf(micro(baseline[sc]))[2]))
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


NOTES = """\
## Annotation conventions

What a clinician reading the summary (and the disputed items) would say, applied the same way
to every letter:

* `opioid_use`: the worker is or has been on an opioid, or one is requested for them: a current
  or past medication or treatment list, a plan of care continuing or starting it, a request for
  an opioid (approved, modified or denied), a disputed item that is an opioid (Synapryn is
  tramadol). Not: denied use, "non-opioid", "no indication he was prescribed any opioid".
* `working`: a current work status of working at full, modified, light or restricted duty
  ("work status: modified duties", "return to work with restrictions" given as the status,
  "has activity restrictions ... a desk job"), unless the summary says off work, TTD, not
  working, or that it is unknown whether the worker works. Not: "work restrictions" only in a
  list of past treatments, a future return date, "return to work" as a goal.
* `prior_trial_without_benefit`: a course of treatment named in the sentence gave no, minimal or
  only temporary benefit, did not help, or failed ("not helping", "failed to have any effect",
  "pain continued despite ibuprofen"); a bare "no better" that names no treatment is not.
* `prior_surgery`: an operation the worker has had (planned or requested surgery is not; an
  injection, or "status post" a fall, an injury or an MVA, is not).
* `functional_improvement` needs function (ADLs, mobility, work capacity), not pain relief or
  range of motion alone; `no_functional_improvement` needs function named ("no documentation
  of functional improvement"); `ur_modified` counts any request UR modified or partly
  certified; `permanent_and_stationary` is P&S, MMI or a permanent rating (no positive letter
  here: a negated mention, "not at MMI", is what the set tests).

The annotations were revised to these conventions (commit 54a30c1) before any pattern was
changed; the conventions before said `opioid_use` needed current use (a requested or planned
opioid was not use): 9 letters changed there and 1 for `working`.
"""


def report(stats, alone, errors, kinds, baseline, n_letters, seconds) -> str:
    lines = [
        "# Signal extraction vs. hand annotations (real letters, split in halves)",
        "",
        f"Generated by `experiments/eval_signals.py` on {n_letters} real IMR letters (DWC, decisions "
        "12/2016–02/2017; not in the repository), split by `experiments/halves.py` (half A: SHA-256 of "
        "the case number starts 0-7, half B: 8-f). Patterns were changed looking at half A's misses "
        "only: **half B is the honest figure** for letters nobody wrote patterns from. \"Before\" is "
        "the code before the change (`eval_signals_baseline.json`), scored on the same annotations.",
        "",
        *summary_lines(stats, alone, baseline),
        "",
    ]
    for sc in SCOPES:
        title = {"A": "Half A (patterns written looking at it)", "B": "Half B (not looked at: the honest figure)",
                 "all": "All letters"}[sc]
        lines += [f"## {title}", "", *table(stats, baseline, sc), ""]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines += [f"Extraction time: {seconds * 1000 / max(n_letters, 1):.1f} ms per letter (all signals, every row; "
              f"1-min load average {load:.1f} on {os.cpu_count()} cores: see `bench_features.md` for speed).",
              "", NOTES]
    if errors:
        lines += ["## Disagreements left, by kind", "", "| half | letter | signal | miss | kind |",
                  "|---|---|---|---|---|"]
        lines += [f"| {h} | {c} | `{s}` | {k} | {kinds.get(f'{c}/{s}', '')} |"
                  for c, s, k, h in sorted(errors, key=lambda e: (e[3], e[1], e[0]))]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--letters", type=Path, default=DEFAULT_LETTERS)
    ap.add_argument("--annotations", type=Path, default=HERE / "signal_annotations.jsonl")
    ap.add_argument("--out", type=Path, default=HERE / "eval_signals.md")
    ap.add_argument("--baseline", type=Path, default=HERE / "eval_signals_baseline.json")
    ap.add_argument("--save-baseline", action="store_true", help="record these counts as the 'before'")
    args = ap.parse_args(argv)
    if not args.letters.is_dir():
        print(f"letters not found: {args.letters} (real data is not part of the repository)", file=sys.stderr)
        return 2
    ann = load_annotations(args.annotations)
    rows = load_rows(args.letters, ann)
    extract_signals({"summary": "warm up: compile the rules once."})
    t = time.perf_counter()
    stats, errors = evaluate(ann, rows)
    seconds = time.perf_counter() - t
    alone, _ = evaluate(ann, rows, summary_only=True)
    if args.save_baseline:
        args.baseline.write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    baseline = json.loads(args.baseline.read_text(encoding="utf-8")) if args.baseline.is_file() else None
    kinds_file = HERE / "signal_miss_kinds.json"
    kinds = json.loads(kinds_file.read_text(encoding="utf-8")) if kinds_file.is_file() else {}
    text = report(stats, alone, errors, kinds, baseline, len(rows), seconds)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
