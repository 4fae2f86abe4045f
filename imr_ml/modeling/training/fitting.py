"""Fitting one model: the options, the prior-weight search, the calibrated fit (steps 3 and 4
of the procedure `imr_ml.modeling.training.train` lists).

The weight of the guideline prior (a small grid over ``prior_weight``) is chosen by
cross-validation grouped by letter: the items of one letter are never split across train and
test. The chosen pipeline (logistic regression shrunk toward the guideline priors) is then
calibrated with Platt scaling fitted on its *out-of-fold* decision scores, folds grouped by
letter, and refitted on all rows (``CalibratedClassifierCV(ensemble=False)``): every training
item is used both for the classifier and, out of fold, for the calibration map.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Memory
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from sklearn.model_selection import PredefinedSplit

from imr_ml.modeling.estimator.model import fitted_pipeline
from imr_ml.modeling.training.data import TrainError
from imr_ml.modeling.training.progress import NULL_REPORTER, Reporter
from imr_ml.modeling.training.splits import grouped_folds, predefined_folds

# How much the guideline priors weigh against the letters (a multiplier of every prior
# precision): above 1 the knowledge holds firmer, below 1 the data move it more.
DEFAULT_GRID: tuple[dict, ...] = tuple({"prior_weight": w} for w in (0.1, 0.25, 0.5, 1.0, 2.0, 4.0))

# Below this many overturned items `calibration="auto"` keeps the model's own probabilities:
# they start from the published category rates, and a calibration map fitted on a few dozen
# overturned items adds more noise than it removes (experiments/cv_real.md: Brier 0.085
# uncalibrated against 0.089 with a sigmoid map on the 111 real letters).
CALIBRATE_MIN_POSITIVES = 100


@dataclass
class TrainOptions:
    """How `train` fits and measures a model.

    Parameters
    ----------
    split : str
        How the reported metrics are estimated: ``grouped`` (outer CV by letter) or
        ``temporal`` (hold out the latest letters).
    seed : int
        Seed of every split and fit.
    n_splits : int
        Folds for selection, calibration and the outer estimate.
    grid : tuple of dict
        `build_pipeline` keyword arguments tried.
    min_positives_to_select : int
        With fewer overturned items, keep `build_pipeline`'s defaults.
    select_metric : str
        ``log_loss``, ``average_precision`` or ``roc_auc``.
    calibration : str
        ``auto``, ``sigmoid``, ``isotonic`` or ``none`` (auto: see `calibration_method`).
    pipeline : dict
        Fixed `build_pipeline` keyword arguments.
    test_fraction : float
        Temporal split: share of letters (latest) held out.
    cv_repeats : int
        Outer CV repeats (different shuffles) for the spread.
    estimate : bool
        Run the outer CV at all (off for quick fits and benchmarks).
    baselines : bool
        Fit the baselines.
    cache : bool
        Reuse fitted feature steps across grid points and calibration folds.
    streaming : bool or None
        The large-corpus procedure (`imr_ml.modeling.training.streaming`); None: from the corpus size.
    n_jobs : int
        Processes computing features in the streaming procedure (0: every core).
    labels_from : str
        ``label`` (must agree with the decision) or ``decision`` (labels derived from it).
    """

    split: str = "grouped"
    seed: int = 0
    n_splits: int = 5
    grid: tuple[dict, ...] = DEFAULT_GRID
    min_positives_to_select: int = 100
    select_metric: str = "log_loss"
    calibration: str = "auto"
    pipeline: dict = field(default_factory=dict)
    test_fraction: float = 0.2
    cv_repeats: int = 1
    estimate: bool = True
    baselines: bool = True
    cache: bool = True
    streaming: bool | None = None
    n_jobs: int = 0
    labels_from: str = "label"

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


def calibration_method(opts: TrainOptions, y: np.ndarray) -> str:
    """The calibration map to fit on these labels.

    Parameters
    ----------
    opts : TrainOptions
        Its ``calibration`` is used, ``auto`` resolved.
    y : numpy.ndarray
        The training labels.

    Returns
    -------
    str
        ``sigmoid``, ``isotonic`` or ``none``.
    """
    if opts.calibration != "auto":
        return opts.calibration
    return "sigmoid" if int(np.sum(y)) >= CALIBRATE_MIN_POSITIVES else "none"


class FeatureCache:
    """Within this context, pipelines given to `attach` cache their feature step
    (``Pipeline(memory=...)``) in a temporary folder, so the features of one training fold
    are computed once for every grid point and for calibration. The cache is never saved
    with a model: `detach` resets ``memory`` to None.

    Parameters
    ----------
    enabled : bool
        Off: `attach` and `detach` change nothing.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.memory: Memory | None = None
        self.dir: str | None = None

    def __enter__(self) -> FeatureCache:
        if self.enabled:
            self.dir = tempfile.mkdtemp(prefix="imr-ml-cache-")
            self.memory = Memory(self.dir, verbose=0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.memory = self.dir = None

    def attach(self, est: Any) -> Any:
        """Let a pipeline cache its feature step here.

        Parameters
        ----------
        est : estimator
            A pipeline (anything else is returned unchanged).

        Returns
        -------
        estimator
            `est` itself.
        """
        if self.memory is not None and hasattr(est, "steps") and "memory" in est.get_params(deep=False):
            est.set_params(memory=self.memory)
        return est

    @staticmethod
    def detach(model: Any) -> None:
        """Unhook every pipeline inside a fitted model from any cache.

        Parameters
        ----------
        model : estimator
            A fitted (calibrated) model.
        """
        for est in (getattr(model, "estimator", None), fitted_pipeline(model), model):
            if est is not None and hasattr(est, "steps") and "memory" in est.get_params(deep=False):
                est.set_params(memory=None)


NO_CACHE = FeatureCache(enabled=False)


def proba(est: Any, X: pd.DataFrame) -> np.ndarray:
    """P(overturned) of rows from any fitted classifier.

    Parameters
    ----------
    est : estimator
        A fitted classifier with ``predict_proba``.
    X : pandas.DataFrame
        PRE_DECISION rows.

    Returns
    -------
    numpy.ndarray
        One probability per row.
    """
    return np.asarray(est.predict_proba(X))[:, 1]


def selection_score(y: np.ndarray, p: np.ndarray, metric: str) -> float:
    """How well held-out predictions score on the selection metric (higher is better).

    Parameters
    ----------
    y : numpy.ndarray
        0/1 labels.
    p : numpy.ndarray
        Predicted P(overturned).
    metric : str
        ``log_loss`` (negated), ``roc_auc`` or ``average_precision``.

    Returns
    -------
    float
        The score; NaN when the metric is undefined (one class only).
    """
    if metric == "log_loss":
        return -float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]))
    if y.min() == y.max():
        return float("nan")
    if metric == "roc_auc":
        return float(roc_auc_score(y, p))
    return float(average_precision_score(y, p))


