"""Optimisations: each turns the original model into a candidate and reports its drift.

A candidate is stored as bytes by the caller: a scikit-learn estimator written by skops
(format ``sklearn``, read back with ``models.load_model``, which runs no code from it) or an
ONNX graph (format ``onnx``: the int8 candidate, and an uploaded ONNX model as it is). Its
accuracy (or MSE) on the validation set is compared with the original model's.

The optimisations other than ``none`` transform scikit-learn estimators, so they do not
apply to an uploaded ONNX model.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import tempfile
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from tunefleet.bench import metrics, trees
from tunefleet.bench.errors import BenchError, NotApplicable
from tunefleet.bench.models import (
    FRAMEWORK,
    FRAMEWORK_NAMES,
    LINEAR,
    MLP,
    ONNX_FRAMEWORK,
    TREE_ENSEMBLE,
    ModelInfo,
    dump_model,
    load_model,
    model_family,
)
from tunefleet.validation import is_finite, is_int

logger = logging.getLogger(__name__)

SKLEARN, ONNX = "sklearn", "onnx"
FORMAT_NAMES = {SKLEARN: "scikit-learn models", ONNX: "ONNX models"}


@dataclass(frozen=True)
class OptimisationSpec:
    """An optimisation by name with its parameters, as a benchmark config lists it."""

    name: str
    params: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``name`` or ``name(key=value, ...)`` (unset params left out): how results and reports name it."""
        shown = {k: v for k, v in sorted(self.params.items()) if v is not None}
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in shown.items())})" if shown else self.name

    def to_dict(self) -> dict:
        return {"name": self.name, "params": dict(self.params)}

    @classmethod
    def parse(cls, item: str | dict) -> OptimisationSpec:
        """From ``"float16"`` or ``{"name": "prune", "params": {...}}``; defaults filled in, params checked."""
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and set(item) <= {"name", "params"} and isinstance(item.get("name"), str):
            name, params = item["name"], dict(item.get("params") or {})
        else:
            raise BenchError(f"an optimisation is a name or {{'name': ..., 'params': {{...}}}}, not {item!r}")
        return cls(name, optimisation(name).checked_params(params))


