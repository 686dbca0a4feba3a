"""The ridge core against scikit-learn's GridSearchCV(Ridge, cv=KFold) on the same folds."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from tunefleet.ridge.cv import RidgeInputError, predict, ridge_cv


def _reference(X, y, alphas, n_folds, fit_intercept=True, shuffle=False, random_state=None, solver="auto"):
    search = GridSearchCV(
        Ridge(fit_intercept=fit_intercept, solver=solver),
        {"alpha": alphas},
        cv=KFold(n_folds, shuffle=shuffle, random_state=random_state),
        scoring="neg_mean_squared_error",
    ).fit(X, y)
    fold_mse = -np.stack([search.cv_results_[f"split{k}_test_score"] for k in range(n_folds)], axis=1)
    return search, fold_mse


def _assert_matches(result, search, fold_mse, rtol=1e-8):
    np.testing.assert_allclose(result.fold_mse, fold_mse, rtol=rtol)
    np.testing.assert_allclose(result.mean_mse, -search.cv_results_["mean_test_score"], rtol=rtol)
    assert result.best_alpha == search.best_params_["alpha"]
    np.testing.assert_allclose(result.coef, search.best_estimator_.coef_, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(result.intercept, search.best_estimator_.intercept_, rtol=rtol, atol=1e-10)


@pytest.fixture
def regression():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(503, 6)) * [1, 10, 100, 0.1, 1, 3] + [5, -200, 1e4, 0, 1, 2]
    y = X @ rng.normal(size=6) + 3.0 + rng.normal(scale=2.0, size=503)
    return X, y


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shuffle,random_state", [(False, None), (True, 0), (True, 42)])
def test_matches_gridsearchcv(regression, fit_intercept, shuffle, random_state):
    X, y = regression
    alphas = [0.0, 0.01, 1.0, 10.0, 1000.0]
    result = ridge_cv(X, y, alphas, 4, fit_intercept, shuffle, random_state)
    _assert_matches(result, *_reference(X, y, alphas, 4, fit_intercept, shuffle, random_state))


def test_uneven_folds_and_many_rows_streamed_in_chunks():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30_011, 3))  # more rows than one chunk, not divisible by the folds
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=30_011)
    alphas = [0.1, 100.0, 1e4]
    result = ridge_cv(X, y, alphas, 7, shuffle=True, random_state=3)
    assert sorted(result.fold_sizes, reverse=True) == result.fold_sizes and sum(result.fold_sizes) == 30_011
    _assert_matches(result, *_reference(X, y, alphas, 7, shuffle=True, random_state=3))


def test_more_features_than_rows_and_a_constant_column():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 60))
    X[:, 3] = 7.0
    y = rng.normal(size=40)
    alphas = [0.01, 1.0, 10.0]
    result = ridge_cv(X, y, alphas, 4)
    _assert_matches(result, *_reference(X, y, alphas, 4, solver="svd"))
    assert result.coef[3] == pytest.approx(0.0, abs=1e-12)


def test_near_collinear_columns_take_the_stable_path():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(300, 4))
    X = np.c_[base, base[:, 0] + 1e-9 * rng.normal(size=300)]
    y = base[:, 0] + rng.normal(size=300)
    alphas = [1e-6, 1.0, 10.0]
    result = ridge_cv(X, y, alphas, 3)
    _assert_matches(result, *_reference(X, y, alphas, 3, solver="svd"))


def test_near_perfect_fit_measures_residuals_instead_of_cancelling():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 5))
    y = X @ [1.0, 2.0, 3.0, 4.0, 5.0] + 1e-7 * rng.normal(size=400)
    alphas = [0.0, 1e-8]
    result = ridge_cv(X, y, alphas, 5)
    _assert_matches(result, *_reference(X, y, alphas, 5), rtol=1e-6)


def test_predict_uses_the_refitted_model(regression):
    X, y = regression
    result = ridge_cv(X, y, [1.0], 3)
    expected = Ridge(alpha=1.0).fit(X, y).predict(X[:10])
    np.testing.assert_allclose(predict(X[:10], result.coef, result.intercept), expected, rtol=1e-9)


@pytest.mark.parametrize(
    "n_folds,alphas,message",
    [
        (1, [1.0], "at least 2"),
        (11, [1.0], "greater than the number of rows"),
        (2.5, [1.0], "must be an integer"),
        (True, [1.0], "must be an integer"),
        (2, [], "at least one"),
        (2, [-1.0], ">= 0"),
        (2, [float("nan")], "finite"),
        (2, ["x"], "must be numbers"),
    ],
)
def test_rejects_bad_parameters(n_folds, alphas, message):
    X, y = np.ones((10, 2)), np.arange(10.0)
    with pytest.raises(RidgeInputError, match=message):
        ridge_cv(X, y, alphas, n_folds)


def test_rejects_non_finite_data():
    X = np.ones((10, 2))
    X[3, 1] = np.inf
    with pytest.raises(RidgeInputError, match="NaN or infinite"):
        ridge_cv(X, np.arange(10.0), [1.0], 2)
