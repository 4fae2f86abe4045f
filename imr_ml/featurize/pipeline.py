"""From rows to a feature matrix, scikit-learn style.

`build_features()` is a Pipeline whose first step drops every column that is not in
`imr_ml.schema.PRE_DECISION` (so no later step can see a post-decision field), followed by
a FeatureUnion of

* `summary__tfidf__<word>`   TF-IDF of the clinical case summary,
* `item__tfidf__<word>`      TF-IDF of the disputed item,
* `signal__<name>`           the clinical signals of `imr_ml.signals` (0/1),
* `item__category__<cat>`    the item's treatment category (one-hot, `features/taxonomy.toml`),
* `field__<name>`            structured fields: chronicity, age, requested quantity,
                             retrospective, partial authorisation, the claims administrator's
                             guideline (`field__ca_guideline__odg` ...), body regions, and
                             `field__category_prior` = logit(1 - uphold_prior) of the category.

`build_pipeline()` adds a LogisticRegression. `feature_groups(names)` maps every feature to
its group (`summary`, `item`, `signal`, `field`) for grouped explanations.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Mapping
from itertools import chain, filterfalse

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from imr_ml.knowledge.guidelines import fired_rules, load_guidelines
from imr_ml.knowledge.taxonomy import load_taxonomy
from imr_ml.schema import PRE_DECISION, TEXT_COLUMNS
from imr_ml.signals import (
    SAME_MODALITY_SIGNALS,
    SignalValues,
    category_prior,
    extract_signals,
    load_rules,
)

GROUPS = ("rule", "signal", "field", "item", "summary")


# --------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------


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
        df = pd.DataFrame(list(X))
    else:
        raw = np.asarray(X)
        if np.iscomplexobj(raw):
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
        df = pd.DataFrame(arr[:, : len(cols)], columns=cols)
    # Plain Python strings (object columns): every step reads them back row by row, and
    # pandas' Arrow-backed strings would be converted at each read.
    return pd.DataFrame({c: _column(df, c) for c in PRE_DECISION}, index=range(len(df)), dtype=object)


def _column(df: pd.DataFrame, c: str) -> np.ndarray:
    """Column `c` of a frame as objects (text cleaned to str; absent: None / "")."""
    if c not in df.columns:
        return np.full(len(df), "" if c in TEXT_COLUMNS else None, dtype=object)
    col = df[c].to_numpy(dtype=object)
    return np.array([clean_text(v) for v in col], dtype=object) if c in TEXT_COLUMNS else col


def clean_text(v) -> str:
    """A text field as str: missing (None, NaN, pd.NA) is ""."""
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    return str(v)


def _width(X) -> int | None:
    """Number of columns of a positional (array) input; None for named tables."""
    if isinstance(X, (pd.DataFrame, Mapping)) or (isinstance(X, (list, tuple)) and X and isinstance(X[0], Mapping)):
        return None
    shape = np.asarray(X).shape
    return shape[1] if len(shape) == 2 else None


def _remember_width(est, X) -> None:
    w = _width(X)
    est.n_features_in_ = w if w is not None else len(PRE_DECISION)
    est._positional_ = w is not None


def _check_width(est, X) -> None:
    """Positional (array) input must keep its width; named columns are matched by name."""
    w = _width(X)
    if w is not None and getattr(est, "_positional_", False) and w != est.n_features_in_:
        raise ValueError(
            f"X has {w} features, but {type(est).__name__} is expecting {est.n_features_in_} features as input."
        )


class PreDecisionSelector(TransformerMixin, BaseEstimator):
    """Keep only the PRE_DECISION columns (missing ones added empty). Stateless."""

    def fit(self, X, y=None):
        df = to_frame(X)  # validates the input
        if len(df) == 0:
            raise ValueError("cannot fit on 0 rows (empty data)")
        _remember_width(self, X)
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        _check_width(self, X)
        return to_frame(X)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(PRE_DECISION, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------


# Words of two or more ASCII letters standing alone (not glued to digits, "_" or other letters).
TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z]+\b"
# On ASCII text the same words come from C string methods: letters stay, the other word
# characters (digits, "_") become "_" so that the words they touch fail `isalpha`, the rest
# become spaces; one-letter words are dropped with the stop words.
_TOKEN_TABLE = str.maketrans({chr(c): (chr(c) if chr(c).isalpha() else "_" if (chr(c).isalnum() or chr(c) == "_")
                                       else " ") for c in range(128)})
_ONE_LETTER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _words(doc: str, drop: frozenset, findall) -> list[str]:
    """The lower-cased `doc`'s `TOKEN_PATTERN` words not in `drop` (stop words and
    `_ONE_LETTER`)."""
    if not doc.isascii():
        return [w for w in findall(doc) if w not in drop]
    return list(filterfalse(drop.__contains__, filter(str.isalpha, doc.translate(_TOKEN_TABLE).split())))


def _plain_words(vec, texts) -> bool:
    """Whether `vec` analyses text as this module builds it (so `_grams` reproduces it)."""
    return (isinstance(vec, (TfidfVectorizer, HashingVectorizer)) and vec.analyzer == "word"
            and vec.input == "content" and vec.lowercase and vec.token_pattern == TOKEN_PATTERN
            and not (vec.binary or vec.preprocessor or vec.tokenizer or vec.strip_accents)
            and all(isinstance(t, str) for t in texts))


def _grams(vec):
    """doc -> its n-grams (as iterators), exactly as `vec.build_analyzer()` would list them."""
    findall = re.compile(TOKEN_PATTERN).findall
    drop = frozenset(vec.get_stop_words() or ()) | _ONE_LETTER
    lo, hi = vec.ngram_range

    def grams(doc: str) -> list:
        words = _words(doc.lower(), drop, findall)
        out = [iter(words)] if lo == 1 else []
        return out + [map(" ".join, zip(*(words[i:] for i in range(n)))) for n in range(max(lo, 2), hi + 1)]

    return grams


def hash_counts(hasher: HashingVectorizer, texts: list[str]):
    """`hasher.transform(texts)`, its n-grams made as `_grams` makes them (same matrix)."""
    if not (_plain_words(hasher, texts) and hasher.norm is None):
        return hasher.transform(texts)
    grams = _grams(hasher)
    fh = FeatureHasher(n_features=hasher.n_features, input_type="string", dtype=hasher.dtype,
                       alternate_sign=hasher.alternate_sign)
    return fh.transform(chain.from_iterable(grams(doc)) for doc in texts)


def _tfidf_transform(vec, texts: list[str]):
    """`vec.transform(texts)`, several times faster for the plain word analyzer this module
    builds (a TfidfVectorizer, or the hashing pipeline): scikit-learn tokenises with a regex
    and makes and counts each n-gram in Python; here words, n-grams and counts come from C
    (`str.translate`, `map`, `zip`, scipy's summing of duplicate entries, the feature
    hasher). Same counts, so the same matrix to the bit (tested); any other vectorizer is
    left to scikit-learn."""
    if isinstance(vec, Pipeline):
        hasher, tfidf = vec.named_steps.get("hash"), vec.named_steps.get("tfidf")
        if not (isinstance(hasher, HashingVectorizer) and isinstance(tfidf, TfidfTransformer)):
            return vec.transform(texts)
        return tfidf.transform(hash_counts(hasher, texts))
    if not (_plain_words(vec, texts) and hasattr(vec, "_tfidf")):
        return vec.transform(texts)
    grams = _grams(vec)
    vocab = vec.vocabulary_
    known = vocab.__contains__
    indices: list[int] = []  # one entry per known n-gram occurrence; summed below, in C
    indptr = [0]
    for doc in texts:
        for g in grams(doc):
            indices.extend(map(vocab.__getitem__, filter(known, g)))
        indptr.append(len(indices))
    X = sparse.csr_matrix((np.ones(len(indices), dtype=vec.dtype), np.asarray(indices, dtype=np.int32),
                           np.asarray(indptr, dtype=np.int32)), shape=(len(texts), len(vocab)))
    X.sum_duplicates()  # occurrences -> counts, indices sorted
    return vec._tfidf.transform(X, copy=False)


class TextFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF of one text column, with names `<prefix><term>` (default `<column>__tfidf__`).

    `hashing=True` swaps the vocabulary for a HashingVectorizer (+ TfidfTransformer), for
    corpora too large to keep a vocabulary. A hashed feature is named after the most frequent
    term of its bucket in (up to `name_sample` of) the fitting texts, so explanations stay
    readable; buckets no sampled term reached are `<prefix>hash_<i>`.
    """

    def __init__(
        self,
        column="summary",
        prefix=None,
        max_features=20000,
        min_df=2,
        max_df=0.95,
        ngram_range=(1, 2),
        sublinear_tf=True,
        stop_words="english",
        hashing=False,
        n_features=2**18,
        name_sample=20000,
    ):
        self.column = column
        self.prefix = prefix
        self.max_features = max_features
        self.min_df = min_df
        self.max_df = max_df
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.stop_words = stop_words
        self.hashing = hashing
        self.n_features = n_features
        self.name_sample = name_sample

    def _texts(self, X):
        # One column of a frame is read directly (a whole `to_frame` per text column is waste).
        return (_column(X, self.column) if isinstance(X, pd.DataFrame) else to_frame(X)[self.column]).tolist()

    def _make(self, min_df, max_df):
        common = dict(
            ngram_range=tuple(self.ngram_range),
            stop_words=self.stop_words,
            lowercase=True,
            token_pattern=TOKEN_PATTERN,
            dtype=np.float64,
        )
        if self.hashing:
            return Pipeline(
                [
                    ("hash", HashingVectorizer(n_features=self.n_features, alternate_sign=False, norm=None, **common)),
                    ("tfidf", TfidfTransformer(sublinear_tf=self.sublinear_tf)),
                ]
            )
        return TfidfVectorizer(
            max_features=self.max_features, min_df=min_df, max_df=max_df, sublinear_tf=self.sublinear_tf, **common
        )

    def fit(self, X, y=None):
        texts = self._texts(X)
        if not texts:
            raise ValueError("cannot fit on 0 rows (empty data)")
        _remember_width(self, X)
        self.vectorizer_ = None
        # Small or empty corpora: relax the document-frequency limits, then give up quietly
        # (a column with no words contributes no features rather than an error).
        for min_df, max_df in ((self.min_df, self.max_df), (1, 1.0)):
            vec = self._make(min_df, max_df)
            try:
                vec.fit(texts)
            except ValueError:
                continue
            self.vectorizer_ = vec
            break
        if self.hashing:
            self.n_out_ = self.n_features
            self.bucket_terms_ = self._bucket_terms(texts) if self.vectorizer_ is not None else {}
        else:
            self.n_out_ = 0 if self.vectorizer_ is None else len(self.vectorizer_.vocabulary_)
        return self

    def _bucket_terms(self, texts) -> dict[int, str]:
        """{bucket: its most frequent term} over the first `name_sample` distinct texts."""
        from collections import Counter

        counts: Counter = Counter()
        analyze = self.vectorizer_["hash"].build_analyzer()
        for t in list(dict.fromkeys(texts))[: self.name_sample]:
            counts.update(analyze(t))
        if not counts:
            return {}
        terms = [t for t, _ in counts.most_common()]
        # Hash each term exactly as the vectorizer does (a one-term "document").
        one = HashingVectorizer(n_features=self.n_features, analyzer=lambda t: [t], alternate_sign=False, norm=None)
        buckets = one.transform(terms).indices
        out: dict[int, str] = {}
        for b, t in zip(buckets.tolist(), terms):
            out.setdefault(b, t)
        return out

    def transform(self, X):
        check_is_fitted(self, "n_out_")
        _check_width(self, X)
        texts = self._texts(X)
        if self.vectorizer_ is None:
            return sparse.csr_matrix((len(texts), 0), dtype=np.float64)
        # Items of one letter repeat its summary: vectorise each distinct text once.
        index: dict[str, int] = {}
        inverse = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts))
        X = sparse.csr_matrix(_tfidf_transform(self.vectorizer_, list(index)), dtype=np.float64)
        return X if len(index) == len(texts) else X[inverse]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "n_out_")
        prefix = self.prefix if self.prefix is not None else f"{self.column}__tfidf__"
        if self.vectorizer_ is None:
            return np.asarray([], dtype=object)
        if self.hashing:
            terms = getattr(self, "bucket_terms_", {})
            return np.asarray([prefix + terms[i].replace(" ", "_") if i in terms else f"{prefix}hash_{i}"
                               for i in range(self.n_features)], dtype=object)
        names = self.vectorizer_.get_feature_names_out()
        return np.asarray([prefix + n.replace(" ", "_") for n in names], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.sparse = False
        tags.input_tags.categorical = True
        tags.transformer_tags.preserves_dtype = []
        return tags


# --------------------------------------------------------------------------------------
# Signals and structured fields
# --------------------------------------------------------------------------------------

_FIELD_NUMERIC = (
    # name, how it is computed (documented in features/README.md). Only facts a typed request
    # can state as well as a letter: nothing that measures how long or how boilerplate-laden
    # the text is, and a missing value takes the reference value (it moves nothing).
    "retrospective",
    "partial_authorization",
    "requested_quantity",  # log1p(visits) - log1p(6) for visit-based categories; else 0
    "exceeds_trial",
    "prior_sessions",  # log1p(count) of prior sessions of the item's modality
    "prior_same_modality",
    "chronicity_decades",  # (years from injury to UR denial, capped at 30, - 3) / 10; unknown: 0
    "age_decades",  # (years - 45) / 10; unknown: 0
    "item_additional",
    "item_post_op",
    "item_purchase",
    "item_rental",
    "category_prior",  # logit(1 - uphold_prior) of the item's category
    "surgery_in_dispute",  # a surgery is among the disputed items
    "periop_surgery_not_in_dispute",  # a perioperative service whose surgery is not disputed
)

# Numbers are centred on a typical claim (3 years from injury to the UR denial, age 45): a
# request that does not state one is that typical claim, and the feature is 0 either way.
TYPICAL_YEARS, TYPICAL_AGE = 3.0, 45.0
TYPICAL_VISITS = math.log1p(6)  # the guideline's usual initial trial


# Signal rows are pure functions of a row's pre-decision text and the rules: cross-validation
# and hyperparameter search refit the pipeline many times on the same rows, so each row's
# vector is kept (least recently used first out) instead of analysing its text again.
ROW_CACHE_SIZE = 100_000
_ROW_CACHE: OrderedDict = OrderedDict()


def _cache_row(key, vector) -> None:
    """Keep a copy of a row's vector (most recently used last; the oldest leaves first)."""
    _ROW_CACHE[key] = vector.copy()
    _ROW_CACHE.move_to_end(key)
    if len(_ROW_CACHE) > ROW_CACHE_SIZE:
        _ROW_CACHE.popitem(last=False)


def clear_caches() -> None:
    """Forget every remembered row vector and text analysis (to time a cold run)."""
    from imr_ml import signals

    _ROW_CACHE.clear()
    signals.clear_caches()


class SignalFeatures(TransformerMixin, BaseEstimator):
    """The clinical signals, the item category and the structured fields, as numbers.

    Names: `signal__<name>`, `item__category__<cat>`, `field__<name>`,
    `field__ca_guideline__<tag>`, `field__item_region__<r>`, `field__summary_region__<r>`.
    With `scale=True` each column is divided by its largest absolute training value, so that
    counts and years sit on the same 0..1 footing as the binary signals.
    """

    def __init__(self, rules=None, taxonomy=None, guidelines=None, use_signals=True, use_fields=True,
                 use_category=True, use_rules=True, scale=False):
        self.rules = rules
        self.taxonomy = taxonomy
        self.guidelines = guidelines
        self.use_signals = use_signals
        self.use_fields = use_fields
        self.use_category = use_category
        self.use_rules = use_rules
        self.scale = scale

    # The column layout depends only on the rules files, not on the data.
    def _layout(self):
        r = load_rules(self.rules)
        names = []
        if self.use_signals:
            names += [f"signal__{t.name}" for t in r.text_rules]
            names += [f"signal__{n}" for n in SAME_MODALITY_SIGNALS]
        if self.use_category:
            names += [f"item__category__{c.name}" for c in load_taxonomy(self.taxonomy)]
        if self.use_fields:
            names += [f"field__{n}" for n in _FIELD_NUMERIC]
            names += [f"field__ca_guideline__{g}" for g in (*r.guideline, "other")]
            names += [f"field__item_region__{g}" for g in r.region]
        if self.use_rules:
            names += [f"rule__{g.name}" for g in load_guidelines(self.guidelines).rules]
        return names

    def _keys(self, records):
        config = (str(self.rules), str(self.taxonomy), str(self.guidelines), self.use_signals, self.use_fields,
                  self.use_category, self.use_rules)
        return [(config, *(str(row.get(k)) for k in PRE_DECISION)) for row in records]

    def remember(self, X, M) -> None:
        """Put rows' unscaled vectors `M` (computed elsewhere, e.g. by worker processes) in
        the row cache, so that transforming the same rows here does not analyse them again."""
        for key, m in zip(self._keys(to_frame(X).to_dict("records")), np.asarray(M, dtype=np.float64)):
            _cache_row(key, m)

    def _raw(self, X):
        return self._raw_rows(X)

    def _raw_rows(self, X):
        df = to_frame(X)
        names = self._layout()
        index = {n: i for i, n in enumerate(names)}
        M = np.zeros((len(df), len(names)), dtype=np.float64)
        records = df.to_dict("records")
        r = load_rules(self.rules)
        at: list[int] = []  # (row, column) -> value of the new rows, set in one assignment
        cols: list[int] = []
        vals: list[float] = []
        new = []
        for i, (row, key) in enumerate(zip(records, self._keys(records))):
            cached = _ROW_CACHE.get(key)
            if cached is not None:
                _ROW_CACHE.move_to_end(key)
                M[i] = cached
                continue
            put = self._row_values(row, r, index)
            at += [i] * len(put)
            cols += put
            vals += put.values()
            new.append((i, key))
        M[at, cols] = vals
        for i, key in new:
            _cache_row(key, M[i])
        return M

    def _row_values(self, row, r, index) -> dict[int, float]:
        """{column: value} of one row's signals and fields (the slow part: the
        text analysis)."""
        sig = extract_signals(row, r, self.taxonomy)
        put: dict[int, float] = {}
        if self.use_signals:
            for t in r.text_rules:
                put[index[f"signal__{t.name}"]] = float(bool(sig[t.name].value))
            for n in SAME_MODALITY_SIGNALS:
                if n in sig:
                    put[index[f"signal__{n}"]] = float(bool(sig[n].value))
        cat = sig["category"].value
        if self.use_category:
            j = index.get(f"item__category__{cat}")
            if j is not None:
                put[j] = 1.0
        if self.use_fields:
            f = {}
            f["retrospective"] = float(bool(sig["retrospective"].value))
            f["partial_authorization"] = float(bool(sig["partial_authorization"].value))
            q = sig["requested_quantity"].value
            visits = cat in r.trial_max  # a count of visits; a drug's "#90" is a pill count
            f["requested_quantity"] = math.log1p(q) - TYPICAL_VISITS if q is not None and visits else 0.0
            f["exceeds_trial"] = float(bool(sig["exceeds_trial"].value))
            p = sig["prior_sessions"].value
            f["prior_sessions"] = math.log1p(p) if p is not None else 0.0
            f["prior_same_modality"] = float(bool(sig["prior_same_modality"].value))
            d = sig["chronicity_days"].value
            f["chronicity_decades"] = (min(d / 365.25, 30.0) - TYPICAL_YEARS) / 10 if d is not None else 0.0
            a = sig["age"].value
            f["age_decades"] = (a - TYPICAL_AGE) / 10.0 if a is not None else 0.0
            for k in ("additional", "post_op", "purchase", "rental"):
                f[f"item_{k}"] = float(bool(sig[f"item_{k}"].value))
            f["category_prior"] = category_prior(cat, self.taxonomy)
            f["surgery_in_dispute"] = float(bool(sig["surgery_in_dispute"].value))
            f["periop_surgery_not_in_dispute"] = float(bool(sig["periop_surgery_not_in_dispute"].value))
            for k, v in f.items():
                put[index[f"field__{k}"]] = v
            for g in sig["ca_guideline"].value:
                j = index.get(f"field__ca_guideline__{g}")
                if j is not None:
                    put[j] = 1.0
            for g in sig["item_regions"].value:
                put[index[f"field__item_region__{g}"]] = 1.0
        if self.use_rules:
            values = SignalValues(sig)
            for g in fired_rules(values, row.get("item") or "", load_guidelines(self.guidelines)):
                put[index[f"rule__{g.name}"]] = 1.0
        return put

    def _fit_matrix(self, X):
        M = self._raw(X)
        if M.shape[0] == 0:
            raise ValueError("cannot fit on 0 rows (empty data)")
        _remember_width(self, X)
        self.feature_names_out_ = np.asarray(self._layout(), dtype=object)
        if self.scale:
            s = np.abs(M).max(axis=0)
            s[s == 0] = 1.0
            self.scale_ = s
        else:
            self.scale_ = np.ones(M.shape[1])
        return M

    def fit(self, X, y=None):
        self._fit_matrix(X)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        return self._fit_matrix(X) / self.scale_

    def transform(self, X):
        check_is_fitted(self, "scale_")
        _check_width(self, X)
        if list(self._layout()) != list(self.feature_names_out_):
            raise ValueError(f"fitted on {len(self.feature_names_out_)} signal features, the rules now give "
                             f"{len(self._layout())} others")
        return self._raw(X) / self.scale_

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


# --------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------


def build_features(
    *,
    use_tfidf=False,
    use_signals=True,
    use_fields=True,
    use_category=True,
    use_rules=True,
    max_features=20000,
    item_max_features=2000,
    min_df=2,
    max_df=0.95,
    ngram_range=(1, 2),
    hashing=False,
    n_features=2**18,
    scale=False,
    tfidf_weight=0.5,
    rules=None,
    taxonomy=None,
    guidelines=None,
) -> Pipeline:
    """The feature extractor: PRE_DECISION column selection, then a FeatureUnion whose first
    block is the structured one (signals, category, fields, guideline rules: a layout fixed by
    the knowledge files, so the classifier's priors line up with its first columns), then,
    if `use_tfidf`, TF-IDF of the summary and of the item.

    Words are off by default: they encode how a letter is written (its boilerplate, its
    length) as much as what it says, so a short typed note would score differently from a
    letter stating the same facts. `tfidf_weight` multiplies the TF-IDF blocks.
    """
    parts = []
    if use_signals or use_fields or use_category or use_rules:
        parts.append(
            (
                "structured",
                SignalFeatures(
                    rules=rules, taxonomy=taxonomy, guidelines=guidelines, use_signals=use_signals,
                    use_fields=use_fields, use_category=use_category, use_rules=use_rules, scale=scale,
                ),
            )
        )
    if use_tfidf:
        parts.append(
            (
                "summary",
                TextFeatures(
                    "summary", max_features=max_features, min_df=min_df, max_df=max_df,
                    ngram_range=ngram_range, hashing=hashing, n_features=n_features,
                ),
            )
        )
        parts.append(
            (
                "item",
                TextFeatures(
                    "item", max_features=item_max_features, min_df=min_df, max_df=1.0,
                    ngram_range=ngram_range, hashing=hashing, n_features=min(n_features, 2**16),
                ),
            )
        )
    if not parts:
        raise ValueError("build_features: every feature group is switched off")
    return Pipeline(
        [
            ("select", PreDecisionSelector()),
            (
                "union",
                FeatureUnion(
                    parts,
                    transformer_weights=(
                        {"summary": tfidf_weight, "item": tfidf_weight} if use_tfidf and tfidf_weight != 1.0 else None
                    ),
                    verbose_feature_names_out=False,
                ),
            ),
        ]
    )


def knowledge_prior(names, guidelines=None) -> dict[str, np.ndarray | float]:
    """The Gaussian prior of the classifier's coefficients for the structured feature
    `names`, from `features/guidelines.toml`: a rule's coefficient starts at its stated
    strength (sign fixed where the guideline fixes the direction), `field__category_prior`
    near 1 (the published base rate of the category), everything else at 0."""
    g = load_guidelines(guidelines)
    pr = g.prior
    rules = {f"rule__{r.name}": r for r in g.rules}
    sd_of = {"signal": pr.get("signal_sd", 0.5), "field": pr.get("field_sd", 0.5),
             "item": pr.get("category_sd", 0.4), "rule": 0.3}
    mean, sd = np.zeros(len(names)), np.zeros(len(names))
    lower, upper = np.full(len(names), -np.inf), np.full(len(names), np.inf)
    for j, n in enumerate(names):
        sd[j] = sd_of.get(n.split("__", 1)[0], pr.get("field_sd", 0.5))
        if n == "field__category_prior":
            mean[j], sd[j] = pr.get("category_prior_mean", 1.0), pr.get("category_prior_sd", 0.2)
        elif n in rules:
            r = rules[n]
            mean[j], sd[j] = r.strength, r.sd
            if r.fixed_sign:
                lower[j], upper[j] = (0.0, np.inf) if r.strength > 0 else (-np.inf, 0.0)
    return {"prior_mean": mean, "prior_sd": sd, "lower": lower, "upper": upper,
            "intercept_mean": float(pr.get("intercept_mean", 0.0)), "intercept_sd": float(pr.get("intercept_sd", 0.5)),
            "default_sd": float(pr.get("word_sd", 0.15))}


def build_pipeline(*, prior_weight=1.0, knowledge_only=False, **feature_opts) -> Pipeline:
    """Features + `PriorLogisticRegression` whose coefficients are shrunk toward the
    guideline knowledge (`knowledge_prior`) instead of toward zero. `feature_opts` go to
    `build_features`. `prior_weight` scales every prior precision (chosen by letter-grouped
    cross-validation in `train`); `knowledge_only=True` learns nothing from data: the model is
    the published base rate of the category moved by the guideline rules that apply.
    """
    from imr_ml.modeling.prior_lr import PriorLogisticRegression

    features = build_features(**feature_opts)
    structured = dict(features.named_steps["union"].transformer_list).get("structured")
    names = structured._layout() if structured is not None else []
    prior = knowledge_prior(names, feature_opts.get("guidelines"))
    return Pipeline([("features", features),
                     ("clf", PriorLogisticRegression(**prior, prior_weight=prior_weight, fit_data=not knowledge_only))])


def feature_groups(names) -> dict[str, list[int]]:
    """{group: [column indices]} for `signal`, `summary`, `item`, `field` feature names."""
    groups: dict[str, list[int]] = {g: [] for g in GROUPS}
    for i, n in enumerate(names):
        g = str(n).split("__", 1)[0]
        groups.setdefault(g, []).append(i)
    return groups
