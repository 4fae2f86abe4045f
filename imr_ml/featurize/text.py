"""TF-IDF of one text column (`TextFeatures`), with a fast, bit-identical transform.

scikit-learn tokenises with a regex and makes and counts each n-gram in Python; here, for
the plain word analyzer this step always builds, words, n-grams and counts come from C
(`str.translate`, `map`, `zip`, scipy's summing of duplicate entries, the feature hasher).
Same counts, so the same matrix to the bit (tests/test_features.py); fitting is left to
scikit-learn.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain, filterfalse

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from imr_ml.featurize.frame import RowInput, text_column, to_frame

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


def _hash_counts(hasher: HashingVectorizer, texts: list[str]):
    """`hasher.transform(texts)` for a hasher built by `TextFeatures` (same matrix)."""
    grams = _grams(hasher)
    fh = FeatureHasher(n_features=hasher.n_features, input_type="string", dtype=hasher.dtype,
                       alternate_sign=hasher.alternate_sign)
    return fh.transform(chain.from_iterable(grams(doc)) for doc in texts)


def _vocabulary_counts(vec: CountVectorizer, texts: list[str]):
    """`vec.transform(texts)` for a fitted vectorizer built by `TextFeatures` (same matrix)."""
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
    return X


class TextFeatures(RowInput, TransformerMixin, BaseEstimator):
    """TF-IDF of one text column, with names `<prefix><term>` (default `<column>__tfidf__`).

    The step owns a term counter (`vectorizer_`: a CountVectorizer, or a HashingVectorizer
    with `hashing=True`, for corpora too large to keep a vocabulary) and a TfidfTransformer
    (`tfidf_`). A hashed feature is named after the most frequent term of its bucket in (up
    to `name_sample` of) the fitting texts, so explanations stay readable; buckets no sampled
    term reached are `<prefix>hash_<i>`.
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

    def _texts(self, X) -> list[str]:
        # One column of a frame is read directly (a whole `to_frame` per text column is waste).
        return (text_column(X, self.column) if isinstance(X, pd.DataFrame) else to_frame(X)[self.column]).tolist()

    def _common(self) -> dict:
        return dict(ngram_range=tuple(self.ngram_range), stop_words=self.stop_words, lowercase=True,
                    token_pattern=TOKEN_PATTERN, dtype=np.float64)

    def _hasher(self) -> HashingVectorizer:
        return HashingVectorizer(n_features=self.n_features, alternate_sign=False, norm=None, **self._common())

    def _counter(self, min_df, max_df) -> CountVectorizer | HashingVectorizer:
        if self.hashing:
            return self._hasher()
        return CountVectorizer(max_features=self.max_features, min_df=min_df, max_df=max_df, **self._common())

    def hashed_counts(self, texts: list[str]):
        """Term counts of `texts` in the hashed space (`hashing=True`), fitted or not: what
        streaming training computes in worker processes before the IDF is known."""
        return _hash_counts(self._hasher(), texts)

    def fit(self, X, y=None):
        """Learn the vocabulary (or bucket names) and the IDF of the column's texts."""
        texts = self._texts(X)
        if not texts:
            raise ValueError("cannot fit on 0 rows (empty data)")
        self._remember_width(X)
        self.vectorizer_ = self.tfidf_ = None
        # Small or empty corpora: relax the document-frequency limits, then give up quietly
        # (a column with no words contributes no features rather than an error).
        for min_df, max_df in ((self.min_df, self.max_df), (1, 1.0)):
            counter = self._counter(min_df, max_df)
            try:
                counts = counter.fit_transform(texts)
            except ValueError:
                continue
            self.vectorizer_ = counter
            self.tfidf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(counts)
            break
        if self.hashing:
            self.n_out_ = self.n_features
            self.bucket_terms_ = self._bucket_terms(texts) if self.vectorizer_ is not None else {}
        else:
            self.n_out_ = 0 if self.vectorizer_ is None else len(self.vectorizer_.vocabulary_)
        return self

    def _bucket_terms(self, texts) -> dict[int, str]:
        """{bucket: its most frequent term} over the first `name_sample` distinct texts."""
        counts: Counter = Counter()
        analyze = self.vectorizer_.build_analyzer()
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
        """The TF-IDF matrix of the column's texts (CSR, float64)."""
        check_is_fitted(self, "n_out_")
        self._check_width(X)
        texts = self._texts(X)
        if self.vectorizer_ is None:
            return sparse.csr_matrix((len(texts), 0), dtype=np.float64)
        # Items of one letter repeat its summary: vectorise each distinct text once.
        index: dict[str, int] = {}
        inverse = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts))
        uniq = list(index)
        if self.hashing:
            counts = _hash_counts(self.vectorizer_, uniq)
        else:
            counts = _vocabulary_counts(self.vectorizer_, uniq)
        Z = sparse.csr_matrix(self.tfidf_.transform(counts, copy=False), dtype=np.float64)
        return Z if len(index) == len(texts) else Z[inverse]

    def get_feature_names_out(self, input_features=None):
        """`<prefix><term>` per column (n-gram words joined by "_")."""
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
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = []
        return tags
