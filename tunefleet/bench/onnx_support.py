"""scikit-learn → ONNX (skl2onnx) and ONNX Runtime sessions, shared by the int8 optimisation
and the onnxruntime platform so both see the same graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tunefleet.bench.errors import BenchError, NotApplicable
from tunefleet.bench.models import LINEAR, model_family

CUDA_PROVIDER, CPU_PROVIDER = "CUDAExecutionProvider", "CPUExecutionProvider"


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
    """A function running one batch: the first output (labels or values), one value per row."""
    output, name = ort_session.get_outputs()[0].name, ort_session.get_inputs()[0].name

    def run(X: np.ndarray) -> np.ndarray:
        return ort_session.run([output], {name: np.ascontiguousarray(X, dtype=np.float32)})[0].reshape(len(X))

    return run
