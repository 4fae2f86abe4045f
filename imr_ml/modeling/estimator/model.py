"""The fitted model as scoring, streaming and the model card see it: one small interface.

`ScoringModel` is what the rest of the package asks of a fitted model: its features, its
log-odds before calibration (and their uncertainty), the calibration map, and the split of
a request's log-odds into one contribution per feature. The base class does what does not
depend on the estimator (the feature step, the calibration map, the feature names); an
adapter supplies the rest. `scoring_model` picks the adapter for a fitted estimator;
`LinearModel` adapts every model trained today (a pipeline whose last step is linear:
`PriorLogisticRegression`, `LogisticRegression`, `SGDClassifier`, optionally inside
`CalibratedClassifierCV(ensemble=False)`, possibly around a `FrozenEstimator`). Another kind
of estimator needs one more adapter here, not an edit of scoring, streaming or the card.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.frozen import FrozenEstimator


def fitted_pipeline(model: Any) -> Any:
    """The fitted scikit-learn Pipeline inside a (calibrated, possibly frozen) model.

    Parameters
    ----------
    model : estimator
        A fitted pipeline, or a `CalibratedClassifierCV` around one.

    Returns
    -------
    sklearn.pipeline.Pipeline
        The features and the classifier, before calibration.
    """
    if hasattr(model, "calibrated_classifiers_"):
        model = model.calibrated_classifiers_[0].estimator
    return model.estimator if isinstance(model, FrozenEstimator) else model


class ScoringModel(ABC):
    """What scoring, streaming and the model card need of a fitted model.

    Log-odds are those of the classifier before calibration; `calibrate` maps them to
    P(overturned). For every row, ``reference_logit(reference)`` plus the contributions of
    the row against that reference add up to the row's log-odds. An adapter subclasses this,
    implements the abstract methods and is chosen in `scoring_model`.

    Parameters
    ----------
    model : estimator
        The fitted model: a pipeline (features, then the classifier), or a
        `CalibratedClassifierCV` around one.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.pipeline = fitted_pipeline(model)
        self.classifier = self.pipeline[-1] if hasattr(self.pipeline, "steps") else self.pipeline
        try:
            self.feature_names = [str(n) for n in self.pipeline[:-1].get_feature_names_out()]
        except AttributeError:  # a step without names (scikit-learn's answer): no weights by name, see `weights`
            self.feature_names = []

    def features(self, X: pd.DataFrame) -> Any:
        """The feature matrix of rows (CSR when sparse, for per-row contributions).

        Parameters
        ----------
        X : pandas.DataFrame
            PRE_DECISION rows.

        Returns
        -------
        scipy.sparse.csr_matrix or numpy.ndarray
            One row per item.
        """
        Z = self.pipeline[:-1].transform(X)
        return Z.tocsr() if hasattr(Z, "tocsr") else Z

    def calibrate(self, logits: Any) -> np.ndarray:
        """P(overturned) from log-odds: the model's calibration map, or the logistic function
        for an uncalibrated model.

        ``calibrate(logits(Z))`` is ``predict_proba`` of the rows: scoring needs the
        features anyway (for contributions), so computing them once halves the work.

        Parameters
        ----------
        logits : array-like
            Log-odds of any shape.

        Returns
        -------
        numpy.ndarray
            Probabilities, same shape.
        """
        logits = np.asarray(logits, dtype=float)
        if self.model is self.pipeline:
            return expit(logits)
        ccs = self.model.calibrated_classifiers_
        if len(ccs) != 1 or ccs[0].method not in ("sigmoid", "isotonic") or len(ccs[0].calibrators) != 1:
            raise ValueError("only a single binary sigmoid/isotonic calibration map is supported")
        shape = logits.shape
        return np.clip(ccs[0].calibrators[0].predict(logits.ravel()), 0.0, 1.0).reshape(shape)

    def logit_sd(self, Z: Any) -> np.ndarray:
        """The standard deviation of the log-odds of each row of `Z` (rows of `features`), one float per
        row; 0 unless the adapter knows better.
        """
        return np.zeros(Z.shape[0])

    @abstractmethod
    def logits(self, Z: Any) -> np.ndarray:
        """Log-odds of an overturn before calibration, one float per row of `Z` (rows of `features`)."""

    @abstractmethod
    def reference_logit(self, reference: Mapping[int, float]) -> float:
        """The log-odds of a reference row.

        Parameters
        ----------
        reference : mapping of int to float
            The reference row's non-zero features by column.

        Returns
        -------
        float
            Its log-odds.
        """

    @abstractmethod
    def contributions(self, idx: Iterable[int], values: Iterable[float],
                      reference: Mapping[int, float]) -> list[tuple[int, float, float]]:
        """What each feature adds to a row's log-odds against the reference row.

        Parameters
        ----------
        idx : iterable of int
            Columns of the row's non-zero features.
        values : iterable of float
            Their values.
        reference : mapping of int to float
            The reference row's non-zero features by column.

        Returns
        -------
        list of (int, float, float)
            (column, value, contribution) of every feature that changed the log-odds.
        """

    def weights(self) -> dict[str, float]:
        """Feature name -> weight, for the model card; none unless the model has weights.

        Returns
        -------
        dict
            One float per feature name (empty: the card shows no weights).
        """
        return {}

    def prior_coef(self) -> np.ndarray:
        """What each feature's weight would be from the guideline knowledge alone, so that an
        explanation can say how much of a contribution is the guideline's and how much the
        letters moved it; zeros unless the adapter knows the model's priors.

        Returns
        -------
        numpy.ndarray
            One float per feature.
        """
        return np.zeros(len(self.feature_names))


