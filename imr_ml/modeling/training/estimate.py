"""How well the whole training procedure does on letters it did not see (step 5 of the
procedure `imr_ml.modeling.training.train` lists).

The procedure (prior-weight search + calibrated fit, `imr_ml.modeling.training.fitting`) is refitted
inside every training fold of an outer grouped CV (or on all but the latest letters, for
the temporal split) and scored on the held-out letters, beside the baselines fitted on the
same folds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from imr_ml.featurize import to_frame
from imr_ml.knowledge.taxonomy import categorize
from imr_ml.modeling.estimator.pipeline import build_pipeline
from imr_ml.modeling.evaluation.bootstrap import with_intervals
from imr_ml.modeling.evaluation.metrics import metrics_of, reliability_table, score_all, summarize_folds
from imr_ml.modeling.evaluation.operating_point import operating_point, operating_threshold
from imr_ml.modeling.training.baselines import categories, fit_baselines, predict_baselines
from imr_ml.modeling.training.data import canonical_rows, labels, letter_groups, letter_hash
from imr_ml.modeling.training.fitting import TrainOptions, fit_procedure, proba
from imr_ml.modeling.training.progress import NULL_REPORTER, Reporter
from imr_ml.modeling.training.splits import grouped_folds, temporal_split

ExtraModel = Callable[[list[dict], list[dict]], Any]


def _plans(rows: list[dict], y: np.ndarray, g: np.ndarray, opts: TrainOptions) -> list[list]:
    """The outer splits: one list of (train, test) per repeat."""
    if opts.split == "temporal":
        return [[temporal_split(rows, opts.test_fraction)]]
    return [grouped_folds(y, g, opts.n_splits, opts.seed + 1000 * (r + 1)) for r in range(opts.cv_repeats)]


def _fold_predictions(rows: list[dict], X: pd.DataFrame, y: np.ndarray, g: np.ndarray, tr: np.ndarray,
                      te: np.ndarray, sub: TrainOptions, opts: TrainOptions, factory: Callable, reporter: Reporter,
                      extra_models: dict[str, ExtraModel]) -> tuple[dict, dict[str, np.ndarray]]:
    """(chosen parameters, predictions by name) of one outer fold."""
    model, params, _ = fit_procedure(X.iloc[tr], y[tr], g[tr], sub, factory, reporter)
    preds = {"model": proba(model, X.iloc[te])}
    if opts.baselines:
        est, tables = fit_baselines(X.iloc[tr], y[tr], seed=opts.seed, pipeline_factory=factory)
        preds.update(predict_baselines(est, tables, X.iloc[te]))
    for name, fn in extra_models.items():
        preds[name] = np.asarray(fn([rows[i] for i in tr], [rows[i] for i in te]), dtype=float)
    return params, preds


def _pooled(X: pd.DataFrame, y: np.ndarray, g: np.ndarray, pooled: dict[str, np.ndarray]) -> tuple[dict, list]:
    """(scores with letter-bootstrap intervals, reliability table) of the pooled held-out predictions."""
    mask = ~np.isnan(pooled["model"]) if pooled else np.zeros(0, bool)
    if not mask.any():
        return {}, []
    preds = {n: p[mask] for n, p in pooled.items()}
    scores = score_all(y[mask], preds, categories(X.iloc[np.flatnonzero(mask)]))
    with_intervals(scores["overall"], y[mask], preds, g[mask])  # 95% letter-bootstrap intervals
    return scores, reliability_table(y[mask], pooled["model"][mask])


def _protocol(opts: TrainOptions, n_folds: int) -> str:
    """The estimate's protocol, in words."""
    if opts.split == "temporal":
        return f"temporal hold-out: latest {opts.test_fraction:.0%} of letters by decision_date"
    return (f"{n_folds}-fold StratifiedGroupKFold by letter x {opts.cv_repeats} repeat(s), "
            "hyperparameters and calibration chosen inside each training fold")


