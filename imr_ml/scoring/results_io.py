"""Writing scored results where claims work needs them (CSV for a spreadsheet, JSON lines,
Parquet), and the summary a batch prints instead of every item."""

from __future__ import annotations

import csv
import json
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

FLAT_COLUMNS = ("id", "item", "category", "p_overturned", "interval_low", "interval_high", "relative_risk",
                "decision", "reason_1", "reason_2", "reason_3", "hints", "warnings", "abstained_reason")
BANDS = ((0.05, "<5%"), (0.10, "5-10%"), (0.20, "10-20%"), (float("inf"), ">=20%"))


def spreadsheet_safe(v):
    """A spreadsheet opens a text cell starting with = + - @ as a formula: quote it."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


def result_id(r: dict) -> str:
    """The id a user knows the item by: --id-col's value, else letter#item."""
    if r.get("id") not in (None, ""):
        return str(r["id"])
    return f"{r.get('letter_id')}#{r.get('item_index')}"


def flat_result(r: dict) -> dict:
    """One spreadsheet row: the numbers, the top three reasons as text, hints joined."""
    reasons = [x["label"] for x in r.get("reasons") or []][:3]
    lo, hi = r.get("interval") or (None, None)
    return {"id": result_id(r), "item": r.get("item"), "category": r.get("category"),
            "p_overturned": r.get("p_overturned"), "interval_low": lo, "interval_high": hi,
            "relative_risk": r.get("relative_risk"), "decision": r.get("decision"),
            **{f"reason_{i + 1}": reasons[i] if i < len(reasons) else "" for i in range(3)},
            "hints": "; ".join(r.get("hints") or []),
            "warnings": "; ".join(w["message"] for w in r.get("warnings") or []),
            "abstained_reason": r.get("reason") if r.get("abstained") else ""}


@contextmanager
def result_writer(path):
    """A `write(result)` callback for `path` (.csv or .parquet: flat columns; any other
    suffix: JSON lines, every field), written to an atomic
    temp file so a failed batch leaves no half-written output."""
    from imr_ml.textio import atomic_path

    suffix = Path(path).suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            rows: list[dict] = []
            yield lambda r: rows.append(flat_result(r))
            import pandas as pd

            pd.DataFrame(rows, columns=list(FLAT_COLUMNS)).to_parquet(tmp, index=False)
            return
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            if suffix == ".csv":
                writer = csv.DictWriter(fh, fieldnames=list(FLAT_COLUMNS))
                writer.writeheader()
                yield lambda r: writer.writerow({k: spreadsheet_safe(v) for k, v in flat_result(r).items()})
            else:
                yield lambda r: fh.write(json.dumps(r) + "\n")


def band(p: float) -> str:
    return next(name for upper, name in BANDS if p < upper)


class BatchSummary:
    """Counts a batch's results as they stream by: bands of P, categories, abstentions,
    out-of-range warnings by kind."""

    def __init__(self) -> None:
        self.n = 0
        self.bands: Counter = Counter()
        self.decisions: Counter = Counter()
        self.categories: Counter = Counter()
        self.warnings: Counter = Counter()
        self.warned_items = 0
        self.abstained = 0

    def add(self, r: dict) -> None:
        self.n += 1
        self.categories[r.get("category")] += 1
        kinds = {w["kind"] for w in r.get("warnings") or []}
        self.warnings.update(kinds)
        self.warned_items += bool(kinds)
        if r.get("abstained"):
            self.abstained += 1
            return
        self.bands[band(r["p_overturned"])] += 1
        self.decisions[r["decision"]] += 1

    def as_dict(self) -> dict:
        return {"n_items": self.n, "abstained": self.abstained,
                "bands": {name: self.bands[name] for _, name in BANDS}, "decisions": dict(self.decisions),
                "categories": dict(self.categories.most_common()), "warnings": dict(self.warnings),
                "items_with_warnings": self.warned_items}

    def lines(self, threshold_text: str) -> list[str]:
        d = self.as_dict()
        return [f"{self.n} items: {self.n - self.abstained} scored, {self.abstained} abstained; "
                f"{d['decisions'].get('overturned', 0)} likely overturned at {threshold_text}",
                "  P(overturned): " + ", ".join(f"{k} {v}" for k, v in d["bands"].items()),
                "  categories: " + ", ".join(f"{k} {v}" for k, v in d["categories"].items())]
