"""The structured block of the features (`SignalFeatures`): clinical signals, the item's
category, the structured fields of `imr_ml.signals.fields` and the guideline rules, as numbers.

Its column layout depends only on the knowledge files (signals, taxonomy, guidelines), never
on the data, so the classifier's knowledge priors can be lined up with it before fitting
(`layout()`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from imr_ml.featurize.frame import RowInput, to_frame
from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.schema import PRE_DECISION
from imr_ml.signals import SAME_MODALITY_SIGNALS, SignalValues, clear_caches, extract_signals, fields, load_rules
from imr_ml.signals.check import check_criteria, check_guidelines, check_signals
from imr_ml.signals.rules import Memo

# Whether rows analysed here join the row cache; a context variable, so that a scoring pass
# in one thread (a server's) leaves training in another as it was.
_REMEMBER_ROWS: ContextVar[bool] = ContextVar("remember_rows", default=True)


@contextmanager
def rows_seen_once() -> Iterator[None]:
    """Within, rows analysed are not added to the row cache (remembered ones are still used).

    Scoring sees each row once: remembering them only filled the cache (100,000 vectors and
    the texts of their keys, about 260 MB a process on distinct requests) and copied every
    vector, for a hit rate of zero.
    """
    token = _REMEMBER_ROWS.set(False)
    try:
        yield
    finally:
        _REMEMBER_ROWS.reset(token)


class SignalFeatures(RowInput, TransformerMixin, BaseEstimator):
    """The clinical signals, the item category and the structured fields, as numbers.

    Names: `signal__<name>`, `item__category__<cat>`, `field__<name>` (`imr_ml.signals.fields`),
    `field__ca_guideline__<tag>`, `field__item_region__<r>`, `rule__<name>`.
    With `scale=True` each column is divided by its largest absolute training value, so that
    counts and years sit on the same 0..1 footing as the binary signals.

    A row's vector is a pure function of its pre-decision text and the knowledge files:
    cross-validation and hyperparameter search refit the pipeline many times on the same
    rows, so row vectors are remembered in the compiled signal rules' memo (`row_cache`),
    which every step built on the same knowledge files shares: clones, the baselines' and the
    refit's fresh pipelines alike. Up to `cache_size` rows (oldest out first; 0: no caching);
    nothing of it is pickled or saved with a model; `clear_cache()` empties it.
    """

    def __init__(self, rules=None, taxonomy=None, guidelines=None, use_signals=True, use_fields=True,
                 use_category=True, use_rules=True, scale=False, cache_size=100_000, criteria=None):
        self.rules = rules
        self.taxonomy = taxonomy
        self.guidelines = guidelines
        self.criteria = criteria
        self.use_signals = use_signals
        self.use_fields = use_fields
        self.use_category = use_category
        self.use_rules = use_rules
        self.scale = scale
        self.cache_size = cache_size

    def layout(self) -> list[str]:
        """The column names, from the knowledge files alone (no fitting needed); files that
        disagree with one another are refused here (once per combination)."""
        check_signals(self.rules, self.taxonomy)
        check_criteria(self.criteria, self.taxonomy)
        if self.use_rules:
            check_guidelines(self.guidelines, self.rules, self.taxonomy, self.criteria)
        r = load_rules(self.rules)
        names = []
        if self.use_signals:
            names += [f"signal__{t.name}" for t in r.text_rules]
            names += [f"signal__{n}" for n in SAME_MODALITY_SIGNALS]
        if self.use_category:
            names += [f"item__category__{c.name}" for c in load_taxonomy(self.taxonomy)]
        if self.use_fields:
            names += fields.feature_names(r)
        if self.use_rules:
            names += [f"rule__{g.name}" for g in load_guidelines(self.guidelines).rules]
        return names

    # ----------------------------------------------------------------- the row cache

    @property
    def row_cache(self) -> Memo:
        """{row key: unscaled vector} of the rows seen, shared by every step of these rules."""
        memo = load_rules(self.rules).memos.vectors
        memo.size = max(memo.size, self.cache_size)
        return memo

    def clear_cache(self) -> None:
        """Forget every remembered row vector and the text analyses behind them (a cold start)."""
        clear_caches()

    def _keys(self, records) -> list[tuple]:
        config = (str(self.rules), str(self.taxonomy), str(self.guidelines), str(self.criteria), self.use_signals,
                  self.use_fields, self.use_category, self.use_rules)
        return [(config, *(str(row.get(k)) for k in PRE_DECISION)) for row in records]

    def _cache_row(self, key, vector) -> None:
        """Keep a copy of a row's vector (the oldest leaves first)."""
        if self.cache_size:
            self.row_cache.put(key, vector.copy())

    def remember(self, X, M) -> None:
        """Put rows' unscaled vectors `M` (computed elsewhere, e.g. by worker processes) in
        the row cache, so that transforming the same rows here does not analyse them again."""
        for key, m in zip(self._keys(to_frame(X).to_dict("records")), np.asarray(M, dtype=np.float64)):
            self._cache_row(key, m)

    # ----------------------------------------------------------------- the matrix

    def raw_matrix(self, X) -> np.ndarray:
        """The unscaled matrix of rows `X` (remembered rows are not analysed again)."""
        records = to_frame(X).to_dict("records")
        index = {n: i for i, n in enumerate(self.layout())}
        r = load_rules(self.rules)
        # the signal columns, worked out once per call rather than once per row
        signal_columns = [(index[f"signal__{n}"], n) for n in
                          [t.name for t in r.text_rules] + list(SAME_MODALITY_SIGNALS)] if self.use_signals else []
        M = np.zeros((len(records), len(index)), dtype=np.float64)
        cache = self.row_cache if self.cache_size else None
        at: list[int] = []  # (row, column) -> value of the new rows, set in one assignment
        cols: list[int] = []
        vals: list[float] = []
        new = []
        for i, (row, key) in enumerate(zip(records, self._keys(records))):
            cached = cache.get(key) if cache is not None else None
            if cached is not None:
                M[i] = cached
                continue
            put = self._row_values(row, r, index, signal_columns)
            at += [i] * len(put)
            cols += put
            vals += put.values()
            new.append((i, key))
        M[at, cols] = vals
        if _REMEMBER_ROWS.get():
            for i, key in new:
                self._cache_row(key, M[i])
        return M

    def _row_values(self, row, r, index, signal_columns) -> dict[int, float]:
        """{column: value} of one row (the slow part: the text analysis)."""
        sig = extract_signals(row, r, self.taxonomy, self.criteria)
        get = sig.get
        # the signals that fired only: the matrix starts at zero, and most signals do not fire
        put: dict[int, float] = {j: 1.0 for j, n in signal_columns if (s := get(n)) is not None and s.value}
        if self.use_category:
            j = index.get(f"item__category__{sig['category'].value}")
            if j is not None:
                put[j] = 1.0
        if self.use_fields:
            put.update((index[n], v) for n, v in fields.feature_values(sig, r, self.taxonomy).items())
        if self.use_rules:
            for g in fired_rules(SignalValues(sig), row.get("item") or "", load_guidelines(self.guidelines)):
                put[index[f"rule__{g.name}"]] = 1.0
        return put

    def _fit_matrix(self, X) -> np.ndarray:
        M = self.raw_matrix(X)
        if M.shape[0] == 0:
            raise ValueError("cannot fit on 0 rows (empty data)")
        self._remember_width(X)
        self.feature_names_out_ = np.asarray(self.layout(), dtype=object)
        if self.scale:
            s = np.abs(M).max(axis=0)
            s[s == 0] = 1.0
            self.scale_ = s
        else:
            self.scale_ = np.ones(M.shape[1])
        return M

    def fit(self, X, y=None):
        """Fix the column names and, with `scale=True`, each column's scale."""
        self._fit_matrix(X)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """`fit(X).transform(X)`, analysing each row once."""
        return self._fit_matrix(X) / self.scale_

    def transform(self, X):
        """The scaled matrix of rows `X` (refused if the knowledge files changed the layout)."""
        check_is_fitted(self, "scale_")
        self._check_width(X)
        layout = self.layout()
        if list(layout) != list(self.feature_names_out_):
            raise ValueError(f"fitted on {len(self.feature_names_out_)} signal features, the rules now give "
                             f"{len(layout)} others")
        return self.raw_matrix(X) / self.scale_

    def get_feature_names_out(self, input_features=None):
        """The fitted column names (`layout()` at fit time)."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()
