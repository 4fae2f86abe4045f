"""Training and evaluation as plain functions (the CLI commands are thin wrappers).

The procedure, in order:

1. Rows are put in canonical order and fingerprinted (`imr_ml.modeling.training.data`).
2. Only PRE_DECISION columns reach the model (`imr_ml.featurize.to_frame`). ``decision_date``
   is read only to make the temporal split (`imr_ml.modeling.training.splits`).
3. The weight of the guideline prior is chosen by cross-validation grouped by letter, and
4. the chosen pipeline is calibrated on out-of-fold scores and refitted on all rows
   (`imr_ml.modeling.training.fitting`); from `STREAMING_MIN_ITEMS` items the large-corpus
   procedure does both on held-out letters instead (`imr_ml.modeling.training.streaming`).
5. The whole procedure (3 + 4) is scored by an outer grouped CV (or by a temporal
   hold-out of the latest letters), against the baselines fitted on the same folds
   (`imr_ml.modeling.training.estimate`).

`train` returns the model with its manifest and card (`imr_ml.modeling.training.card`); `save` writes
the model directory (`imr_ml.modeling.modelfiles.modelio`); `evaluate` scores a saved model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imr_ml.featurize import build_features, to_frame
from imr_ml.knowledge.guidelines import load_guidelines
from imr_ml.modeling.estimator.model import scoring_model
from imr_ml.modeling.estimator.pipeline import build_pipeline
from imr_ml.modeling.evaluation.bootstrap import versus_baselines, with_intervals
from imr_ml.modeling.evaluation.metrics import score_all
from imr_ml.modeling.evaluation.operating_point import fallback_threshold
from imr_ml.modeling.modelfiles.knowledge_files import model_knowledge
from imr_ml.modeling.modelfiles.loaded import environment
from imr_ml.modeling.modelfiles.modelio import CV_PREDICTIONS_FILE, load_model_dir, write_model_dir
from imr_ml.modeling.modelfiles.precedent_files import PRECEDENTS_FILE, index_writer
from imr_ml.modeling.modelfiles.ranges import training_ranges
from imr_ml.modeling.training.baselines import categories, fit_baselines, predict_baselines
from imr_ml.modeling.training.card import model_card
from imr_ml.modeling.training.data import (
    TrainError,
    canonical_rows,
    corpus_profile,
    fingerprint,
    labels,
    letter_groups,
    letter_hash,
)
from imr_ml.modeling.training.estimate import choose_threshold, cv_predictions, estimate, public_estimate
from imr_ml.modeling.training.fitting import (
    TrainOptions,
    calibration_method,
    fit_procedure,
    proba,
)
from imr_ml.modeling.training.progress import NULL_REPORTER, Reporter
from imr_ml.modeling.training.rowcheck import check_classes, check_labels, check_row_types, check_summaries
from imr_ml.modeling.training.streaming import STREAMING_MIN_ITEMS, fit_streaming
from imr_ml.schema import PRE_DECISION
from imr_ml.signals import clear_caches

ESTIMATE_SAMPLE = 200  # rows whose features are timed to forecast a training run


@dataclass
class TrainResult:
    """What `train` returns: the model and everything saved beside it.

    Parameters
    ----------
    model : estimator
        The fitted (calibrated) model.
    manifest : dict
        Versions, data fingerprint, options, metrics.
    card : str
        The model card (markdown).
    baselines : dict
        Fitted baseline estimators by name.
    tables : dict
        The table baselines.
    estimate : dict or None
        The outer CV's result, when estimated.
    cv_predictions : dict or None
        Its out-of-fold predictions, as saved for `report`.
    rows : list of dict or None
        The training rows, which `save` indexes as precedents.
    """

    model: Any
    manifest: dict
    card: str
    baselines: dict
    tables: dict
    estimate: dict | None
    cv_predictions: dict | None = None
    rows: list[dict] | None = None


@dataclass
class _Fitted:
    """The outcome of either procedure, before the manifest is written."""

    model: Any
    params: dict
    table: list[dict]
    estimate: dict | None
    baselines: dict
    tables: dict
    X: pd.DataFrame | None  # the training frame (None for the streaming procedure)
    streaming: bool


def _checked_rows(rows: Sequence[dict], opts: TrainOptions) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """(canonical rows, labels, letters), refusing data that cannot make an honest model."""
    check_row_types(rows)
    check_summaries(rows)
    canonical = canonical_rows(check_labels(rows, opts.labels_from))
    if not canonical:
        raise TrainError("no training rows")
    y, g = labels(canonical), letter_groups(canonical)
    if y.min() == y.max():
        raise TrainError(f"all {len(y)} training items are {'overturned' if y[0] else 'upheld'}: need both")
    if opts.estimate or calibration_method(opts, y) != "none":
        check_classes(y, g, opts.n_splits)
    return canonical, y, g


def _fit(rows: list[dict], y: np.ndarray, g: np.ndarray, opts: TrainOptions, factory: Callable,
         reporter: Reporter) -> _Fitted:
    """The model, estimate and baselines by the procedure the corpus size calls for."""
    if opts.streaming if opts.streaming is not None else len(rows) >= STREAMING_MIN_ITEMS:
        return _Fitted(*fit_streaming(rows, y, g, opts, reporter), X=None, streaming=True)
    X = to_frame(rows)
    est = estimate(rows, opts, factory, reporter) if opts.estimate else None
    reporter.start("fitting the final model", (len(opts.grid) * opts.n_splits if len(opts.grid) > 1 else 0) + 1)
    model, params, table = fit_procedure(X, y, g, opts, factory, reporter)
    baselines, tables = fit_baselines(X, y, seed=opts.seed, pipeline_factory=factory) if opts.baselines else ({}, {})
    return _Fitted(model, params, table, est, baselines, tables, X, False)


def _data_record(rows: list[dict], y: np.ndarray, g: np.ndarray, inputs: Sequence[str], synthetic: bool) -> dict:
    """The manifest's account of the training data."""
    letters = sorted(set(g.tolist()))
    return {
        "fingerprint_sha256": fingerprint(rows),
        "inputs": [str(p) for p in inputs],
        "synthetic": synthetic,  # generated letters (the demo): the report says so
        "n_letters": len(letters),
        "n_items": int(len(y)),
        "n_overturned": int(y.sum()),
        "base_rate": float(y.mean()),
        # what the letters span, so scoring can warn about requests outside it
        "ranges": training_ranges(rows),
        # truncated hashes of the training letter ids, so `evaluate` can warn about overlap
        "letter_hashes": [letter_hash(lid) for lid in letters] if len(letters) <= 200_000 else None,
        "profile": corpus_profile(rows),
    }


