"""Training and evaluation as plain functions (the CLI commands are thin wrappers).

The procedure, in order:

1. Rows are put in canonical order (letter_id, item_index) and fingerprinted (sha256 of
   the PRE_DECISION fields + label of every row).
2. Only PRE_DECISION columns reach the model (:func:`frame`). ``decision_date`` is read
   only to make the temporal split.
3. The weight of the guideline prior (a small grid over ``prior_weight``) is chosen by
   cross-validation grouped by letter: the items of one letter are never split across
   train and test.
4. The chosen pipeline (logistic regression shrunk toward the guideline priors) is calibrated with Platt
   scaling fitted on its *out-of-fold* decision scores, folds grouped by letter, then
   refitted on all rows (``CalibratedClassifierCV(ensemble=False)``): every training item
   is used both for the classifier and, out of fold, for the calibration map.
5. The whole procedure (3 + 4) is scored by an outer grouped CV (or by a temporal
   hold-out of the latest letters), against the baselines fitted on the same folds.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imr_ml.schema import PRE_DECISION, TEXT_COLUMNS, as_text

# How much the guideline priors weigh against the letters (a multiplier of every prior
# precision): above 1 the knowledge holds firmer, below 1 the data move it more.
DEFAULT_GRID: tuple[dict, ...] = tuple({"prior_weight": w} for w in (0.1, 0.25, 0.5, 1.0, 2.0, 4.0))


class TrainError(ValueError):
    """Training data or options that cannot produce an honest model (one-line reason)."""


# ----------------------------------------------------------------------------- progress


class Reporter:
    """Progress sink; the CLI passes one that draws a rich progress bar."""

    def start(self, description: str, total: int) -> None:  # pragma: no cover - interface
        pass

    def advance(self, n: int = 1) -> None:  # pragma: no cover - interface
        pass


NULL_REPORTER = Reporter()


# ----------------------------------------------------------------------------- options


@dataclass
class TrainOptions:
    split: str = "grouped"  # grouped | temporal: how the reported metrics are estimated
    seed: int = 0
    n_splits: int = 5  # folds for selection, calibration and the outer estimate
    grid: tuple[dict, ...] = DEFAULT_GRID  # build_pipeline kwargs tried
    min_positives_to_select: int = 100  # fewer overturned items: keep build_pipeline's defaults
    select_metric: str = "log_loss"  # or "average_precision" / "roc_auc"
    calibration: str = "auto"  # auto | sigmoid | isotonic | none (auto: see calibration_method)
    pipeline: dict = field(default_factory=dict)  # fixed build_pipeline kwargs
    test_fraction: float = 0.2  # temporal: share of letters (latest) held out
    cv_repeats: int = 1  # outer CV repeats (different shuffles) for the spread
    estimate: bool = True  # run the outer CV at all (off for quick fits / benchmarks)
    baselines: bool = True
    cache: bool = True  # reuse fitted feature steps across grid points / calibration folds
    streaming: bool | None = None  # large-corpus procedure (imr_ml.modeling.streaming); None: from its size
    n_jobs: int = 0  # processes computing features in the streaming procedure (0: every core)
    labels_from: str = "label"  # label (must agree with decision) | decision (derive labels from it)

    def __post_init__(self) -> None:
        if self.split not in ("grouped", "temporal"):
            raise TrainError(f"unknown split {self.split!r} (grouped or temporal)")
        if self.calibration not in ("auto", "sigmoid", "isotonic", "none"):
            raise TrainError(f"unknown calibration {self.calibration!r}")
        if self.select_metric not in ("average_precision", "log_loss", "roc_auc"):
            raise TrainError(f"unknown selection metric {self.select_metric!r}")
        if self.n_splits < 2:
            raise TrainError("n_splits must be at least 2")
        if self.n_jobs < 0:
            raise TrainError("n_jobs (--jobs) must be 0 (every core) or a number of processes")
        if self.labels_from not in ("label", "decision"):
            raise TrainError(f"unknown label source {self.labels_from!r} (label or decision)")
        self.grid = tuple(dict(g) for g in self.grid) or ({},)


# Below this many overturned items `calibration="auto"` keeps the model's own probabilities:
# they start from the published category rates, and a calibration map fitted on a few dozen
# overturned items adds more noise than it removes (experiments/cv_real.md: Brier 0.085
# uncalibrated against 0.089 with a sigmoid map on the 111 real letters).
CALIBRATE_MIN_POSITIVES = 100


def calibration_method(opts: TrainOptions, y: np.ndarray) -> str:
    """The calibration map to fit on these labels (`opts.calibration`, "auto" resolved)."""
    if opts.calibration != "auto":
        return opts.calibration
    return "sigmoid" if int(np.sum(y)) >= CALIBRATE_MIN_POSITIVES else "none"


def default_factory() -> Callable:
    from imr_ml.modeling.pipeline import build_pipeline

    return build_pipeline


# ----------------------------------------------------------------------------- data


def _label(row: dict) -> int | None:
    lab = row.get("label")
    if lab in (0, 1, True, False):
        return int(lab)
    dec = (row.get("decision") or "").strip().lower()
    if dec in ("upheld", "overturned"):
        return int(dec == "overturned")
    return None


def canonical_rows(rows: Sequence[dict], *, require_label: bool = True) -> list[dict]:
    """Rows sorted by (letter_id, item_index) with ``label`` filled from ``decision``."""
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


def frame(rows: Sequence[dict]) -> pd.DataFrame:
    """The only view of a row a model gets: PRE_DECISION columns, text as ``str``."""

    data = {k: [r.get(k) for r in rows] for k in PRE_DECISION}
    for c in TEXT_COLUMNS:  # plain str objects: pandas' Arrow strings cost a conversion at every read
        data[c] = pd.Series([as_text(v) for v in data[c]], dtype=object)
    df = pd.DataFrame(data, columns=list(PRE_DECISION))
    df["retrospective"] = df["retrospective"].fillna(False).astype(bool)
    return df


def labels(rows: Sequence[dict]) -> np.ndarray:
    return np.array([int(r["label"]) for r in rows], dtype=int)


def letter_groups(rows: Sequence[dict]) -> np.ndarray:
    return np.array([str(r["letter_id"]) for r in rows], dtype=object)


def fingerprint(rows: Sequence[dict]) -> str:
    """sha256 of the canonical rows' PRE_DECISION fields + label (order-independent)."""
    h = hashlib.sha256()
    for r in canonical_rows(rows, require_label=False):
        rec = {k: r.get(k) for k in PRE_DECISION}
        rec["label"] = r.get("label")
        h.update(json.dumps(rec, sort_keys=True, default=str, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def letter_hash(letter_id: str) -> str:
    return hashlib.sha256(str(letter_id).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- splits


def grouped_folds(y: np.ndarray, groups: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that never split a letter; fewer folds when there are few letters."""
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    n_groups = len(set(groups.tolist()))
    pos_groups = len(set(groups[y == 1].tolist()))
    k = min(n_splits, n_groups)
    if k < 2:
        raise TrainError(f"need at least 2 letters to cross-validate, got {n_groups}")
    if pos_groups >= k and (n_groups - pos_groups) >= 1:
        cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in cv.split(np.zeros(len(y)), y, groups)]
    # too few overturned letters to stratify: plain grouped folds after a seeded shuffle
    rng = np.random.default_rng(seed)
    uniq = np.array(sorted(set(groups.tolist())), dtype=object)
    perm = {g: i for i, g in enumerate(rng.permutation(uniq))}
    shuffled = np.array([perm[g] for g in groups])
    return [(tr, te) for tr, te in GroupKFold(n_splits=k).split(np.zeros(len(y)), y, shuffled)]


def temporal_split(rows: Sequence[dict], test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Hold out the latest letters by decision_date (used for this split only)."""
    by_letter: dict[str, str] = {}
    for r in rows:
        d = r.get("decision_date")
        if d:
            lid = str(r["letter_id"])
            by_letter[lid] = max(by_letter.get(lid, ""), str(d))
    letters = sorted({str(r["letter_id"]) for r in rows})
    dated = [lid for lid in letters if lid in by_letter]
    if len(dated) < 2:
        raise TrainError("--split temporal needs decision_date on at least 2 letters")
    dated.sort(key=lambda lid: (by_letter[lid], lid))
    n_test = max(1, int(round(test_fraction * len(dated))))
    test_letters = set(dated[-n_test:])
    is_test = np.array([str(r["letter_id"]) in test_letters for r in rows])
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _test_fold_array(splits, n: int) -> np.ndarray:
    fold = np.full(n, -1, dtype=np.int32)
    for i, (_, te) in enumerate(splits):
        fold[te] = i
    return fold


# ----------------------------------------------------------------------------- fitting

_MEMORY: list = []  # the active joblib.Memory (a stack; empty = no caching)


class feature_cache:
    """Within this context, pipelines built for selection and calibration cache their
    feature step (``Pipeline(memory=...)``) in a temporary directory, so the features of one
    training fold are computed once for every C and for calibration. The cache is never
    saved with a model: ``memory`` is reset to None on everything returned."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            import tempfile

            from joblib import Memory

            self.dir = tempfile.mkdtemp(prefix="imr-ml-cache-")
            _MEMORY.append(Memory(self.dir, verbose=0))
        return self

    def __exit__(self, *exc):
        if self.enabled:
            import shutil

            _MEMORY.pop()
            shutil.rmtree(self.dir, ignore_errors=True)
        return False


def _with_memory(est):
    if _MEMORY and hasattr(est, "steps") and "memory" in est.get_params(deep=False):
        est.set_params(memory=_MEMORY[-1])
    return est


def _drop_memory(model) -> None:
    for est in (getattr(model, "estimator", None), fitted_pipeline(model), model):
        if est is not None and hasattr(est, "steps") and "memory" in est.get_params(deep=False):
            est.set_params(memory=None)


def _proba(est, X) -> np.ndarray:
    return np.asarray(est.predict_proba(X))[:, 1]


def _score_for_selection(y, p, metric: str) -> float:
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    if metric == "log_loss":
        return -float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]))
    if y.min() == y.max():
        return float("nan")
    if metric == "roc_auc":
        return float(roc_auc_score(y, p))
    return float(average_precision_score(y, p))


def select_params(
    X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, opts: TrainOptions, factory: Callable, reporter: Reporter = NULL_REPORTER
) -> tuple[dict, list[dict]]:
    """The grid point with the best pooled out-of-fold score (grouped folds).

    With fewer than `opts.min_positives_to_select` overturned items the search is skipped
    and the prior weight stays 1 (the guidelines' strengths as stated): on the 111 real
    letters (29 overturned) choosing it inside each fold scored 0.752 AUC / 0.386 AP, weight 1
    0.765 / 0.413 (5-fold x 3), because the selection's own noise is larger than the
    differences it measures."""
    from sklearn.base import clone

    if len(opts.grid) == 1:
        return dict(opts.grid[0]), [{"params": dict(opts.grid[0]), "score": None}]
    if int(y.sum()) < opts.min_positives_to_select:
        return {}, [{"params": {}, "score": None,
                     "note": f"{int(y.sum())} overturned items < {opts.min_positives_to_select}: defaults kept"}]
    splits = grouped_folds(y, groups, opts.n_splits, opts.seed)
    table = []
    for params in opts.grid:
        est = _with_memory(factory(**{**opts.pipeline, **params}))
        p = np.zeros(len(y))
        for tr, te in splits:
            if y[tr].min() == y[tr].max():
                p[te] = y[tr].mean()
            else:
                p[te] = _proba(clone(est).fit(X.iloc[tr], y[tr]), X.iloc[te])
            reporter.advance()
        sc = _score_for_selection(y, p, opts.select_metric)
        table.append({"params": dict(params), "metric": opts.select_metric, "score": None if math.isnan(sc) else sc})
    scored = [t for t in table if t["score"] is not None]
    if not scored:
        return dict(opts.grid[0]), table
    # ties go to the stronger regularisation (earlier in an ascending-C grid)
    best = max(scored, key=lambda t: t["score"])
    return dict(best["params"]), table


def fit_model(
    X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, params: dict, opts: TrainOptions, factory: Callable
):
    """The calibrated model: pipeline refitted on all rows, Platt/isotonic map learned on
    out-of-fold scores (grouped by letter)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import PredefinedSplit

    if y.min() == y.max():
        raise TrainError("a cross-validation training fold holds one class only: too few letters per class "
                         "for the folds (use fewer --folds or more letters)")
    pipe = _with_memory(factory(**{**opts.pipeline, **params}))
    method = calibration_method(opts, y)
    if method == "none":
        pipe.fit(X, y)
        _drop_memory(pipe)
        return pipe
    splits = grouped_folds(y, groups, opts.n_splits, opts.seed)
    for tr, _ in splits:
        if y[tr].min() == y[tr].max():
            raise TrainError("too few overturned letters to calibrate by grouped cross-validation")
    cv = PredefinedSplit(_test_fold_array(splits, len(y)))
    model = CalibratedClassifierCV(pipe, method=method, cv=cv, ensemble=False)
    model.fit(X, y)
    _drop_memory(model)
    return model


def fit_procedure(
    X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, opts: TrainOptions, factory: Callable, reporter: Reporter = NULL_REPORTER
) -> tuple[Any, dict, list[dict]]:
    """Select hyperparameters, then fit the calibrated model. Returns (model, params, table)."""
    with feature_cache(opts.cache and not _MEMORY):
        params, table = select_params(X, y, groups, opts, factory, reporter)
        model = fit_model(X, y, groups, params, opts, factory)
    reporter.advance()
    return model, params, table


def fitted_pipeline(model):
    """The fitted sklearn Pipeline inside a (calibrated, possibly frozen) model."""
    from sklearn.frozen import FrozenEstimator

    if hasattr(model, "calibrated_classifiers_"):
        model = model.calibrated_classifiers_[0].estimator
    return model.estimator if isinstance(model, FrozenEstimator) else model


def logits_from_features(model, Z) -> np.ndarray:
    """The classifier's log-odds (before calibration) from the feature matrix `Z` of
    `fitted_pipeline(model)[:-1]`."""
    return np.asarray(fitted_pipeline(model)[-1].decision_function(Z), dtype=float).ravel()


def calibrate(model, logits) -> np.ndarray:
    """P(overturned) from the classifier's log-odds: the model's calibration map, or the
    logistic function for an uncalibrated model."""
    from scipy.special import expit

    logits = np.asarray(logits, dtype=float)
    if model is fitted_pipeline(model):
        return expit(logits)
    ccs = model.calibrated_classifiers_
    if len(ccs) != 1 or ccs[0].method not in ("sigmoid", "isotonic") or len(ccs[0].calibrators) != 1:
        raise ValueError("only a single binary sigmoid/isotonic calibration map is supported")
    shape = logits.shape
    return np.clip(ccs[0].calibrators[0].predict(logits.ravel()), 0.0, 1.0).reshape(shape)


def proba_from_features(model, Z) -> np.ndarray:
    """P(overturned) from the feature matrix `Z` of `fitted_pipeline(model)[:-1]`.

    Scoring needs the features anyway (for contributions): computing them once and applying
    the final step and the calibration map to them halves the work of `predict_proba(X)`.
    """
    return calibrate(model, logits_from_features(model, Z))


def operating_threshold(y: np.ndarray, p: np.ndarray) -> float | None:
    """The probability above which a request is called "likely overturned": the one that
    maximises F1 on out-of-fold predictions (None when there is no overturned item)."""
    from sklearn.metrics import precision_recall_curve

    if y.sum() == 0 or y.min() == y.max():
        return None
    prec, rec, thr = precision_recall_curve(y, p)
    f1 = 2 * prec[:-1] * rec[:-1] / np.maximum(prec[:-1] + rec[:-1], 1e-12)
    return float(thr[int(np.argmax(f1))])


def feature_names(model) -> list[str]:
    pipe = fitted_pipeline(model)
    try:
        return [str(n) for n in pipe[:-1].get_feature_names_out()]
    except Exception:
        return []


def coefficients(model) -> dict[str, float]:
    """Feature name -> coefficient of the final linear step (empty if not linear)."""
    pipe = fitted_pipeline(model)
    clf = pipe[-1] if hasattr(pipe, "steps") else pipe
    coef = getattr(clf, "coef_", None)
    names = feature_names(model)
    if coef is None or not names:
        return {}
    coef = np.asarray(coef).ravel()
    if coef.shape[0] != len(names):
        return {}
    return {n: float(c) for n, c in zip(names, coef)}


# ----------------------------------------------------------------------------- estimate


def _categories(X: pd.DataFrame) -> list[str]:
    from imr_ml.modeling.baselines import categories

    return categories(X)


def score_all(y: np.ndarray, preds: dict[str, np.ndarray], cats: Sequence[str] | None = None) -> dict:
    """{name: score} and, if cats given, {name: {category: score}}."""
    from imr_ml.modeling.metrics import score, score_by_group

    out = {"overall": {n: score(y, p) for n, p in preds.items()}}
    if cats is not None:
        out["by_category"] = {n: score_by_group(y, p, cats) for n, p in preds.items()}
    return out


def estimate(
    rows: Sequence[dict],
    opts: TrainOptions,
    factory: Callable | None = None,
    reporter: Reporter = NULL_REPORTER,
    extra_models: dict[str, Callable] | None = None,
) -> dict:
    """Score the whole training procedure on data it did not see.

    ``grouped``: outer StratifiedGroupKFold by letter, repeated ``cv_repeats`` times with
    different shuffles; ``temporal``: one hold-out of the latest letters. Baselines are fitted
    on the same training folds. ``extra_models`` maps a name to ``fn(train_rows, test_rows)
    -> p`` given whole canonical rows (for analyses such as the leakage demo only). Returns per-fold scores, their summary (mean ± sd)
    and the pooled out-of-fold predictions of the first repeat.
    """
    from imr_ml.modeling.baselines import fit_baselines, predict_baselines
    from imr_ml.modeling.metrics import reliability_table, score, summarize_folds, with_intervals

    factory = factory or default_factory()
    rows = canonical_rows(rows)
    X, y, g = frame(rows), labels(rows), letter_groups(rows)
    if opts.split == "temporal":
        plans = [[temporal_split(rows, opts.test_fraction)]]
    else:
        plans = [grouped_folds(y, g, opts.n_splits, opts.seed + 1000 * (r + 1)) for r in range(opts.cv_repeats)]
    n_fits = sum(len(p) for p in plans) * (len(opts.grid) * opts.n_splits + 1 if len(opts.grid) > 1 else 1)
    reporter.start("estimating (outer CV)", n_fits)
    folds: list[dict] = []
    pooled: dict[str, np.ndarray] = {}
    chosen = []
    for r, splits in enumerate(plans):
        for f, (tr, te) in enumerate(splits):
            Xtr, ytr, gtr, Xte, yte = X.iloc[tr], y[tr], g[tr], X.iloc[te], y[te]
            preds: dict[str, np.ndarray] = {}
            sub = TrainOptions(**{**asdict(opts), "seed": opts.seed + 17 * (f + 1) + r})
            model, params, _ = fit_procedure(Xtr, ytr, gtr, sub, factory, reporter)
            chosen.append(params)
            preds["model"] = _proba(model, Xte)
            if opts.baselines:
                est, tables = fit_baselines(Xtr, ytr, seed=opts.seed, pipeline_factory=factory)
                preds.update(predict_baselines(est, tables, Xte))
            for name, fn in (extra_models or {}).items():
                preds[name] = np.asarray(fn([rows[i] for i in tr], [rows[i] for i in te]), dtype=float)
            folds.append({"repeat": r, "fold": f, "n_test": int(len(te)), "params": params,
                          "scores": {n: score(yte, p) for n, p in preds.items()}})
            if r == 0:
                for n, p in preds.items():
                    pooled.setdefault(n, np.full(len(y), np.nan))[te] = p
    names = list(folds[0]["scores"]) if folds else []
    summary = {n: summarize_folds([fd["scores"][n] for fd in folds]) for n in names}
    mask = ~np.isnan(pooled["model"]) if pooled else np.zeros(0, bool)
    cats = _categories(X.iloc[np.flatnonzero(mask)]) if mask.any() else []
    pooled_scores = score_all(y[mask], {n: p[mask] for n, p in pooled.items()}, cats) if mask.any() else {}
    if mask.any():  # 95% letter-bootstrap intervals of the pooled scores
        with_intervals(pooled_scores["overall"], y[mask], {n: p[mask] for n, p in pooled.items()}, g[mask])
    return {
        "protocol": (
            f"temporal hold-out: latest {opts.test_fraction:.0%} of letters by decision_date"
            if opts.split == "temporal"
            else f"{len(plans[0])}-fold StratifiedGroupKFold by letter x {opts.cv_repeats} repeat(s), "
            "hyperparameters and calibration chosen inside each training fold"
        ),
        "n_folds": len(folds),
        "summary": summary,
        "pooled": pooled_scores,
        "reliability": reliability_table(y[mask], pooled["model"][mask]) if mask.any() else [],
        "chosen_params": chosen,
        "folds": folds,
        "_pooled_predictions": {n: p for n, p in pooled.items()},
    }


# ----------------------------------------------------------------------------- train


@dataclass
class TrainResult:
    model: Any
    manifest: dict
    card: str
    baselines: dict
    tables: dict
    estimate: dict | None
    cv_predictions: dict | None = None


def train(
    rows: Sequence[dict],
    opts: TrainOptions | None = None,
    factory: Callable | None = None,
    reporter: Reporter = NULL_REPORTER,
    inputs: Sequence[str] = (),
) -> TrainResult:
    """Estimate the procedure (unless ``opts.estimate`` is off), then fit the final model and
    baselines on all rows and build the manifest and model card."""
    import imr_ml
    from imr_ml.modeling.baselines import fit_baselines
    from imr_ml.modeling.modelio import environment
    from imr_ml.modeling.ranges import training_ranges
    from imr_ml.modeling.rowcheck import check_classes, check_labels, check_row_types

    opts = opts or TrainOptions()
    factory = factory or default_factory()
    t0 = time.perf_counter()
    check_row_types(rows)
    rows = canonical_rows(check_labels(rows, opts.labels_from))
    if not rows:
        raise TrainError("no training rows")
    y, g = labels(rows), letter_groups(rows)
    if y.min() == y.max():
        raise TrainError(f"all {len(y)} training items are {'overturned' if y[0] else 'upheld'}: need both")
    if opts.estimate or calibration_method(opts, y) != "none":
        check_classes(y, g, opts.n_splits)
    from imr_ml.modeling.streaming import STREAMING_MIN_ITEMS, fit_streaming

    streaming = opts.streaming if opts.streaming is not None else len(rows) >= STREAMING_MIN_ITEMS
    if streaming:
        model, params, table, est, baselines, tables = fit_streaming(rows, y, g, opts, reporter)
    else:
        X = frame(rows)
        est = estimate(rows, opts, factory, reporter) if opts.estimate else None
        reporter.start("fitting the final model", (len(opts.grid) * opts.n_splits if len(opts.grid) > 1 else 0) + 1)
        model, params, table = fit_procedure(X, y, g, opts, factory, reporter)
        baselines, tables = fit_baselines(X, y, seed=opts.seed, pipeline_factory=factory) if opts.baselines else ({}, {})
    rule_moves = rule_updates(model, X if not streaming else None)
    threshold = choose_threshold(est, y) or {
        "value": fallback_threshold(float(y.mean())),
        "method": "twice the training base rate (no held-out predictions to choose it on)"}
    letters = sorted(set(g.tolist()))
    names = feature_names(model)
    coefs = coefficients(model)
    top = sorted(coefs.items(), key=lambda kv: -abs(kv[1]))[:25]
    manifest = {
        "kind": "imr-ml model",
        "imr_ml_version": imr_ml.__version__,
        "versions": environment(),
        "created_unix": int(time.time()),
        "data": {
            "fingerprint_sha256": fingerprint(rows),
            "inputs": [str(p) for p in inputs],
            "n_letters": len(letters),
            "n_items": int(len(y)),
            "n_overturned": int(y.sum()),
            "base_rate": float(y.mean()),
            # what the letters span, so scoring can warn about requests outside it
            "ranges": training_ranges(rows),
            # truncated hashes of the training letter ids, so `evaluate` can warn about overlap
            "letter_hashes": [letter_hash(lid) for lid in letters] if len(letters) <= 200_000 else None,
            "profile": corpus_profile(rows),
        },
        "features": {"columns": list(PRE_DECISION), "n_features": len(names), "names": names},
        "options": {k: v for k, v in asdict(opts).items()},
        "hyperparameters": params,
        "selection": table,
        "procedure": "streaming" if streaming else "cross-validated",
        "calibration": {
            "method": calibration_method(opts, y),
            "fitted_on": None if calibration_method(opts, y) == "none" else (
                "the decision scores of held-out letters" if streaming
                else "out-of-fold decision scores, folds grouped by letter"),
        },
        "threshold": threshold,
        "rule_updates": rule_moves,
        "top_coefficients": [{"feature": n, "coef": c} for n, c in top],
        "cv": _public_estimate(est),
        "baselines": {"fitted_on": "the same training rows as the model (persisted in baselines/)",
                      "names": sorted([*tables, *baselines])},
        "train_seconds": round(time.perf_counter() - t0, 2),
    }
    card = model_card(manifest)
    return TrainResult(model=model, manifest=manifest, card=card, baselines=baselines, tables=tables, estimate=est,
                       cv_predictions=cv_predictions(est, rows, y))


def corpus_profile(rows: Sequence[dict]) -> dict:
    """What the training letters were, for the report: items per treatment category and per
    letter layout, and the span of UR denial and IMR decision dates."""
    from collections import Counter

    from imr_ml.knowledge.taxonomy import categorize

    def span(field):
        days = sorted(str(r[field])[:10] for r in rows if r.get(field))
        return [days[0], days[-1]] if days else None

    return {"categories": dict(Counter(categorize(r.get("item") or "") for r in rows).most_common()),
            "layouts": dict(Counter(r.get("layout") or "not recorded" for r in rows).most_common()),
            "ur_denial_dates": span("ur_denial_date"), "decision_dates": span("decision_date")}


def cv_predictions(est: dict | None, rows: Sequence[dict], y: np.ndarray) -> dict | None:
    """The model's out-of-fold predictions of the estimate, one per held-out item: label, P,
    treatment category and letter hash; what `report` shows when no corpus is given."""
    from imr_ml.knowledge.taxonomy import categorize

    pooled = (est or {}).get("_pooled_predictions", {}).get("model")
    if pooled is None:
        return None
    idx = np.flatnonzero(~np.isnan(pooled))
    return {"y": [int(y[i]) for i in idx], "p": [round(float(pooled[i]), 5) for i in idx],
            "category": [categorize(rows[i].get("item") or "") for i in idx],
            "letter": [letter_hash(rows[i]["letter_id"]) for i in idx]}


def rule_updates(model, X: pd.DataFrame | None) -> list[dict]:
    """Per guideline rule: its prior strength, the fitted coefficient and (given the training
    frame) how many training items it applied to."""
    from imr_ml.knowledge.guidelines import load_guidelines

    coefs = coefficients(model)
    fired: dict[str, int] = {}
    if X is not None and any(n.startswith("rule__") for n in coefs):
        Z = fitted_pipeline(model)[:-1].transform(X)
        counts = np.asarray((Z != 0).sum(axis=0)).ravel()
        fired = {n: int(c) for n, c in zip(feature_names(model), counts)}
    return [{"rule": r.name, "label": r.label, "prior": r.strength, "fitted": coefs[f"rule__{r.name}"],
             "n_items": fired.get(f"rule__{r.name}"), "citation": r.citation}
            for r in load_guidelines().rules if f"rule__{r.name}" in coefs]


ESTIMATE_SAMPLE = 200  # rows whose features are timed to forecast a training run


def forecast_seconds(rows: Sequence[dict], opts: TrainOptions) -> float:
    """A training run's duration, forecast from the time to compute the features of a
    sample of rows (the bulk of the work): once per outer fold and repeat and once for the
    final fit (the feature cache serves the prior-weight search and calibration)."""
    from imr_ml.featurize import build_features
    from imr_ml.signals.extract import clear_caches

    sample = list(rows[:: max(1, len(rows) // ESTIMATE_SAMPLE)])[:ESTIMATE_SAMPLE]
    clear_caches()
    t0 = time.perf_counter()
    build_features(**opts.pipeline).fit_transform(frame(sample))
    per_row = (time.perf_counter() - t0) / max(len(sample), 1)
    clear_caches()
    fits = (opts.n_splits * opts.cv_repeats if opts.estimate else 0) + 1
    return per_row * len(rows) * fits


def fallback_threshold(base_rate: float) -> float:
    """The operating threshold without held-out predictions: twice the base rate (at most 0.5)."""
    return min(2 * base_rate, 0.5)


def choose_threshold(est: dict | None, y: np.ndarray) -> dict | None:
    """The operating threshold from the estimate's held-out predictions (see
    `operating_threshold`), with how it was chosen; None without held-out predictions."""
    pooled = (est or {}).get("_pooled_predictions", {}).get("model")
    if pooled is None:
        return None
    mask = ~np.isnan(pooled)
    value = operating_threshold(y[mask], pooled[mask])
    if value is None:
        return None
    return {"value": value, "method": f"maximises F1 on {int(mask.sum())} held-out predictions ({est['protocol']})"}


def _public_estimate(est: dict | None) -> dict | None:
    if est is None:
        return None
    return {k: v for k, v in est.items() if not k.startswith("_")}


def save(result: TrainResult, out: str | Path) -> Path:
    from imr_ml.modeling.modelio import CV_PREDICTIONS_FILE, read_manifest, write_model_dir

    extra = {CV_PREDICTIONS_FILE: result.cv_predictions} if result.cv_predictions else None
    path = write_model_dir(
        out, model=result.model, manifest=result.manifest, baselines=result.baselines,
        tables=result.tables, card=result.card, json_files=extra,
    )
    result.manifest = read_manifest(path)  # now with file hashes and model_sha256
    return path


# ----------------------------------------------------------------------------- evaluate


def evaluate(model_dir: str | Path, rows: Sequence[dict]) -> dict:
    """Score a saved model and its saved baselines on labelled rows."""
    from imr_ml.modeling.baselines import predict_baselines
    from imr_ml.modeling.metrics import versus_baselines, with_intervals
    from imr_ml.modeling.modelio import load_model_dir

    loaded = load_model_dir(model_dir, with_baselines=True)
    rows = canonical_rows(rows)
    if not rows:
        raise TrainError("no rows to evaluate")
    X, y = frame(rows), labels(rows)
    preds = {"model": _proba(loaded.model, X)}
    preds.update(predict_baselines(loaded.baselines, loaded.tables, X))
    scores = score_all(y, preds, _categories(X))
    groups = letter_groups(rows)
    with_intervals(scores["overall"], y, preds, groups)
    seen = set((loaded.manifest.get("data") or {}).get("letter_hashes") or [])
    letters = sorted(set(letter_groups(rows).tolist()))
    overlap = sum(letter_hash(lid) in seen for lid in letters)
    report = {
        "model_dir": str(model_dir),
        "model_sha256": loaded.manifest.get("model_sha256"),
        "data_fingerprint_sha256": fingerprint(rows),
        "n_letters": len(letters),
        "letters_seen_in_training": overlap,
        **scores["overall"]["model"],
        "by_category": scores["by_category"]["model"],
        "baselines": {n: s for n, s in scores["overall"].items() if n != "model"},
        "baselines_by_category": {n: s for n, s in scores["by_category"].items() if n != "model"},
        "vs_baselines": versus_baselines(y, preds, groups),
    }
    return report


# ----------------------------------------------------------------------------- card


def _f(x, d=3) -> str:
    return "—" if x is None else f"{x:.{d}f}"


def pooled_table(cv: dict, where: str) -> list[str]:
    """Card lines: one value per metric over all held-out items, with its letter-bootstrap interval."""
    from imr_ml.modeling.metrics import METRICS, fmt_ci

    overall = (cv.get("pooled") or {}).get("overall") or {}
    if not overall:
        return []
    lines = ["", f"On {where}, one value over all items, with its 95% interval from resampling whole "
             "letters (1,000 resamples):", "", "| model | " + " | ".join(METRICS) + " |", "|---|" + "---|" * len(METRICS)]
    return lines + [f"| {name} | " + " | ".join(fmt_ci(s, k) for k in METRICS) + " |" for name, s in overall.items()]


def model_card(m: dict) -> str:
    from imr_ml.modeling.metrics import METRICS, fmt

    d = m["data"]
    cv = m.get("cv")
    lines = [
        "# IMR outcome model — model card",
        "",
        f"Model file `model.skops`, sha256 `{{model_sha256}}`; imr-ml {m['imr_ml_version']}, "
        f"scikit-learn {m['versions']['scikit-learn']}. Training data fingerprint `{d['fingerprint_sha256'][:16]}…`.",
        "",
        "## Intended use",
        "",
        "Estimates the probability that a California workers' compensation Independent Medical Review "
        "will **overturn** (label 1) a utilization-review denial of one disputed treatment item, from facts "
        "known before the IMR decision. It is a triage and research aid: it does not give medical or legal "
        "advice, does not replace reading the MTUS/ODG guideline, and must not be used to deny care.",
        "",
        "## Data",
        "",
        f"- {d['n_letters']} letters, {d['n_items']} disputed items, {d['n_overturned']} overturned "
        f"(base rate {d['base_rate']:.1%}).",
        f"- Inputs: {', '.join(d['inputs']) or '(in memory)'}",
        "",
        "## Model",
        "",
        f"- Features from PRE_DECISION columns only ({m['features']['n_features']} features): "
        + ", ".join(f"`{c}`" for c in m["features"]["columns"]) + ".",
    ]
    streaming = m.get("procedure") == "streaming"
    if streaming:
        lines.append(
            f"- Large-corpus (streaming) procedure, `imr_ml.modeling.streaming`: hashed TF-IDF (columns named after "
            f"their most frequent term), features computed once in parallel; logistic regression with "
            f"{m['hyperparameters']} shrunk toward the guideline priors, fitted once on the training letters; calibration "
            f"({m['calibration']['method']}, `CalibratedClassifierCV(FrozenEstimator(...))`) on held-out letters; "
            "measured on other held-out letters."
        )
    else:
        lines.append(
            f"- Logistic regression whose coefficients are shrunk toward the guideline knowledge "
            "(`features/guidelines.toml`: each rule's cited strength, the published category rates) instead of "
            f"toward zero; hyperparameters {m['hyperparameters']} chosen by "
            f"{m['options']['n_splits']}-fold cross-validation grouped by letter (stratified, so every fold holds "
            f"overturned items) on {m['options']['select_metric']}. The rare class is not reweighted: reweighting "
            "adds variance on a few hundred items and distorts the probabilities that calibration must then undo "
            "(pass class_weight='balanced' in the pipeline options to compare)."
        )
    if m["calibration"]["method"] != "none" and not streaming:
        lines.append(
            f"- Calibration: {m['calibration']['method']} map fitted on {m['calibration']['fitted_on']}; the "
            "classifier is then refitted on all rows (scikit-learn `CalibratedClassifierCV(ensemble=False)`). "
            "With a few hundred items a held-out calibration set would starve both fits; out-of-fold "
            "scores use every item once for calibration without letting it calibrate its own prediction. "
            "Sigmoid (2 parameters) rather than isotonic because there are few overturned items."
        )
    lines += ["", "## Measured performance", ""]
    if cv:
        lines += [
            f"Protocol: {cv['protocol']}." if streaming else
            f"Protocol: {cv['protocol']} ({cv['n_folds']} test folds). Mean ± sd across folds; the whole "
            "procedure (selection + calibration) is refitted inside every training fold, so these are "
            "estimates for new letters like the training ones.",
            "",
            "| model | " + " | ".join(METRICS) + " |",
            "|---|" + "---|" * len(METRICS),
        ]
        for name, s in cv["summary"].items():
            lines.append(f"| {name} | " + " | ".join(fmt(s, k) for k in METRICS) + " |")
        where = "the measurement letters" if streaming else "the pooled out-of-fold predictions (first repeat)"
        lines += pooled_table(cv, where)
        lines += ["", f"Reliability on {where}:", "",
                  "| predicted bin | n | mean predicted | observed overturn rate |", "|---|---|---|---|"]
        for b in cv["reliability"]:
            lines.append(f"| {b['bin']} | {b['n']} | {b['mean_predicted']:.3f} | {b['observed_rate']:.3f} |")
        bycat = (cv.get("pooled") or {}).get("by_category", {}).get("model", {})
        if bycat:
            lines += ["", f"Per treatment category ({where}):", "",
                      "| category | n | overturned | ROC AUC | AP | Brier |", "|---|---|---|---|---|---|"]
            for c, s in bycat.items():
                lines.append(f"| {c} | {s['n_items']} | {s['n_overturned']} | {_f(s['roc_auc'])} | "
                             f"{_f(s['average_precision'])} | {_f(s['brier'])} |")
    else:
        lines.append("Not estimated (trained with the estimate step off). Run `imr-ml evaluate` on held-out letters.")
    lines += [
        "",
        "Baselines, fitted on the same training rows and saved in `baselines/` (skops + JSON), so "
        "`imr-ml evaluate` compares them on any new data: `base_rate`; `category_prior` (training "
        "category rates smoothed toward the taxonomy's priors); `tfidf_lr` (TF-IDF of the summary + "
        "default LogisticRegression); `knowledge_only` (the built-in guideline model: nothing learnt from "
        "these rows); `data_only` (TF-IDF + signals + fields, logistic regression shrunk toward zero, "
        "uncalibrated: the data without the knowledge)."
        + (" Streaming procedure: `tfidf_lr` and `data_only` were fitted on a letter sample of the "
           "training rows (`imr_ml.modeling.streaming.BASELINE_ITEMS` items)." if streaming else ""),
        "",
    ]
    if m.get("rule_updates"):
        lines += ["## Guideline rules: the prior, what the letters made of it", "",
                  "Each rule's strength (log-odds of an overturn) as `features/guidelines.toml` states it, the "
                  "coefficient after training, and how many training items the rule applied to (few items: "
                  "the prior stands).", "",
                  "| rule | prior | fitted | items | citation |", "|---|---|---|---|---|"]
        lines += [f"| {u['label']} | {u['prior']:+.2f} | {u['fitted']:+.2f} | {u['n_items']} | {u['citation']} |"
                  for u in m["rule_updates"]]
        lines.append("")
    if m.get("top_coefficients"):
        lines += ["## Largest coefficients (final pipeline, before calibration)", "",
                  "| feature | coefficient |", "|---|---|"]
        lines += [f"| `{t['feature']}` | {t['coef']:+.3f} |" for t in m["top_coefficients"][:15]]
        lines.append("")
    lines += [
        "## Leakage statement",
        "",
        "Only PRE_DECISION fields (`imr_ml.schema.PRE_DECISION`) are passed to the pipeline. The "
        "reviewer's rationale, cited guideline, specialty, decision and decision date are never features; "
        "`decision_date` is read only to order letters for `--split temporal`. Folds never separate the "
        "items of one letter. The summary restates the UR denial, which is known before the IMR.",
        "",
        "## Limitations",
        "",
        "- Small training data: the spread across folds is large; treat single-fold numbers as noise.",
        "- Letters come from one public source and period; other years, reviewers or layouts may differ.",
        "- Text extracted from PDFs may be imperfect; the category taxonomy is a regular-expression list.",
        "- Calibration holds on average for data like the training data, not for every subgroup.",
        "- A model file is tied to the scikit-learn version that saved it; loading refuses any other.",
        "",
    ]
    return "\n".join(lines)
