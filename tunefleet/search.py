"""Ray Tune search algorithms and trial schedulers, built from a tunefleet ``Space``.

``search_algorithm(name, space, metric, mode, ...)`` gives what ``tune.TuneConfig(search_alg=...)``
takes, ``scheduler(name, metric, mode, ...)`` what ``tune.TuneConfig(scheduler=...)`` takes, and
``tuner_param_space(name, space, constants)`` what ``tune.Tuner(param_space=...)`` takes with them.

Algorithms (hpogrid's and Auptimizer's names):

=========== ===================================================================================
random      Ray Tune's BasicVariantGenerator over ``space.to_tune()`` (grid variables expanded,
            the others drawn afresh for each grid point; ``num_samples`` repeats the grid)
grid        the same, for spaces with at least one grid variable (categorical grid_search)
bayesian    tunefleet's BO engine (tunefleet.bayesopt) as a Ray Tune Searcher: TunefleetBOSearch
tpe, optuna Optuna's TPE sampler through Ray's OptunaSearch
hyperopt    hyperopt's TPE through Ray's HyperOptSearch (needs hyperopt)
bohb        BOHB through Ray's TuneBOHB (needs hpbandster and ConfigSpace), with the
            bohbhyperband scheduler
=========== ===================================================================================

The model-based searchers get the space in their own terms, not through Ray's conversion of
``to_tune()`` domains (which drops quantisation for Optuna and BOHB and has no log-normal):
hyperopt gets the exact hp.* distribution of every kind; Optuna and BOHB get categories as
indices, numbers in their native form where they have one (uniform, int, log-uniform; q-kinds
are rounded to their multiples afterwards) and the normal kinds as their quantile u ∈ [0, 1]
(value = ``variable.from_unit(u)``, so the searcher's uniform prior on u is the variable's
distribution). Suggestions come back as values of the space, of plain Python types; variables
with a single value are not shown to these searchers at all.

Grid variables belong to random and grid: a model-based algorithm refuses them, naming them.

Use::

    alg = search_algorithm("bayesian", space, "loss", "min", seed=0, max_concurrent=2)
    tuner = tune.Tuner(
        trainable,
        param_space=tuner_param_space("bayesian", space, constants),
        tune_config=tune.TuneConfig(search_alg=alg, scheduler=scheduler("asha", "loss", "min"), num_samples=trials),
    )

Searchers and schedulers from here carry metric and mode: do not give them to TuneConfig too
(Ray refuses a scheduler that has its own); pass them to ``results.get_best_result``.
hyperband, bohbhyperband and median pause trials and pbt swaps their weights: their
trainables should save and load checkpoints, or a resumed trial starts over.

Ray is imported inside the functions, so importing this module costs nothing until a factory
runs; ``TunefleetBOSearch`` is created on first use (module ``__getattr__``) for the same reason.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import math
import random as _random
from dataclasses import dataclass, replace

from tunefleet.space import (
    Categorical,
    Continuous,
    Integer,
    LogUniform,
    QLogUniform,
    QUniform,
    Space,
    SpaceError,
    is_number,
)

ALGORITHMS = ("random", "grid", "bayesian", "tpe", "optuna", "hyperopt", "bohb")
ALIASES = {"tune": "random"}  # hpogrid's "tune": Ray Tune's own variant generator
UNAVAILABLE = {
    "skopt": "scikit-optimize's searcher was removed from Ray Tune; the closest is bayesian (a GP, as skopt's)",
    "ax": "Ax (ax-platform) is not installed here; the closest is bayesian (a BoTorch GP, as Ax uses)",
}
SCHEDULERS = ("fifo", "none", "asynchyperband", "asha", "hyperband", "bohbhyperband", "pbt", "median")

# What Auptimizer's proposers become: (algorithm, scheduler).
AUPTIMIZER_PROPOSERS = {
    "random": ("random", "fifo"),
    "sequence": ("grid", "fifo"),
    "spearmint": ("bayesian", "fifo"),
    "hyperopt": ("hyperopt", "fifo"),
    "bohb": ("bohb", "bohbhyperband"),
    "hyperband": ("random", "hyperband"),
}
_AUPTIMIZER_UNSUPPORTED = {
    "passive": "passive runs jobs by hand; run the trainable yourself",
    "eas": "EAS (architecture search by network transformation) has no Ray Tune counterpart",
}

# Extra parameters each algorithm takes (hpogrid's algorithm_param).
ALGORITHM_PARAMS = {
    "random": ("constant_grid_search",),
    "grid": ("constant_grid_search",),
    "bayesian": ("initial_points", "model", "acquisition"),
    "hyperopt": ("n_initial_points", "gamma"),
    "bohb": (
        "min_points_in_model",
        "top_n_percent",
        "num_samples",
        "random_fraction",
        "bandwidth_factor",
        "min_bandwidth",
    ),
}

_MISSING_PACKAGES = {
    "hyperopt": (("hyperopt", "hyperopt==0.3.0"),),
    "bohb": (("hpbandster", "hpbandster==0.7.4"), ("ConfigSpace", "ConfigSpace==1.2.2")),
    "tpe": (("optuna", "optuna>=5.0"),),
}
_CLOSEST = {
    "hyperopt": "tpe (Optuna's TPE, the same method)",
    "bohb": "tpe with the asynchyperband scheduler (model-based search with early stopping)",
    "tpe": "bayesian (tunefleet's own engine)",
}


class SearchError(ValueError):
    """A search algorithm or scheduler cannot be built as asked; the message says why."""


class MissingDependency(SearchError):
    """An algorithm's library is not installed; the message names it and the closest alternative."""

    def __init__(self, algorithm: str, package: str, requirement: str, closest: str):
        self.algorithm, self.package, self.requirement, self.closest = algorithm, package, requirement, closest
        super().__init__(
            f"algorithm {algorithm} needs the package {package}, which is not installed "
            f"(pip install '{requirement}'); the closest available algorithm is {closest}"
        )


