"""The model under benchmark: load it from bytes, read its validation data, describe it.

Models arrive as pickle or joblib bytes. Unpickling runs code from the file, so only
models from trusted users belong here (the same trust as running their training code).
"""

from __future__ import annotations

import io
import logging
import pickle
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from tunefleet.bench.errors import DataError, ModelError
from tunefleet.bench.metrics import CLASSIFICATION, REGRESSION, TASKS
from tunefleet.tabular import TabularError, feature_matrix, read_csv

logger = logging.getLogger(__name__)

FRAMEWORK = "scikit-learn"
TREE_ENSEMBLE, LINEAR, MLP, OTHER = "tree_ensemble", "linear", "mlp", "other"
_TREE_ENSEMBLE_TYPES = {
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
}


@dataclass(frozen=True)
class ModelInfo:
    """What the benchmark needs to know about a model and its validation data (JSON-ready)."""

    task: str
    framework: str
    model_type: str
    family: str
    n_features: int
    n_samples: int
    classes: list | None
    class_distribution: dict[str, int] | None
    target_summary: dict[str, float] | None
    size_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelInfo:
        return cls(**data)


def load_model(data: bytes) -> Any:
    """A fitted scikit-learn estimator from pickle or joblib bytes; ModelError otherwise."""
    import joblib
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import InconsistentVersionWarning, NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not data:
        raise ModelError("the model file is empty")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InconsistentVersionWarning)
            model = joblib.load(io.BytesIO(data))
    except Exception as exc:  # any decoding failure of a foreign file means "not a model"
        raise ModelError(
            f"the model file is not a pickle or joblib file of a scikit-learn estimator ({type(exc).__name__}: {exc})"
        ) from exc
    for warning in caught:  # e.g. pickled by another scikit-learn version: worth knowing, not fatal
        logger.warning("loading the model: %s: %s", warning.category.__name__, warning.message)
    if not isinstance(model, BaseEstimator):
        raise ModelError(
            f"the model file holds a {type(model).__module__}.{type(model).__name__}, not a scikit-learn estimator"
        )
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ModelError(f"the {type(model).__name__} in the model file is not fitted") from exc
    return model


def dump_model(model: Any) -> bytes:
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def model_family(model: Any) -> str:
    """The family platforms and optimisations key on: tree_ensemble, linear, mlp or other."""
    name, module = type(model).__name__, type(model).__module__
    if name in _TREE_ENSEMBLE_TYPES and module.startswith("sklearn.ensemble"):
        return TREE_ENSEMBLE
    if module.startswith("sklearn.linear_model") or name in ("LinearSVC", "LinearSVR"):
        return LINEAR
    if module.startswith("sklearn.neural_network") and name.startswith("MLP"):
        return MLP
    return OTHER


def read_validation_csv(data: str | bytes, target: str, model: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features X, target y and feature names from a validation CSV, in the model's column order.

    A model fitted on a DataFrame knows its feature names: columns are taken by name, in
    that order. Otherwise every column but the target is a feature, in file order.
    """
    try:
        frame = read_csv(data)
    except TabularError as exc:
        raise DataError(f"validation data: {exc}") from exc
    if target not in frame.columns:
        raise DataError(f"target column {target!r} is not in the validation data (columns: {', '.join(frame.columns)})")
    names = getattr(model, "feature_names_in_", None)
    features = [str(n) for n in names] if names is not None else [c for c in frame.columns if c != target]
    if target in features:
        raise DataError(f"target column {target!r} is one of the model's features")
    if not features:
        raise DataError("the validation data has no feature columns besides the target")
    try:
        X = feature_matrix(frame, features)
    except TabularError as exc:
        raise DataError(f"validation data: {exc}") from exc
    return X, _target_values(frame[target], target, getattr(model, "classes_", None)), features


def _target_values(column: pd.Series, target: str, classes: np.ndarray | None) -> np.ndarray:
    """The target column as labels comparable with the model's classes (or as numbers)."""
    if column.isna().any():
        first = int(np.flatnonzero(column.isna().to_numpy())[0]) + 1
        raise DataError(f"target column {target!r} has missing values (first at data row {first})")
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if classes is None:
        if not numeric:
            raise DataError(f"target column {target!r} is not numeric, as a regression target must be")
        values = column.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise DataError(f"target column {target!r} has infinite values")
        return values
    if numeric and np.issubdtype(np.asarray(classes).dtype, np.number):
        return column.to_numpy()
    # Labels read from text match the model's classes by their printed form ("1" -> 1, "cat" -> "cat").
    by_text = {str(c): c for c in np.asarray(classes).tolist()}
    return np.array([by_text.get(str(v), v) for v in column.tolist()], dtype=object)


def describe(model: Any, X: np.ndarray, y: np.ndarray, task: str, size_bytes: int | None = None) -> ModelInfo:
    """Check that model, task and validation data fit together and describe them.

    ``size_bytes`` is the uploaded file's size; without it, the size of the model pickled.
    """
    from sklearn.base import is_classifier, is_regressor

    if task not in TASKS:
        raise ModelError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    model_type = type(model).__name__
    if task == CLASSIFICATION and not is_classifier(model):
        raise ModelError(f"task is classification but {model_type} is not a classifier")
    if task == REGRESSION and not is_regressor(model):
        raise ModelError(f"task is regression but {model_type} is not a regressor")
    if getattr(model, "n_outputs_", 1) != 1:
        raise ModelError(f"{model_type} predicts {model.n_outputs_} outputs; the benchmark takes single-output models")
    X = np.asarray(X)
    if X.ndim != 2 or len(X) == 0 or len(X) != len(y):
        raise DataError(
            f"validation data must be a non-empty 2-D matrix with one target per row (X {X.shape}, y {len(y)})"
        )
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and expected != X.shape[1]:
        raise DataError(
            f"the model expects {expected} features but the validation data has {X.shape[1]} feature columns"
        )
    if task == CLASSIFICATION:
        classes = np.asarray(model.classes_).tolist()
        counts = pd.Series(np.asarray(y).tolist()).value_counts(sort=False)
        unknown = [str(label) for label in counts.index if label not in set(classes)]
        if unknown:
            raise DataError(f"validation labels not among the model's classes {classes}: {', '.join(sorted(unknown))}")
        distribution = {str(label): int(count) for label, count in counts.items()}
        summary = None
    else:
        classes, distribution = None, None
        values = np.asarray(y, dtype=np.float64)
        summary = {
            name: float(fn(values))
            for name, fn in (("mean", np.mean), ("std", np.std), ("min", np.min), ("max", np.max))
        }
    return ModelInfo(
        task=task,
        framework=FRAMEWORK,
        model_type=model_type,
        family=model_family(model),
        n_features=int(X.shape[1]),
        n_samples=int(len(X)),
        classes=classes,
        class_distribution=distribution,
        target_summary=summary,
        size_bytes=int(size_bytes if size_bytes is not None else len(dump_model(model))),
    )