def grid_entry(params: dict, y: np.ndarray, p: np.ndarray, metric: str) -> dict:
    """One line of the selection table: a grid point and its held-out score.

    Parameters
    ----------
    params : dict
        The grid point.
    y : numpy.ndarray
        0/1 labels of the held-out rows.
    p : numpy.ndarray
        The grid point's predictions for them.
    metric : str
        The selection metric.

    Returns
    -------
    dict
        ``params``, ``metric`` and ``score`` (None when undefined).
    """
    sc = selection_score(y, p, metric)
    return {"params": dict(params), "metric": metric, "score": None if math.isnan(sc) else sc}


def best_params(table: Sequence[dict], grid: Sequence[dict]) -> dict:
    """The grid point with the best score in a selection table.

    Parameters
    ----------
    table : sequence of dict
        `grid_entry` lines.
    grid : sequence of dict
        The grid searched: its first point is kept when nothing could be scored.

    Returns
    -------
    dict
        The chosen point; ties go to the earlier one (stronger regularisation first).
    """
    scored = [t for t in table if t["score"] is not None]
    if not scored:
        return dict(grid[0])
    return dict(max(scored, key=lambda t: t["score"])["params"])


def select_params(X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, opts: TrainOptions, factory: Callable,
                  reporter: Reporter = NULL_REPORTER, cache: FeatureCache = NO_CACHE) -> tuple[dict, list[dict]]:
    """The grid point with the best pooled out-of-fold score (grouped folds).

    With fewer than `opts.min_positives_to_select` overturned items the search is skipped
    and the prior weight stays 1 (the guidelines' strengths as stated): on the 111 real
    letters (29 overturned) choosing it inside each fold scored 0.752 AUC / 0.386 AP,
    weight 1 0.765 / 0.413 (5-fold x 3), because the selection's own noise is larger than
    the differences it measures.

    Parameters
    ----------
    X : pandas.DataFrame
        PRE_DECISION rows.
    y : numpy.ndarray
        0/1 labels.
    groups : numpy.ndarray
        The letter of every row.
    opts : TrainOptions
        Grid, folds, seed and metric.
    factory : callable
        Builds a pipeline from keyword arguments.
    reporter : Reporter
        Advanced once per fold and grid point.
    cache : FeatureCache
        Where the folds' feature steps are cached.

    Returns
    -------
    (dict, list of dict)
        The chosen parameters and the selection table.
    """
    if len(opts.grid) == 1:
        return dict(opts.grid[0]), [{"params": dict(opts.grid[0]), "score": None}]
    if int(y.sum()) < opts.min_positives_to_select:
        return {}, [{"params": {}, "score": None,
                     "note": f"{int(y.sum())} overturned items < {opts.min_positives_to_select}: defaults kept"}]
    splits = grouped_folds(y, groups, opts.n_splits, opts.seed)
    table = []
    for params in opts.grid:
        est = cache.attach(factory(**{**opts.pipeline, **params}))
        p = np.zeros(len(y))
        for tr, te in splits:
            if y[tr].min() == y[tr].max():
                p[te] = y[tr].mean()
            else:
                p[te] = proba(clone(est).fit(X.iloc[tr], y[tr]), X.iloc[te])
            reporter.advance()
        table.append(grid_entry(params, y, p, opts.select_metric))
    return best_params(table, opts.grid), table


