"""Checks on corpus rows before they reach a model: a field of the wrong type, a label that
is not 0/1 or one that contradicts the row's decision is refused with one line naming the
row, instead of a traceback deep in the features or a silently relabelled item."""

from __future__ import annotations

import re
from collections.abc import Sequence
from numbers import Real

import numpy as np

from imr_ml.modeling.training.data import TrainError
from imr_ml.schema import TEXT_COLUMNS

_TEXT_FIELDS = (*TEXT_COLUMNS, "date_of_injury", "ur_denial_date", "decision", "decision_date")


class RowError(TrainError):
    """A corpus row that cannot be used; the message is one line naming the row."""


def _where(i: int, row: dict) -> str:
    """How an error names a row: its place in the input and its letter and item."""
    return f"row {i + 1} (letter {row.get('letter_id')}, item {row.get('item_index')})"


def check_row_types(rows: Sequence) -> None:
    """Refuse the first row that is not an object or has a field of the wrong type.

    Parameters
    ----------
    rows : sequence
        Corpus rows as read.
    """
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise RowError(f"row {i + 1} is a {type(row).__name__}, not an object")
        problem = _type_problem(row)
        if problem:
            raise RowError(f"{_where(i, row)}: {problem}")


def check_summaries(rows: Sequence[dict]) -> None:
    """Refuse rows of which none has a clinical summary: every signal and word is read from
    it, so there is nothing to learn (the words' vectorizer would fail on an empty
    vocabulary deep in the fit).

    Parameters
    ----------
    rows : sequence of dict
        Corpus rows, type-checked.
    """
    if not any(_WORD.search(row.get("summary") or "") for row in rows):
        fields = sorted({k for row in rows for k in row})
        raise RowError(f"no row of the {len(rows)} has a clinical summary (the `summary` field; the rows have "
                       f"{', '.join(fields[:12])}{' ...' if len(fields) > 12 else ''}): there is nothing to learn from")


_WORD = re.compile(r"\w\w")


def _type_problem(row: dict) -> str | None:
    lid = row.get("letter_id")
    if lid is not None and (isinstance(lid, bool) or not isinstance(lid, (str, int, np.integer))):
        return f"letter_id must be text, not {type(lid).__name__}"
    idx = row.get("item_index")
    if idx is not None and (isinstance(idx, bool) or not isinstance(idx, (int, np.integer))):
        return f"item_index must be a whole number, not {idx!r}"
    for key in _TEXT_FIELDS:
        v = row.get(key)
        if v is not None and not isinstance(v, str):
            return f"{key} must be text, not {type(v).__name__}"
    retro = row.get("retrospective")
    if retro is not None and not isinstance(retro, (bool, np.bool_)):
        return f"retrospective must be true or false, not {retro!r}"
    return None


def _decision_label(row: dict) -> int | None:
    """1 for an overturned decision, 0 for upheld, None for none or another word."""
    dec = (row.get("decision") or "").strip().lower()
    return {"upheld": 0, "overturned": 1}.get(dec)


def _binary(label) -> bool:
    return isinstance(label, (bool, np.bool_)) or (isinstance(label, Real) and label in (0, 1))


def check_labels(rows: Sequence[dict], labels_from: str = "label") -> list[dict]:
    """Rows whose labels are 0/1 and agree with their decisions.

    Parameters
    ----------
    rows : sequence of dict
        Corpus rows.
    labels_from : str
        ``label`` (check them) or ``decision`` (take every label from the decision instead).

    Returns
    -------
    list of dict
        The rows, labels as ints.
    """
    out = []
    for i, row in enumerate(rows):
        derived = _decision_label(row)
        if labels_from == "decision":
            if derived is None:
                raise RowError(f"{_where(i, row)}: no upheld/overturned decision to take the label from")
            out.append({**row, "label": derived})
            continue
        label = row.get("label")
        if label is None:
            out.append(row)
            continue
        if not _binary(label):
            raise RowError(f"{_where(i, row)}: label {label!r} is not 0 or 1")
        if derived is not None and int(label) != derived:
            raise RowError(f"{_where(i, row)}: label {label!r} contradicts decision {row['decision']!r} "
                           "(pass --labels-from decision to take labels from decisions)")
        out.append(row if type(label) is int else {**row, "label": int(label)})
    return out


def check_classes(y: np.ndarray, groups: np.ndarray, n_splits: int) -> None:
    """Refuse, with the counts, data too small for cross-validation by letter to see both
    classes in every training fold.

    Parameters
    ----------
    y, groups, n_splits
        As in `imr_ml.modeling.training.splits.grouped_folds`, whose folds they are to feed
        (the folds asked for are named in the message).
    """
    n_pos = len(set(groups[y == 1].tolist()))
    n_neg = len(set(groups[y == 0].tolist()))
    if min(n_pos, n_neg) < 2:
        raise RowError(f"too few letters per class to cross-validate by letter ({n_splits} folds): "
                       f"{n_pos} letter(s) with an overturned item, {n_neg} with an upheld item, "
                       "need at least 2 of each")
