"""Training on corpora too large for the cross-validated procedure (hundreds of thousands
of items and up): what `train` does when `TrainOptions.streaming` is on (automatically from
`STREAMING_MIN_ITEMS` items).

What changes, and why, against `imr_ml.modeling.train.fit_procedure`:

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
import math
import os
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from imr_ml.pool import ordered_map
from imr_ml.schema import pre_decision

STREAMING_MIN_ITEMS = 200_000
CHUNK = 2000  # rows per worker task
HOLDOUT_SHARE = 0.05  # of letters, for calibration and again for measurement
HOLDOUT_MAX_ITEMS = 40_000  # each half: plenty for a 2-parameter map and a tight AUC
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


_WORKER: dict = {}


def _init_worker(feature_opts: dict, worker: bool = True) -> None:
    from imr_ml.featurize import build_features

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


def compute_features(rows: Sequence[dict], feature_opts: dict, n_jobs: int = 0, reporter=None):
    """({text block: counts}, structured matrix) of every row, in order, computed by
    `n_jobs` processes (0: all cores; 1: in this process)."""
    from imr_ml.modeling.train import NULL_REPORTER

    reporter = reporter or NULL_REPORTER
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


def fit_features(rows: Sequence[dict], feature_opts: dict, counts: dict, M, sample: np.ndarray):
    """The fitted feature step and the full feature matrix, from precomputed counts.

    The step is fitted on `sample` rows (which sets its structure and names the hashed
    columns), then given the IDF and structured scale of *all* rows, so it equals a fit on
    all rows; the matrix is its transform of every row, assembled without recomputing."""
    from imr_ml.featurize import build_features
    from imr_ml.modeling.train import frame

    feats = build_features(**feature_opts)
    X = frame([rows[i] for i in sample])
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


# ----------------------------------------------------------------------------- splits


def holdout_split(y: np.ndarray, groups: np.ndarray, seed: int):
    """(train, calibration, measurement) row indices; whole letters, shuffled by seed."""
    letters = np.array(sorted(set(groups.tolist())), dtype=object)
    rng = np.random.default_rng(seed)
    rng.shuffle(letters)
    per_letter = max(len(y) / max(len(letters), 1), 1.0)
    k = max(1, min(int(math.ceil(HOLDOUT_SHARE * len(letters))), int(HOLDOUT_MAX_ITEMS / per_letter)))
    cal, meas = set(letters[:k].tolist()), set(letters[k: 2 * k].tolist())
    part = np.array([0 if g not in cal and g not in meas else (1 if g in cal else 2) for g in groups.tolist()])
    return np.flatnonzero(part == 0), np.flatnonzero(part == 1), np.flatnonzero(part == 2)


def letter_sample(idx: np.ndarray, groups: np.ndarray, n_items: int, seed: int) -> np.ndarray:
    """Rows of whole letters drawn at random from `idx`, about `n_items` of them, in order."""
    if len(idx) <= n_items:
        return idx
    letters = np.array(sorted(set(groups[idx].tolist())), dtype=object)
    rng = np.random.default_rng(seed)
    rng.shuffle(letters)
    keep = set(letters[: max(1, int(len(letters) * n_items / len(idx)))].tolist())
    return np.array([i for i in idx if groups[i] in keep], dtype=np.int64)


# ----------------------------------------------------------------------------- fit


def fit_streaming(rows: Sequence[dict], y: np.ndarray, groups: np.ndarray, opts, reporter):
    """(model, params, selection table, estimate, baselines, baseline tables) for `train`."""
    from scipy.special import expit
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import Pipeline

    from imr_ml.modeling.baselines import categories, fit_baselines, fit_tables, predict_baselines
    from imr_ml.modeling.metrics import reliability_table, score, summarize_folds, with_intervals
    from imr_ml.modeling.pipeline import build_pipeline
    from imr_ml.modeling.train import TrainError, _score_for_selection, frame, proba_from_features, score_all

    # build_pipeline's own (classifier) parameters and their defaults; the rest are feature options
    clf_defaults = {k: v.default for k, v in inspect.signature(build_pipeline).parameters.items()
                    if v.kind is not inspect.Parameter.VAR_KEYWORD}
    feature_opts = {"hashing": True, **{k: v for k, v in opts.pipeline.items() if k not in clf_defaults}}
    tr, cal, meas = holdout_split(y, groups, opts.seed)
    if len(meas) == 0 or min(y[tr].sum(), y[cal].sum()) == 0 or y[tr].min() == y[tr].max():
        raise TrainError("too few (overturned) letters to train, calibrate and measure on held-out letters")
    # Rows in the order train | calibration | measurement, so each part of the feature
    # matrix is a view (1M rows of text features are a few GB: no copies).
    order = np.concatenate([tr, cal, meas])
    rows, y, groups = [rows[i] for i in order], y[order], groups[order]
    n_tr, n_cal = len(tr), len(cal)
    tr, cal, meas = np.arange(n_tr), np.arange(n_tr, n_tr + n_cal), np.arange(n_tr + n_cal, len(order))

    counts, M = compute_features(rows, feature_opts, opts.n_jobs, reporter)
    feats, Z = fit_features(rows, feature_opts, counts, M, letter_sample(tr, groups, FIT_SAMPLE_ITEMS, opts.seed))
    del counts

    def classifier(params, n):
        """The pipeline's own classifier (logistic regression shrunk toward the guideline
        priors, by L-BFGS: one pass over the sparse matrix per iteration)."""
        clf_opts = {k: v for k, v in {**opts.pipeline, **params}.items() if k in clf_defaults}
        return build_pipeline(**feature_opts, **clf_opts)[-1]

    params, table = dict(opts.grid[0]), []
    if len(opts.grid) > 1:
        sel = letter_sample(tr, groups, SELECT_ITEMS, opts.seed + 1)
        reporter.start("choosing the prior weight", len(opts.grid))
        for g in opts.grid:
            d = classifier(g, len(sel)).fit(Z[sel], y[sel]).decision_function(_rows(Z, cal))
            sc = _score_for_selection(y[cal], expit(d), opts.select_metric)
            table.append({"params": dict(g), "metric": opts.select_metric, "score": None if math.isnan(sc) else sc,
                          "note": f"fitted on {len(sel)} training items, scored on the calibration letters"})
            reporter.advance()
        scored = [t for t in table if t["score"] is not None]
        params = dict(max(scored, key=lambda t: t["score"])["params"]) if scored else dict(opts.grid[0])

    reporter.start("fitting the classifier", 1)
    clf = classifier(params, len(tr)).fit(_rows(Z, tr), y[tr])
    pipe = Pipeline([("features", feats), ("clf", clf)])
    reporter.advance()

    structured = _parts(feats)[0]["structured"]

    def known(idx):
        """The rows `idx` as a frame, their signals handed to the feature step's cache."""
        X = frame([rows[i] for i in idx])
        structured.remember(X, M[idx])  # SignalFeatures of the same rules share this cache
        return X

    from imr_ml.modeling.train import calibration_method

    method = calibration_method(opts, y)
    if method == "none":
        model = pipe
    else:
        with warnings.catch_warnings():
            # A frozen estimator is only asked for scores; the folds sklearn still draws for
            # that warn about rare classes in small calibration sets, which does not apply.
            warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
            model = CalibratedClassifierCV(FrozenEstimator(pipe), method=method).fit(known(cal), y[cal])

    baselines, tables = {}, {}
    preds = {"model": proba_from_features(model, _rows(Z, meas))}
    if opts.baselines:
        bs = letter_sample(tr, groups, BASELINE_ITEMS, opts.seed + 2)
        baselines, _ = fit_baselines(known(bs), y[bs], seed=opts.seed)
        tables = fit_tables(pd.DataFrame({"item": [rows[i].get("item") for i in tr]}), y[tr])
    X_meas = known(meas)
    preds.update(predict_baselines(baselines, tables, X_meas))
    scores = {n: score(y[meas], p) for n, p in preds.items()}
    held_out = np.full(len(order), np.nan)
    held_out[order[meas]] = preds["model"]  # in the caller's row order
    pooled = score_all(y[meas], preds, categories(X_meas))
    with_intervals(pooled["overall"], y[meas], preds, groups[meas])
    est = {
        "protocol": (f"held-out letters: classifier fitted on {len(tr)} items, calibration on {len(cal)} items "
                     f"of other letters, measured on {len(meas)} items of yet other letters"),
        "n_folds": 1,
        "summary": {n: summarize_folds([s]) for n, s in scores.items()},
        "pooled": pooled,
        "reliability": reliability_table(y[meas], preds["model"]),
        "chosen_params": [params],
        "folds": [{"repeat": 0, "fold": 0, "n_test": int(len(meas)), "params": params, "scores": scores}],
        "_pooled_predictions": {"model": held_out},
    }
    return model, params, table, est, baselines, tables

