"""``search_algorithm``: the Ray Tune search algorithm a sweep's hpo_config names, over a ``Space``.

=========== ===================================================================================
random      Ray Tune's BasicVariantGenerator over the space's Ray Tune domains (``ray_tune``; grid
            variables expanded, the others drawn afresh for each grid point; ``num_samples``
            repeats the grid)
grid        the same, for spaces with at least one grid variable (categorical grid_search)
bayesian    tunefleet's BO engine as a Ray Tune Searcher (``bayesian.TunefleetBOSearch``)
tpe, optuna Optuna's TPE sampler through Ray's OptunaSearch (``optuna``)
hyperopt    hyperopt's TPE through Ray's HyperOptSearch (``hyperopt``)
bohb        BOHB through Ray's TuneBOHB (``bohb``), with the bohbhyperband scheduler
=========== ===================================================================================

The model-based searchers get the space in their own terms, each from its library's module,
not through Ray's conversion of Tune domains (which drops quantisation for Optuna and BOHB and
has no log-normal). Suggestions come back as values of the space, of plain Python types;
variables with a single value are not shown to these searchers at all. Grid variables belong
to random and grid: a model-based algorithm refuses them, naming them.

Each library is imported when its searcher is built, so this module costs nothing to import.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tunefleet.bo.outcomes import Outcomes
from tunefleet.space import Space, SpaceError
from tunefleet.sweep.search.names import (
    ALGORITHM_PARAMS,
    SearchError,
    algorithm_name,
    check_metric_mode,
    check_params,
    require,
)
from tunefleet.validation import is_finite, is_int


@dataclass(frozen=True)
class Evaluated:
    """A trial that ran before its searcher existed: its point, the metric's final value (None:
    it failed or never reported it; {metric: value} for a searcher of several ``outcomes``) and its
    intermediate results (Optuna's pruning and BOHB's budgets learn from those)."""

    config: dict
    value: float | dict | None
    history: tuple[dict, ...] = ()

    @property
    def failed(self) -> bool:
        return not all(map(is_finite, self.value.values() if isinstance(self.value, dict) else (self.value,)))


def search_algorithm(
    name: str,
    space: Space,
    metric: str,
    mode: str,
    seed: int | None = None,
    max_concurrent: int | None = None,
    points_to_evaluate: list[dict] | None = None,
    evaluated: list[Evaluated] | None = None,
    outcomes: Outcomes | None = None,
    **params,
):
    """The Ray Tune search algorithm called ``name`` over ``space``, checked before anything runs.

    ``seed`` makes the suggestions reproducible (None: a fresh random seed; BOHB's model also
    draws from numpy's global generator). ``max_concurrent`` (None or 0: no limit) caps the
    trials running at once: BasicVariantGenerator's own limit for random / grid, a
    ConcurrencyLimiter around the others. ``points_to_evaluate`` are complete points of the
    space, run first. ``params`` are the algorithm's extra settings (hpogrid's
    algorithm_param): random / grid ``constant_grid_search``; bayesian ``initial_points``,
    ``model``, ``acquisition``; tpe any ``optuna.samplers.TPESampler`` argument; hyperopt
    ``n_initial_points``, ``gamma``; bohb hpbandster's BOHB settings (``min_points_in_model``, ...).

    ``evaluated`` are trials that ran before this searcher existed (a resumed sweep's finished
    trials): the model-based searchers are told them before they suggest anything (random and
    grid learn nothing from results). tunefleet's bayesian searcher takes them directly; Ray's
    searchers get each back through their own ``points_to_evaluate``, ``suggest``,
    ``on_trial_result`` and ``on_trial_complete`` (the one path every library supports).

    ``outcomes`` (several objectives, or constraints; ``metric`` and ``mode`` are then the first
    objective's, for the scheduler) are for bayesian alone.

    Pass the same space to ``tuner_param_space`` for ``tune.Tuner(param_space=...)``.
    """
    algorithm = algorithm_name(name)
    if not isinstance(space, Space):
        raise SearchError(f"space must be a tunefleet Space, got {type(space).__name__}")
    check_metric_mode(metric, mode)
    seed, max_concurrent = _check_seed(seed), _check_max_concurrent(max_concurrent)
    points = _check_points(space, points_to_evaluate)
    evaluated = [
        replace(e, config=p) for e, p in zip(evaluated or [], _check_points(space, [e.config for e in evaluated or []]))
    ]
    if outcomes is not None and algorithm != "bayesian":
        raise SearchError(f"algorithm {algorithm} optimises one metric; objectives and constraints need bayesian")
    require(algorithm)
    if algorithm in ("random", "grid"):
        return _variant_generator(algorithm, space, seed, max_concurrent, points, params)
    searcher = _model_based(algorithm, space, metric, mode, seed, points, evaluated, params, outcomes)
    if max_concurrent:
        from ray.tune.search import ConcurrencyLimiter

        return ConcurrencyLimiter(searcher, max_concurrent=max_concurrent)
    return searcher


def _variant_generator(algorithm: str, space: Space, seed, max_concurrent, points: list[dict], params: dict):
    """random / grid: Ray Tune's BasicVariantGenerator (the space's domains go in param_space)."""
    check_params(algorithm, params, ALGORITHM_PARAMS[algorithm])
    if algorithm == "grid" and not space.grid_variables:
        raise SearchError(
            "algorithm grid needs at least one grid variable (a categorical with grid_search); "
            "use random to sample every variable"
        )
    from ray.tune.search import BasicVariantGenerator

    return BasicVariantGenerator(
        points_to_evaluate=points or None, max_concurrent=max_concurrent or 0, random_state=seed, **params
    )


def _model_based(
    algorithm: str, space: Space, metric, mode, seed, points, evaluated: list[Evaluated], params, outcomes
):
    """bayesian, tpe, hyperopt, bohb: a searcher that holds the space, told the ``evaluated`` trials."""
    grid = [v.name for v in space.grid_variables]
    if grid:
        raise SpaceError(
            f"{', '.join(grid)}: grid_search is for the algorithms random and grid; "
            f"{algorithm} would need plain categorical variables"
        )
    if algorithm != "bayesian" and all(v.is_fixed for v in space.variables):
        raise SearchError(f"algorithm {algorithm}: every variable of the space has a single value; use random")
    if algorithm == "bayesian":
        from tunefleet.sweep.search.bayesian import TunefleetBOSearch

        check_params(algorithm, params, ALGORITHM_PARAMS[algorithm])
        searcher = TunefleetBOSearch(
            space, metric=metric, mode=mode, seed=seed, points_to_evaluate=points, outcomes=outcomes, **params
        )
        for trial in evaluated:
            searcher.add_evaluated_point(trial.config, trial.value, error=trial.failed)
        return searcher
    if algorithm == "tpe":
        from tunefleet.sweep.search import optuna as library
    elif algorithm == "hyperopt":
        from tunefleet.sweep.search import hyperopt as library
    else:
        from tunefleet.sweep.search import bohb as library
    searcher = library.searcher(space, metric, mode, seed, [e.config for e in evaluated] + points, params)
    searcher.replay(evaluated)
    return searcher


def tuner_param_space(algorithm: str, space: Space, constants: dict | None = None) -> dict:
    """``tune.Tuner(param_space=...)`` for ``search_algorithm(algorithm, space, ...)``: the
    space's Ray Tune domains for random / grid (BasicVariantGenerator reads them there), only
    the constants for the others (their searcher holds the space). ``constants`` (hpogrid's
    model_config param) reach every trial's config."""
    constants = dict(constants or {})
    clash = sorted(set(constants) & set(space.names))
    if clash:
        raise SearchError(f"{', '.join(clash)}: both a constant and a variable of the space")
    if algorithm_name(algorithm) in ("random", "grid"):
        from tunefleet.sweep.search import ray_tune

        return {**constants, **ray_tune.param_space(space)}
    return constants


def _check_seed(seed) -> int | None:
    if seed is not None and not is_int(seed, 0, 2**32 - 1):
        raise SearchError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return seed


def _check_max_concurrent(max_concurrent) -> int | None:
    if max_concurrent is None or max_concurrent == 0 and not isinstance(max_concurrent, bool):
        return None
    if not is_int(max_concurrent, low=1):
        raise SearchError(
            f"max_concurrent must be a positive integer (or 0 / None for no limit), got {max_concurrent!r}"
        )
    return max_concurrent


def _check_points(space: Space, points) -> list[dict]:
    if points is None:
        return []
    if not isinstance(points, list):
        raise SearchError(f"points_to_evaluate must be a list of points, got {points!r}")
    checked = []
    for i, point in enumerate(points):
        try:
            checked.append(space.validate_point(point))
        except SpaceError as exc:
            raise SpaceError(f"points_to_evaluate[{i}]: {exc}") from exc
    return checked
