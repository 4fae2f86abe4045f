"""Scoring requests (`imr-ml score`, `imr-ml explain`): a calibrated P(overturned), the
features that moved it with the text that made them fire, and missing-documentation hints.

Only pre-decision fields reach the model, so a letter's item scored in a backtest gets the
same number as the same facts typed in as a new request.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from functools import lru_cache
from typing import Iterable, Iterator

import numpy as np

from imr_ml.knowledge import AnyCase

MIN_SUMMARY_WORDS = 12
THRESHOLD = 0.5
BATCH = 512


def abstain_reason(row: dict, signals: dict) -> str | None:
    """Why the input is too thin to score, or None."""
    words = len((row.get("summary") or "").split(None, MIN_SUMMARY_WORDS))  # enough to tell
    if not (row.get("item") or "").strip():
        return "no requested item"
    if words < MIN_SUMMARY_WORDS:
        return f"too little clinical content to score (summary has {words} words, need {MIN_SUMMARY_WORDS})"
    if signals["category"].value == "other":
        return "unknown item: it matches no treatment category in the taxonomy"
    return None


# Structured features named differently from the signal whose evidence explains them.
_FIELD_SIGNAL = {
    "chronicity_years": "chronicity_days", "chronicity_missing": "chronicity_days",
    "requested_quantity_missing": "requested_quantity", "prior_sessions_missing": "prior_sessions",
    "age_missing": "age", "item_region": "item_regions", "summary_region": "summary_regions",
    "n_summary_regions": "summary_regions", "category_prior": "category",
    "item_additional": "item_additional", "item_post_op": "item_post_op",
}


@lru_cache(maxsize=65536)
def _evidence_source(name: str) -> tuple:
    """Where a feature's evidence is found: ("signal", name), ("word", field, AnyCase regex,
    first word), ("item",) or (). Feature names repeat across rows: worked out once per name."""
    parts = name.split("__")
    group = parts[0]
    if group in ("signal", "field"):
        return ("signal", _FIELD_SIGNAL.get(parts[1], parts[1]))
    if len(parts) >= 3 and parts[1] == "tfidf":
        terms = parts[2].split("_")  # a TF-IDF term: lower-case words
        return ("word", group, AnyCase(r"\b" + r"\s+".join(map(re.escape, terms)) + r"\b"), terms[0])
    if group == "item":
        return ("item",)
    return ()


def _evidence(name: str, row: dict, signals: dict) -> list[dict]:
    """The text behind one feature: signal spans, or where a word occurs."""
    source = _evidence_source(name)
    spans: list[tuple[str, int, int]] = []
    if not source:
        return []
    if source[0] == "signal":
        if source[1] in signals:
            spans = signals[source[1]].evidence
    elif source[0] == "word":
        m = source[2].search(row.get(source[1]) or "", opening=source[3])
        if m:
            spans = [(source[1], m.start(), m.end())]
    else:
        item = row.get("item") or ""
        spans = [("item", 0, len(item))] if item else []
    out = []
    for field, s, e in spans[:3]:
        text = str(row.get(field) or "")
        out.append({"field": field, "start": s, "end": e, "text": text[s:e]})
    return out


def _contributions(coef: np.ndarray, Z, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(feature indices, coefficient x value) of row i's non-zero features."""
    if hasattr(Z, "indptr"):
        idx = Z.indices[Z.indptr[i]: Z.indptr[i + 1]]
        return idx, Z.data[Z.indptr[i]: Z.indptr[i + 1]] * coef[idx]
    row = np.asarray(Z[i]).ravel()
    idx = np.flatnonzero(row)
    return idx, row[idx] * coef[idx]


def _features(pipe, rows: list[dict]):
    """The feature matrix of rows (CSR when sparse, for per-row contributions)."""
    from imr_ml.train import frame

    Z = pipe[:-1].transform(frame(rows))
    return Z.tocsr() if hasattr(Z, "tocsr") else Z


_NAMES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _feature_names(pipe) -> list[str]:
    """Feature names of a fitted pipeline, computed once per model object."""
    if pipe not in _NAMES:
        _NAMES[pipe] = [str(n) for n in pipe[:-1].get_feature_names_out()]
    return _NAMES[pipe]


def _coefficients(pipe) -> np.ndarray:
    """The final linear step's coefficients, one per feature."""
    return np.asarray(pipe[-1].coef_).ravel()


def score_rows(loaded, rows: Iterable[dict], top: int = 5, progress=None, n_jobs: int = 1,
               batch: int = BATCH) -> Iterator[dict]:
    """Stream one result per item, in the rows' order, scored in batches of `batch` rows by
    `n_jobs` processes (1: this one). `progress(n)` hears how many are done."""
    from imr_ml.pool import ordered_map
    from imr_ml.signals import fewer_gc_pauses

    batches = _batches(rows, batch)
    with fewer_gc_pauses():
        if n_jobs > 1:
            scored = ordered_map(_score_in_worker, batches, n_jobs, _init_scorer, (loaded, top))
        else:
            scored = (_score_batch(loaded, b, top) for b in batches)
        done = 0
        for results in scored:
            yield from results
            done += len(results)
            if progress:
                progress(done)


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_SCORER: dict = {}


