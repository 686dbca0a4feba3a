"""Optuna's TPE as a Ray Tune searcher, with the space in Optuna's own terms.

Optuna has native int, uniform, stepped and log-uniform floats; categories go as their index
and the normal kinds as their quantile (``codec``), so the space is exact, quantisation included
(Ray's own conversion of Tune domains drops it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import optuna
from ray.tune.search.optuna import OptunaSearch

from tunefleet.space import Space
from tunefleet.sweep.search.codec import Codec, SpaceSearcher
from tunefleet.sweep.search.names import SearchError, check_params


def _unit(trial, v) -> None:
    trial.suggest_float(v.name, 0.0, 1.0)


SUGGEST: dict[str, tuple[str, Callable]] = {
    "categorical": ("index", lambda trial, v: trial.suggest_categorical(v.name, list(range(len(v.options))))),
    "uniform": ("value", lambda trial, v: trial.suggest_float(v.name, v.low, v.high)),
    "uniformint": ("value", lambda trial, v: trial.suggest_int(v.name, v.low, v.high)),
    "quniform": ("value", lambda trial, v: trial.suggest_float(v.name, *v.bounds, step=v.q)),
    "loguniform": ("value", lambda trial, v: trial.suggest_float(v.name, *v.bounds, log=True)),
    "qloguniform": ("value", lambda trial, v: trial.suggest_float(v.name, *v.bounds, log=True)),
    "normal": ("quantile", _unit),
    "qnormal": ("quantile", _unit),
    "lognormal": ("quantile", _unit),
    "qlognormal": ("quantile", _unit),
}
"""Each kind (by its hpogrid method): how the codec shows it to Optuna, and the ``trial.suggest_*`` call that defines it."""


class DefineByRun:
    """Optuna's define-by-run space over a codec (a class, not a closure: OptunaSearch pickles it)."""

    def __init__(self, codec: Codec):
        self.codec = codec

    def __call__(self, trial) -> None:
        for name in self.codec.modes:
            variable = self.codec.space[name]
            SUGGEST[variable.method][1](trial, variable)


def searcher(space: Space, metric: str, mode: str, seed, points: list[dict], params: dict) -> SpaceSearcher:
    """TPE (``params``: any ``optuna.samplers.TPESampler`` argument but seed)."""
    accepted = [p for p in inspect.signature(optuna.samplers.TPESampler).parameters if p != "seed"]
    check_params("tpe", params, accepted)
    try:
        sampler = optuna.samplers.TPESampler(seed=seed, **params)
    except (TypeError, ValueError) as exc:
        raise SearchError(f"algorithm tpe: {exc}") from exc
    codec = Codec(space, {kind: mode for kind, (mode, _) in SUGGEST.items()})
    inner = OptunaSearch(
        space=DefineByRun(codec),
        metric=metric,
        mode=mode,
        sampler=sampler,
        points_to_evaluate=[codec.to_searcher(p) for p in points] or None,
    )
    return SpaceSearcher(inner, codec)
