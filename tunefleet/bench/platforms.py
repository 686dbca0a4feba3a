"""Inference platforms: one adapter each, preparing a candidate and running batches on it.

An adapter declares what it takes (tasks, frameworks, model families, candidate formats,
hardware); ``supports`` checks a model against that, ``unavailable`` checks this machine
(libraries, compiler, CUDA), and ``prepare`` returns a ``Predictor`` whose thread counts
are set explicitly and recorded. Heavy libraries are imported inside the adapter using them.
Only the ONNX Runtime adapter takes models uploaded as ONNX; the others take scikit-learn.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tunefleet.bench.errors import BenchError
from tunefleet.bench.metrics import TASKS
from tunefleet.bench.models import (
    FRAMEWORK,
    FRAMEWORK_NAMES,
    LINEAR,
    MLP,
    ONNX_FRAMEWORK,
    OTHER,
    TREE_ENSEMBLE,
    ModelInfo,
)
from tunefleet.bench.optimisations import FORMAT_NAMES, ONNX, SKLEARN, Candidate
from tunefleet.validation import is_int

logger = logging.getLogger(__name__)

CPU, GPU = "cpu", "gpu"
MAX_TUNE_BATCH = 1_000_000


@dataclass
class Predictor:
    """A candidate prepared on a platform. ``predict(X)`` returns labels (classification) or values."""

    predict: Callable[[np.ndarray], np.ndarray]
    threads: dict[str, int]
    artifact: Path
    details: dict = field(default_factory=dict)
    close: Callable[[], None] = lambda: None


class Platform:
    """Base adapter: declarations plus the checks derived from them."""

    hardware = CPU
    tasks: tuple[str, ...] = TASKS
    frameworks: tuple[str, ...] = (FRAMEWORK,)
    families: tuple[str, ...] = (TREE_ENSEMBLE, LINEAR, MLP, OTHER)
    formats: tuple[str, ...] = (SKLEARN,)
    modules: tuple[str, ...] = ()  # Python modules the adapter needs on the machine

    def supports(self, info: ModelInfo, hardware: str) -> str | None:
        """None when this adapter can run the model on ``hardware``, else the reason it cannot."""
        if hardware != self.hardware:
            return f"needs {self.hardware} hardware, not {hardware}"
        if info.task not in self.tasks:
            return f"does not do {info.task}"
        if info.framework not in self.frameworks:
            return (
                f"takes {' and '.join(FRAMEWORK_NAMES[f] for f in self.frameworks)} models; "
                f"this model was uploaded as {FRAMEWORK_NAMES[info.framework]}"
            )
        # families are the scikit-learn models an adapter can convert; an ONNX graph runs as uploaded
        if info.framework == FRAMEWORK and info.family not in self.families:
            return f"cannot take {info.model_type} (takes {', '.join(self.families)})"
        return None

    def takes_format(self, fmt: str) -> str | None:
        """None when candidates of format ``fmt`` (sklearn or onnx) can be prepared, else the reason."""
        if fmt in self.formats:
            return None
        return f"takes {' and '.join(FORMAT_NAMES[f] for f in self.formats)}, not {FORMAT_NAMES[fmt]}"

    def unavailable(self) -> str | None:
        """None when this machine can run the adapter, else what is missing."""
        missing = [name for name in self.modules if importlib.util.find_spec(name) is None]
        return f"Python module(s) {', '.join(missing)} not installed" if missing else None

    def prepare(self, candidate: Candidate, workdir: Path, threads: int) -> Predictor:
        raise NotImplementedError


class SklearnPlatform(Platform):
    """scikit-learn's own predict: the baseline. n_jobs and BLAS threads are set to ``threads``."""

    modules = ("sklearn",)

    def prepare(self, candidate: Candidate, workdir: Path, threads: int) -> Predictor:
        from threadpoolctl import threadpool_limits

        model = candidate.model()
        recorded = {"blas_threads": threads}
        if "n_jobs" in model.get_params(deep=False):
            model.set_params(n_jobs=threads)
            recorded["n_jobs"] = threads
        artifact = _write(workdir / "model.skops", candidate.payload)
        limits = threadpool_limits(limits=threads)
        return Predictor(
            predict=model.predict,
            threads=recorded,
            artifact=artifact,
            details={"scikit-learn": _version("scikit-learn")},
            close=limits.restore_original_limits,
        )


