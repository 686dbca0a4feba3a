"""The sweep vocabulary's algorithm and scheduler names, what each takes, and the checks of them.

Nothing here imports a search library: configs are validated with these names before any
library is loaded.
"""

from __future__ import annotations

from tunefleet.errors import InvalidInput

ALGORITHMS = ("random", "grid", "bayesian", "tpe", "optuna", "hyperopt", "bohb")
ALIASES = {"tune": "random", "optuna": "tpe"}  # hpogrid's "tune": Ray Tune's own variant generator
UNAVAILABLE = {
    "skopt": "scikit-optimize's searcher was removed from Ray Tune; the closest is bayesian (a GP, as skopt's)",
    "ax": "Ax (ax-platform) is not installed here; the closest is bayesian (a BoTorch GP, as Ax uses)",
}
SCHEDULERS = ("fifo", "none", "asynchyperband", "asha", "hyperband", "bohbhyperband", "pbt", "median")
_SCHEDULER_ALIASES = {"asha": "asynchyperband", "none": "fifo", "median_stopping": "median", "": "fifo"}

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

# Extra parameters each algorithm takes (hpogrid's algorithm_param); tpe takes TPESampler's own.
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


class SearchError(InvalidInput):
    """A search algorithm or scheduler cannot be built as asked; the message says why."""


class MissingDependency(SearchError):
    """An algorithm's library is not installed; the message names it and the closest alternative."""

    def __init__(self, algorithm: str, package: str, requirement: str, closest: str):
        self.algorithm, self.package, self.requirement, self.closest = algorithm, package, requirement, closest
        super().__init__(
            f"algorithm {algorithm} needs the package {package}, which is not installed "
            f"(pip install '{requirement}'); the closest available algorithm is {closest}"
        )


def algorithm_name(name) -> str:
    """The canonical name of an algorithm (``optuna`` is ``tpe``, ``tune`` is ``random``), or a SearchError."""
    key = name.strip().lower() if isinstance(name, str) else name
    key = ALIASES.get(key, key)
    if key in UNAVAILABLE:
        raise SearchError(f"algorithm {name}: {UNAVAILABLE[key]}")
    if key not in ALGORITHMS:
        raise SearchError(f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}")
    return key


def scheduler_name(name) -> str:
    """The canonical name of a scheduler (``asha`` is ``asynchyperband``, None is ``fifo``), or a SearchError."""
    key = "fifo" if name is None else (name.strip().lower() if isinstance(name, str) else name)
    key = _SCHEDULER_ALIASES.get(key, key)
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


def check_metric_mode(metric, mode) -> None:
    if not isinstance(metric, str) or not metric:
        raise SearchError(f"metric must be a non-empty string, got {metric!r}")
    if mode not in ("min", "max"):
        raise SearchError(f"mode must be 'min' or 'max', got {mode!r}")


def check_params(algorithm: str, params: dict, accepted) -> None:
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = f"takes {', '.join(accepted)}" if accepted else "takes no extra parameters"
        raise SearchError(f"algorithm {algorithm}: unknown parameter(s) {', '.join(unknown)}; it {takes}")


def require(algorithm: str) -> None:
    """A MissingDependency if a package the algorithm needs is not installed."""
    for module, requirement in _MISSING_PACKAGES.get(algorithm, ()):  # names from the table above only
        try:
            __import__(module)
        except ImportError as exc:
            raise MissingDependency(algorithm, module, requirement, _CLOSEST[algorithm]) from exc