def estimate(rows: Sequence[dict], opts: TrainOptions, factory: Callable | None = None,
             reporter: Reporter = NULL_REPORTER, extra_models: dict[str, ExtraModel] | None = None) -> dict:
    """Score the whole training procedure on data it did not see.

    ``grouped``: outer StratifiedGroupKFold by letter, repeated ``cv_repeats`` times with
    different shuffles; ``temporal``: one hold-out of the latest letters. Baselines are
    fitted on the same training folds.

    Parameters
    ----------
    rows : sequence of dict
        Labelled corpus rows.
    opts : TrainOptions
        The training options.
    factory : callable or None
        Builds a pipeline (None: `build_pipeline`).
    reporter : Reporter
        Hears every fit.
    extra_models : dict or None
        Name -> ``fn(train_rows, test_rows) -> p`` given whole canonical rows (for analyses
        such as the leakage demo only).

    Returns
    -------
    dict
        Per-fold scores, their summary (mean ± sd), the pooled out-of-fold predictions of the
        first repeat (``_pooled_predictions``) and their scores.
    """
    factory = factory or build_pipeline
    rows = canonical_rows(rows)
    X, y, g = to_frame(rows), labels(rows), letter_groups(rows)
    plans = _plans(rows, y, g, opts)
    n_fits = sum(len(p) for p in plans) * (len(opts.grid) * opts.n_splits + 1 if len(opts.grid) > 1 else 1)
    reporter.start("estimating (outer CV)", n_fits)
    folds: list[dict] = []
    pooled: dict[str, np.ndarray] = {}
    chosen = []
    for r, splits in enumerate(plans):
        for f, (tr, te) in enumerate(splits):
            sub = TrainOptions(**{**asdict(opts), "seed": opts.seed + 17 * (f + 1) + r})
            params, preds = _fold_predictions(rows, X, y, g, tr, te, sub, opts, factory, reporter, extra_models or {})
            chosen.append(params)
            folds.append({"repeat": r, "fold": f, "n_test": int(len(te)), "params": params,
                          "scores": {n: metrics_of(y[te], p) for n, p in preds.items()}})
            if r == 0:
                for n, p in preds.items():
                    pooled.setdefault(n, np.full(len(y), np.nan))[te] = p
    names = list(folds[0]["scores"]) if folds else []
    pooled_scores, reliability = _pooled(X, y, g, pooled)
    return {
        "protocol": _protocol(opts, len(plans[0])),
        "n_folds": len(folds),
        "summary": {n: summarize_folds([fd["scores"][n] for fd in folds]) for n in names},
        "pooled": pooled_scores,
        "reliability": reliability,
        "chosen_params": chosen,
        "folds": folds,
        "_pooled_predictions": dict(pooled),
    }


# The baselines whose out-of-fold predictions are kept beside the model's, so that a report
# compares them on the same letters (paired): the category rates and the built-in knowledge.
PAIRED_BASELINES = ("category_prior", "knowledge_only")


def cv_predictions(est: dict | None, rows: Sequence[dict], y: np.ndarray) -> dict | None:
    """The model's out-of-fold predictions of the estimate, one per held-out item: what
    `report` shows when no corpus is given.

    Parameters
    ----------
    est : dict or None
        What `estimate` returned.
    rows : sequence of dict
        The canonical rows it was run on.
    y : numpy.ndarray
        Their labels.

    Returns
    -------
    dict or None
        Lists ``y``, ``p``, ``category`` and ``letter`` (hash), and ``baselines``: the
        `PAIRED_BASELINES`' predictions of the same items, fitted on the same training folds;
        None without an estimate.
    """
    pooled = (est or {}).get("_pooled_predictions", {})
    model = pooled.get("model")
    if model is None:
        return None
    idx = np.flatnonzero(~np.isnan(model)).tolist()
    return {"y": [int(y[i]) for i in idx], "p": as_saved(model[idx]).tolist(),
            "category": [categorize(rows[i].get("item") or "") for i in idx],
            "letter": [letter_hash(rows[i]["letter_id"]) for i in idx],
            "baselines": {n: as_saved(pooled[n][idx]).tolist() for n in PAIRED_BASELINES if n in pooled}}


def as_saved(p: np.ndarray) -> np.ndarray:
    """Out-of-fold predictions as `cv_predictions.json` keeps them (5 decimals), so that a
    threshold chosen on them flags the same items in the manifest and in the report.

    Parameters
    ----------
    p : numpy.ndarray
        Predictions (NaN where an item has none).

    Returns
    -------
    numpy.ndarray
        Each rounded as Python's `round(x, 5)` rounds it.
    """
    return np.array([v if v != v else round(float(v), 5) for v in p], dtype=float)


def choose_threshold(est: dict | None, y: np.ndarray, groups: np.ndarray | None = None) -> dict | None:
    """The operating threshold from the estimate's held-out predictions, and what flagging
    at it meant on them (`imr_ml.modeling.evaluation.operating_point`).

    Parameters
    ----------
    est : dict or None
        What `estimate` returned.
    y : numpy.ndarray
        The labels of the rows it was run on.
    groups : numpy.ndarray or None
        Their letters (the operating point's intervals resample them).

    Returns
    -------
    dict or None
        ``value`` (see `operating_threshold`), ``method`` and ``operating_point`` (measured on
        the same predictions the threshold was chosen on, so slightly optimistic); None
        without held-out predictions.
    """
    pooled = (est or {}).get("_pooled_predictions", {}).get("model")
    if pooled is None or est is None:
        return None
    mask = ~np.isnan(pooled)
    saved = as_saved(pooled[mask])
    value = operating_threshold(y[mask], saved)
    if value is None:
        return None
    # measured as `cv_predictions.json` will reproduce it: the saved predictions, letters by their hash
    letters = None if groups is None else [letter_hash(str(g)) for g in groups[mask]]
    measured = operating_point(y[mask], saved, value, letters)
    return {"value": value, "method": f"maximises F1 on {int(mask.sum())} held-out predictions ({est['protocol']})",
            "operating_point": measured | {"measured_on": f"the {int(mask.sum())} out-of-fold predictions the "
                                                          "threshold was chosen on (slightly optimistic)"}}


def public_estimate(est: dict | None) -> dict | None:
    """The estimate as the manifest records it (without its ``_``-prefixed working parts).

    Parameters
    ----------
    est : dict or None
        What `estimate` returned.

    Returns
    -------
    dict or None
        The same without the private keys.
    """
    if est is None:
        return None
    return {k: v for k, v in est.items() if not k.startswith("_")}
