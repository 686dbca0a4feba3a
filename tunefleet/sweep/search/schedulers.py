"""``scheduler``: the Ray Tune trial scheduler a sweep's hpo_config names, and PBT's mutations
from a ``Space``.

Searchers and schedulers from here carry metric and mode: do not give them to TuneConfig too
(Ray refuses a scheduler that has its own); pass them to ``results.get_best_result``.
hyperband, bohbhyperband and median pause trials and pbt swaps their weights: their
trainables should save and load checkpoints, or a resumed trial starts over.
"""

from __future__ import annotations

import inspect

from tunefleet.space import Categorical, Space
from tunefleet.sweep.search.names import SearchError, check_metric_mode, scheduler_name


def scheduler(name: str | None, metric: str, mode: str, space: Space | None = None, **params):
    """The Ray Tune trial scheduler called ``name``, checked before anything runs.

    ``params`` are the scheduler's own arguments (hpogrid's scheduler_param; Ray's defaults
    otherwise): asynchyperband / asha ``time_attr, max_t, grace_period, reduction_factor,
    brackets, stop_last_trials``; hyperband and bohbhyperband ``time_attr, max_t,
    reduction_factor, stop_last_trials``; pbt ``time_attr, perturbation_interval,
    burn_in_period, hyperparam_mutations, quantile_fraction, resample_probability,
    perturbation_factors, custom_explore_fn, log_config, require_attrs, synch``; median
    ``time_attr, grace_period, min_samples_required, min_time_slice, hard_stop``; fifo none.

    For pbt, ``hyperparam_mutations`` defaults to ``pbt_mutations(space)`` (a list of names
    picks those variables) and perturbed values are clipped back into the space
    (``ClipToSpace``). ``max_concurrent`` (in hpogrid's scheduler_param) is refused here:
    it belongs to ``search_algorithm``.
    """
    key = scheduler_name(name)
    check_metric_mode(metric, mode)
    if "max_concurrent" in params:
        raise SearchError(
            "max_concurrent limits the search algorithm, not the scheduler: pass it to search_algorithm(max_concurrent=...)"
        )
    cls = _scheduler_class(key)
    if key == "fifo":
        if params:
            raise SearchError(f"scheduler fifo takes no parameters, got {', '.join(sorted(params))}")
        return cls()
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "metric", "mode")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise SearchError(f"scheduler {key}: unknown parameter(s) {', '.join(unknown)}; it takes {', '.join(accepted)}")
    if key == "pbt":
        params = _pbt_params(space, params)
    try:
        return cls(metric=metric, mode=mode, **params)
    except (AssertionError, TypeError, ValueError) as exc:
        raise SearchError(f"scheduler {key}: {exc or type(exc).__name__}") from exc


def _scheduler_class(name: str):
    from ray.tune import schedulers

    return {
        "fifo": schedulers.FIFOScheduler,
        "asynchyperband": schedulers.ASHAScheduler,
        "hyperband": schedulers.HyperBandScheduler,
        "bohbhyperband": schedulers.HyperBandForBOHB,
        "pbt": schedulers.PopulationBasedTraining,
        "median": schedulers.MedianStoppingRule,
    }[name]


def _pbt_params(space: Space | None, params: dict) -> dict:
    params = dict(params)
    mutations = params.get("hyperparam_mutations")
    if mutations is None or isinstance(mutations, (list, tuple)):
        if space is None:
            raise SearchError("scheduler pbt needs the space (or hyperparam_mutations) to know what to mutate")
        try:
            mutations = pbt_mutations(space, mutations)
        except KeyError as exc:
            raise SearchError(f"scheduler pbt: hyperparam_mutations names {exc.args[0]}") from None
        if not mutations:
            raise SearchError("scheduler pbt: the space has no variable to mutate (grid and fixed ones are not)")
        params["hyperparam_mutations"] = mutations
    if space is not None:
        params["custom_explore_fn"] = ClipToSpace(space, then=params.get("custom_explore_fn"))
    return params


class ClipToSpace:
    """PBT's ``custom_explore_fn``: Ray perturbs numbers by factors (0.8, 1.2) with no regard to
    bounds; this puts each variable of a perturbed config back to its nearest valid value."""

    def __init__(self, space: Space, then=None):
        self.space, self.then = space, then

    def __call__(self, config: dict) -> dict:
        for variable in self.space.variables:
            if variable.name in config and not isinstance(variable, Categorical):
                config[variable.name] = variable.nearest(config[variable.name])
        return self.then(config) if self.then else config


def pbt_mutations(space: Space, names=None) -> dict:
    """PBT's ``hyperparam_mutations`` from the space: categories as their ordered list (PBT
    shifts to a neighbour), numbers as their Ray Tune domain (PBT scales by 0.8 / 1.2 or
    resamples). Grid variables are the experiment's axes and are not mutated."""
    from tunefleet.sweep.search import ray_tune

    variables = [space[name] for name in names] if names is not None else space.variables
    return {
        v.name: list(v.options) if isinstance(v, Categorical) else ray_tune.domain(v)
        for v in variables
        if not v.is_grid and not v.is_fixed
    }