class LinearModel(ScoringModel):
    """`ScoringModel` of a pipeline whose last step is linear (``coef_``, ``intercept_``).

    The log-odds are the classifier's decision function, with its posterior standard
    deviation when it has one (`logit_sd`); a reference row's are the intercept plus its
    weighted features, and a feature's contribution is its weight times its change from the
    reference row (features whose contribution is 0 are left out). The prior weights are a
    `PriorLogisticRegression`'s prior means within its sign bounds (what it fits with no
    letters), zeros for a classifier shrunk toward zero; the weights by name are empty when
    names and coefficients do not match.

    Parameters
    ----------
    model : estimator
        The fitted model: a pipeline, or a `CalibratedClassifierCV` around one.
    """

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.coef = np.asarray(self.classifier.coef_, dtype=float).ravel()
        self.intercept = float(np.ravel(self.classifier.intercept_)[0])

    def logits(self, Z: Any) -> np.ndarray:
        return np.asarray(self.classifier.decision_function(Z), dtype=float).ravel()

    def logit_sd(self, Z: Any) -> np.ndarray:
        if hasattr(self.classifier, "logit_sd"):
            return self.classifier.logit_sd(Z)
        return super().logit_sd(Z)

    def reference_logit(self, reference: Mapping[int, float]) -> float:
        return self.intercept + sum(self.coef[j] * v for j, v in reference.items())

    def contributions(self, idx: Iterable[int], values: Iterable[float],
                      reference: Mapping[int, float]) -> list[tuple[int, float, float]]:
        row = dict(zip(np.asarray(idx).tolist(), np.asarray(values, dtype=float).tolist()))
        out = []
        for j in row.keys() | reference.keys():
            v = row.get(j, 0.0)
            c = float(self.coef[j] * (v - reference.get(j, 0.0)))
            if c != 0.0:
                out.append((j, v, c))
        return out

    def prior_coef(self) -> np.ndarray:
        clf = self.classifier
        out = np.zeros(self.coef.shape[0])
        mean = getattr(clf, "prior_mean", None)
        if mean is None:
            return out
        m = np.asarray(mean, dtype=float).ravel()[: out.size]
        out[: m.size] = m
        for bound, clip in ((getattr(clf, "lower", None), np.maximum), (getattr(clf, "upper", None), np.minimum)):
            if bound is not None:
                b = np.asarray(bound, dtype=float).ravel()[: out.size]
                out[: b.size] = clip(out[: b.size], b)
        return out

    def weights(self) -> dict[str, float]:
        if not self.feature_names or self.coef.shape[0] != len(self.feature_names):
            return {}
        return {n: float(c) for n, c in zip(self.feature_names, self.coef)}


def scoring_model(model: Any) -> ScoringModel:
    """The `ScoringModel` adapter of a fitted model: where a new kind of model is registered.

    Parameters
    ----------
    model : estimator
        A fitted model as `train` returns it or `load_model_dir` loads it.

    Returns
    -------
    ScoringModel
        Its adapter (`LinearModel`: only linear final steps are trained today).
    """
    if hasattr(fitted_pipeline(model)[-1], "coef_"):
        return LinearModel(model)
    raise TypeError(f"no scoring adapter for {type(fitted_pipeline(model)[-1]).__name__}: "
                    "add one in imr_ml.modeling.estimator.model")