# -- names and arguments ------------------------------------------------------------------------
def algorithm_name(name) -> str:
    """The canonical name of an algorithm (``optuna`` is ``tpe``, ``tune`` is ``random``), or a SearchError."""
    key = name.strip().lower() if isinstance(name, str) else name
    key = ALIASES.get(key, key)
    if key == "optuna":
        key = "tpe"
    if key in UNAVAILABLE:
        raise SearchError(f"algorithm {name}: {UNAVAILABLE[key]}")
    if key not in ALGORITHMS:
        raise SearchError(f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}")
    return key


def scheduler_name(name) -> str:
    """The canonical name of a scheduler (``asha`` is ``asynchyperband``, None is ``fifo``), or a SearchError."""
    key = "fifo" if name is None else (name.strip().lower() if isinstance(name, str) else name)
    key = {"asha": "asynchyperband", "none": "fifo", "median_stopping": "median", "": "fifo"}.get(key, key)
    if key not in SCHEDULERS:
        raise SearchError(f"unknown scheduler {name!r}; known: {', '.join(SCHEDULERS)}")
    return key


def check_combination(algorithm: str, scheduler: str | None) -> None:
    """A SearchError if the algorithm and the scheduler do not work together.

    BOHB learns only from the budgets HyperBandForBOHB reports, and that scheduler pauses and
    resumes trials through BOHB's searcher: each needs the other."""
    algorithm, scheduler = algorithm_name(algorithm), scheduler_name(scheduler)
    if algorithm == "bohb" and scheduler != "bohbhyperband":
        raise SearchError(f"algorithm bohb needs the scheduler bohbhyperband, not {scheduler}")
    if scheduler == "bohbhyperband" and algorithm != "bohb":
        raise SearchError(f"scheduler bohbhyperband works only with algorithm bohb, not {algorithm}")


def auptimizer_proposer(proposer: str) -> tuple[str, str]:
    """The (algorithm, scheduler) that stands for an Auptimizer proposer."""
    if proposer in _AUPTIMIZER_UNSUPPORTED:
        raise SearchError(f"proposer {proposer}: {_AUPTIMIZER_UNSUPPORTED[proposer]}")
    if proposer not in AUPTIMIZER_PROPOSERS:
        known = ", ".join([*AUPTIMIZER_PROPOSERS, *_AUPTIMIZER_UNSUPPORTED])
        raise SearchError(f"unknown proposer {proposer!r}; Auptimizer's are {known}")
    return AUPTIMIZER_PROPOSERS[proposer]


def _check_metric_mode(metric, mode) -> None:
    if not isinstance(metric, str) or not metric:
        raise SearchError(f"metric must be a non-empty string, got {metric!r}")
    if mode not in ("min", "max"):
        raise SearchError(f"mode must be 'min' or 'max', got {mode!r}")


