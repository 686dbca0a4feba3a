"""BOHB (hpbandster) as a Ray Tune searcher, with the space as a ConfigSpace.

ConfigSpace 1.x has uniform ints and floats, log floats and no q: quantised kinds are rounded
to their multiples afterwards (``codec`` snaps values), categories go as their index and the
normal kinds as their quantile.
"""

from __future__ import annotations

from collections.abc import Callable

import ConfigSpace
from ray.tune.search.bohb import TuneBOHB

from tunefleet.space import Space
from tunefleet.sweep.search.codec import Codec, SpaceSearcher
from tunefleet.sweep.search.names import ALGORITHM_PARAMS, check_params


def _unit(v):
    return ConfigSpace.UniformFloatHyperparameter(v.name, lower=0.0, upper=1.0)


def _log(v):
    return ConfigSpace.UniformFloatHyperparameter(v.name, *v.bounds, log=True)


HYPERPARAMETERS: dict[str, tuple[str, Callable]] = {
    "categorical": (
        "index",
        lambda v: ConfigSpace.CategoricalHyperparameter(v.name, choices=list(range(len(v.options)))),
    ),
    "uniform": ("value", lambda v: ConfigSpace.UniformFloatHyperparameter(v.name, lower=v.low, upper=v.high)),
    "uniformint": ("value", lambda v: ConfigSpace.UniformIntegerHyperparameter(v.name, lower=v.low, upper=v.high)),
    "quniform": ("value", lambda v: ConfigSpace.UniformFloatHyperparameter(v.name, *v.bounds)),
    "loguniform": ("value", _log),
    "qloguniform": ("value", _log),
    "normal": ("quantile", _unit),
    "qnormal": ("quantile", _unit),
    "lognormal": ("quantile", _unit),
    "qlognormal": ("quantile", _unit),
}
"""Each kind (by its hpogrid method): how the codec shows it to BOHB, and its ConfigSpace hyperparameter."""


def searcher(space: Space, metric: str, mode: str, seed, points: list[dict], params: dict) -> SpaceSearcher:
    """BOHB (``params``: hpbandster's BOHB settings, min_points_in_model, ...)."""
    check_params("bohb", params, ALGORITHM_PARAMS["bohb"])
    codec = Codec(space, {kind: mode for kind, (mode, _) in HYPERPARAMETERS.items()})
    config_space = ConfigSpace.ConfigurationSpace()
    for name in codec.modes:
        config_space.add(HYPERPARAMETERS[space[name].method][1](space[name]))
    inner = TuneBOHB(
        space=config_space,
        bohb_config=params or None,
        metric=metric,
        mode=mode,
        points_to_evaluate=[codec.to_searcher(p) for p in points] or None,
        seed=seed,
    )
    return SpaceSearcher(inner, codec)
