"""Small fitted models and helpers shared by tests/core/test_bench_*.py (this module holds no tests)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from tunefleet.bench import ModelInfo, TimingSettings, describe, make_candidate
from tunefleet.bench.optimisations import Candidate, OptimisationSpec

FAST = TimingSettings(budget_s=0.005, warmup_s=0.0, min_warmup=1, min_repeats=3, max_repeats=20)
TREE_CASES = [
    "rf_binary",
    "rf_multiclass",
    "rf_regression",
    "et_classifier",
    "gb_binary",
    "gb_multiclass",
    "gb_regression",
]


@dataclass(frozen=True)
class Case:
    model: Any
    X: np.ndarray
    y: np.ndarray
    task: str


@lru_cache
def case(name: str) -> Case:
    """A fitted model with 200 held-out validation rows, small enough to compile in a second."""
    from sklearn import ensemble, linear_model, neighbors, neural_network
    from sklearn.datasets import make_classification, make_regression

    builders = {
        "rf_binary": (ensemble.RandomForestClassifier(n_estimators=9, random_state=0), 2),  # odd: no vote ties
        "rf_multiclass": (ensemble.RandomForestClassifier(n_estimators=9, max_depth=6, random_state=0), 3),
        "rf_regression": (ensemble.RandomForestRegressor(n_estimators=8, max_depth=6, random_state=0), 0),
        "et_classifier": (ensemble.ExtraTreesClassifier(n_estimators=9, max_depth=6, random_state=0), 3),
        "gb_binary": (ensemble.GradientBoostingClassifier(n_estimators=10, random_state=0), 2),
        "gb_multiclass": (ensemble.GradientBoostingClassifier(n_estimators=6, random_state=0), 3),
        "gb_regression": (ensemble.GradientBoostingRegressor(n_estimators=10, random_state=0), 0),
        "logistic": (linear_model.LogisticRegression(max_iter=2000), 3),
        "linear_regression": (linear_model.LinearRegression(), 0),
        "mlp": (neural_network.MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0), 2),
        "knn": (neighbors.KNeighborsClassifier(), 2),
    }
    model, n_classes = builders[name]
    if n_classes:
        X, y = make_classification(n_samples=700, n_features=6, n_informative=4, n_classes=n_classes, random_state=1)
        task = "classification"
    else:
        X, y = make_regression(n_samples=700, n_features=6, noise=5.0, random_state=1)
        task = "regression"
    model.fit(X[:500], y[:500])
    return Case(model, X[500:], y[500:], task)


def validation_csv(X: np.ndarray, y, columns: list[str] | None = None, target: str = "y") -> bytes:
    """A validation CSV as a user uploads it: X's columns (f0, f1, ... unless named), then the target."""
    frame = pd.DataFrame(X, columns=columns or [f"f{i}" for i in range(X.shape[1])])
    frame[target] = y
    return frame.to_csv(index=False).encode()


@lru_cache
def onnx_upload(name: str) -> bytes:
    """The case's model converted as a user would: skl2onnx's defaults (a 6-wide float input;
    classifiers output labels, then ZipMap dictionaries of probabilities)."""
    from skl2onnx import to_onnx

    c = case(name)
    return to_onnx(c.model, c.X[:1].astype(np.float32)).SerializeToString()


def info(name: str) -> ModelInfo:
    c = case(name)
    return describe(c.model, c.X, c.y, c.task)


@lru_cache
def candidate(name: str, optimisation: str = "none") -> Candidate:
    c = case(name)
    return make_candidate(c.model, OptimisationSpec.parse(optimisation), c.X, c.y, info(name))


def assert_same_predictions(name: str, predictions: np.ndarray) -> None:
    """Equal to scikit-learn's: values within float32 precision; labels equal except at near-ties
    of the class probabilities, where summing in another order may pick the other class."""
    c = case(name)
    reference = c.model.predict(c.X)
    predictions = np.asarray(predictions)
    assert predictions.shape == reference.shape
    if c.task == "regression":
        np.testing.assert_allclose(predictions, reference, rtol=1e-5, atol=1e-4)
        return
    top_two = np.sort(c.model.predict_proba(c.X), axis=1)[:, -2:]
    decided = top_two[:, 1] - top_two[:, 0] > 1e-6
    assert decided.mean() > 0.9
    np.testing.assert_array_equal(predictions[decided], reference[decided])
