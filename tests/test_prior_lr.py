"""`PriorLogisticRegression` held to scikit-learn's estimator checks and to its own promises:
no data gives the priors back, a fixed sign holds against the data, the posterior's shape
does not depend on the data, and an optimizer that stops early says so."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from imr_ml.modeling.estimator import prior_lr
from imr_ml.modeling.estimator.prior_lr import DENSE_COVARIANCE_MAX, PriorLogisticRegression


@parametrize_with_checks([PriorLogisticRegression()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three features; the data say the first lowers the odds and the second raises them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2.0 * X[:, 0] + 2.0 * X[:, 1])))).astype(int)
    return X, y


def test_knowledge_only_returns_the_priors_whatever_the_data():
    X, y = _data()
    prior = dict(prior_mean=[0.5, -1.0, 2.0], prior_sd=[1.0, 0.5, 2.0], intercept_mean=-2.0, intercept_sd=0.5,
                 prior_weight=4.0, fit_data=False)
    a = PriorLogisticRegression(**prior).fit(X, y)
    b = PriorLogisticRegression(**prior).fit(X, 1 - y)
    np.testing.assert_array_equal(a.coef_, [[0.5, -1.0, 2.0]])
    np.testing.assert_array_equal(a.intercept_, [-2.0])
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.n_iter_[0] == 0
    # no data: the posterior is the prior, variance sd^2 / prior_weight
    np.testing.assert_allclose(a.covariance_, np.diag(np.array([0.5, 1.0, 0.5, 2.0]) ** 2 / 4.0))


def test_fitting_moves_the_priors_toward_the_data():
    X, y = _data()
    clf = PriorLogisticRegression(prior_mean=[1.0, -1.0], prior_sd=[2.0, 2.0]).fit(X, y)
    assert clf.coef_[0, 0] < 0 < clf.coef_[0, 1]
    assert clf.n_iter_[0] > 0


def test_fixed_signs_hold_against_the_data():
    X, y = _data()
    free = PriorLogisticRegression(prior_mean=[1.0, -1.0], prior_sd=[2.0, 2.0]).fit(X, y)
    held = PriorLogisticRegression(prior_mean=[1.0, -1.0], prior_sd=[2.0, 2.0], lower=[0.0, -np.inf],
                                   upper=[np.inf, 0.0]).fit(X, y)
    assert free.coef_[0, 0] < -0.5 and free.coef_[0, 1] > 0.5  # the data pull both signs over
    assert held.coef_[0, 0] >= 0.0 and held.coef_[0, 1] <= 0.0


@pytest.mark.parametrize("n_features", [3, DENSE_COVARIANCE_MAX + 1])
def test_posterior_has_the_same_shape_at_any_width(n_features):
    rng = np.random.default_rng(1)
    X = sparse.random(40, n_features, density=0.02, random_state=2, format="csr")
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    rng.shuffle(y)
    clf = PriorLogisticRegression().fit(X, y)
    assert clf.posterior_var_.shape == (n_features + 1,)
    if n_features > DENSE_COVARIANCE_MAX:
        assert clf.covariance_ is None
    else:
        assert clf.covariance_.shape == (n_features + 1, n_features + 1)
        np.testing.assert_array_equal(clf.posterior_var_, np.diag(clf.covariance_))
    # a row's log-odds sd is read from the covariance, or from the variances when there is none
    A = np.hstack([np.ones((X.shape[0], 1)), X.toarray()])
    want = (np.sqrt(np.einsum("ij,jk,ik->i", A, clf.covariance_, A)) if clf.covariance_ is not None
            else np.sqrt((A ** 2) @ clf.posterior_var_))
    np.testing.assert_allclose(clf.logit_sd(X), want, rtol=1e-10)


@pytest.mark.parametrize("n_features", [3, DENSE_COVARIANCE_MAX + 1])
def test_a_model_saved_before_posterior_var_scores_with_the_same_intervals(n_features):
    from imr_ml.modeling.modelfiles.modeltrust import dumps, load_trusted

    X = sparse.random(40, n_features, density=0.02, random_state=3, format="csr")
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    clf = PriorLogisticRegression().fit(X, y)
    old = PriorLogisticRegression().fit(X, y)
    old.covariance_ = clf.covariance_ if clf.covariance_ is not None else clf.posterior_var_  # as saved before
    del old.posterior_var_
    back = load_trusted(dumps(old), "model.skops")
    np.testing.assert_array_equal(back.posterior_var_, clf.posterior_var_)
    assert (back.covariance_ is None) == (clf.covariance_ is None)
    np.testing.assert_array_equal(back.logit_sd(X), clf.logit_sd(X))


def test_an_optimizer_stopped_early_warns():
    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 iterations"):
        PriorLogisticRegression(max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        PriorLogisticRegression().fit(X, y)


def test_docstring_examples_run():
    result = doctest.testmod(prior_lr, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0