def _check_seed(seed) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
        raise SearchError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return seed


def _check_max_concurrent(max_concurrent) -> int | None:
    if max_concurrent is None or max_concurrent == 0 and not isinstance(max_concurrent, bool):
        return None
    if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int) or max_concurrent < 1:
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


def _check_params(algorithm: str, params: dict, accepted) -> None:
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = f"takes {', '.join(accepted)}" if accepted else "takes no extra parameters"
        raise SearchError(f"algorithm {algorithm}: unknown parameter(s) {', '.join(unknown)}; it {takes}")


def _require(algorithm: str) -> None:
    for module, requirement in _MISSING_PACKAGES.get(algorithm, ()):
        try:
            __import__(module)
        except ImportError as exc:
            raise MissingDependency(algorithm, module, requirement, _CLOSEST[algorithm]) from exc


# -- search algorithms --------------------------------------------------------------------------
def search_algorithm(
    name: str,
    space: Space,
    metric: str,
    mode: str,
    seed: int | None = None,
    max_concurrent: int | None = None,
    points_to_evaluate: list[dict] | None = None,
    evaluated: list[Evaluated] | None = None,
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

    Pass the same space to ``tuner_param_space`` for ``tune.Tuner(param_space=...)``.
    """
    algorithm = algorithm_name(name)
    if not isinstance(space, Space):
        raise SearchError(f"space must be a tunefleet Space, got {type(space).__name__}")
    _check_metric_mode(metric, mode)
    seed = _check_seed(seed)
    max_concurrent = _check_max_concurrent(max_concurrent)
    points = _check_points(space, points_to_evaluate)
    evaluated = list(evaluated or [])
    evaluated = [replace(e, config=p) for e, p in zip(evaluated, _check_points(space, [e.config for e in evaluated]))]
    _require(algorithm)

    if algorithm in ("random", "grid"):
        _check_params(algorithm, params, ALGORITHM_PARAMS[algorithm])
        if algorithm == "grid" and not space.grid_variables:
            raise SearchError(
                "algorithm grid needs at least one grid variable (a categorical with grid_search); "
                "use random to sample every variable"
            )
        from ray.tune.search import BasicVariantGenerator

        return BasicVariantGenerator(
            points_to_evaluate=points or None, max_concurrent=max_concurrent or 0, random_state=seed, **params
        )

    grid = [v.name for v in space.grid_variables]
    if grid:
        raise SpaceError(
            f"{', '.join(grid)}: grid_search is for the algorithms random and grid; "
            f"{algorithm} would need plain categorical variables"
        )
    free = [v for v in space.variables if not v.is_fixed]
    if not free and algorithm != "bayesian":
        raise SearchError(f"algorithm {algorithm}: every variable of the space has a single value; use random")

    if algorithm == "bayesian":
        _check_params(algorithm, params, ALGORITHM_PARAMS[algorithm])
        searcher = _classes()["TunefleetBOSearch"](
            space, metric=metric, mode=mode, seed=seed, points_to_evaluate=points, **params
        )
        for trial in evaluated:
            searcher.add_evaluated_point(trial.config, trial.value, error=trial.failed)
    else:
        build = {"tpe": _optuna_searcher, "hyperopt": _hyperopt_searcher, "bohb": _bohb_searcher}[algorithm]
        searcher = build(space, metric, mode, seed, [e.config for e in evaluated] + points, params)
        searcher.replay(evaluated)
    if max_concurrent:
        from ray.tune.search import ConcurrencyLimiter

        return ConcurrencyLimiter(searcher, max_concurrent=max_concurrent)
    return searcher


@dataclass(frozen=True)
class Evaluated:
    """A trial that ran before its searcher existed: its point, the metric's final value (None:
    it failed or never reported it) and its intermediate results (Optuna's pruning and BOHB's
    budgets learn from those)."""

    config: dict
    value: float | None
    history: tuple[dict, ...] = ()

    @property
    def failed(self) -> bool:
        return not is_number(self.value) or not math.isfinite(self.value)


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
        return {**constants, **space.to_tune()}
    return constants


class _Codec:
    """How a third-party searcher sees each variable, and back.

    Modes: ``index`` (a categorical as its option's position), ``value`` (the number itself,
    snapped to the variable afterwards), ``quantile`` (u ∈ [0, 1], value = from_unit(u));
    fixed variables are constants the searcher never sees.
    """

    def __init__(self, space: Space, native: tuple[type, ...]):
        self.space = space
        self.constants = {v.name: v.from_unit(0.5) for v in space.variables if v.is_fixed}
        self.exact = {}  # (name, quantile) -> the value it was made from: points to evaluate come back exact
        self.modes = {}
        for v in space.variables:
            if v.is_fixed:
                continue
            if isinstance(v, Categorical):
                self.modes[v.name] = "index"
            elif isinstance(v, native):
                self.modes[v.name] = "value"
            else:
                self.modes[v.name] = "quantile"

    def to_space(self, config: dict) -> dict:
        """A searcher's suggestion as a point of the space (other keys pass through)."""
        out = dict(config)
        for name, mode in self.modes.items():
            if name not in config:
                continue
            variable, x = self.space[name], config[name]
            if mode == "index":
                out[name] = variable.options[int(x)]
            elif mode == "quantile":
                out[name] = self.exact.get((name, float(x)), None)
                if out[name] is None:
                    out[name] = variable.from_unit(float(x))
            else:
                out[name] = variable.nearest(x.item() if hasattr(x, "item") else x)
        out.update(self.constants)
        return {name: out[name] for name in (*self.space.names, *(k for k in out if k not in self.space.names))}

    def to_searcher(self, point: dict) -> dict:
        """A point of the space as the searcher sees it."""
        out = {}
        for name, mode in self.modes.items():
            variable, value = self.space[name], point[name]
            if mode == "index":
                out[name] = variable._index(value)
            elif mode == "quantile":
                out[name] = variable.encode(value)[0]
                self.exact[(name, out[name])] = value
            else:
                out[name] = value
        return out


