"""Loading, describing and reading validation data for the inference benchmark."""

from __future__ import annotations

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from tests.support.bench import case, info
from tunefleet.bench import DataError, ModelError, describe, dump_model, load_model, read_validation_csv


def _csv(X: np.ndarray, y, columns: list[str] | None = None, target: str = "y") -> bytes:
    frame = pd.DataFrame(X, columns=columns or [f"f{i}" for i in range(X.shape[1])])
    frame[target] = y
    return frame.to_csv(index=False).encode()


def test_load_model_takes_pickle_and_joblib_bytes():
    model = case("rf_binary").model
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    for data in (dump_model(model), buffer.getvalue()):
        loaded = load_model(data)
        np.testing.assert_array_equal(loaded.predict(case("rf_binary").X), model.predict(case("rf_binary").X))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the model file is empty"),
        (b"\x89PNG\r\n\x1a\n not a model at all", "not a pickle or joblib file"),
        (None, "not a pickle or joblib file"),  # a truncated pickle, made below
        (pickle.dumps({"weights": [1, 2]}), "holds a builtins.dict, not a scikit-learn estimator"),
        (pickle.dumps(RandomForestClassifier()), "RandomForestClassifier in the model file is not fitted"),
    ],
)
def test_load_model_rejects_what_is_not_a_fitted_estimator(data, message):
    if data is None:
        data = dump_model(case("rf_binary").model)[:200]
    with pytest.raises(ModelError, match=message):
        load_model(data)


def test_describe_classification():
    c = case("rf_multiclass")
    described = describe(c.model, c.X, c.y, "classification", size_bytes=1234)
    assert described.task == "classification"
    assert described.framework == "scikit-learn"
    assert described.model_type == "RandomForestClassifier"
    assert described.family == "tree_ensemble"
    assert (described.n_features, described.n_samples, described.size_bytes) == (6, 200, 1234)
    assert described.classes == [0, 1, 2]
    counts = np.bincount(c.y)
    assert described.class_distribution == {str(k): int(counts[k]) for k in range(3)}
    assert described.target_summary is None


def test_describe_regression_and_round_trip():
    described = info("rf_regression")
    assert described.classes is None and described.class_distribution is None
    assert described.target_summary["min"] <= described.target_summary["mean"] <= described.target_summary["max"]
    assert described.size_bytes == len(dump_model(case("rf_regression").model))
    assert type(described).from_dict(described.to_dict()) == described


def test_describe_checks_task_and_feature_count():
    c = case("rf_binary")
    with pytest.raises(ModelError, match="task is regression but RandomForestClassifier is not a regressor"):
        describe(c.model, c.X, c.y, "regression")
    with pytest.raises(ModelError, match="task must be one of classification, regression, not 'clustering'"):
        describe(c.model, c.X, c.y, "clustering")
    with pytest.raises(DataError, match="the model expects 6 features but the validation data has 5 feature columns"):
        describe(c.model, c.X[:, :5], c.y, "classification")
    with pytest.raises(DataError, match=r"validation labels not among the model's classes \[0, 1\]: 7"):
        describe(c.model, c.X, np.where(np.arange(len(c.y)) == 3, 7, c.y), "classification")


def test_read_validation_csv_in_file_order():
    c = case("rf_binary")
    X, y, features = read_validation_csv(_csv(c.X, c.y), "y", c.model)
    assert features == [f"f{i}" for i in range(6)]
    np.testing.assert_allclose(X, c.X)
    np.testing.assert_array_equal(y, c.y)


def test_read_validation_csv_takes_columns_by_the_models_feature_names():
    c = case("rf_binary")
    names = ["a", "b", "c", "d", "e", "f"]
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(pd.DataFrame(c.X, columns=names), c.y)
    shuffled = [3, 0, 5, 1, 4, 2]
    X, _, features = read_validation_csv(_csv(c.X[:, shuffled], c.y, [names[i] for i in shuffled]), "y", model)
    assert features == names
    np.testing.assert_allclose(X, c.X)


def test_read_validation_csv_maps_text_labels_to_the_models_classes():
    c = case("rf_binary")
    labels = np.array(["cat", "dog"])[c.y]
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(c.X, labels)
    X, y, _ = read_validation_csv(_csv(c.X, labels), "y", model)
    assert describe(model, X, y, "classification").class_distribution == {
        "cat": int((labels == "cat").sum()),
        "dog": int((labels == "dog").sum()),
    }


def test_read_validation_csv_bad_input():
    c = case("rf_binary")
    with pytest.raises(DataError, match=r"target column 'label' is not in the validation data \(columns: f0, .*, y\)"):
        read_validation_csv(_csv(c.X, c.y), "label", c.model)
    text = _csv(c.X, c.y).decode().splitlines()
    text[1] = "abc," + text[1].split(",", 1)[1]
    with pytest.raises(DataError, match="non-numeric columns: f0"):
        read_validation_csv("\n".join(text), "y", c.model)
    target_missing = _csv(c.X, np.where(np.arange(len(c.y)) == 4, np.nan, c.y))
    with pytest.raises(DataError, match="target column 'y' has missing values \\(first at data row 5\\)"):
        read_validation_csv(target_missing, "y", c.model)
    with pytest.raises(DataError, match="validation data: data is empty"):
        read_validation_csv(b"", "y", c.model)
    r = case("rf_regression")
    with pytest.raises(DataError, match="target column 'y' is not numeric, as a regression target must be"):
        read_validation_csv(_csv(r.X, ["high"] * len(r.y)), "y", r.model)
