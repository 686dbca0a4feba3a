"""The estimators a hardware-aware tuning may train, by name: an allow-list, never an import of a name
from a request. Each is a scikit-learn class the inference benchmark can serve, with the bounds that
keep one trial's training inside a worker (a request for a 10^6-tree forest is refused, not run).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from tunefleet import validation
from tunefleet.bench.metrics import CLASSIFICATION, REGRESSION
from tunefleet.hwtune.errors import HwTuneError
from tunefleet.space import Space

PREFIX = "sklearn:"
MAX_TEXT = 100
# The most any tuned or fixed value may ask for, per hyperparameter that sizes the training.
LIMITS = {
    "n_estimators": 2000, "max_iter": 10_000, "max_depth": 100, "max_leaf_nodes": 100_000, "hidden_layer_sizes": 4096
}  # fmt: skip


@dataclass(frozen=True)
class Estimator:
    name: str
    module: str
    task: str
    limits: dict = field(default_factory=lambda: dict(LIMITS))

    def cls(self) -> type:
        return getattr(importlib.import_module(self.module), self.name)

    def params(self) -> set[str]:
        return set(self.cls()().get_params(deep=False))

    def check_params(self, names, where: str, values: dict | None = None) -> None:
        """``names`` are hyperparameters of the estimator; ``values`` (fixed ones) are plain and bounded."""
        unknown = sorted(set(names) - self.params())
        if unknown:
            raise HwTuneError(
                f"{where}: {self.name} has no hyperparameter {', '.join(unknown)} "
                f"(it has: {', '.join(sorted(self.params()))})"
            )
        for name, value in (values or {}).items():
            plain = value is None or isinstance(value, bool) or validation.is_finite(value)
            if not (plain or (isinstance(value, str) and len(value) <= MAX_TEXT)):
                raise HwTuneError(
                    f"{where}: {name} must be a number, a text of at most {MAX_TEXT} characters, true/false or null, "
                    f"not {str(value)[:100]}"
                )
            self._check_limit(name, value, where)

    def check_bounds(self, space: Space) -> None:
        for variable in space.variables:
            for value in getattr(variable, "options", None) or (getattr(variable, "high", None),):
                self._check_limit(variable.name, value, "covars")

    def _check_limit(self, name: str, value: Any, where: str) -> None:
        limit = self.limits.get(name)
        if limit is not None and validation.is_real(value) and value > limit:
            raise HwTuneError(f"{where}: {name} may be at most {limit} here, not {value}")

    def build(self, point: dict, fixed: dict, seed: int) -> Any:
        """The estimator with ``fixed`` and ``point`` as hyperparameters; seeded, and on one core
        (trials run side by side) unless ``fixed`` says otherwise."""
        params = {**fixed, **point}
        own = self.params()
        if "random_state" in own:
            params.setdefault("random_state", seed)
        if "n_jobs" in own:
            params.setdefault("n_jobs", 1)
        return self.cls()(**params)


_ENSEMBLE, _LINEAR, _MLP = "sklearn.ensemble", "sklearn.linear_model", "sklearn.neural_network"
ESTIMATORS = {
    e.name: e
    for e in (
        Estimator("RandomForestClassifier", _ENSEMBLE, CLASSIFICATION),
        Estimator("RandomForestRegressor", _ENSEMBLE, REGRESSION),
        Estimator("ExtraTreesClassifier", _ENSEMBLE, CLASSIFICATION),
        Estimator("ExtraTreesRegressor", _ENSEMBLE, REGRESSION),
        Estimator("GradientBoostingClassifier", _ENSEMBLE, CLASSIFICATION),
        Estimator("GradientBoostingRegressor", _ENSEMBLE, REGRESSION),
        Estimator("LogisticRegression", _LINEAR, CLASSIFICATION),
        Estimator("Ridge", _LINEAR, REGRESSION),
        Estimator("MLPClassifier", _MLP, CLASSIFICATION),
        Estimator("MLPRegressor", _MLP, REGRESSION),
    )
}


def estimator(text: str) -> Estimator:
    """``sklearn:RandomForestClassifier`` (or the bare name) from the allow-list."""
    name = text[len(PREFIX) :] if isinstance(text, str) and text.startswith(PREFIX) else text
    if name not in ESTIMATORS:
        shown = text[:100] if isinstance(text, str) else repr(text)[:100]
        raise HwTuneError(
            f"estimator {shown!r} is not one hardware-aware tuning trains; choose one of "
            f"{', '.join(PREFIX + n for n in ESTIMATORS)}"
        )
    return ESTIMATORS[name]
