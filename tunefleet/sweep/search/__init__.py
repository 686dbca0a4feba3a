"""Ray Tune search algorithms and trial schedulers, built from a tunefleet ``Space``.

``search_algorithm(name, space, metric, mode, ...)`` gives what ``tune.TuneConfig(search_alg=...)``
takes, ``scheduler(name, metric, mode, ...)`` what ``tune.TuneConfig(scheduler=...)`` takes, and
``tuner_param_space(name, space, constants)`` what ``tune.Tuner(param_space=...)`` takes with them::

    alg = search_algorithm("bayesian", space, "loss", "min", seed=0, max_concurrent=2)
    tuner = tune.Tuner(
        trainable,
        param_space=tuner_param_space("bayesian", space, constants),
        tune_config=tune.TuneConfig(search_alg=alg, scheduler=scheduler("asha", "loss", "min"), num_samples=trials),
    )

One module per external library, each with its own converter of every kind of variable:
``ray_tune`` (Tune domains: random, grid, PBT), ``optuna`` (tpe), ``hyperopt``, ``bohb``
(ConfigSpace); ``bayesian`` is tunefleet's own engine; ``codec`` is how a library's values
become points of the space. ``names`` holds the vocabulary (checked without loading a
library), ``algorithms`` and ``schedulers`` the factories.
"""

from tunefleet.sweep.search.algorithms import Evaluated, search_algorithm, tuner_param_space
from tunefleet.sweep.search.names import (
    ALGORITHM_PARAMS,
    ALGORITHMS,
    AUPTIMIZER_PROPOSERS,
    SCHEDULERS,
    UNAVAILABLE,
    MissingDependency,
    SearchError,
    algorithm_name,
    auptimizer_proposer,
    check_combination,
    scheduler_name,
)
from tunefleet.sweep.search.schedulers import ClipToSpace, pbt_mutations, scheduler

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_PARAMS",
    "AUPTIMIZER_PROPOSERS",
    "SCHEDULERS",
    "UNAVAILABLE",
    "ClipToSpace",
    "Evaluated",
    "MissingDependency",
    "SearchError",
    "algorithm_name",
    "auptimizer_proposer",
    "check_combination",
    "pbt_mutations",
    "scheduler",
    "scheduler_name",
    "search_algorithm",
    "tuner_param_space",
]
