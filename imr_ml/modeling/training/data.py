"""Training rows as the model sees them: canonical order, labels, letters, fingerprint.

Every procedure in `imr_ml.modeling` starts here: rows are put in canonical order
(letter_id, item_index) and fingerprinted (sha256 of the PRE_DECISION fields + label of every
row); only PRE_DECISION columns reach a model (`imr_ml.featurize.to_frame`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence

import numpy as np

from imr_ml.knowledge.taxonomy import categorize
from imr_ml.schema import PRE_DECISION


class TrainError(ValueError):
    """Training data or options that cannot produce an honest model (one-line reason)."""


def _label(row: dict) -> int | None:
    lab = row.get("label")
    if lab in (0, 1, True, False):
        return int(lab)
    dec = (row.get("decision") or "").strip().lower()
    if dec in ("upheld", "overturned"):
        return int(dec == "overturned")
    return None


def canonical_rows(rows: Sequence[dict], *, require_label: bool = True) -> list[dict]:
    """Rows sorted by (letter_id, item_index) with ``label`` filled from ``decision``.

    Parameters
    ----------
    rows : sequence of dict
        Corpus rows.
    require_label : bool
        Refuse a row with neither a label nor an upheld/overturned decision.

    Returns
    -------
    list of dict
        New row dicts in canonical order; ``label`` is 0, 1 or None.
    """
    out = []
    for i, r in enumerate(rows):
        if not r.get("letter_id"):
            raise TrainError(f"row {i} has no letter_id (needed to keep a letter's items together)")
        lab = _label(r)
        if lab is None and require_label:
            raise TrainError(f"row {i} (letter {r.get('letter_id')}) has no label/decision")
        out.append({**r, "label": lab})
    out.sort(key=lambda r: (str(r["letter_id"]), int(r.get("item_index") or 0)))
    return out


def labels(rows: Sequence[dict]) -> np.ndarray:
    """The 0/1 labels of canonical rows.

    Parameters
    ----------
    rows : sequence of dict
        Rows whose ``label`` is set (see `canonical_rows`).

    Returns
    -------
    numpy.ndarray
        One int per row.
    """
    return np.array([int(r["label"]) for r in rows], dtype=int)


def letter_groups(rows: Sequence[dict]) -> np.ndarray:
    """The letter of every row: the group that folds never split.

    Parameters
    ----------
    rows : sequence of dict
        Rows with a ``letter_id``.

    Returns
    -------
    numpy.ndarray
        One letter id (str) per row, object dtype.
    """
    return np.array([str(r["letter_id"]) for r in rows], dtype=object)


def fingerprint(rows: Sequence[dict]) -> str:
    """sha256 of the canonical rows' PRE_DECISION fields + label (order-independent).

    Parameters
    ----------
    rows : sequence of dict
        Corpus rows, labelled or not.

    Returns
    -------
    str
        Hex digest.
    """
    h = hashlib.sha256()
    for r in canonical_rows(rows, require_label=False):
        rec = {k: r.get(k) for k in PRE_DECISION}
        rec["label"] = r.get("label")
        h.update(json.dumps(rec, sort_keys=True, default=str, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def letter_hash(letter_id: str) -> str:
    """The letter id `letter_id`, hashed and truncated (the first 16 hex digits of its sha256): what a
    manifest may record about training letters.
    """
    return hashlib.sha256(str(letter_id).encode()).hexdigest()[:16]


def corpus_profile(rows: Sequence[dict]) -> dict:
    """What the training letters of the training rows `rows` were, for the report: items per treatment
    category and per letter layout, and the span of UR denial and IMR decision dates.
    """

    def span(field):
        days = sorted(str(r[field])[:10] for r in rows if r.get(field))
        return [days[0], days[-1]] if days else None

    return {"categories": dict(Counter(categorize(r.get("item") or "") for r in rows).most_common()),
            "layouts": dict(Counter(r.get("layout") or "not recorded" for r in rows).most_common()),
            "ur_denial_dates": span("ur_denial_date"), "decision_dates": span("decision_date")}
