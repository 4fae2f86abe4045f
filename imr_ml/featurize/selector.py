"""The first step of every feature pipeline: keep the PRE_DECISION columns, drop the rest."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from imr_ml.featurize.frame import RowInput, to_frame
from imr_ml.schema import PRE_DECISION


class PreDecisionSelector(RowInput, TransformerMixin, BaseEstimator):
    """Keep only the PRE_DECISION columns (missing ones added empty). Stateless: leakage is
    stopped here, before any transformer sees a row."""

    def fit(self, X, y=None):
        """Check the input (rows, not an empty table); nothing is learnt."""
        df = to_frame(X)  # validates the input
        if len(df) == 0:
            raise ValueError("cannot fit on 0 rows (empty data)")
        self._remember_width(X)
        return self

    def transform(self, X):
        """The rows as a PRE_DECISION frame (`to_frame`)."""
        check_is_fitted(self, "n_features_in_")
        self._check_width(X)
        return to_frame(X)

    def get_feature_names_out(self, input_features=None):
        """The PRE_DECISION column names."""
        return np.asarray(PRE_DECISION, dtype=object)