@dataclass
class Candidate:
    """One optimised model: its bytes (``payload``, not part of ``to_dict``) and its quality."""

    optimisation: OptimisationSpec
    format: str
    payload: bytes
    task: str
    metric: str
    original_score: float
    score: float
    drift: float
    agreement: float
    max_abs_difference: float | None
    forest: dict | None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()

    def model(self) -> Any:
        """The candidate as a scikit-learn estimator (format ``sklearn`` only), loaded from its skops bytes."""
        if self.format != SKLEARN:
            raise BenchError(
                f"the {self.optimisation.label} candidate is an {self.format} model, not a scikit-learn one"
            )
        return load_model(self.payload)

    def to_dict(self) -> dict:
        """Everything but the payload, plus its size and SHA-256 digest."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "payload"}
        data["optimisation"] = self.optimisation.to_dict()
        data["size_bytes"] = len(self.payload)
        data["digest"] = self.digest
        return data

    @classmethod
    def from_dict(cls, data: dict, payload: bytes) -> Candidate:
        values = {k: v for k, v in data.items() if k not in ("size_bytes", "digest")}
        values["optimisation"] = OptimisationSpec(**data["optimisation"])
        return cls(payload=payload, **values)


class Optimisation:
    """Base: an optimisation with no parameters that applies to every model and changes nothing."""

    name = "none"
    output_format = SKLEARN
    frameworks: tuple[str, ...] = (FRAMEWORK, ONNX_FRAMEWORK)  # the kinds of uploaded model it transforms
    defaults: dict = {}

    def checked_params(self, params: dict) -> dict:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            allowed = ", ".join(self.defaults) or "none"
            raise BenchError(
                f"optimisation {self.name!r} has no parameter(s) {', '.join(unknown)} (allowed: {allowed})"
            )
        return {**self.defaults, **params}

    def applies(self, info: ModelInfo, params: dict) -> str | None:
        """None when this optimisation can be applied to the model, else the reason it cannot."""
        return None

    def apply(self, model: Any, params: dict) -> bytes:
        return dump_model(model)


class Precision(Optimisation):
    """Thresholds, leaf values and weights rounded to a narrower float type (stored back as float64).

    float32 floors tree thresholds (see ``trees.floor_to``): for float32 inputs, which
    scikit-learn trees use, every split decision stays the same; float16 rounds to nearest.
    """

    frameworks = (FRAMEWORK,)

    def __init__(self, name: str, dtype: type, floor_thresholds: bool):
        self.name, self.dtype, self.floor_thresholds = name, dtype, floor_thresholds

    def applies(self, info: ModelInfo, params: dict) -> str | None:
        if info.family in (TREE_ENSEMBLE, LINEAR, MLP):
            return None
        return f"{self.name} applies to tree ensembles, linear models and MLPs, not {info.model_type}"

    def apply(self, model: Any, params: dict) -> bytes:
        family = model_family(model)
        if family == TREE_ENSEMBLE:
            rewrite = partial(
                trees.round_state,
                threshold_dtype=self.dtype,
                value_dtype=self.dtype,
                floor_thresholds=self.floor_thresholds,
            )
            return dump_model(trees.map_trees(model, rewrite))
        names = ("coef_", "intercept_") if family == LINEAR else ("coefs_", "intercepts_")
        result = copy.deepcopy(model)
        for name in names:
            setattr(result, name, _rounded(getattr(result, name), self.dtype))
        return dump_model(result)


def _rounded(value: Any, dtype: type) -> Any:
    """Arrays (or lists of arrays, as in MLPs) rounded to ``dtype``, kept float64."""
    if isinstance(value, list):
        return [_rounded(v, dtype) for v in value]
    return np.asarray(value).astype(dtype).astype(np.float64)


class Int8(Optimisation):
    """ONNX Runtime dynamic quantisation: MatMul weights to int8, activations quantised per batch."""

    name = "int8"
    output_format = ONNX
    frameworks = (FRAMEWORK,)

    def applies(self, info: ModelInfo, params: dict) -> str | None:
        if info.family == TREE_ENSEMBLE:
            return (
                "int8 does not apply to tree ensembles: ONNX Runtime's dynamic quantisation quantises "
                "MatMul weights, which tree ensembles do not have (float16 and prune do apply)"
            )
        if info.family not in (LINEAR, MLP):
            return f"int8 applies to linear models and MLPs (ONNX Runtime dynamic quantisation), not {info.model_type}"
        return None

    def apply(self, model: Any, params: dict) -> bytes:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        from tunefleet.bench.onnx_support import to_onnx_bytes

        with tempfile.TemporaryDirectory(prefix="tunefleet-int8-") as folder:
            source, target = Path(folder) / "model.onnx", Path(folder) / "model.int8.onnx"
            source.write_bytes(to_onnx_bytes(model))
            quantize_dynamic(source, target, weight_type=QuantType.QInt8)
            return target.read_bytes()


class Prune(Optimisation):
    """Fewer trees (the first ``tree_fraction`` of them) and optionally trees cut at ``max_depth``."""

    name = "prune"
    frameworks = (FRAMEWORK,)
    defaults = {"tree_fraction": 0.5, "max_depth": None}

    def checked_params(self, params: dict) -> dict:
        params = super().checked_params(params)
        fraction, depth = params["tree_fraction"], params["max_depth"]
        if not is_finite(fraction) or not 0 < fraction <= 1:
            raise BenchError(f"prune: tree_fraction must be a number in (0, 1], not {fraction!r}")
        if depth is not None and not is_int(depth, low=1):
            raise BenchError(f"prune: max_depth must be a positive integer or null, not {depth!r}")
        return params

    def applies(self, info: ModelInfo, params: dict) -> str | None:
        if info.family != TREE_ENSEMBLE:
            return f"prune applies to tree ensembles, not {info.model_type}"
        if params["max_depth"] is not None and info.model_type.startswith("GradientBoosting"):
            return (
                "prune: a depth cut does not apply to gradient boosting, whose inner nodes do not hold "
                "the fitted leaf values (use tree_fraction alone)"
            )
        return None

    def apply(self, model: Any, params: dict) -> bytes:
        n_trees = len(model.estimators_)
        result = trees.keep_first_trees(model, max(1, math.floor(n_trees * params["tree_fraction"] + 0.5)))
        if params["max_depth"] is not None:
            result = trees.map_trees(result, partial(trees.cut_state, max_depth=params["max_depth"]))
        return dump_model(result)


OPTIMISATIONS: dict[str, Optimisation] = {
    o.name: o
    for o in (
        Optimisation(),
        Precision("float32", np.float32, floor_thresholds=True),
        Precision("float16", np.float16, floor_thresholds=False),
        Int8(),
        Prune(),
    )
}


def optimisation(name: str) -> Optimisation:
    if name not in OPTIMISATIONS:
        raise BenchError(f"unknown optimisation {name!r} (known: {', '.join(OPTIMISATIONS)})")
    return OPTIMISATIONS[name]


def applies(spec: OptimisationSpec, info: ModelInfo) -> str | None:
    """None when ``spec`` can be applied to the model described by ``info``, else the reason."""
    method = optimisation(spec.name)
    if info.framework not in method.frameworks:
        return (
            f"{spec.name} transforms {' and '.join(FRAMEWORK_NAMES[f] for f in method.frameworks)} models; "
            f"this model was uploaded as {FRAMEWORK_NAMES[info.framework]}"
        )
    return method.applies(info, spec.params)


def candidate_format(spec: OptimisationSpec, info: ModelInfo) -> str:
    """``sklearn`` or ``onnx``: what the optimisation writes; an uploaded ONNX model stays ONNX."""
    return ONNX if info.framework == ONNX_FRAMEWORK else optimisation(spec.name).output_format


def make_candidate(
    model: Any, spec: OptimisationSpec, X: np.ndarray, y: np.ndarray, info: ModelInfo, drift_metric: str | None = None
) -> Candidate:
    """Apply ``spec`` to ``model`` and measure the candidate against the original on (X, y), its drift
    judged on ``drift_metric`` (default: accuracy or MSE).

    Raises NotApplicable (with the reason) when the optimisation does not apply.
    """
    reason = applies(spec, info)
    if reason:
        raise NotApplicable(reason)
    payload = optimisation(spec.name).apply(model, spec.params)
    fmt = candidate_format(spec, info)
    reference = model.predict(X)
    forest = None
    if fmt == SKLEARN:
        candidate_model = load_model(payload)
        predictions = candidate_model.predict(X)
        if info.family == TREE_ENSEMBLE:
            forest = trees.forest_properties(candidate_model)
    else:
        from tunefleet.bench.onnx_support import batch_runner, session

        predictions = batch_runner(session(payload, threads=1))(X)
    metric = metrics.metric_name(info.task, drift_metric)
    original_score = metrics.score(info.task, y, reference, metric)
    value = metrics.score(info.task, y, predictions, metric)
    candidate = Candidate(
        optimisation=spec,
        format=fmt,
        payload=payload,
        task=info.task,
        metric=metric,
        original_score=original_score,
        score=value,
        drift=metrics.drift(metric, original_score, value),
        forest=forest,
        **metrics.agreement(info.task, reference, predictions),
    )
    logger.info("candidate %s: %s %.6g (drift %.3g)", spec.label, candidate.metric, value, candidate.drift)
    return candidate
