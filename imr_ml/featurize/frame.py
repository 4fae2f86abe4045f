"""Rows in, one frame out: the PRE_DECISION view every feature step reads.

`to_frame` accepts what scikit-learn's checks and our callers pass (a DataFrame, a list of
dicts, one dict, a 2-D array) and returns the PRE_DECISION columns only, so no later step can
see a post-decision field. `RowInput` is the small mixin of the steps that take such rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from imr_ml.schema import PRE_DECISION, TEXT_COLUMNS, as_text


def to_frame(X) -> pd.DataFrame:
    """Rows (DataFrame, list of dicts, one dict, or a 2-D array) as a PRE_DECISION frame.

    Missing columns are added empty; every other column is dropped. A 2-D array is read as
    PRE_DECISION columns in order (so scikit-learn's estimator checks can feed arrays).
    """
    if sparse.issparse(X):
        raise ValueError("sparse input is not supported: pass a table of rows (DataFrame or list of dicts)")
    if isinstance(X, pd.DataFrame):
        df = X
    elif isinstance(X, Mapping):
        df = pd.DataFrame([dict(X)])
    elif isinstance(X, (list, tuple)) and (len(X) == 0 or isinstance(X[0], Mapping)):
        # only the pre-decision fields, as objects: a frame of whole rows would first copy
        # every text (rationales too) into Arrow strings, hundreds of MB for 100k rows
        df = pd.DataFrame({c: [r.get(c) for r in X] for c in PRE_DECISION}, dtype=object)
    else:
        df = _array_frame(X)
    # Plain Python strings (object columns): every step reads them back row by row, and
    # pandas' Arrow-backed strings would be converted at each read.
    return pd.DataFrame({c: text_column(df, c) for c in PRE_DECISION}, index=range(len(df)), dtype=object)


def _array_frame(X) -> pd.DataFrame:
    """A 2-D array as PRE_DECISION columns in order, with scikit-learn's error messages."""
    if np.iscomplexobj(np.asarray(X)):
        raise ValueError("Complex data not supported")
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValueError(f"0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if arr.ndim != 2:
        raise ValueError(
            f"Expected 2-D input (rows x columns), got an array of shape {arr.shape}. "
            "Reshape your data, e.g. with .reshape(-1, 1) for a single column."
        )
    cols = list(PRE_DECISION[: arr.shape[1]])
    return pd.DataFrame(arr[:, : len(cols)], columns=cols)


def text_column(df: pd.DataFrame, c: str) -> np.ndarray:
    """Column `c` of a frame as objects: text as str (missing: ""), others as they are
    (absent: None)."""
    if c not in df.columns:
        return np.full(len(df), "" if c in TEXT_COLUMNS else None, dtype=object)
    col = df[c].to_numpy(dtype=object)
    return np.array([as_text(v) for v in col], dtype=object) if c in TEXT_COLUMNS else col


def _width(X) -> int | None:
    """Number of columns of a positional (array) input; None for named tables."""
    if isinstance(X, (pd.DataFrame, Mapping)) or (isinstance(X, (list, tuple)) and X and isinstance(X[0], Mapping)):
        return None
    shape = np.asarray(X).shape
    return shape[1] if len(shape) == 2 else None


class RowInput:
    """Mixin of the steps that take rows: positional (array) input must keep the width it
    was fitted with, as scikit-learn's checks require; named columns are matched by name."""

    def _remember_width(self, X) -> None:
        w = _width(X)
        self.n_features_in_ = w if w is not None else len(PRE_DECISION)
        self._positional_ = w is not None

    def _check_width(self, X) -> None:
        w = _width(X)
        if w is not None and getattr(self, "_positional_", False) and w != self.n_features_in_:
            raise ValueError(
                f"X has {w} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