class _OptunaSpace:
    """Optuna's define-by-run space over a codec (a class, not a closure: OptunaSearch pickles it)."""

    def __init__(self, codec: _Codec):
        self.codec = codec

    def __call__(self, trial) -> None:
        for name, mode in self.codec.modes.items():
            variable = self.codec.space[name]
            if mode == "index":
                trial.suggest_categorical(name, list(range(len(variable.options))))
            elif mode == "quantile":
                trial.suggest_float(name, 0.0, 1.0)
            elif isinstance(variable, Integer):
                trial.suggest_int(name, variable.low, variable.high)
            elif isinstance(variable, QUniform):
                low, high = variable.bounds
                trial.suggest_float(name, low, high, step=variable.q)
            elif isinstance(variable, (LogUniform, QLogUniform)):
                trial.suggest_float(name, *variable.bounds, log=True)
            else:
                trial.suggest_float(name, variable.low, variable.high)


def _optuna_searcher(space: Space, metric: str, mode: str, seed, points: list[dict], params: dict):
    import optuna
    from ray.tune.search.optuna import OptunaSearch

    accepted = [p for p in inspect.signature(optuna.samplers.TPESampler).parameters if p != "seed"]
    _check_params("tpe", params, accepted)
    try:
        sampler = optuna.samplers.TPESampler(seed=seed, **params)
    except (TypeError, ValueError) as exc:
        raise SearchError(f"algorithm tpe: {exc}") from exc
    codec = _Codec(space, native=(Integer, QUniform, LogUniform, QLogUniform, Continuous))
    inner = OptunaSearch(
        space=_OptunaSpace(codec),
        metric=metric,
        mode=mode,
        sampler=sampler,
        points_to_evaluate=[codec.to_searcher(p) for p in points] or None,
    )
    return _classes()["SpaceSearcher"](inner, codec)


def _hyperopt_space(space: Space, codec: _Codec) -> dict:
    from hyperopt import hp

    out = {}
    for name in codec.modes:
        v = space[name]
        if isinstance(v, Categorical):
            out[name] = hp.choice(name, list(range(len(v.options))))
        elif isinstance(v, Integer):
            out[name] = hp.uniformint(name, v.low, v.high)
        elif v.method == "uniform":
            out[name] = hp.uniform(name, v.low, v.high)
        elif v.method == "quniform":
            out[name] = hp.quniform(name, *v.bounds, v.q)
        elif v.method == "loguniform":
            out[name] = hp.loguniform(name, math.log(v.low), math.log(v.high))
        elif v.method == "qloguniform":
            low, high = v.bounds
            out[name] = hp.qloguniform(name, math.log(low), math.log(high), v.q)
        elif v.method == "normal":
            out[name] = hp.normal(name, v.mu, v.sigma)
        elif v.method == "qnormal":
            out[name] = hp.qnormal(name, v.mu, v.sigma, v.q)
        else:  # base ** normal(mu, sigma) = exp(normal(mu ln base, sigma ln base))
            ln_base = math.log(v.base)
            if v.method == "lognormal":
                out[name] = hp.lognormal(name, v.mu * ln_base, v.sigma * ln_base)
            else:
                out[name] = hp.qlognormal(name, v.mu * ln_base, v.sigma * ln_base, v.q)
    return out


