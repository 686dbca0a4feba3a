"""hyperopt's TPE as a Ray Tune searcher, with the space in hyperopt's own terms.

hyperopt has a distribution for every kind (``hp.*``), so every number goes as its value and
categories as their index.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from hyperopt import hp
from ray.tune.search.hyperopt import HyperOptSearch

from tunefleet.space import Space
from tunefleet.sweep.search.codec import Codec, SpaceSearcher
from tunefleet.sweep.search.names import ALGORITHM_PARAMS, SearchError, check_params


def _log_bounds(v) -> tuple[float, float]:
    low, high = v.bounds
    return math.log(low), math.log(high)


def _ln_base(v) -> float:
    """base ** normal(mu, sigma) = exp(normal(mu ln base, sigma ln base))."""
    return math.log(v.base)


DISTRIBUTIONS: dict[str, tuple[str, Callable]] = {
    "categorical": ("index", lambda v: hp.choice(v.name, list(range(len(v.options))))),
    "uniform": ("value", lambda v: hp.uniform(v.name, v.low, v.high)),
    "uniformint": ("value", lambda v: hp.uniformint(v.name, v.low, v.high)),
    "quniform": ("value", lambda v: hp.quniform(v.name, *v.bounds, v.q)),
    "loguniform": ("value", lambda v: hp.loguniform(v.name, math.log(v.low), math.log(v.high))),
    "qloguniform": ("value", lambda v: hp.qloguniform(v.name, *_log_bounds(v), v.q)),
    "normal": ("value", lambda v: hp.normal(v.name, v.mu, v.sigma)),
    "qnormal": ("value", lambda v: hp.qnormal(v.name, v.mu, v.sigma, v.q)),
    "lognormal": ("value", lambda v: hp.lognormal(v.name, v.mu * _ln_base(v), v.sigma * _ln_base(v))),
    "qlognormal": ("value", lambda v: hp.qlognormal(v.name, v.mu * _ln_base(v), v.sigma * _ln_base(v), v.q)),
}
"""Each kind (by its hpogrid method): how the codec shows it to hyperopt, and its ``hp.*`` distribution."""


def searcher(space: Space, metric: str, mode: str, seed, points: list[dict], params: dict) -> SpaceSearcher:
    """hyperopt's TPE (``params``: n_initial_points, gamma)."""
    check_params("hyperopt", params, ALGORITHM_PARAMS["hyperopt"])
    codec = Codec(space, {kind: mode for kind, (mode, _) in DISTRIBUTIONS.items()})
    hyperopt_space = {name: DISTRIBUTIONS[space[name].method][1](space[name]) for name in codec.modes}
    try:
        inner = HyperOptSearch(
            space=hyperopt_space,
            metric=metric,
            mode=mode,
            points_to_evaluate=[codec.to_searcher(p) for p in points] or None,
            random_state_seed=seed,
            **params,
        )
    except (TypeError, ValueError) as exc:
        raise SearchError(f"algorithm hyperopt: {exc}") from exc
    return SpaceSearcher(inner, codec)