def _manifest(fit: _Fitted, rows: list[dict], y: np.ndarray, g: np.ndarray, opts: TrainOptions,
              inputs: Sequence[str], t0: float, synthetic: bool = False) -> dict:
    """The manifest of a trained model (the model directory adds file hashes)."""
    scorer = scoring_model(fit.model)
    threshold = choose_threshold(fit.estimate, y, g) or {
        "value": fallback_threshold(float(y.mean())),
        "method": "twice the training base rate (no held-out predictions to choose it on)"}
    top = sorted(scorer.weights().items(), key=lambda kv: -abs(kv[1]))[:25]
    counts = training_counts(fit.model, fit.X)
    env = environment()
    method = calibration_method(opts, y)
    return {
        "kind": "imr-ml model",
        "imr_ml_version": env["imr_ml"],
        "versions": env,
        "created_unix": int(time.time()),
        "data": _data_record(rows, y, g, inputs, synthetic),
        "features": {"columns": list(PRE_DECISION), "n_features": len(scorer.feature_names),
                     "names": scorer.feature_names},
        "options": dict(asdict(opts)),
        "hyperparameters": fit.params,
        "selection": fit.table,
        "procedure": "streaming" if fit.streaming else "cross-validated",
        "calibration": {
            "method": method,
            "fitted_on": None if method == "none" else (
                "the decision scores of held-out letters" if fit.streaming
                else "out-of-fold decision scores, folds grouped by letter"),
        },
        "threshold": threshold,
        "rule_updates": rule_updates(fit.model, counts),
        "training_counts": counts,
        "top_coefficients": [{"feature": n, "coef": c} for n, c in top],
        "cv": public_estimate(fit.estimate),
        "baselines": {"fitted_on": "the same training rows as the model (persisted in baselines/)",
                      "names": sorted([*fit.tables, *fit.baselines])},
        "train_seconds": round(time.perf_counter() - t0, 2),
    }


