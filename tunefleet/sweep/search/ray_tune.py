"""Ray Tune's own search space: each kind as a Ray Tune domain, for its random / grid search
(BasicVariantGenerator) and PBT's mutations.

Ray Tune has no log-normal domain: lognormal and qlognormal are a Ray ``Float`` domain with a
sampler of this module's, which Ray's random / grid search runs but Ray's converters for other
searchers do not know (the model-based searchers get the space in their own terms instead:
``optuna``, ``hyperopt``, ``bohb``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ray import tune
from ray.tune.search.sample import Domain, Float

from tunefleet.space import Space, Variable


class LogNormalSampler:
    """A Ray Tune sampler (duck-typed: Ray calls ``sample``) of base ** normal(mu, sigma)."""

    def __init__(self, mu: float, sigma: float, base: float):
        self.mu, self.sigma, self.base = mu, sigma, base

    def sample(self, domain, config=None, size: int = 1, random_state=None):
        rng = random_state if random_state is not None else np.random
        values = np.power(self.base, rng.normal(self.mu, self.sigma, size=size))
        return [float(v) for v in values] if size > 1 else float(values[0])

    def __str__(self) -> str:
        return "LogNormal"


def _log_normal(v) -> Domain:
    domain = Float(None, None)
    domain.set_sampler(LogNormalSampler(v.mu, v.sigma, v.base))
    return domain.quantized(v.q) if v.quantized else domain


DOMAINS: dict[str, Callable[[Variable], Domain]] = {
    "categorical": lambda v: tune.grid_search(list(v.options)) if v.grid_search else tune.choice(list(v.options)),
    "uniform": lambda v: tune.uniform(v.low, v.high),
    "uniformint": lambda v: tune.randint(v.low, v.high + 1),  # Ray's upper bound is exclusive
    "quniform": lambda v: tune.quniform(*v.bounds, v.q),
    "loguniform": lambda v: tune.loguniform(*v.bounds),  # Ray's base argument is deprecated: it changes nothing
    "qloguniform": lambda v: tune.qloguniform(*v.bounds, v.q),
    "normal": lambda v: tune.randn(v.mu, v.sigma),
    "qnormal": lambda v: tune.qrandn(v.mu, v.sigma, v.q),
    "lognormal": _log_normal,
    "qlognormal": _log_normal,
}
"""Each kind's Ray Tune domain, by its hpogrid method."""


def domain(variable: Variable) -> Domain:
    """The Ray Tune search-space domain equivalent to ``variable``."""
    return DOMAINS[variable.method](variable)


def param_space(space: Space) -> dict:
    """Ray Tune's ``param_space``: one domain per variable (grid_search for grid variables)."""
    return {v.name: domain(v) for v in space.variables}
