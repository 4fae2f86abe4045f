"""Logistic regression that updates prior knowledge instead of ignoring it.

Ordinary L2 logistic regression shrinks every coefficient toward 0: with a few hundred
letters it forgets what the guidelines say. Here each coefficient has its own Gaussian prior
N(mean_j, sd_j^2), centred on the strength a guideline rule states (features/guidelines.toml);
the fit is the maximum a posteriori (MAP) estimate, optionally with a sign fixed where the
guideline fixes the direction. With no data it is the knowledge; with many letters the data
dominate. The inverse Hessian at the optimum (a Laplace approximation of the posterior)
gives each prediction an interval.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize, sparse
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

DENSE_COVARIANCE_MAX = 3000  # features; above this only the posterior variances are kept


def _check_weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float).ravel()
    if w.shape != (n,) or np.any(w < 0) or not np.isfinite(w).all():
        raise ValueError("sample_weight must be one finite, non-negative weight per row")
    if w.sum() <= 0:
        raise ValueError("sample_weight: the weights are all zero; at least one must be positive")
    return w


def _with_intercept(X):
    """X with a leading column of ones (the intercept's), sparse if X is."""
    ones = np.ones((X.shape[0], 1))
    return sparse.hstack([ones, X]).tocsr() if sparse.issparse(X) else np.hstack([ones, X])


class PriorLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression, MAP under per-coefficient Gaussian priors.

    Parameters
    ----------
    prior_mean, prior_sd : array-like or None
        Prior mean and standard deviation of the first ``len(prior_mean)`` coefficients;
        the remaining ones (e.g. TF-IDF words appended after the structured features) get
        mean 0 and ``default_sd``.
    lower, upper : array-like or None
        Bounds on the first coefficients (``-inf``/``inf`` for none): a guideline that fixes
        a direction fixes the sign.
    default_sd : float
        Prior standard deviation of coefficients without a stated prior.
    intercept_mean, intercept_sd : float
        Prior of the intercept.
    prior_weight : float
        Multiplies every prior precision: > 1 trusts the knowledge more, < 1 the data more.
        Chosen by letter-grouped cross-validation in `imr_ml.modeling.training.fitting`.
    fit_data : bool
        False gives the knowledge-only model: the prior means, no parameter learnt from data.
    max_iter, tol : int, float
        L-BFGS-B limits; a fit that stops before converging warns (``ConvergenceWarning``).

    Attributes
    ----------
    classes_ : numpy.ndarray of shape (2,)
        The two class labels, sorted; the second is the one whose log-odds are modelled.
    coef_ : numpy.ndarray of shape (1, n_features_in_)
        MAP coefficients (the prior means when ``fit_data`` is False).
    intercept_ : numpy.ndarray of shape (1,)
        MAP intercept.
    posterior_var_ : numpy.ndarray of shape (n_features_in_ + 1,)
        Posterior variance of the intercept and of each coefficient (Laplace): the diagonal of
        ``covariance_``, or above ``DENSE_COVARIANCE_MAX`` features the inverse of the
        Hessian's diagonal (correlations between coefficients ignored).
    covariance_ : numpy.ndarray of shape (n_features_in_ + 1, n_features_in_ + 1) or None
        Posterior covariance of [intercept, coefficients] (Laplace); None above
        ``DENSE_COVARIANCE_MAX`` features, where a dense matrix would not fit in memory.
    n_iter_ : numpy.ndarray of shape (1,)
        L-BFGS-B iterations (0 when ``fit_data`` is False).
    n_features_in_ : int
        Number of features seen in `fit`.
    feature_names_in_ : numpy.ndarray of shape (n_features_in_,)
        Names of the features seen in `fit`, when X had string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model with one prior, N(0, C), for all.

    Examples
    --------
    A guideline says the finding raises the odds of an overturn (prior mean 1, sd 2); these
    eight items say it lowers them. Without data the model is the prior; with data the
    coefficient follows the data, unless the guideline's sign is fixed:

    >>> import numpy as np
    >>> from imr_ml.modeling.estimator.prior_lr import PriorLogisticRegression
    >>> X = np.array([[0.0], [0.0], [0.0], [0.0], [1.0], [1.0], [1.0], [1.0]])
    >>> y = np.array([0, 1, 1, 1, 0, 0, 0, 1])
    >>> PriorLogisticRegression(prior_mean=[1.0], prior_sd=[2.0], fit_data=False).fit(X, y).coef_
    array([[1.]])
    >>> PriorLogisticRegression(prior_mean=[1.0], prior_sd=[2.0]).fit(X, y).coef_.round(2)
    array([[-0.83]])
    >>> clf = PriorLogisticRegression(prior_mean=[1.0], prior_sd=[2.0], lower=[0.0]).fit(X, y)
    >>> clf.coef_.round(2)
    array([[0.]])
    >>> clf.predict_proba([[1.0]]).round(2)
    array([[0.5, 0.5]])
    """

    def __init__(self, prior_mean=None, prior_sd=None, lower=None, upper=None, default_sd=1.0,
                 intercept_mean=0.0, intercept_sd=1.0, prior_weight=1.0, fit_data=True, max_iter=1000, tol=1e-8):
        self.prior_mean = prior_mean
        self.prior_sd = prior_sd
        self.lower = lower
        self.upper = upper
        self.default_sd = default_sd
        self.intercept_mean = intercept_mean
        self.intercept_sd = intercept_sd
        self.prior_weight = prior_weight
        self.fit_data = fit_data
        self.max_iter = max_iter
        self.tol = tol

    def _prior(self, n: int) -> tuple[np.ndarray, np.ndarray, list[tuple[float | None, float | None]]]:
        """(means, precisions, bounds) of [intercept, coef_1..coef_n]."""
        mean = np.zeros(n + 1)
        sd = np.full(n + 1, float(self.default_sd))
        lo = np.full(n + 1, -np.inf)
        hi = np.full(n + 1, np.inf)
        mean[0], sd[0] = self.intercept_mean, self.intercept_sd
        for arr, target in ((self.prior_mean, mean), (self.prior_sd, sd), (self.lower, lo), (self.upper, hi)):
            if arr is not None:
                a = np.asarray(arr, dtype=float).ravel()[:n]
                target[1:1 + a.size] = a
        if np.any(sd <= 0) or self.prior_weight <= 0:
            raise ValueError("prior standard deviations and prior_weight must be positive")
        precision = self.prior_weight / sd ** 2
        bounds = [(None if np.isinf(a) else float(a), None if np.isinf(b) else float(b)) for a, b in zip(lo, hi)]
        return mean, precision, bounds

    def fit(self, X, y, sample_weight=None):
        """Fit the MAP coefficients and their Laplace posterior covariance.

        Parameters
        ----------
        X : array-like or sparse matrix
            Features, one row per item.
        y : array-like
            0/1 labels.
        sample_weight : array-like or None
            Weight of every item.

        Returns
        -------
        PriorLogisticRegression
            self.
        """
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        kind = type_of_target(y, raise_unknown=True)
        if kind != "binary":
            raise ValueError(f"Only binary classification is supported; the target is {kind!r}")
        self.classes_, yi = np.unique(y, return_inverse=True)
        n, d = X.shape
        w = _check_weights(sample_weight, n)
        mean, precision, bounds = self._prior(d)
        start = np.clip(mean, [b[0] if b[0] is not None else -np.inf for b in bounds],
                        [b[1] if b[1] is not None else np.inf for b in bounds])
        theta, n_iter = (start, 0)
        if self.fit_data:
            theta, n_iter = self._map(X, yi.astype(float), w, mean, precision, bounds, start)
        self.intercept_ = np.array([theta[0]])
        self.coef_ = theta[1:].reshape(1, -1)
        self.covariance_, self.posterior_var_ = self._posterior_covariance(
            X, w if self.fit_data else np.zeros(n), theta, precision)
        self.n_iter_ = np.array([n_iter])
        return self

    def _map(self, X, y, w, mean, precision, bounds, start) -> tuple[np.ndarray, int]:
        """The MAP estimate and the optimizer's iterations; warns when L-BFGS-B did not converge."""
        def loss(theta):
            z = X @ theta[1:] + theta[0]
            # log(1 + e^z) - y z, stably
            nll = np.sum(w * (np.logaddexp(0.0, z) - y * z))
            r = w * (expit(z) - y)
            diff = theta - mean
            grad = np.concatenate(([r.sum()], X.T @ r)) + precision * diff
            return nll + 0.5 * np.sum(precision * diff ** 2), grad

        res = optimize.minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 1e-12})
        if res.status != 0:
            warnings.warn(f"L-BFGS-B did not converge in {res.nit} iterations ({res.message}); "
                          "increase max_iter or loosen tol", ConvergenceWarning, stacklevel=3)
        return res.x, int(res.nit)

    def _posterior_covariance(self, X, w, theta, precision) -> tuple[np.ndarray | None, np.ndarray]:
        """(covariance, variances) of the posterior at the optimum (Laplace: the inverse Hessian
        of the negative log posterior). Above DENSE_COVARIANCE_MAX features no covariance, and
        the variances are the inverse of the Hessian's diagonal."""
        z = X @ theta[1:] + theta[0]
        s = w * expit(z) * (1 - expit(z))
        d = X.shape[1]
        if d > DENSE_COVARIANCE_MAX:
            xs = X.multiply(X).T @ s if sparse.issparse(X) else (X ** 2).T @ s
            return None, 1.0 / (np.concatenate(([s.sum()], np.asarray(xs).ravel())) + precision)
        A = _with_intercept(X)
        H = A.T @ (A.multiply(s[:, None]) if sparse.issparse(A) else A * s[:, None])
        H = np.asarray(H.todense() if sparse.issparse(H) else H) + np.diag(precision)
        C = np.linalg.inv(H)
        return C, np.diag(C).copy()

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of class 1.

        Parameters
        ----------
        X : array-like or sparse matrix
            Features.

        Returns
        -------
        numpy.ndarray
            One value per row.
        """
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_.ravel() + self.intercept_[0]).ravel()

    def logit_sd(self, X) -> np.ndarray:
        """Posterior standard deviation of each row's log-odds (Laplace approximation).

        Parameters
        ----------
        X : array-like or sparse matrix
            Features.

        Returns
        -------
        numpy.ndarray
            One value per row.
        """
        check_is_fitted(self, "posterior_var_")
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        A = _with_intercept(X)
        C = self.covariance_
        if C is None:
            v = self.posterior_var_
            sq = A.multiply(A) @ v if sparse.issparse(A) else (A ** 2) @ v
        else:
            sq = np.asarray((A @ C) * (A.toarray() if sparse.issparse(A) else A)).sum(axis=1)
        return np.sqrt(np.maximum(np.asarray(sq).ravel(), 0.0))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like or sparse matrix
            Features.

        Returns
        -------
        numpy.ndarray
            [P(0), P(1)] per row.
        """
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        """The more probable class.

        Parameters
        ----------
        X : array-like or sparse matrix
            Features.

        Returns
        -------
        numpy.ndarray
            One class label per row.
        """
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]

    def __setstate__(self, state):
        """Restore a saved model; one saved before `posterior_var_` existed (its `covariance_`
        a matrix, or the variances above DENSE_COVARIANCE_MAX features) gets the same
        attributes a fit makes now, so it scores with the same intervals."""
        cov = state.get("covariance_")
        if "posterior_var_" not in state and cov is not None:
            cov = np.asarray(cov)
            state = {**state, "covariance_": cov if cov.ndim == 2 else None,
                     "posterior_var_": np.diag(cov).copy() if cov.ndim == 2 else cov}
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = True
        return tags