def train(rows: Sequence[dict], opts: TrainOptions | None = None, factory: Callable | None = None,
          reporter: Reporter = NULL_REPORTER, inputs: Sequence[str] = (), synthetic: bool = False) -> TrainResult:
    """Estimate the procedure (unless ``opts.estimate`` is off), then fit the final model and
    baselines on all rows and build the manifest and model card.

    Parameters
    ----------
    rows : sequence of dict
        Labelled corpus rows.
    opts : TrainOptions or None
        The training options (None: the defaults).
    factory : callable or None
        Builds a pipeline (None: `build_pipeline`).
    reporter : Reporter
        Hears the progress of every stage.
    inputs : sequence of str
        The files the rows came from, for the manifest.
    synthetic : bool
        The rows are synthetic letters (`imr_ml.synth`): recorded, and said by the report.

    Returns
    -------
    TrainResult
        The model, manifest, card, baselines and estimate.
    """
    opts = opts or TrainOptions()
    t0 = time.perf_counter()
    canonical, y, g = _checked_rows(rows, opts)
    fit = _fit(canonical, y, g, opts, factory or build_pipeline, reporter)
    manifest = _manifest(fit, canonical, y, g, opts, inputs, t0, synthetic)
    return TrainResult(model=fit.model, manifest=manifest, card=model_card(manifest), baselines=fit.baselines,
                       tables=fit.tables, estimate=fit.estimate,
                       cv_predictions=cv_predictions(fit.estimate, canonical, y), rows=canonical)


def training_counts(model: Any, X: pd.DataFrame | None) -> dict[str, int] | None:
    """How many training items each structured feature (rule, signal, field, category) fired
    on: what an explanation or the report says an effect rests on.

    Parameters
    ----------
    model : estimator
        The fitted model.
    X : pandas.DataFrame or None
        The training frame (None: not known, as in the streaming procedure).

    Returns
    -------
    dict or None
        {feature: items} of the features that fired at least once (words left out).
    """
    if X is None:
        return None
    scorer = scoring_model(model)
    counts = np.asarray((scorer.features(X) != 0).sum(axis=0)).ravel()
    return {n: int(c) for n, c in zip(scorer.feature_names, counts) if c and "__tfidf__" not in n}


def rule_updates(model: Any, counts: dict[str, int] | None) -> list[dict]:
    """Per guideline rule: its prior strength, the fitted weight and how many training items
    it applied to.

    Parameters
    ----------
    model : estimator
        The fitted model.
    counts : dict or None
        `training_counts` (None: item counts unknown).

    Returns
    -------
    list of dict
        ``rule``, ``label``, ``prior``, ``fitted``, ``n_items``, ``citation`` of every rule
        the model weighs.
    """
    coefs = scoring_model(model).weights()
    return [{"rule": r.name, "label": r.label, "prior": r.strength, "fitted": coefs[f"rule__{r.name}"],
             "n_items": None if counts is None else counts.get(f"rule__{r.name}", 0), "citation": r.citation}
            for r in load_guidelines(model_knowledge(model).guidelines).rules if f"rule__{r.name}" in coefs]


