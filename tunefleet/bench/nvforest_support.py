"""nvForest (RAPIDS' forest inference library, the successor of cuML's ``ForestInference``): a
scikit-learn tree ensemble loaded through its Treelite model, on the GPU or on the CPU.

The converter lives here, one module for the library (imported only by the adapter that uses it):
``load`` builds the nvForest model, tuned for a batch size where asked, and ``predict`` turns its
answers into scikit-learn's (class indices back to labels, cupy arrays back to numpy).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

DEVICES = ("gpu", "cpu")
PRECISIONS = ("single", "double", "native")
LAYOUTS = ("depth_first", "breadth_first", "layered")
# nvForest 26.10 embeds Treelite 4.7 and warns that the Python package's 4.8 checkpoints are newer
# on every load; its predictions are the same (checked against scikit-learn to 1e-13).
_NEWER_TREELITE = r"(?s).*originated from a newer Treelite version"


def gpu_unavailable() -> str | None:
    """None when CUDA sees a device, else why not (no driver, no device)."""
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # cupy's CUDARuntimeError, or an ImportError of its CUDA libraries
        return f"CUDA is not usable here ({type(exc).__name__}: {str(exc).splitlines()[0]})"
    return None if count else "CUDA sees no GPU on this machine"


def load(model: Any, device: str, precision: str, layout: str, tune_batch_size: int | None, artifact: Path):
    """The nvForest model of scikit-learn ``model`` on ``device``; its Treelite checkpoint is written to
    ``artifact``. With ``tune_batch_size``, nvForest's ``optimize`` picks the layout and chunk size
    fastest for batches of that size (timed on random rows, about 0.2 s)."""
    import nvforest
    import treelite

    tl_model = treelite.sklearn.import_model(model)
    tl_model.serialize(str(artifact))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_NEWER_TREELITE, category=UserWarning)
        forest = nvforest.load_from_treelite_model(
            tl_model, device=device, precision=None if precision == "native" else precision, layout=layout
        )
        if tune_batch_size is not None:
            forest = forest.optimize(batch_size=tune_batch_size)
    return forest


def predictions(forest: Any, X: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """scikit-learn's predictions from nvForest's: labels from class indices, values as a flat array."""
    found = forest.predict(X)
    found = found.get() if hasattr(found, "get") else np.asarray(found)  # cupy on the GPU
    found = found.reshape(len(X), -1)[:, 0]
    return found if classes is None else classes[found.astype(np.intp)]


def described(forest: Any) -> dict:
    """What the prepared model runs as: layout, chunk size, precision."""
    return {
        "layout": forest.layout,
        "chunk_size": forest.default_chunk_size,
        "precision": str(forest.precision),
    }


def version() -> str:
    import nvforest

    return nvforest.__version__
