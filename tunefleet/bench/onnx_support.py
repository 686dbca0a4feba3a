"""scikit-learn → ONNX (skl2onnx), uploaded ONNX graphs read, and ONNX Runtime sessions, shared
by the int8 optimisation, ONNX uploads and the onnxruntime platform so all see the same graphs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tunefleet.bench.errors import BenchError, ModelError, NotApplicable
from tunefleet.bench.models import LINEAR, OTHER, TREE_ENSEMBLE, model_family

CUDA_PROVIDER, CPU_PROVIDER = "CUDAExecutionProvider", "CPUExecutionProvider"
ML_DOMAIN = "ai.onnx.ml"
# The attributes in which ai.onnx.ml classifiers (TreeEnsembleClassifier, LinearClassifier,
# SVMClassifier, ZipMap) list their class labels, in the order of their scores.
_CLASS_LABELS = ("classlabels_int64s", "classlabels_ints", "classlabels_strings")
_INPUT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}


def to_onnx_bytes(model: Any) -> bytes:
    """The model as an ONNX graph with one float32 input ``X`` whose first output is the prediction.

    Linear models are written as MatMul + Add rather than the ai.onnx.ml Linear* operators:
    the same arithmetic, and the form ONNX Runtime's dynamic quantisation can quantise.
    Classifiers output plain probability tensors (no ZipMap of dictionaries).
    """
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    options = {id(model): {"zipmap": False}} if hasattr(model, "predict_proba") else None
    black_op = {"LinearClassifier", "LinearRegressor"} if model_family(model) == LINEAR else None
    try:
        graph = to_onnx(
            model,
            initial_types=[("X", FloatTensorType([None, int(model.n_features_in_)]))],
            options=options,
            black_op=black_op,
        )
    except Exception as exc:  # skl2onnx raises many types for models it cannot express
        raise NotApplicable(f"skl2onnx cannot convert {type(model).__name__}: {type(exc).__name__}: {exc}") from exc
    return graph.SerializeToString()


def parse_onnx(data: bytes) -> Any | None:
    """The ONNX ModelProto ``data`` holds, or None when it is no ONNX model with a graph and outputs."""
    import onnx
    from google.protobuf.message import DecodeError

    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except DecodeError:
        return None
    return proto if proto.HasField("graph") and len(proto.graph.output) else None


def graph_facts(proto: Any) -> dict:
    """What the benchmark reads from an uploaded graph: ``model_type``, ``family``,
    ``n_features_in_`` (None when dynamic) and ``classes`` (None for a regressor).

    ModelError when the benchmark cannot feed the graph its validation data as one 2-D
    float tensor, or read a prediction from its first output, or when its weights live in
    files beside it: an upload is one self-contained file, and reading paths it names would
    read the server's files.
    """
    from onnx import TensorProto
    from onnx.helper import printable_type

    graph = proto.graph
    external = sorted(set(_external_tensors(proto)))
    if external:
        raise ModelError(
            f"the ONNX model keeps tensors in external files ({', '.join(external)}); "
            "upload it with every tensor inside (onnx.save_model(model, path, save_as_external_data=False))"
        )
    initialisers = {tensor.name for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initialisers]
    if len(inputs) != 1:
        raise ModelError(
            f"the ONNX graph takes {len(inputs)} inputs ({', '.join(v.name for v in inputs)}); "
            "the benchmark feeds it one, the feature matrix"
        )
    tensor = inputs[0].type.tensor_type
    if tensor.elem_type not in (TensorProto.FLOAT, TensorProto.DOUBLE) or len(tensor.shape.dim) != 2:
        raise ModelError(
            f"the ONNX graph's input {inputs[0].name!r} must be a 2-D float or double tensor (rows × features), "
            f"not {printable_type(inputs[0].type)}"
        )
    first = graph.output[0]
    if not first.type.HasField("tensor_type"):
        raise ModelError(
            f"the ONNX graph's first output {first.name!r} must be a tensor of labels or values, "
            f"not {printable_type(first.type)}"
        )
    width = tensor.shape.dim[1]
    return {
        "model_type": graph.name or "ONNX graph",
        "family": _family(graph),
        "n_features_in_": width.dim_value if width.HasField("dim_value") else None,
        "classes": _class_labels(graph),
    }


def _family(graph: Any) -> str:
    """tree_ensemble or linear by the graph's ai.onnx.ml operators, else other (ONNX Runtime's CUDA
    provider has no tree-ensemble kernels, which is what the onnxruntime-cuda platform keys on)."""
    operators = {node.op_type for node in graph.node if node.domain == ML_DOMAIN}
    if any(op.startswith("TreeEnsemble") for op in operators):
        return TREE_ENSEMBLE
    if operators & {"LinearClassifier", "LinearRegressor"}:
        return LINEAR
    return OTHER


def _class_labels(graph: Any) -> list | None:
    """The labels the graph's first ai.onnx.ml classifier lists, or None when it lists none (a regressor)."""
    from onnx.helper import get_attribute_value

    for node in graph.node:
        for attribute in node.attribute if node.domain == ML_DOMAIN else ():
            labels = get_attribute_value(attribute) if attribute.name in _CLASS_LABELS else None
            if labels:
                return [label.decode() if isinstance(label, bytes) else int(label) for label in labels]
    return None


def _external_tensors(message: Any) -> Iterator[str]:
    """Names of the tensors anywhere in ``message`` (subgraphs and functions too) whose data lives in a file."""
    import onnx

    if isinstance(message, onnx.TensorProto) and message.data_location == onnx.TensorProto.EXTERNAL:
        yield message.name
    for field, value in message.ListFields():
        if field.message_type is not None:
            for item in value if field.is_repeated else (value,):
                yield from _external_tensors(item)


def available_providers() -> list[str]:
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def session(onnx_bytes: bytes, threads: int, device: str = "cpu") -> Any:
    """An ONNX Runtime session on ``device`` with its thread counts fixed (intra-op, 1 inter-op)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = [CUDA_PROVIDER, CPU_PROVIDER] if device == "cuda" else [CPU_PROVIDER]
    result = onnxruntime.InferenceSession(onnx_bytes, options, providers=providers)
    if device == "cuda" and result.get_providers()[0] != CUDA_PROVIDER:
        raise BenchError(
            f"onnxruntime did not start the CUDA execution provider (session providers: {result.get_providers()})"
        )
    return result


def batch_runner(ort_session: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A function running one batch: the first output (labels or values), one value per row.

    Rows go in as float32, or float64 for a graph whose input is double.
    """
    output, feed = ort_session.get_outputs()[0].name, ort_session.get_inputs()[0]
    dtype = _INPUT_DTYPES.get(feed.type, np.float32)

    def run(X: np.ndarray) -> np.ndarray:
        return ort_session.run([output], {feed.name: np.ascontiguousarray(X, dtype=dtype)})[0].reshape(len(X))

    return run
