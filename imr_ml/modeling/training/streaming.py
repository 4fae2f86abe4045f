"""Training on corpora too large for the cross-validated procedure (hundreds of thousands
of items and up): what `train` does when `TrainOptions.streaming` is on (automatically from
`STREAMING_MIN_ITEMS` items).

What changes, and why, against `imr_ml.modeling.training.fitting.fit_procedure`:

* **Features are computed once**, chunk by chunk in worker processes: signal extraction is
  pure Python (~1-2 ms per letter), so it is spread over the cores. TF-IDF is hashed (no
  vocabulary to hold; columns are named after their most frequent term) when words are used
  at all, and its IDF is computed from the full count matrix: the fitted feature step is the
  one `build_features(hashing=True).fit(all rows)` would give.
* **No refits**: a held-out share of letters is split in two. The classifier is fitted once on
  the rest; one half fits the calibration map (`CalibratedClassifierCV(FrozenEstimator(pipe))`),
  the other half measures the calibrated model and the baselines. With this much data a
  held-out slice costs nothing, whereas k refits would cost k times the training.
* **The classifier** is the pipeline's own (logistic regression shrunk toward the guideline
  priors, fitted once by L-BFGS). The prior weight is the one given, or a grid is searched
  on a sample of the training letters, scored on the calibration half.
* The baselines' estimators are fitted on a letter sample (`BASELINE_ITEMS`); their tables on
  every training row.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from imr_ml.featurize import build_features, to_frame
from imr_ml.modeling.estimator.model import scoring_model
from imr_ml.modeling.estimator.pipeline import build_pipeline
from imr_ml.modeling.evaluation.bootstrap import with_intervals
from imr_ml.modeling.evaluation.metrics import metrics_of, reliability_table, score_all, summarize_folds
from imr_ml.modeling.training.baselines import categories, fit_baselines, fit_tables, predict_baselines
from imr_ml.modeling.training.data import TrainError
from imr_ml.modeling.training.fitting import TrainOptions, best_params, calibration_method, grid_entry
from imr_ml.modeling.training.progress import NULL_REPORTER, Reporter
from imr_ml.modeling.training.splits import holdout_split, letter_sample
from imr_ml.pool import ordered_map
from imr_ml.schema import pre_decision

STREAMING_MIN_ITEMS = 200_000
CHUNK = 2000  # rows per worker task
BASELINE_ITEMS = 20_000
SELECT_ITEMS = 100_000  # training items used to compare grid points
FIT_SAMPLE_ITEMS = 20_000  # rows the feature step is fitted on (it names the hashed columns)


# ----------------------------------------------------------------------------- features


def _parts(feats):
    """({name: transformer} in the union's column order, weights) of a build_features; text
    blocks must be hashed (no vocabulary to hold)."""
    union = feats.named_steps["union"]
    parts = dict(union.transformer_list)
    if "structured" not in parts or any(not parts[n].hashing for n in ("summary", "item") if n in parts):
        raise ValueError("streaming training needs build_features(hashing=True) with the structured features")
    return parts, union.transformer_weights or {}


# A pool worker's feature step, built once by its initializer (not shipped with every chunk).
_WORKER: dict = {}


def _init_worker(feature_opts: dict, worker: bool = True) -> None:
    feats = build_features(**feature_opts)
    if worker:  # every row is seen once here; the parent keeps what it needs
        feats.set_params(union__structured__cache_size=0)
    _WORKER["feats"] = feats


def _chunk_features(rows: list[dict]):
    """({text block: counts}, unscaled structured matrix) of a chunk of rows."""
    parts, _ = _parts(_WORKER["feats"])
    out = {}
    for name in ("summary", "item"):
        if name not in parts:
            continue
        tf = parts[name]
        texts = [r.get(tf.column) or "" for r in rows]
        uniq: dict[str, int] = {}
        inverse = np.fromiter((uniq.setdefault(t, len(uniq)) for t in texts), dtype=np.int64, count=len(texts))
        H = sparse.csr_matrix(tf.hashed_counts(list(uniq)))[inverse]
        if H.nnz == 0 or H.data.max() <= np.iinfo(np.uint16).max:
            H.data = H.data.astype(np.uint16)  # term counts: a quarter of the bytes in transit and at rest
        out[name] = H
    return out, parts["structured"].raw_matrix(rows)


def compute_features(rows: Sequence[dict], feature_opts: dict, n_jobs: int = 0,
                     reporter: Reporter = NULL_REPORTER) -> tuple[dict, np.ndarray]:
    """Every row's text counts and structured features, computed by worker processes.

    Parameters
    ----------
    rows : sequence of dict
        Corpus rows.
    feature_opts : dict
        `build_features` keyword arguments (text hashed).
    n_jobs : int
        Processes (0: all cores; 1: in this process).
    reporter : Reporter
        Hears the rows done.

    Returns
    -------
    (dict, numpy.ndarray)
        {text block: CSR term counts} and the unscaled structured matrix, rows in order.
    """
    n_jobs = n_jobs or os.cpu_count() or 1
    chunks = ([pre_decision(r) for r in rows[i: i + CHUNK]] for i in range(0, len(rows), CHUNK))
    reporter.start("computing features", len(rows))
    results = []
    if n_jobs == 1:
        _init_worker(feature_opts, worker=False)
        for c in chunks:
            results.append(_chunk_features(c))
            reporter.advance(len(c))
    else:
        for r in ordered_map(_chunk_features, chunks, n_jobs, _init_worker, (feature_opts,)):
            results.append(r)
            reporter.advance(r[1].shape[0])
    counts = {name: sparse.vstack([r[0][name] for r in results], format="csr", dtype=np.float64)
              for name in (results[0][0] if results else {})}
    M = np.vstack([r[1] for r in results])
    return counts, M


def fit_features(rows: Sequence[dict], feature_opts: dict, counts: dict, M: np.ndarray,
                 sample: np.ndarray) -> tuple[Any, sparse.csr_matrix]:
    """The fitted feature step and the full feature matrix, from precomputed counts.

    The step is fitted on `sample` rows (which sets its structure and names the hashed
    columns), then given the IDF and structured scale of *all* rows, so it equals a fit on
    all rows; the matrix is its transform of every row, assembled without recomputing.

    Parameters
    ----------
    rows, feature_opts
        As in `compute_features`.
    counts : dict
        {text block: term counts} of every row (`compute_features`); turned into TF-IDF in place.
    M : numpy.ndarray
        The unscaled structured matrix of every row.
    sample : numpy.ndarray
        Rows the step is fitted on.

    Returns
    -------
    (sklearn.pipeline.Pipeline, scipy.sparse.csr_matrix)
        The fitted feature step and the feature matrix of every row.
    """
    feats = build_features(**feature_opts)
    X = to_frame([rows[i] for i in sample])
    parts, weights = _parts(feats)
    parts["structured"].remember(X, M[sample])  # the sample's signals are known
    feats.fit(X)
    blocks = []
    for name, step in parts.items():
        if name == "structured":
            structured = step
            if structured.scale:
                scale = np.abs(M).max(axis=0)
                scale[scale == 0] = 1.0
                structured.scale_ = scale
            blocks.append(sparse.csr_matrix(M / structured.scale_))
            continue
        if step.vectorizer_ is None:
            raise ValueError(f"no words in any {name} of the sample: cannot train on hashed text")
        idf = step.tfidf_.fit(counts[name])
        T = idf.transform(counts[name], copy=False)  # in place: the counts are not needed again
        T.data *= weights.get(name, 1.0)
        blocks.append(T)
    return feats, sparse.hstack(blocks, format="csr")


def _rows(Z, idx: np.ndarray):
    """Rows idx[0] .. idx[-1] (consecutive) of a CSR matrix, as a view."""
    a, b = int(idx[0]), int(idx[-1]) + 1
    lo, hi = Z.indptr[a], Z.indptr[b]
    return sparse.csr_matrix((Z.data[lo:hi], Z.indices[lo:hi], Z.indptr[a: b + 1] - lo), shape=(b - a, Z.shape[1]),
                             copy=False)



# ----------------------------------------------------------------------------- fit


class _Corpus:
    """The rows in the order train | calibration | measurement, with their features, so each
    part of the feature matrix is a view (1M rows of text features are a few GB: no copies)."""

    def __init__(self, rows: Sequence[dict], y: np.ndarray, groups: np.ndarray, seed: int) -> None:
        tr, cal, meas = holdout_split(y, groups, seed)
        if len(meas) == 0 or min(y[tr].sum(), y[cal].sum()) == 0 or y[tr].min() == y[tr].max():
            raise TrainError("too few (overturned) letters to train, calibrate and measure on held-out letters")
        self.order = np.concatenate([tr, cal, meas])
        self.rows, self.y, self.groups = [rows[i] for i in self.order], y[self.order], groups[self.order]
        n_tr, n_cal = len(tr), len(cal)
        self.tr, self.cal = np.arange(n_tr), np.arange(n_tr, n_tr + n_cal)
        self.meas = np.arange(n_tr + n_cal, len(self.order))
        self.feats: Any = None
        self.Z: Any = None
        self.M: Any = None

    def featurize(self, feature_opts: dict, n_jobs: int, reporter: Reporter, seed: int) -> None:
        """Compute every row's features once and fit the feature step."""
        counts, self.M = compute_features(self.rows, feature_opts, n_jobs, reporter)
        sample = letter_sample(self.tr, self.groups, FIT_SAMPLE_ITEMS, seed)
        self.feats, self.Z = fit_features(self.rows, feature_opts, counts, self.M, sample)

    def part(self, idx: np.ndarray) -> Any:
        """The feature rows of a consecutive part, as a view."""
        return _rows(self.Z, idx)

    def known(self, idx: np.ndarray) -> pd.DataFrame:
        """The rows `idx` as a frame, their signals handed to the feature step's cache."""
        X = to_frame([self.rows[i] for i in idx])
        _parts(self.feats)[0]["structured"].remember(X, self.M[idx])  # shared by steps of the same rules
        return X


def _classifier_options(opts: TrainOptions) -> tuple[dict, dict]:
    """(feature options, build_pipeline's own classifier parameters and their defaults)."""
    clf_defaults = {k: v.default for k, v in inspect.signature(build_pipeline).parameters.items()
                    if v.kind is not inspect.Parameter.VAR_KEYWORD}
    feature_opts = {"hashing": True, **{k: v for k, v in opts.pipeline.items() if k not in clf_defaults}}
    return feature_opts, clf_defaults


def _classifier(opts: TrainOptions, params: dict, feature_opts: dict, clf_defaults: dict) -> Any:
    """The pipeline's own classifier (logistic regression shrunk toward the guideline priors,
    by L-BFGS: one pass over the sparse matrix per iteration)."""
    clf_opts = {k: v for k, v in {**opts.pipeline, **params}.items() if k in clf_defaults}
    return build_pipeline(**feature_opts, **clf_opts)[-1]


def _select(c: _Corpus, opts: TrainOptions, feature_opts: dict, clf_defaults: dict,
            reporter: Reporter) -> tuple[dict, list[dict]]:
    """The grid point that scores best on the calibration letters, fitted on a letter sample."""
    if len(opts.grid) == 1:
        return dict(opts.grid[0]), []
    sel = letter_sample(c.tr, c.groups, SELECT_ITEMS, opts.seed + 1)
    reporter.start("choosing the prior weight", len(opts.grid))
    table = []
    for g in opts.grid:
        clf = _classifier(opts, g, feature_opts, clf_defaults).fit(c.Z[sel], c.y[sel])
        entry = grid_entry(g, c.y[c.cal], expit(clf.decision_function(c.part(c.cal))), opts.select_metric)
        table.append({**entry, "note": f"fitted on {len(sel)} training items, scored on the calibration letters"})
        reporter.advance()
    return best_params(table, opts.grid), table


def _calibrated(c: _Corpus, pipe: Pipeline, method: str) -> Any:
    """The pipeline with a calibration map fitted on the calibration letters (or as it is)."""
    if method == "none":
        return pipe
    with warnings.catch_warnings():
        # A frozen estimator is only asked for scores; the folds sklearn still draws for
        # that warn about rare classes in small calibration sets, which does not apply.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return CalibratedClassifierCV(FrozenEstimator(pipe), method=method).fit(c.known(c.cal), c.y[c.cal])


def _measured(c: _Corpus, model: Any, params: dict, opts: TrainOptions) -> tuple[dict, dict, dict]:
    """(estimate, baselines, baseline tables): the model and baselines on the measurement letters."""
    scorer = scoring_model(model)
    baselines: dict = {}
    tables: dict = {}
    preds = {"model": scorer.calibrate(scorer.logits(c.part(c.meas)))}
    if opts.baselines:
        bs = letter_sample(c.tr, c.groups, BASELINE_ITEMS, opts.seed + 2)
        baselines, _ = fit_baselines(c.known(bs), c.y[bs], seed=opts.seed)
        tables = fit_tables(pd.DataFrame({"item": [c.rows[i].get("item") for i in c.tr]}), c.y[c.tr])
    X_meas = c.known(c.meas)
    y_meas = c.y[c.meas]
    preds.update(predict_baselines(baselines, tables, X_meas))
    scores = {n: metrics_of(y_meas, p) for n, p in preds.items()}
    held_out = np.full(len(c.order), np.nan)
    held_out[c.order[c.meas]] = preds["model"]  # in the caller's row order
    pooled = score_all(y_meas, preds, categories(X_meas))
    with_intervals(pooled["overall"], y_meas, preds, c.groups[c.meas])
    est = {
        "protocol": (f"held-out letters: classifier fitted on {len(c.tr)} items, calibration on {len(c.cal)} items "
                     f"of other letters, measured on {len(c.meas)} items of yet other letters"),
        "n_folds": 1,
        "summary": {n: summarize_folds([s]) for n, s in scores.items()},
        "pooled": pooled,
        "reliability": reliability_table(y_meas, preds["model"]),
        "chosen_params": [params],
        "folds": [{"repeat": 0, "fold": 0, "n_test": int(len(c.meas)), "params": params, "scores": scores}],
        "_pooled_predictions": {"model": held_out},
    }
    return est, baselines, tables


def fit_streaming(rows: Sequence[dict], y: np.ndarray, groups: np.ndarray, opts: TrainOptions,
                  reporter: Reporter = NULL_REPORTER) -> tuple[Any, dict, list[dict], dict, dict, dict]:
    """Train, calibrate and measure on held-out letters, computing features once.

    Parameters
    ----------
    rows : sequence of dict
        Canonical labelled rows.
    y : numpy.ndarray
        Their labels.
    groups : numpy.ndarray
        Their letters.
    opts : TrainOptions
        The training options.
    reporter : Reporter
        Hears the progress of every stage.

    Returns
    -------
    tuple
        (model, params, selection table, estimate, baselines, baseline tables), as `train`
        needs them.
    """
    feature_opts, clf_defaults = _classifier_options(opts)
    c = _Corpus(rows, y, groups, opts.seed)
    c.featurize(feature_opts, opts.n_jobs, reporter, opts.seed)
    params, table = _select(c, opts, feature_opts, clf_defaults, reporter)
    reporter.start("fitting the classifier", 1)
    clf = _classifier(opts, params, feature_opts, clf_defaults).fit(c.part(c.tr), c.y[c.tr])
    pipe = Pipeline([("features", c.feats), ("clf", clf)])
    reporter.advance()
    model = _calibrated(c, pipe, calibration_method(opts, c.y))
    est, baselines, tables = _measured(c, model, params, opts)
    return model, params, table, est, baselines, tables