def _hyperopt_searcher(space: Space, metric: str, mode: str, seed, points: list[dict], params: dict):
    from ray.tune.search.hyperopt import HyperOptSearch

    _check_params("hyperopt", params, ALGORITHM_PARAMS["hyperopt"])
    codec = _Codec(space, native=(object,))  # hyperopt has every kind: all values, categories as indices
    try:
        inner = HyperOptSearch(
            space=_hyperopt_space(space, codec),
            metric=metric,
            mode=mode,
            points_to_evaluate=[codec.to_searcher(p) for p in points] or None,
            random_state_seed=seed,
            **params,
        )
    except (TypeError, ValueError) as exc:
        raise SearchError(f"algorithm hyperopt: {exc}") from exc
    return _classes()["SpaceSearcher"](inner, codec)


def _bohb_searcher(space: Space, metric: str, mode: str, seed, points: list[dict], params: dict):
    import ConfigSpace
    from ray.tune.search.bohb import TuneBOHB

    _check_params("bohb", params, ALGORITHM_PARAMS["bohb"])
    codec = _Codec(space, native=(Integer, QUniform, LogUniform, QLogUniform, Continuous))
    config_space = ConfigSpace.ConfigurationSpace()
    for name, how in codec.modes.items():
        v = space[name]
        if how == "index":
            parameter = ConfigSpace.CategoricalHyperparameter(name, choices=list(range(len(v.options))))
        elif how == "quantile":
            parameter = ConfigSpace.UniformFloatHyperparameter(name, lower=0.0, upper=1.0)
        elif isinstance(v, Integer):
            parameter = ConfigSpace.UniformIntegerHyperparameter(name, lower=v.low, upper=v.high)
        elif isinstance(v, (LogUniform, QLogUniform)):
            parameter = ConfigSpace.UniformFloatHyperparameter(name, *v.bounds, log=True)
        else:  # uniform, and quniform rounded afterwards (ConfigSpace 1.x has no q)
            low, high = v.bounds if isinstance(v, QUniform) else (v.low, v.high)
            parameter = ConfigSpace.UniformFloatHyperparameter(name, lower=low, upper=high)
        config_space.add(parameter)
    inner = TuneBOHB(
        space=config_space,
        bohb_config=params or None,
        metric=metric,
        mode=mode,
        points_to_evaluate=[codec.to_searcher(p) for p in points] or None,
        seed=seed,
    )
    return _classes()["SpaceSearcher"](inner, codec)


def _point_key(point: dict) -> str:
    return json.dumps({k: v.item() if hasattr(v, "item") else v for k, v in point.items()}, sort_keys=True)


# -- schedulers -----------------------------------------------------------------------------------
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
    variables = [space[name] for name in names] if names is not None else space.variables
    return {
        v.name: list(v.options) if isinstance(v, Categorical) else v.to_tune()
        for v in variables
        if not v.is_grid and not v.is_fixed
    }


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
    _check_metric_mode(metric, mode)
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


