"""Loading (skops, ONNX, trusted pickle), describing and reading validation data for the inference benchmark."""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import zipfile

import joblib
import numpy as np
import onnx
import pandas as pd
import pytest
import skops.io
from skl2onnx import to_onnx
from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline

from tests.support.bench import TREE_CASES, assert_same_predictions, case, info, onnx_upload, validation_csv
from tunefleet.bench import DataError, ModelError, describe, dump_model, load_model, read_validation_csv
from tunefleet.bench.models import OnnxModel, model_format
from tunefleet.bench.onnx_support import to_onnx_bytes

FAMILIES = [*TREE_CASES, "logistic", "linear_regression", "mlp", "knn"]


class Marker:
    """A class of this test module: a type neither skops nor tunefleet trusts."""


class MakesADirectory:
    """Unpickling it makes the directory ``path``: the code a pickle runs when it is loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (str(self.path),)


def _json_node(value) -> dict:
    kind = {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode"}
    return {**kind, "content": json.dumps(value), "is_json": True}


def _tuple_node(*items: dict) -> dict:
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": list(items)}


def _skops_with_attribute(model, name: str, node: dict) -> bytes:
    """``model`` written by skops with one more attribute, given as a raw schema node, as a crafted file holds it."""
    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(model))) as archive:
        files = {member: archive.read(member) for member in archive.namelist()}
    schema = json.loads(files["schema.json"])
    attributes = schema["content"]
    attributes["key_types"]["content"].append(attributes["key_types"]["content"][0])  # the type of a str key
    attributes["content"][name] = node
    files["schema.json"] = json.dumps(schema)
    crafted = io.BytesIO()
    with zipfile.ZipFile(crafted, "w") as archive:
        for member, content in files.items():
            archive.writestr(member, content)
    return crafted.getvalue()


@pytest.mark.parametrize("name", FAMILIES)
def test_dump_model_writes_skops_that_load_model_reads_back(name):
    c = case(name)
    data = dump_model(c.model)
    assert model_format(data) == "skops" and data.startswith(b"PK")
    loaded = load_model(data)
    assert type(loaded) is type(c.model)
    np.testing.assert_array_equal(loaded.predict(c.X), c.model.predict(c.X))


def test_a_pipeline_that_selects_features_by_a_score_function_round_trips():
    c = case("logistic")
    model = make_pipeline(SelectKBest(k=4), LogisticRegression()).fit(c.X, c.y)  # score_func: f_classif
    np.testing.assert_array_equal(load_model(dump_model(model)).predict(c.X), model.predict(c.X))


def test_pickle_and_joblib_load_only_when_trusted():
    c = case("rf_binary")
    compressed = io.BytesIO()
    joblib.dump(c.model, compressed, compress=3)
    for data in (pickle.dumps(c.model), compressed.getvalue()):
        assert model_format(data) == "pickle"
        with pytest.raises(
            ModelError, match="a pickle or joblib file, and loading those runs code from the file"
        ) as refused:
            load_model(data)
        assert "skops.io.dump" in str(refused.value) and "tunefleet model upload --trust-pickle" in str(refused.value)
        np.testing.assert_array_equal(load_model(data, trust_pickle=True).predict(c.X), c.model.predict(c.X))


def test_a_refused_pickle_runs_none_of_its_code(tmp_path):
    marker = tmp_path / "made-by-unpickling"
    data = pickle.dumps(MakesADirectory(marker))
    with pytest.raises(ModelError, match="runs code from the file"):
        load_model(data)
    assert not marker.exists()
    with pytest.raises(ModelError, match="holds a builtins.NoneType, not a scikit-learn estimator"):
        load_model(data, trust_pickle=True)  # the operator's trust: the file's code runs
    assert marker.is_dir()


def test_a_skops_file_holding_other_types_is_refused_naming_them():
    model = LinearRegression().fit(case("linear_regression").X, case("linear_regression").y)
    model.notes, model.scale = Marker(), functools.partial(np.multiply, 2.0)
    message = (
        "the model file holds types that are not scikit-learn, numpy or scipy: "
        "functools.partial, tests.core.test_bench_models.Marker; tunefleet loads no others"
    )
    with pytest.raises(ModelError, match=message):
        load_model(skops.io.dumps(model))
    with pytest.raises(ModelError, match=message):  # nor is such a model stored in a form the benchmark cannot read
        dump_model(model)


def test_a_skops_file_that_would_call_a_numpy_type_is_refused_before_it_runs(tmp_path):
    victim = tmp_path / "written-by-the-model-file"
    memmap = {  # numpy.memmap(victim, "uint8", "w+", 0, (4,)) creates the file
        "__class__": "memmap",
        "__module__": "numpy",
        "__loader__": "ConstructorFromReduceNode",
        "content": _tuple_node(*map(_json_node, (str(victim), "uint8", "w+", 0)), _tuple_node(_json_node(4))),
    }
    data = _skops_with_attribute(LinearRegression().fit(np.eye(3), [1.0, 2.0, 3.0]), "cache", memmap)
    assert skops.io.get_untrusted_types(data=data) == ["numpy.memmap"]  # a numpy type, yet not one to call
    with pytest.raises(ModelError, match=r"the model file would call numpy.memmap \(as a constructor or function"):
        load_model(data)
    assert not victim.exists()
    skops.io.loads(data, trusted=["numpy.memmap"])  # what trusting the type by its module alone would do
    assert victim.exists()


@pytest.mark.parametrize(
    ("data", "trust_pickle", "message"),
    [
        (b"", False, "the model file is empty"),
        (b"\x89PNG\r\n\x1a\n not a model at all", False, "not a skops, ONNX, pickle or joblib file"),
        ("truncated skops", False, "not a valid skops file"),
        (skops.io.dumps({"weights": [1, 2]}), False, "holds a builtins.dict, not a scikit-learn estimator"),
        (skops.io.dumps(RandomForestClassifier()), False, "RandomForestClassifier in the model file is not fitted"),
        ("truncated pickle", True, "not a pickle or joblib file"),
        (pickle.dumps({"weights": [1, 2]}), True, "holds a builtins.dict, not a scikit-learn estimator"),
        (pickle.dumps(RandomForestClassifier()), True, "RandomForestClassifier in the model file is not fitted"),
    ],
)
def test_load_model_rejects_what_is_not_a_fitted_estimator(data, trust_pickle, message):
    model = case("rf_binary").model
    data = {"truncated skops": dump_model(model)[:200], "truncated pickle": pickle.dumps(model)[:200]}.get(data, data)
    with pytest.raises(ModelError, match=message):
        load_model(data, trust_pickle=trust_pickle)


@pytest.mark.parametrize(
    ("name", "task", "family"),
    [("rf_multiclass", "classification", "tree_ensemble"), ("linear_regression", "regression", "linear")],
)
def test_an_onnx_upload_is_described_from_its_graph(name, task, family):
    c = case(name)
    data = onnx_upload(name)
    model = load_model(data)
    assert isinstance(model, OnnxModel) and model_format(data) == "onnx" and dump_model(model) == data
    X, y, features = read_validation_csv(validation_csv(c.X, c.y), "y", model)
    assert features == [f"f{i}" for i in range(6)]
    described = describe(model, X, y, task, size_bytes=len(data))
    assert (described.framework, described.family, described.n_features) == ("onnx", family, 6)
    assert described.model_type == f"ONNX({type(c.model).__name__})"
    assert described.classes == (np.unique(c.y).tolist() if task == "classification" else None)
    assert_same_predictions(name, model.predict(X))


def test_an_onnx_upload_with_a_dynamic_width_takes_it_from_the_data():
    c = case("rf_binary")
    model = load_model(to_onnx(c.model, initial_types=[("X", FloatTensorType([None, None]))]).SerializeToString())
    assert model.n_features_in_ is None
    assert describe(model, c.X, c.y, "classification").n_features == 6


def test_an_onnx_upload_with_a_double_input_is_fed_float64():
    c = case("linear_regression")
    model = load_model(to_onnx(c.model, initial_types=[("X", DoubleTensorType([None, 6]))]).SerializeToString())
    np.testing.assert_allclose(model.predict(c.X), c.model.predict(c.X), rtol=1e-12)


def test_onnx_uploads_are_checked_against_task_and_data():
    c, r = case("rf_binary"), case("linear_regression")
    classifier, regressor = load_model(onnx_upload("rf_binary")), load_model(onnx_upload("linear_regression"))
    with pytest.raises(
        ModelError, match="task is regression but the ONNX graph ONNX\\(RandomForestClassifier\\) is a classifier"
    ):
        describe(classifier, c.X, c.y, "regression")
    with pytest.raises(
        ModelError, match="task is classification but the ONNX graph ONNX\\(LinearRegression\\) names no class labels"
    ):
        describe(regressor, r.X, r.y, "classification")
    X, y, _ = read_validation_csv(validation_csv(c.X[:, :5], c.y), "y", classifier)
    with pytest.raises(DataError, match="the model expects 6 features but the validation data has 5 feature columns"):
        describe(classifier, X, y, "classification")


def test_an_onnx_model_with_tensors_in_external_files_is_refused():
    proto = onnx.load_from_string(to_onnx_bytes(case("linear_regression").model))  # MatMul weights: initialisers
    weights = proto.graph.initializer[0]
    weights.ClearField("raw_data")
    weights.data_location = onnx.TensorProto.EXTERNAL
    weights.external_data.add(key="location", value="config.toml")  # a file of the server's working directory
    with pytest.raises(ModelError, match=f"keeps tensors in external files \\({weights.name}\\)"):
        load_model(proto.SerializeToString())


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
    # the stored size: skops names arrays by object id and dates its zip entries, so two dumps differ by a few bytes
    assert described.size_bytes == pytest.approx(len(dump_model(case("rf_regression").model)), rel=0.01)
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
    X, y, features = read_validation_csv(validation_csv(c.X, c.y), "y", c.model)
    assert features == [f"f{i}" for i in range(6)]
    np.testing.assert_allclose(X, c.X)
    np.testing.assert_array_equal(y, c.y)


def test_read_validation_csv_takes_columns_by_the_models_feature_names():
    c = case("rf_binary")
    names = ["a", "b", "c", "d", "e", "f"]
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(pd.DataFrame(c.X, columns=names), c.y)
    shuffled = [3, 0, 5, 1, 4, 2]
    X, _, features = read_validation_csv(
        validation_csv(c.X[:, shuffled], c.y, [names[i] for i in shuffled]), "y", model
    )
    assert features == names
    np.testing.assert_allclose(X, c.X)


def test_read_validation_csv_maps_text_labels_to_the_models_classes():
    c = case("rf_binary")
    labels = np.array(["cat", "dog"])[c.y]
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(c.X, labels)
    X, y, _ = read_validation_csv(validation_csv(c.X, labels), "y", model)
    assert describe(model, X, y, "classification").class_distribution == {
        "cat": int((labels == "cat").sum()),
        "dog": int((labels == "dog").sum()),
    }


def test_read_validation_csv_bad_input():
    c = case("rf_binary")
    with pytest.raises(DataError, match=r"target column 'label' is not in the validation data \(columns: f0, .*, y\)"):
        read_validation_csv(validation_csv(c.X, c.y), "label", c.model)
    text = validation_csv(c.X, c.y).decode().splitlines()
    text[1] = "abc," + text[1].split(",", 1)[1]
    with pytest.raises(DataError, match="non-numeric columns: f0"):
        read_validation_csv("\n".join(text), "y", c.model)
    target_missing = validation_csv(c.X, np.where(np.arange(len(c.y)) == 4, np.nan, c.y))
    with pytest.raises(DataError, match="target column 'y' has missing values \\(first at data row 5\\)"):
        read_validation_csv(target_missing, "y", c.model)
    with pytest.raises(DataError, match="validation data: data is empty"):
        read_validation_csv(b"", "y", c.model)
    r = case("rf_regression")
    with pytest.raises(DataError, match="target column 'y' is not numeric, as a regression target must be"):
        read_validation_csv(validation_csv(r.X, ["high"] * len(r.y)), "y", r.model)
