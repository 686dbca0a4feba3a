"""Objectives a tuning flow can evaluate, referred to by name so any worker can load them.

- ``"package.module:function"`` — an importable function called as ``function(**point, **args)``,
  returning a number or, for an experiment with several metrics, {metric: number};
- ``"path/to/script.py:function"`` — the same, from a file;
- ``"sklearn:package.module.Estimator"`` — cross-validated score of a scikit-learn estimator
  built with the point as hyperparameters, on a CSV from the artifact store or a path
  (``args``: data_uri, target, scoring, cv, fixed).

The module also holds the standard test functions used by tests, demos and benchmarks.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

from tunefleet.errors import InvalidInput


class ObjectiveError(InvalidInput):
    pass


def resolve(reference: str, args: dict | None = None) -> Callable[..., float | dict[str, float]]:
    """A callable ``f(**point) -> float | {metric: float}`` for ``reference`` (see the module docstring)."""
    args = dict(args or {})
    if reference.startswith("sklearn:"):
        return SklearnObjective(reference.removeprefix("sklearn:"), **args)
    target, _, name = reference.rpartition(":")
    if not target or not name:
        raise ObjectiveError(f"objective {reference!r} must look like 'module:function' or 'script.py:function'")
    module = _load_script(target) if target.endswith(".py") else _import(target)
    function = getattr(module, name, None)
    if not callable(function):
        raise ObjectiveError(f"{target} has no function {name!r}")
    return lambda **point: _numbers(function(**point, **args), reference)


def _numbers(value, reference: str) -> float | dict[str, float]:
    """What an objective returned, as a float or {metric: float} (a numpy scalar becomes a float)."""
    if isinstance(value, Mapping):
        return {str(name): _number(metric, f"{reference}[{name!r}]") for name, metric in value.items()}
    return _number(value, reference)


def _number(value, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ObjectiveError(f"{where} returned {type(value).__name__}, not a number") from exc


def _import(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ObjectiveError(f"cannot import {module!r}: {exc}") from exc


@cache
def _load_script(path: str):
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ObjectiveError(f"script {path} not found")
    spec = importlib.util.spec_from_file_location(f"tunefleet_objective_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SklearnObjective:
    """Mean cross-validated score of an estimator whose hyperparameters are the point."""

    def __init__(
        self,
        estimator: str,
        data_uri: str,
        target: str,
        scoring: str | None = None,
        cv: int = 3,
        fixed: dict | None = None,
    ):
        module, _, name = estimator.rpartition(".")
        self.estimator = getattr(_import(module), name, None)
        if self.estimator is None:
            raise ObjectiveError(f"{module} has no estimator {name!r}")
        self.data_uri, self.target, self.scoring, self.cv, self.fixed = data_uri, target, scoring, cv, fixed or {}

    def __call__(self, **point) -> float:
        from sklearn.model_selection import cross_val_score

        X, y = _dataset(self.data_uri, self.target)
        model = self.estimator(**self.fixed, **point)
        return float(np.mean(cross_val_score(model, X, y, scoring=self.scoring, cv=self.cv)))


@cache
def _dataset(uri: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    from tunefleet import tabular
    from tunefleet.settings import get_settings
    from tunefleet.storage import read_data

    X, y, _ = tabular.training_matrix(tabular.read_csv(read_data(uri, get_settings())), target)
    return X, y


# Standard test functions ------------------------------------------------------------
def branin(x1: float, x2: float) -> float:
    """Branin on [-5, 10] × [0, 15]; minimum 0.397887 at three points."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x1: float, x2: float, x3: float, x4: float, x5: float, x6: float) -> float:
    """Hartmann-6 on [0, 1]^6; minimum -3.32237."""
    x = np.array([x1, x2, x3, x4, x5, x6])
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def branin_currin(x1: float, x2: float) -> dict[str, float]:
    """BraninCurrin on [0, 1]^2, both to minimise (BoTorch's two-objective test problem, Daulton et al.
    2020): the Branin function rescaled to the unit square, and Currin's exponential function."""
    a, b = 15 * x1 - 5, 15 * x2
    currin = (1 - math.exp(-1 / (2 * x2))) if x2 > 0 else 1.0
    currin *= (2300 * x1**3 + 1900 * x1**2 + 2092 * x1 + 60) / (100 * x1**3 + 500 * x1**2 + 4 * x1 + 20)
    return {"branin": branin(a, b), "currin": currin}


def mixed(n: int, kind: str, x: float) -> float:
    """A mixed int / categorical / continuous function to maximise: best 10.0 at n=7, kind='b', x=0.3."""
    offset = {"a": -2.0, "b": 0.0, "c": -1.0}[kind]
    return 10.0 + offset - 0.1 * (n - 7) ** 2 - 5.0 * (x - 0.3) ** 2
