"""The model under benchmark: load it from bytes, read its validation data, describe it.

A model arrives in one of three formats (``model_format``):

- skops (``skops.io.dump``, a zip of JSON and arrays): loaded without running code from
  the file. Besides the types skops trusts itself, tunefleet trusts the scikit-learn, numpy
  and scipy types the file names, and only as objects restored from their state; a file
  naming any other type, or calling one, is refused.
- ONNX (e.g. from skl2onnx): kept as the graph itself and run by ONNX Runtime, wrapped in an
  ``OnnxModel``; only the onnxruntime platforms measure it.
- pickle or joblib: unpickling runs code from the file, so these load only with
  ``trust_pickle=True``, which the operator's CLI passes and the HTTP service never does.

What gets stored is ``dump_model``'s output, skops or ONNX: the benchmark reads a model back
with ``load_model`` as it is, so a nightly run never unpickles uploaded bytes again.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tunefleet.bench.errors import DataError, ModelError
from tunefleet.bench.metrics import CLASSIFICATION, REGRESSION, TASKS
from tunefleet.errors import TooLarge
from tunefleet.tabular import TabularError, feature_matrix, read_csv

if TYPE_CHECKING:  # pandas takes ~0.6 s to import: only the functions that read tables load it
    import pandas as pd

logger = logging.getLogger(__name__)

FRAMEWORK, ONNX_FRAMEWORK = "scikit-learn", "onnx"
FRAMEWORK_NAMES = {FRAMEWORK: "scikit-learn", ONNX_FRAMEWORK: "ONNX"}
SKOPS, ONNX, PICKLE = "skops", "onnx", "pickle"  # model file formats
TREE_ENSEMBLE, LINEAR, MLP, OTHER = "tree_ensemble", "linear", "mlp", "other"
_TREE_ENSEMBLE_TYPES = {
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
}
# Prefixes of pickle streams: the PROTO opcode every pickle of protocol 2 or later starts with
# (protocols 0 and 1 date from Python 2 and are not recognised), then joblib's compressed
# files (zlib, gzip, bz2, xz, lzma, lz4 and joblib's old zfile format; joblib.compressor).
_PICKLE_PREFIXES = (b"\x80", b"\x78", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00", b"\x04\x22\x4d\x18", b"ZF")
_TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.")
# skops loaders that restore an object from its state (ObjectNode: __new__, then __setstate__)
# or rebuild a scikit-learn tree with sklearn's own Tree constructor (TreeNode). The others call
# the named type or function with arguments from the file (ConstructorFromReduceNode,
# ReduceNode, LossNode, RandomGeneratorNode), call it on dictionary keys (TypeNode) or hand it
# to the model as a function (FunctionNode, PartialNode, MethodNode): numpy.memmap(path,
# mode="w+") or a FunctionTransformer(func=sklearn.datasets.dump_svmlight_file) write files on
# the server, so a type skops does not trust itself is taken from state only, and the only
# functions taken are those that just compute (see _computing_functions).
_STATE_LOADERS = {"ObjectNode", "TreeNode"}

# One skops load or dump at a time: concurrent ones in threads (the API's uploads) failed with
# "SystemError: AST constructor recursion depth mismatch" (CPython 3.11.7, 50 uploads on 8 threads),
# and warnings.catch_warnings, around each load, is not thread-safe either.
_SKOPS_LOCK = threading.Lock()


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


@dataclass(frozen=True, eq=False)  # eq=False: classes_ is an array, which dataclass equality cannot compare
class OnnxModel:
    """An uploaded ONNX graph, run by ONNX Runtime, standing in for an estimator.

    It answers what ``read_validation_csv`` and ``describe`` ask of an estimator under
    scikit-learn's names: ``n_features_in_`` is the width of the graph's input (None when
    that dimension is dynamic), ``classes_`` the labels of its ai.onnx.ml classifier (None
    for a regressor). Its prediction is the graph's first output, as skl2onnx writes them.
    """

    payload: bytes = field(repr=False)
    model_type: str
    family: str
    n_features_in_: int | None
    classes_: np.ndarray | None

    @classmethod
    def from_bytes(cls, data: bytes) -> OnnxModel:
        """The graph ``data`` holds, checked and described; ModelError when the benchmark cannot run it."""
        from tunefleet.bench import onnx_support

        proto = onnx_support.parse_onnx(data)
        if proto is None:
            raise ModelError("the model file is not an ONNX model with a graph")
        facts = onnx_support.graph_facts(proto)
        try:  # the session checks what the graph's metadata cannot: operators, types, shapes
            onnx_support.session(data, threads=1)
        except Exception as exc:  # ONNX Runtime raises its own types for graphs it cannot run
            raise ModelError(f"ONNX Runtime cannot load the ONNX graph ({type(exc).__name__}: {exc})") from exc
        classes = facts.pop("classes")
        return cls(payload=data, classes_=None if classes is None else np.asarray(classes), **facts)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels or values for the rows of X: the graph's first output, on one thread."""
        from tunefleet.bench.onnx_support import batch_runner, session

        return batch_runner(session(self.payload, threads=1))(X)


