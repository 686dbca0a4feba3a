"""Quality of predictions: the task's usual metrics, accuracy or MSE and the drift against the
original model judged on it, agreement."""

from __future__ import annotations

import numpy as np

CLASSIFICATION, REGRESSION = "classification", "regression"
TASKS = (CLASSIFICATION, REGRESSION)
# What a cell reports of its predictions, per task. Precision, recall and F1 are macro averages
# (every class counts the same, whatever its size). ROC AUC is not among them: platforms hand back
# labels, not probabilities.
USUAL = {CLASSIFICATION: ("accuracy", "precision", "recall", "f1"), REGRESSION: ("mse", "mae", "r2")}


def metric_name(task: str) -> str:
    return "accuracy" if task == CLASSIFICATION else "mse"


def score(task: str, y: np.ndarray, predictions: np.ndarray) -> float:
    """Accuracy for classification, mean squared error for regression."""
    predictions = np.asarray(predictions).reshape(len(y))
    if task == CLASSIFICATION:
        return float(np.mean(predictions == y))
    return float(np.mean((predictions.astype(np.float64) - y.astype(np.float64)) ** 2))


def usual(task: str, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """The task's usual metrics of ``predictions`` (``USUAL``), from scikit-learn's definitions."""
    from sklearn import metrics as sk

    predictions = np.asarray(predictions).reshape(len(y))
    if task == CLASSIFICATION:
        averaged = {"average": "macro", "zero_division": 0}
        return {
            "accuracy": float(sk.accuracy_score(y, predictions)),
            "precision": float(sk.precision_score(y, predictions, **averaged)),
            "recall": float(sk.recall_score(y, predictions, **averaged)),
            "f1": float(sk.f1_score(y, predictions, **averaged)),
        }
    y, predictions = y.astype(np.float64), predictions.astype(np.float64)
    return {
        "mse": float(sk.mean_squared_error(y, predictions)),
        "mae": float(sk.mean_absolute_error(y, predictions)),
        "r2": float(sk.r2_score(y, predictions)),
    }


def drift(task: str, original: float, value: float) -> float:
    """How much worse ``value`` is than ``original``: positive is worse, in budget units.

    Classification: accuracy lost (0.01 = one point of accuracy). Regression: relative
    MSE increase (0.01 = MSE 1 % higher), so one budget works whatever the target's scale.
    """
    if task == CLASSIFICATION:
        return original - value
    return (value - original) / original if original > 0 else value - original


def agreement(task: str, reference: np.ndarray, predictions: np.ndarray) -> dict:
    """How closely ``predictions`` follow ``reference`` (the original model's predictions).

    ``agreement`` is the share of equal predictions (regression: equal within a relative
    1e-6); ``max_abs_difference`` is given for regression only.
    """
    reference, predictions = np.asarray(reference).ravel(), np.asarray(predictions).ravel()
    if task == CLASSIFICATION:
        return {"agreement": float(np.mean(reference == predictions)), "max_abs_difference": None}
    reference, predictions = reference.astype(np.float64), predictions.astype(np.float64)
    return {
        "agreement": float(np.mean(np.isclose(predictions, reference, rtol=1e-6, atol=0.0))),
        "max_abs_difference": float(np.max(np.abs(reference - predictions))),
    }