def fit_model(X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, params: dict, opts: TrainOptions,
              factory: Callable, cache: FeatureCache = NO_CACHE) -> Any:
    """The calibrated model: pipeline refitted on all rows, Platt/isotonic map learned on
    out-of-fold scores (grouped by letter).

    Parameters
    ----------
    X, y, groups, factory, cache
        As in `select_params`.
    params : dict
        The chosen grid point.
    opts : TrainOptions
        Pipeline options, calibration, folds and seed.

    Returns
    -------
    estimator
        The pipeline, or a `CalibratedClassifierCV` around it.
    """
    if y.min() == y.max():
        raise TrainError("a cross-validation training fold holds one class only: too few letters per class "
                         "for the folds (use fewer --folds or more letters)")
    pipe = cache.attach(factory(**{**opts.pipeline, **params}))
    method = calibration_method(opts, y)
    if method == "none":
        pipe.fit(X, y)
        FeatureCache.detach(pipe)
        return pipe
    splits = grouped_folds(y, groups, opts.n_splits, opts.seed)
    for tr, _ in splits:
        if y[tr].min() == y[tr].max():
            raise TrainError("too few overturned letters to calibrate by grouped cross-validation")
    cv = PredefinedSplit(predefined_folds(splits, len(y)))
    model = CalibratedClassifierCV(pipe, method=method, cv=cv, ensemble=False)
    model.fit(X, y)
    FeatureCache.detach(model)
    return model


def fit_procedure(X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, opts: TrainOptions, factory: Callable,
                  reporter: Reporter = NULL_REPORTER) -> tuple[Any, dict, list[dict]]:
    """Select hyperparameters, then fit the calibrated model.

    Parameters
    ----------
    X, y, groups, opts, factory
        As in `select_params` and `fit_model`, which it runs in turn.
    reporter : Reporter
        Hears every fit.

    Returns
    -------
    (estimator, dict, list of dict)
        The model, the chosen parameters and the selection table.
    """
    with FeatureCache(opts.cache) as cache:
        params, table = select_params(X, y, groups, opts, factory, reporter, cache)
        model = fit_model(X, y, groups, params, opts, factory, cache)
    reporter.advance()
    return model, params, table