class OnnxRuntimePlatform(Platform):
    """skl2onnx conversion (or the uploaded ONNX graph) run by ONNX Runtime on the CPU or the CUDA
    execution provider."""

    frameworks = (FRAMEWORK, ONNX_FRAMEWORK)
    families = (TREE_ENSEMBLE, LINEAR, MLP)
    formats = (SKLEARN, ONNX)
    modules = ("onnxruntime", "skl2onnx")

    def __init__(self, device: str = "cpu"):
        if device not in ("cpu", "cuda"):
            raise BenchError(f"onnxruntime device must be cpu or cuda, not {device!r}")
        self.device = device
        self.hardware = GPU if device == "cuda" else CPU

    def supports(self, info: ModelInfo, hardware: str) -> str | None:
        if self.device == "cuda" and info.family == TREE_ENSEMBLE:
            return (
                "ONNX Runtime has no CUDA kernels for tree ensembles (ai.onnx.ml TreeEnsemble* run on its CPU "
                "provider); torch-cuda evaluates them on the GPU"
            )
        return super().supports(info, hardware)

    def unavailable(self) -> str | None:
        from tunefleet.bench.onnx_support import CUDA_PROVIDER, available_providers

        missing = super().unavailable()
        if missing or self.device == "cpu":
            return missing
        providers = available_providers()
        if CUDA_PROVIDER not in providers:
            return f"this onnxruntime build has no {CUDA_PROVIDER} (providers: {', '.join(providers)}; the onnxruntime-gpu package has it)"
        return None

    def prepare(self, candidate: Candidate, workdir: Path, threads: int) -> Predictor:
        from tunefleet.bench import onnx_support

        graph = candidate.payload if candidate.format == ONNX else onnx_support.to_onnx_bytes(candidate.model())
        artifact = _write(workdir / "model.onnx", graph)
        session = onnx_support.session(graph, threads, self.device)
        return Predictor(
            predict=onnx_support.batch_runner(session),
            threads={"intra_op_num_threads": threads, "inter_op_num_threads": 1},
            artifact=artifact,
            details={
                "onnxruntime": _version("onnxruntime"),
                "skl2onnx": _version("skl2onnx"),
                "providers": session.get_providers(),
            },
        )


class TreelitePlatform(Platform):
    """Treelite model compiled by tl2cgen into a shared library with the system C compiler.

    ``params`` go to tl2cgen's code generator (e.g. ``{"quantize": 1}``). Compiling a large
    forest takes minutes, so the library is kept in ``workdir`` under a name derived from
    the candidate and the params, and reused by a later ``prepare`` there.
    """

    families = (TREE_ENSEMBLE,)
    modules = ("treelite", "tl2cgen")
    toolchain = "gcc"

    def __init__(self, **params: Any):
        self.params = params

    def unavailable(self) -> str | None:
        missing = super().unavailable()
        if not missing and shutil.which(self.toolchain) is None:
            return f"no C compiler ({self.toolchain}) on this machine"
        return missing

    def prepare(self, candidate: Candidate, workdir: Path, threads: int) -> Predictor:
        import tl2cgen
        import treelite

        model = candidate.model()
        tl_model = treelite.sklearn.import_model(model)
        # keyed by the Treelite model, not the candidate's skops bytes: those hold zip timestamps, so the
        # same forest saved twice never matched and every run compiled again (a minute or more)
        key = hashlib.sha256(tl_model.serialize_bytes() + json.dumps(self.params, sort_keys=True).encode())
        library = workdir / f"treelite-{key.hexdigest()[:16]}.so"
        cores = os.cpu_count() or 1
        if library.exists():
            logger.info("treelite: reusing compiled %s", library.name)
        else:
            params = {"parallel_comp": cores, **self.params}
            tl2cgen.export_lib(
                tl_model,
                toolchain=self.toolchain,
                libpath=library,
                params=params,
                nthread=cores,
            )
        predictor = tl2cgen.Predictor(library, nthread=threads)
        classes = getattr(model, "classes_", None)

        def predict(X: np.ndarray) -> np.ndarray:
            return _from_treelite(predictor.predict(tl2cgen.DMatrix(X, dtype="float64")), classes)

        return Predictor(
            predict=predict,
            threads={"nthread": threads},
            artifact=library,
            details={
                "treelite": _version("treelite"),
                "tl2cgen": _version("tl2cgen"),
                "toolchain": self.toolchain,
                "params": self.params,
            },
        )


class TreeliteGtilPlatform(Platform):
    """Treelite's GTIL: the reference interpreter of a Treelite model, no compilation."""

    families = (TREE_ENSEMBLE,)
    modules = ("treelite",)

    def prepare(self, candidate: Candidate, workdir: Path, threads: int) -> Predictor:
        import treelite

        model = candidate.model()
        tl_model = treelite.sklearn.import_model(model)
        artifact = workdir / "model.treelite"
        tl_model.serialize(str(artifact))
        classes = getattr(model, "classes_", None)

        def predict(X: np.ndarray) -> np.ndarray:
            return _from_treelite(
                treelite.gtil.predict(tl_model, np.asarray(X, dtype=np.float64), nthread=threads), classes
            )

        return Predictor(
            predict=predict, threads={"nthread": threads}, artifact=artifact, details={"treelite": _version("treelite")}
        )


