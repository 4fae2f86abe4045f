"""The comparisons a model must beat, fitted on the same training rows as the model.

* ``base_rate``      — every item gets the training overturn rate.
* ``category_prior`` — the item's treatment-category overturn rate in the training rows,
  smoothed toward the taxonomy prior (``1 - uphold_prior`` worth ``n_prior`` decisions).
* ``tfidf_lr``       — TF-IDF of the summary + a default LogisticRegression, "as a
  notebook would do it" (no class weights, no calibration, no domain signals).
* ``knowledge_only`` — the guideline knowledge alone (``build_pipeline(knowledge_only=True)``):
  published category rates moved by the guideline rules; nothing learnt from the rows.
* ``data_only``      — the data alone: TF-IDF + signals + fields, logistic regression shrunk
  toward zero (imr-ml's model before the guideline priors; not calibrated).

The first two are tables (saved as JSON); the last three are scikit-learn estimators (saved
with skops beside the model). All take a DataFrame of PRE_DECISION columns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from imr_ml.featurize import build_features
from imr_ml.knowledge.taxonomy import categorize, load_taxonomy
from imr_ml.modeling.estimator.pipeline import build_pipeline

ESTIMATOR_BASELINES = ("tfidf_lr", "knowledge_only", "data_only")


def categories(X: pd.DataFrame, taxonomy: str | None = None) -> list[str]:
    """The treatment category of every row.

    Parameters
    ----------
    X : pandas.DataFrame
        Rows with an ``item`` column.
    taxonomy : str or None
        The model's taxonomy TOML (None: the shipped one).

    Returns
    -------
    list of str
        One category per row (`imr_ml.knowledge.taxonomy.categorize`).
    """
    return [categorize(str(v) if v is not None else "", taxonomy) for v in X["item"].tolist()]


def _category_prior_table(cats: list[str], y: np.ndarray) -> dict:
    """Smoothed overturn rate per category: (k + n0 * prior) / (n + n0)."""
    y = np.asarray(y, dtype=int)
    rates, counts = {}, {}
    for cat in load_taxonomy():
        mask = np.array([c == cat.name for c in cats], dtype=bool)
        n, k = int(mask.sum()), int(y[mask].sum()) if mask.any() else 0
        prior = 1.0 - cat.uphold_prior
        rates[cat.name] = (k + cat.n_prior * prior) / (n + cat.n_prior)
        counts[cat.name] = {"n": n, "overturned": k, "prior": prior, "n_prior": cat.n_prior}
    base = float(y.mean()) if y.size else 0.1
    return {"rates": rates, "counts": counts, "default": rates.get("other", base)}


def _notebook_tfidf_lr(seed: int = 0):
    """TF-IDF on the summary text + LogisticRegression with library defaults."""
    return Pipeline(
        [
            ("features", ColumnTransformer([("summary", TfidfVectorizer(), "summary")])),
            ("clf", LogisticRegression(max_iter=1000, random_state=seed)),
        ]
    )


def _knowledge_only(pipeline_factory: Callable | None = None):
    """The guideline knowledge alone: published category base rates moved by the guideline
    rules, nothing learnt from the letters (the built-in model)."""
    return (pipeline_factory or build_pipeline)(knowledge_only=True)


def data_only(seed: int = 0):
    """The data alone, as imr-ml modelled it before guideline priors: TF-IDF of summary and
    item, signals, category and fields (scaled), logistic regression shrunk toward zero.

    Parameters
    ----------
    seed : int
        The classifier's random state.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted.
    """
    return Pipeline([("features", build_features(use_tfidf=True, use_rules=False, scale=True)),
                     ("clf", LogisticRegression(C=0.01, solver="liblinear", max_iter=2000, random_state=seed))])


def fit_tables(X: pd.DataFrame, y) -> dict:
    """The table baselines (``base_rate``, ``category_prior``): cheap at any size.

    Parameters
    ----------
    X : pandas.DataFrame
        Rows with an ``item`` column.
    y : array-like
        0/1 labels.

    Returns
    -------
    dict
        Plain JSON.
    """
    y = np.asarray(y, dtype=int)
    return {"base_rate": float(y.mean()), "category_prior": _category_prior_table(categories(X), y)}


def fit_baselines(
    X: pd.DataFrame, y, *, seed: int = 0, pipeline_factory: Callable | None = None
) -> tuple[dict, dict]:
    """Fit every baseline.

    Parameters
    ----------
    X : pandas.DataFrame
        PRE_DECISION rows.
    y : array-like
        0/1 labels.
    seed : int
        Random state of the estimators.
    pipeline_factory : callable or None
        Builds the knowledge-only pipeline (None: `build_pipeline`).

    Returns
    -------
    (dict, dict)
        Fitted estimators by name, and the JSON tables.
    """
    y = np.asarray(y, dtype=int)
    tables = fit_tables(X, y)
    estimators = {}
    if y.min() != y.max():  # a classifier needs both classes
        estimators["tfidf_lr"] = _notebook_tfidf_lr(seed).fit(X, y)
        estimators["data_only"] = data_only(seed).fit(X, y)
    estimators["knowledge_only"] = _knowledge_only(pipeline_factory).fit(X, y)
    return estimators, tables


def predict_baselines(estimators: dict, tables: dict, X: pd.DataFrame,
                      taxonomy: str | None = None) -> dict[str, np.ndarray]:
    """P(overturned) from each baseline, by name (only those that were fitted).

    Parameters
    ----------
    estimators : dict
        Fitted estimators by name.
    tables : dict
        The JSON tables.
    X : pandas.DataFrame
        PRE_DECISION rows.
    taxonomy : str or None
        The taxonomy TOML the model was trained with (None: the shipped one).

    Returns
    -------
    dict
        {baseline: one probability per row}.
    """
    n = len(X)
    out: dict[str, np.ndarray] = {}
    if "base_rate" in tables:
        out["base_rate"] = np.full(n, float(tables["base_rate"]))
    if "category_prior" in tables:
        t = tables["category_prior"]
        out["category_prior"] = np.array([t["rates"].get(c, t["default"]) for c in categories(X, taxonomy)],
                                          dtype=float)
    for name in ESTIMATOR_BASELINES:
        if name in estimators:
            out[name] = estimators[name].predict_proba(X)[:, 1]
    return out