def forecast_seconds(rows: Sequence[dict], opts: TrainOptions) -> float:
    """A training run's duration, forecast from the time to compute the features of a
    sample of rows (the bulk of the work).

    Parameters
    ----------
    rows : sequence of dict
        The training rows.
    opts : TrainOptions
        The training options.

    Returns
    -------
    float
        Seconds: the sample's time per row, times the rows, once per outer fold and repeat
        and once for the final fit (the feature cache serves the prior-weight search and
        calibration).
    """
    sample = list(rows[:: max(1, len(rows) // ESTIMATE_SAMPLE)])[:ESTIMATE_SAMPLE]
    clear_caches()
    t0 = time.perf_counter()
    build_features(**opts.pipeline).fit_transform(to_frame(sample))
    per_row = (time.perf_counter() - t0) / max(len(sample), 1)
    clear_caches()
    fits = (opts.n_splits * opts.cv_repeats if opts.estimate else 0) + 1
    return per_row * len(rows) * fits


def save(result: TrainResult, out: str | Path, precedents: bool = True) -> Path:
    """Write a trained model's directory.

    Parameters
    ----------
    result : TrainResult
        What `train` returned (left as it is: the saved manifest, with the file hashes, is
        `imr_ml.modeling.modelfiles.modelio.read_manifest` of the returned path).
    out : str or pathlib.Path
        The model directory.
    precedents : bool
        Keep an index of the training items, shown as precedents (`imr_ml.precedents`).

    Returns
    -------
    pathlib.Path
        Where it was written.
    """
    extra = {CV_PREDICTIONS_FILE: result.cv_predictions} if result.cv_predictions else None
    built, manifest = {}, result.manifest
    if precedents and result.rows:
        write, record = index_writer(result.rows, model_knowledge(result.model))
        built[PRECEDENTS_FILE] = write
        manifest = dict(manifest, precedents=record)  # the record is filled in when the index is written
    path = write_model_dir(
        out, model=result.model, manifest=manifest, baselines=result.baselines,
        tables=result.tables, card=result.card, json_files=extra, built=built,
    )
    return path


def evaluate(model_dir: str | Path, rows: Sequence[dict]) -> dict:
    """Score a saved model and its saved baselines on labelled rows.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        A model directory (or ``builtin``).
    rows : sequence of dict
        Labelled corpus rows.

    Returns
    -------
    dict
        The model's scores overall and per category, the baselines' and the paired
        differences, with how many letters the model saw in training.
    """
    loaded = load_model_dir(model_dir, with_baselines=True)
    rows = canonical_rows(rows)
    if not rows:
        raise TrainError("no rows to evaluate")
    X, y = to_frame(rows), labels(rows)
    preds = {"model": proba(loaded.model, X)}
    preds.update(predict_baselines(loaded.baselines, loaded.tables, X, loaded.knowledge.taxonomy))
    scores = score_all(y, preds, categories(X, loaded.knowledge.taxonomy))
    groups = letter_groups(rows)
    with_intervals(scores["overall"], y, preds, groups)
    seen = set((loaded.manifest.get("data") or {}).get("letter_hashes") or [])
    letters = sorted(set(groups.tolist()))
    return {
        "model_dir": str(model_dir),
        "model_sha256": loaded.manifest.get("model_sha256"),
        "data_fingerprint_sha256": fingerprint(rows),
        "n_letters": len(letters),
        "letters_seen_in_training": sum(letter_hash(lid) in seen for lid in letters),
        **scores["overall"]["model"],
        "by_category": scores["by_category"]["model"],
        "baselines": {n: s for n, s in scores["overall"].items() if n != "model"},
        "baselines_by_category": {n: s for n, s in scores["by_category"].items() if n != "model"},
        "vs_baselines": versus_baselines(y, preds, groups),
    }