# -- the searchers that subclass Ray's Searcher, created on first use ---------------------------
@functools.cache
def _classes() -> dict:
    from ray.tune.search import Searcher

    class TunefleetBOSearch(Searcher):
        """tunefleet's BO engine (tunefleet.bayesopt.Optimizer) as a Ray Tune Searcher.

        ``suggest`` hands out ``points_to_evaluate`` first, then the engine's initial design
        (the guess, then scrambled Sobol points) for the first ``initial_points`` trials (and
        until two results are in), then the GP's proposals. Results are told when trials
        complete: ``mode="min"`` minimises. While trials run, the GP is given each pending
        point with the mean response so far (the "constant liar"), so concurrent trials get
        different points; a failed trial (error, no metric, or a non-finite one) is given the
        worst response seen, so the model steers away from it and it is never proposed again.
        Its whole state is JSON (``get_state`` / ``save``): a restored searcher continues the
        same sequence, and trials running at the pause complete into it.
        """

        def __init__(
            self,
            space: Space,
            metric: str | None = None,
            mode: str | None = None,
            seed: int | None = None,
            points_to_evaluate: list[dict] | None = None,
            initial_points: int = 5,
            model: str = "SingleTaskGP",
            acquisition: str = "ExpectedImprovement",
        ):
            from tunefleet.bayesopt import Optimizer

            super().__init__(metric=metric, mode=mode)
            if space.grid_variables:
                names = ", ".join(v.name for v in space.grid_variables)
                raise SpaceError(f"{names}: grid_search is for the algorithms random and grid, not bayesian")
            seed = _random.SystemRandom().randrange(2**31) if seed is None else seed
            try:  # validates model, acquisition, initial_points and seed as the engine does
                Optimizer(space, model=model, acquisition=acquisition, initial_points=initial_points, seed=seed)
            except ValueError as exc:
                raise SearchError(f"algorithm bayesian: {exc}") from exc
            self._space = space
            self._settings = {
                "seed": seed,
                "initial_points": initial_points,
                "model": model,
                "acquisition": acquisition,
            }
            self._to_evaluate = [space.validate_point(p) for p in points_to_evaluate or []]
            self._observations: list[tuple[dict, float]] = []
            self._failed: list[dict] = []
            self._live: dict[str, dict] = {}
            self._suggested = 0
            self._designed = 0

        # Ray's interface ----------------------------------------------------------------------
        def set_search_properties(self, metric, mode, config, **spec) -> bool:
            from ray.tune.search.variant_generator import parse_spec_vars

            _, domains, grids = parse_spec_vars(config or {})
            if domains or grids:
                return False  # the space is ours; Ray then explains that param_space must not hold one
            if metric and not self._metric:
                self._metric = metric
            if mode and not self._mode:
                self._mode = mode
            return True

        def suggest(self, trial_id: str) -> dict | None:
            if not self._metric or self._mode not in ("min", "max"):
                raise RuntimeError("TunefleetBOSearch needs metric and mode (min or max)")
            if self._to_evaluate:
                point = self._to_evaluate.pop(0)
            else:
                point = self._next_point()
            self._live[trial_id] = point
            self._suggested += 1
            return dict(point)

        def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
            point = self._live.pop(trial_id, None)
            if point is None:
                return
            value = (result or {}).get(self._metric)
            if error or not is_number(value) or not math.isfinite(value):
                self._failed.append(point)
            else:
                self._observations.append((point, float(value)))

        def add_evaluated_point(self, parameters, value, error=False, pruned=False, intermediate_values=None):
            point = self._space.validate_point(parameters)
            if error or not is_number(value) or not math.isfinite(value):
                self._failed.append(point)
            else:
                self._observations.append((point, float(value)))

        def get_state(self) -> dict:
            return {
                "version": 1,
                "covars": self._space.to_dict(),
                "metric": self._metric,
                "mode": self._mode,
                **self._settings,
                "to_evaluate": self._to_evaluate,
                "observations": [{"point": p, "response": y} for p, y in self._observations],
                "failed": self._failed,
                "live": self._live,
                "suggested": self._suggested,
                "designed": self._designed,
            }

        def set_state(self, state: dict) -> None:
            space = Space.from_covars(state["covars"])
            self._space = space
            self._metric, self._mode = state["metric"], state["mode"]
            self._settings = {k: state[k] for k in ("seed", "initial_points", "model", "acquisition")}
            self._to_evaluate = [space.validate_point(p) for p in state["to_evaluate"]]
            self._observations = [
                (space.validate_point(o["point"]), float(o["response"])) for o in state["observations"]
            ]
            self._failed = [space.validate_point(p) for p in state["failed"]]
            self._live = {trial_id: space.validate_point(p) for trial_id, p in state["live"].items()}
            self._suggested, self._designed = state["suggested"], state["designed"]

        def save(self, checkpoint_path: str) -> None:
            with open(checkpoint_path, "w") as file:
                json.dump(self.get_state(), file)

        def restore(self, checkpoint_path: str) -> None:
            with open(checkpoint_path) as file:
                self.set_state(json.load(file))

        # results --------------------------------------------------------------------------------
        @property
        def observations(self) -> list[tuple[dict, float]]:
            return list(self._observations)

        @property
        def best(self) -> tuple[dict, float] | None:
            if not self._observations:
                return None
            pick = max if self._mode == "max" else min
            return pick(self._observations, key=lambda o: o[1])

        # the engine ------------------------------------------------------------------------------
        def _next_point(self) -> dict:
            if self._suggested < self._settings["initial_points"] or len(self._observations) < 2:
                return self._design_point()
            from tunefleet.bayesopt import Observation, Optimizer

            responses = [y for _, y in self._observations]
            worst = (min if self._mode == "max" else max)(responses)
            lie = sum(responses) / len(responses)
            told = [Observation(p, y) for p, y in self._observations]
            told += [Observation(p, lie) for p in self._live.values()]
            told += [Observation(p, worst) for p in self._failed]
            optimizer = Optimizer(
                self._space,
                model=self._settings["model"],
                acquisition=self._settings["acquisition"],
                maximize=self._mode == "max",
                initial_points=1,
                seed=self._settings["seed"],
                observations=told,
            )
            return optimizer.ask(1)[0]

        def _design_point(self) -> dict:
            """Point ``designed`` of the engine's initial design: the guess, then Sobol points."""
            index, self._designed = self._designed, self._designed + 1
            if index == 0:
                return self._space.guess()
            return self._space.sobol(1, self._settings["seed"], skip=index - 1)[0]

    class SpaceSearcher(Searcher):
        """A third-party searcher seen through a ``_Codec``: its suggestions become points of the
        space, points to evaluate its own form; everything else is passed through."""

        def __init__(self, searcher, codec: _Codec):
            self.searcher, self.codec = searcher, codec
            super().__init__(metric=searcher.metric, mode=searcher.mode)

        def suggest(self, trial_id: str):
            config = self.searcher.suggest(trial_id)
            return self.codec.to_space(config) if isinstance(config, dict) else config

        def replay(self, evaluated: list[Evaluated]) -> None:
            """Tell the searcher trials that ran before it existed. Built with their points first in
            its points_to_evaluate, it suggests each of them back (in its own order: hyperopt's is
            reversed) and is given its intermediate results and end as if it had run here."""
            waiting = {_point_key(e.config): e for e in evaluated}
            time_attr = "training_iteration"
            for n in range(len(evaluated)):
                trial_id = f"evaluated_{n:05d}"
                trial = waiting.pop(_point_key(self.suggest(trial_id)))
                for step in trial.history:
                    value = step.get(self.metric)
                    if time_attr in step and is_number(value) and math.isfinite(value):
                        result = {**step, "hyperband_info": {"budget": step.get(time_attr, 1)}}  # BOHB's budget
                        self.searcher.on_trial_result(trial_id, result)
                final = None if trial.failed else {self.metric: trial.value}
                self.searcher.on_trial_complete(trial_id, result=final, error=trial.failed)

        def set_search_properties(self, metric, mode, config, **spec) -> bool:
            from ray.tune.search.variant_generator import parse_spec_vars

            _, domains, grids = parse_spec_vars(config or {})
            return not (domains or grids)

        def on_trial_result(self, trial_id: str, result: dict) -> None:
            self.searcher.on_trial_result(trial_id, result)

        def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
            self.searcher.on_trial_complete(trial_id, result=result, error=error)

        def on_pause(self, trial_id: str) -> None:  # HyperBandForBOHB
            self.searcher.on_pause(trial_id)

        def on_unpause(self, trial_id: str) -> None:
            self.searcher.on_unpause(trial_id)

        def set_max_concurrency(self, max_concurrent: int) -> bool:
            return self.searcher.set_max_concurrency(max_concurrent)

        # Ray saves a wrapper (anything with .searcher) by its get_state, and the searcher inside by its save.
        def get_state(self) -> dict:
            return {"codec": copy.deepcopy(self.codec)}

        def set_state(self, state: dict) -> None:
            self.codec = state["codec"]

        def save(self, checkpoint_path: str) -> None:
            self.searcher.save(checkpoint_path)

        def restore(self, checkpoint_path: str) -> None:
            self.searcher.restore(checkpoint_path)

    for cls in (TunefleetBOSearch, SpaceSearcher):  # picklable by reference, through __getattr__ below
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return {"TunefleetBOSearch": TunefleetBOSearch, "SpaceSearcher": SpaceSearcher}


def __getattr__(name: str):
    if name in ("TunefleetBOSearch", "SpaceSearcher"):
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