def model_format(data: bytes) -> str:
    """``skops``, ``onnx`` or ``pickle`` (joblib included), told from the bytes without loading them;
    ModelError when they are none of these."""
    from tunefleet.bench.onnx_support import parse_onnx

    if data.startswith(b"PK\x03\x04"):  # a zip archive, which is what skops writes
        return SKOPS
    if data.startswith(_PICKLE_PREFIXES):
        return PICKLE
    if parse_onnx(data) is not None:
        return ONNX
    raise ModelError(f"the model file is not a skops, ONNX, pickle or joblib file (it starts with {data[:8]!r})")


def load_model(data: bytes, trust_pickle: bool = False) -> Any:
    """A fitted scikit-learn estimator or an ``OnnxModel``, from skops, ONNX or (trusted) pickle bytes.

    Pickle and joblib run code when loaded: ``trust_pickle`` is for the operator's CLI only.
    Raises ModelError for anything else, naming what is wrong.
    """
    if not data:
        raise ModelError("the model file is empty")
    fmt = model_format(data)
    if fmt == ONNX:
        return OnnxModel.from_bytes(data)
    if fmt == SKOPS:
        import skops.io

        _check_unpacked_size(data)
        with _SKOPS_LOCK:
            trusted = _skops_trusted(data)
            model = _decoded(lambda: skops.io.loads(data, trusted=trusted), "a valid skops file")
    elif trust_pickle:
        import joblib

        model = _decoded(lambda: joblib.load(io.BytesIO(data)), "a pickle or joblib file of a scikit-learn estimator")
    else:
        raise ModelError(
            "the model file is a pickle or joblib file, and loading those runs code from the file: "
            "save the model with skops (skops.io.dump(model, 'model.skops')) or convert it to ONNX (skl2onnx), "
            "or have an operator upload it with `tunefleet model upload --trust-pickle`"
        )
    return _fitted_estimator(model)


def _check_unpacked_size(data: bytes) -> None:
    """A skops file is a zip: its members' sizes, as the archive states them, are checked before any
    is decompressed (a few KB may claim gigabytes), against TUNEFLEET_MAX_MODEL_MB."""
    from tunefleet.settings import get_settings

    limit = get_settings().max_model_mb * 2**20
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ModelError(f"the model file is not a valid skops file (BadZipFile: {exc})") from exc
    unpacked = sum(member.file_size for member in members)
    if len(members) > 100_000 or unpacked > limit:
        raise TooLarge(
            f"the model file unpacks to {unpacked} bytes in {len(members)} parts, more than "
            f"{limit / 2**20:g} MiB (TUNEFLEET_MAX_MODEL_MB)"
        )


def dump_model(model: Any) -> bytes:
    """The bytes to store: skops for an estimator, the graph itself for an ``OnnxModel``.

    The skops bytes pass the checks ``load_model`` makes, so what is stored can be read back:
    an estimator holding other types (a custom class, a plain function) is refused here.
    """
    if isinstance(model, OnnxModel):
        return model.payload
    import skops.io

    with _SKOPS_LOCK:
        try:
            data = skops.io.dumps(model, compression=zipfile.ZIP_DEFLATED)  # skops' default, stored, is 3-15× larger
        except Exception as exc:  # skops raises its own and others' types for objects it cannot write
            raise ModelError(f"skops cannot write the {type(model).__name__} ({type(exc).__name__}: {exc})") from exc
        _skops_trusted(data)
    return data


def _skops_trusted(data: bytes) -> list[str]:
    """The types of a skops file beyond skops' own safe set, if tunefleet trusts them all (ModelError if not).

    Trusted: scikit-learn, numpy and scipy types restored from their state (see _STATE_LOADERS)
    and the scikit-learn functions that only compute.
    """
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(data=data)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            nodes = list(_skops_nodes(json.loads(archive.read("schema.json"))))
    except Exception as exc:  # any decoding failure of a foreign file means "not a skops file"
        raise ModelError(f"the model file is not a valid skops file ({type(exc).__name__}: {exc})") from exc
    foreign = [name for name in untrusted if not name.startswith(_TRUSTED_MODULES)]
    if foreign:
        raise ModelError(
            f"the model file holds types that are not scikit-learn, numpy or scipy: {', '.join(foreign)}; "
            "tunefleet loads no others"
        )
    called = sorted(
        {name for name, loader in nodes if name in untrusted and loader not in _STATE_LOADERS} - _computing_functions()
    )
    if called:
        raise ModelError(
            f"the model file would call {', '.join(called)} (as a constructor or function, with arguments from "
            "the file); tunefleet takes scikit-learn, numpy and scipy types only as objects restored from their state"
        )
    return untrusted