def _init_scorer(loaded, top: int) -> None:
    _SCORER.update(loaded=loaded, top=top)


def _score_in_worker(rows: list[dict]) -> list[dict]:
    from imr_ml.signals import fewer_gc_pauses

    with fewer_gc_pauses():
        return _score_batch(_SCORER["loaded"], rows, _SCORER["top"])


class _Values(Mapping):
    """A row's signal values, read through its Signals (for the hints, without copying)."""

    __slots__ = ("_signals",)

    def __init__(self, signals: dict):
        self._signals = signals

    def __getitem__(self, name):
        return self._signals[name].value

    def get(self, name, default=None):
        sig = self._signals.get(name)
        return default if sig is None else sig.value

    def __iter__(self):
        return iter(self._signals)

    def __len__(self) -> int:
        return len(self._signals)


def _score_batch(loaded, rows: list[dict], top: int) -> list[dict]:
    from imr_ml.hints import hints_for
    from imr_ml.signals import extract_signals
    from imr_ml.train import fitted_pipeline, proba_from_features

    pipe = fitted_pipeline(loaded.model)
    Z = _features(pipe, rows)
    p = proba_from_features(loaded.model, Z).tolist()
    names = _feature_names(pipe)
    coef = _coefficients(pipe)
    out = []
    for i, row in enumerate(rows):
        row = {k: (v if not (isinstance(v, float) and v != v) else None) for k, v in row.items()}
        signals = extract_signals(row)
        result = {"letter_id": row.get("letter_id"), "item_index": row.get("item_index"), "item": row.get("item"),
                  "category": signals["category"].value}
        reason = abstain_reason(row, signals)
        if reason:
            out.append(result | {"abstained": True, "reason": reason, "p_overturned": None, "decision": None,
                                 "reasons": [], "hints": []})
            continue
        idx, c = _contributions(coef, Z, i)
        order = np.argsort(-np.abs(c))[:top]
        result |= {
            "abstained": False,
            "p_overturned": round(p[i], 4),
            "decision": "overturned" if p[i] >= THRESHOLD else "upheld",
            "reasons": [
                {"feature": names[j], "contribution": round(v, 4), "evidence": _evidence(names[j], row, signals)}
                for j, v in zip(idx[order].tolist(), c[order].tolist()) if v != 0
            ],
            "hints": hints_for(_Values(signals)),
        }
        if "label" in row and row.get("label") is not None:
            result["actual"] = "overturned" if row["label"] else "upheld"
        out.append(result)
    return out


def grouped_contributions(loaded, row: dict) -> dict:
    """For `explain`: every non-zero contribution of one request, grouped (signals, summary
    words, item words, structured fields), with evidence."""
    from imr_ml.features import feature_groups
    from imr_ml.signals import extract_signals
    from imr_ml.train import fitted_pipeline

    pipe = fitted_pipeline(loaded.model)
    Z = _features(pipe, [row])
    names = _feature_names(pipe)
    nz, vals = _contributions(_coefficients(pipe), Z, 0)
    c = dict(zip(nz.tolist(), vals.tolist()))
    signals = extract_signals(row)
    groups = {}
    for group, idx in feature_groups(names).items():
        items = [(names[j], c[j]) for j in idx if c.get(j)]
        items.sort(key=lambda kv: -abs(kv[1]))
        groups[group] = {
            "total": round(sum(v for _, v in items), 4),
            "features": [{"feature": n, "contribution": round(v, 4), "evidence": _evidence(n, row, signals)}
                         for n, v in items],
        }
    intercept = float(np.ravel(pipe[-1].intercept_)[0])
    return {"intercept": round(intercept, 4), "groups": groups}


def request_row(summary: str, item: str, claims_admin_guideline: str | None = None,
                date_of_injury: str | None = None, ur_denial_date: str | None = None,
                other_items: list[str] | tuple[str, ...] = ()) -> dict:
    """A new request typed in before submission, as a row."""
    from imr_ml.layouts._common import RETRO_RE, iso_date
    from imr_ml.schema import ITEM_SEPARATOR

    def day(v):
        return (iso_date(v) or v) if v else None

    retro = bool(RETRO_RE.search(item or ""))
    return {"letter_id": "request", "item_index": 0, "summary": " ".join((summary or "").split()),
            "item": " ".join((item or "").split()), "claims_admin_guideline": claims_admin_guideline,
            "date_of_injury": day(date_of_injury), "ur_denial_date": day(ur_denial_date), "retrospective": retro,
            "original_request": None, "authorized_portion": None,
            "other_items": ITEM_SEPARATOR.join(" ".join(o.split()) for o in other_items)}