class TorchTreePlatform(Platform):
    """Tensorised tree evaluation in PyTorch (``tunefleet.bench.torch_forest``) on CPU or CUDA."""

    families = (TREE_ENSEMBLE,)
    modules = ("torch",)

    def __init__(self, device: str = "cpu"):
        if device not in ("cpu", "cuda"):
            raise BenchError(f"torch device must be cpu or cuda, not {device!r}")
        self.device = device
        self.hardware = GPU if device == "cuda" else CPU

    def unavailable(self) -> str | None:
        missing = super().unavailable()
        if missing or self.device == "cpu":
            return missing
        import torch

        if not torch.cuda.is_available():
            return f"CUDA not available on this machine (torch {torch.__version__})"
        return None

    def prepare(self, candidate: Candidate, workdir: Path, threads: int) -> Predictor:
        import torch

        from tunefleet.bench.torch_forest import TensorForest

        forest = TensorForest(candidate.model(), self.device)
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        artifact = workdir / "forest.pt"
        torch.save({name: t.cpu() for name, t in forest.tensors().items()}, artifact)
        details = {"torch": torch.__version__, "device": self.device, "strategy": "tree traversal"}
        if self.device == "cuda":
            details["gpu"] = torch.cuda.get_device_name()
        return Predictor(
            predict=forest.predict,
            threads={"torch_num_threads": threads},
            artifact=artifact,
            details=details,
            close=lambda: torch.set_num_threads(previous),
        )


class NvForestPlatform(Platform):
    """nvForest (``tunefleet.bench.nvforest_support``) on the GPU or in its CPU mode (OpenMP threads set to
    ``threads``). ``precision`` single (float32, nvForest's fast path; drift shows what it costs), double
    or native; ``layout`` of the trees in memory; ``tune_batch_size``: let nvForest's ``optimize`` pick
    layout and chunk size for batches of that size. Installed with the ``gpu`` extra."""

    families = (TREE_ENSEMBLE,)
    modules = ("nvforest", "treelite")

    def __init__(
        self, device: str = "gpu", precision: str = "single", layout: str = "depth_first",
        tune_batch_size: int | None = None,
    ):  # fmt: skip
        from tunefleet.bench import nvforest_support as nvf

        for name, value, allowed in (
            ("device", device, nvf.DEVICES), ("precision", precision, nvf.PRECISIONS), ("layout", layout, nvf.LAYOUTS),
        ):  # fmt: skip
            if value not in allowed:
                raise BenchError(f"nvforest {name} must be one of {', '.join(allowed)}, not {value!r}")
        if tune_batch_size is not None and not is_int(tune_batch_size, low=1, high=MAX_TUNE_BATCH):
            raise BenchError(
                f"nvforest tune_batch_size must be an integer from 1 to {MAX_TUNE_BATCH}, not {tune_batch_size!r}"
            )
        self.device, self.precision, self.layout, self.tune_batch_size = device, precision, layout, tune_batch_size
        self.hardware = GPU if device == "gpu" else CPU

    def unavailable(self) -> str | None:
        from tunefleet.bench.nvforest_support import gpu_unavailable

        missing = super().unavailable()
        if missing:
            return f"{missing} (install tunefleet with the gpu extra: pip install -e '.[gpu]')"
        return gpu_unavailable() if self.device == "gpu" else None

    def prepare(self, candidate: Candidate, workdir: Path, threads: int) -> Predictor:
        from threadpoolctl import threadpool_limits

        from tunefleet.bench import nvforest_support as nvf

        model = candidate.model()
        limits = threadpool_limits(limits=threads, user_api="openmp")  # nvForest's CPU kernels are OpenMP
        forest = nvf.load(
            model, self.device, self.precision, self.layout, self.tune_batch_size, workdir / "model.treelite"
        )
        classes = getattr(model, "classes_", None)
        return Predictor(
            predict=lambda X: nvf.predictions(forest, X, classes),
            threads={"openmp_threads": threads} if self.device == "cpu" else {},
            artifact=workdir / "model.treelite",
            details={"nvforest": nvf.version(), "device": self.device, **nvf.described(forest)},
            close=limits.restore_original_limits,
        )


def _from_treelite(scores: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    """Treelite's (rows, 1, outputs) output as labels or values: one output is a value or
    the probability of the second class, several are class probabilities."""
    scores = scores.reshape(len(scores), -1)
    if classes is None:
        return scores[:, 0]
    if scores.shape[1] == 1:
        return classes[(scores[:, 0] > 0.5).astype(np.intp)]
    return classes[scores.argmax(axis=1)]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _version(distribution: str) -> str:
    return importlib.metadata.version(distribution)