def _computing_functions() -> set[str]:
    """Functions estimators take as parameters that only compute from their arguments, named as skops
    names them: SelectKBest's and SelectPercentile's score functions (f_classif by default)."""
    from sklearn import feature_selection as fs

    scores = (
        fs.chi2,
        fs.f_classif,
        fs.f_regression,
        fs.r_regression,
        fs.mutual_info_classif,
        fs.mutual_info_regression,
    )
    return {f"{function.__module__}.{function.__name__}" for function in scores}


def _skops_nodes(state: Any) -> Iterator[tuple[str, str]]:
    """``(module.name, loader)`` of every node of a skops schema, however deep."""
    if isinstance(state, dict):
        if "__loader__" in state:
            yield f"{state.get('__module__')}.{state.get('__class__')}", state["__loader__"]
        for value in state.values():
            yield from _skops_nodes(value)
    elif isinstance(state, list):
        for value in state:
            yield from _skops_nodes(value)


def _decoded(load: Callable[[], Any], what: str) -> Any:
    """``load()``'s object; ModelError saying the file is not ``what`` when it fails."""
    from sklearn.exceptions import InconsistentVersionWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InconsistentVersionWarning)
            model = load()
    except Exception as exc:  # any decoding failure of a foreign file means "not a model"
        raise ModelError(f"the model file is not {what} ({type(exc).__name__}: {exc})") from exc
    for warning in caught:  # e.g. written by another scikit-learn version: worth knowing, not fatal
        logger.warning("loading the model: %s: %s", warning.category.__name__, warning.message)
    return model


def _fitted_estimator(model: Any) -> Any:
    """``model`` when it is a fitted scikit-learn estimator; ModelError otherwise."""
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(model, BaseEstimator):
        raise ModelError(
            f"the model file holds a {type(model).__module__}.{type(model).__name__}, not a scikit-learn estimator"
        )
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ModelError(f"the {type(model).__name__} in the model file is not fitted") from exc
    return model


def model_family(model: Any) -> str:
    """The family platforms and optimisations key on: tree_ensemble, linear, mlp or other."""
    if isinstance(model, OnnxModel):
        return model.family
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
    that order. Otherwise (an ONNX model too) every column but the target is a feature, in file order.
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
    import pandas as pd

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

    ``size_bytes`` is the uploaded file's size; without it, the size of ``dump_model``'s bytes.
    """
    import pandas as pd

    if task not in TASKS:
        raise ModelError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    if isinstance(model, OnnxModel):
        framework, model_type = ONNX_FRAMEWORK, model.model_type
        _check_onnx_task(model, task)
    else:
        framework, model_type = FRAMEWORK, type(model).__name__
        _check_estimator_task(model, task)
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
        framework=framework,
        model_type=model_type,
        family=model_family(model),
        n_features=int(X.shape[1]),
        n_samples=int(len(X)),
        classes=classes,
        class_distribution=distribution,
        target_summary=summary,
        size_bytes=int(size_bytes if size_bytes is not None else len(dump_model(model))),
    )


def _check_estimator_task(model: Any, task: str) -> None:
    from sklearn.base import is_classifier, is_regressor

    model_type = type(model).__name__
    if task == CLASSIFICATION and not is_classifier(model):
        raise ModelError(f"task is classification but {model_type} is not a classifier")
    if task == REGRESSION and not is_regressor(model):
        raise ModelError(f"task is regression but {model_type} is not a regressor")
    if getattr(model, "n_outputs_", 1) != 1:
        raise ModelError(f"{model_type} predicts {model.n_outputs_} outputs; the benchmark takes single-output models")


def _check_onnx_task(model: OnnxModel, task: str) -> None:
    """A graph is a classifier when it names its class labels, as ai.onnx.ml classifiers do."""
    if task == CLASSIFICATION and model.classes_ is None:
        raise ModelError(
            f"task is classification but the ONNX graph {model.model_type} names no class labels "
            "(the classlabels_* attribute of an ai.onnx.ml classifier such as TreeEnsembleClassifier)"
        )
    if task == REGRESSION and model.classes_ is not None:
        raise ModelError(
            f"task is regression but the ONNX graph {model.model_type} is a classifier "
            f"(class labels {model.classes_.tolist()})"
        )
