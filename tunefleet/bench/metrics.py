"""Quality of predictions: the task's usual metrics, the drift against the original model judged on
one of them (accuracy or MSE unless the config's ``drift_metric`` picks another), agreement."""

from __future__ import annotations

import numpy as np

CLASSIFICATION, REGRESSION = "classification", "regression"
TASKS = (CLASSIFICATION, REGRESSION)
# What a cell reports of its predictions, per task. Precision, recall and F1 are macro averages
# (every class counts the same, whatever its size). ROC AUC is not among them: platforms hand back
# labels, not probabilities.
USUAL = {CLASSIFICATION: ("accuracy", "precision", "recall", "f1"), REGRESSION: ("mse", "mae", "r2")}
METRICS = (*USUAL[CLASSIFICATION], *USUAL[REGRESSION])
ERRORS = ("mse", "mae")  # lower is better; for every other metric higher is


def metric_name(task: str, chosen: str | None = None) -> str:
    """The metric drift is judged on: ``chosen`` (one of the task's ``USUAL``), else accuracy or MSE."""
    if chosen is None:
        return "accuracy" if task == CLASSIFICATION else "mse"
    if chosen not in USUAL[task]:
        raise ValueError(f"drift_metric {chosen!r} is not a {task} metric (choose one of {', '.join(USUAL[task])})")
    return chosen


def score(task: str, y: np.ndarray, predictions: np.ndarray, metric: str | None = None) -> float:
    """``metric`` (default: accuracy for classification, mean squared error for regression)."""
    return usual(task, y, predictions)[metric_name(task, metric)]


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


def drift(metric: str, original: float, value: float) -> float:
    """How much worse ``value`` of ``metric`` is than ``original``: positive is worse, in budget units.

    Scores (accuracy, precision, recall, F1, R²): the score lost (0.01 = one point). Errors (MSE,
    MAE): the relative increase (0.01 = 1 % higher), so one budget works whatever the target's scale.
    """
    if metric not in ERRORS:
        return original - value
    return (value - original) / original if original > 0 else value - original


def drift_meaning(metric: str) -> str:
    """What a drift of ``metric`` counts, for reports: ``accuracy lost``, ``relative MSE increase``."""
    return f"relative {metric.upper()} increase" if metric in ERRORS else f"{metric} lost"


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
