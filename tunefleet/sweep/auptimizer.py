"""An Auptimizer ``experiment.json`` as a tunefleet sweep: the same configs as an hpogrid project.

============================ ===================================================================
Auptimizer                   tunefleet
============================ ===================================================================
proposer                     hpo_config.algorithm + scheduler: random → random, sequence → grid
                             (parameter_config read as a grid), spearmint → bayesian, hyperopt
                             → hyperopt, bohb → bohb + bohbhyperband, hyperband → random +
                             hyperband (passive, eas: refused)
n_samples (10)               hpo_config.num_trials (sequence: 1 pass over the grid; hyperband and
                             bohb: the number of configurations their brackets draw, as Auptimizer
                             counts them from max_iter / eta, n_iterations / budgets)
random_seed                  hpo_config.seed
target (max)                 hpo_config.mode; the metric is named ``score`` (a number a script returns)
n_parallel (1)               hpo_config.max_concurrent
job_failure                  hpo_config.job_retries, ignore_fail; without job_failure a failed job
                             stops the experiment (ignore_fail false), as in Auptimizer
script, workingdir ("./")    model_config.script (model ``main``), scripts_path (relative to the
                             experiment file's folder)
parameter_config             search_space (Space.from_auptimizer, written in hpogrid's form)
resource (cpu)               compute_config.work_pool cpu | gpu (a gpu per trial); aws, node and
                             passive are refused: point compute_config.address at a cluster instead
resource_args.save_model     model_config.save_model
  .multi_res_labels          model_config.multi_res_labels
  .track_intermediate_results kept in ``resource_args`` (tunefleet records every result anyway)
  .early_stop                hpo_config.scheduler: median → median; truncation → asynchyperband
                             (reduction_factor 1 / (1 - truncation_percentage)); bandit →
                             asynchyperband (an approximation: noted); curve_fitting: refused
hyperband max_iter / eta     scheduler_param max_t / reduction_factor; ``n_iterations`` (max_iter)
                             is passed to the script in param, as Auptimizer passes it
bohb settings                algorithm_param (min_points_in_model, top_n_percent, num_samples,
                             random_fraction, bandwidth_factor, min_bandwidth); eta →
                             reduction_factor; max_budget (budgets in iterations, min_budget ≥ 1) or
                             max_budget / min_budget (fractions, the default 0.01 to 1) → max_t and param n_iterations
============================ ===================================================================

What is only approximated or ignored is said in ``AuptimizerExperiment.notes`` (and logged).
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from tunefleet.errors import InvalidInput
from tunefleet.sweep.configs import ConfigError, SweepConfig
from tunefleet.sweep.search.names import ALGORITHM_PARAMS, SearchError, auptimizer_proposer
from tunefleet.validation import is_finite, is_int

log = logging.getLogger(__name__)

METRIC = "score"
MODEL = "main"

_CORE_FIELDS = (
    "proposer",
    "n_samples",
    "random_seed",
    "script",
    "parameter_config",
    "n_parallel",
    "job_failure",
    "target",
    "resource",
    "resource_args",
    "workingdir",
    "name",
)
_HYPERBAND_FIELDS = ("max_iter", "eta", "skip_last", "engine")
_BOHB_ALGORITHM_FIELDS = ALGORITHM_PARAMS["bohb"]
_BOHB_FIELDS = (*_BOHB_ALGORITHM_FIELDS, "n_iterations", "eta", "min_budget", "max_budget")
_PROPOSER_FIELDS = {
    "hyperband": _HYPERBAND_FIELDS,
    "bohb": _BOHB_FIELDS,
    "spearmint": ("engine",),
    "hyperopt": ("engine",),
}
_RESOURCE_ARGS = ("save_model", "multi_res_labels", "track_intermediate_results", "early_stop")
_EARLY_STOP_POLICIES = ("bandit", "median", "truncation", "curve_fitting")


class AuptimizerError(InvalidInput):
    """An experiment.json cannot be run; the message names the field."""


@dataclass(frozen=True)
class AuptimizerExperiment:
    """An experiment.json translated: the sweep, its failure policy and resource args, and notes
    on what was approximated or ignored."""

    sweep: SweepConfig
    job_failure: dict  # {"job_retries": int, "ignore_fail": bool}
    resource_args: dict  # {"save_model", "multi_res_labels", "track_intermediate_results", "early_stop"}
    notes: tuple[str, ...] = field(default_factory=tuple)

    def configs(self) -> dict:
        """The four configs as dicts, to store under names of one's choosing."""
        data = self.sweep.to_dict()
        return {key: data[key] for key in ("search_space", "hpo_config", "model_config", "compute_config")}


# -- reading fields ---------------------------------------------------------------------------
def _integer(data: dict, key: str, default, minimum: int, where: str = "") -> int:
    value = data.get(key, default)
    if not is_int(value, low=minimum):
        raise AuptimizerError(f"{where}{key} must be an integer of at least {minimum}, got {value!r}")
    return value


def _number(data: dict, key: str, default, where: str = "", *, low=None, high=None, open_low=False) -> float:
    value = data.get(key, default)
    if not is_finite(value):
        raise AuptimizerError(f"{where}{key} must be a number, got {value!r}")
    too_low = low is not None and (value <= low if open_low else value < low)
    if too_low or (high is not None and value >= high):
        span = f"{'(' if open_low else '['}{low if low is not None else '-inf'}, {high if high is not None else 'inf'})"
        raise AuptimizerError(f"{where}{key} must be in {span}, got {value!r}")
    return value


def _boolean(data: dict, key: str, default: bool, where: str = "") -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise AuptimizerError(f"{where}{key} must be true or false, got {value!r}")
    return value


def _text(data: dict, key: str, default=None, where: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        raise AuptimizerError(f"{where}{key} is required")
    if not isinstance(value, str) or not value.strip():
        raise AuptimizerError(f"{where}{key} must be a non-empty string, got {value!r}")
    return value.strip()


def _check_fields(experiment: dict, proposer: str, notes: list[str]) -> None:
    allowed = set(_CORE_FIELDS) | {f for fields in _PROPOSER_FIELDS.values() for f in fields}
    unknown = sorted(str(k) for k in experiment if k not in allowed)
    if unknown:
        raise AuptimizerError(
            f"unknown field(s) {', '.join(unknown)}; an experiment has {', '.join(_CORE_FIELDS)} "
            f"(and, by proposer, {', '.join(sorted(allowed - set(_CORE_FIELDS)))})"
        )
    own = set(_PROPOSER_FIELDS.get(proposer, ()))
    foreign = sorted(k for k in experiment if k not in _CORE_FIELDS and k not in own)
    if foreign:
        notes.append(f"{', '.join(foreign)}: not used by proposer {proposer}; ignored")


# -- the parts ---------------------------------------------------------------------------------
def _algorithm(proposer: str) -> tuple[str, str]:
    try:
        return auptimizer_proposer(proposer)
    except SearchError as exc:
        raise AuptimizerError(f"proposer: {exc}") from None


def _search_space(parameter_config, grid: bool) -> dict:
    from tunefleet.space import Space, SpaceError

    if parameter_config is None:
        raise AuptimizerError("parameter_config is required (a list of {name, range, type})")
    try:
        return Space.from_auptimizer(parameter_config, grid=grid).to_hpogrid()
    except SpaceError as exc:
        raise AuptimizerError(f"parameter_config: {exc}") from None


def _job_failure(experiment: dict) -> dict:
    failure = experiment.get("job_failure")
    if failure is None:
        return {"job_retries": 0, "ignore_fail": False}
    if not isinstance(failure, dict):
        raise AuptimizerError(f"job_failure must be an object {{job_retries, ignore_fail}}, got {failure!r}")
    unknown = sorted(str(k) for k in failure if k not in ("job_retries", "ignore_fail"))
    if unknown:
        raise AuptimizerError(f"job_failure: unknown field(s) {', '.join(unknown)}; it has job_retries, ignore_fail")
    return {
        "job_retries": _integer(failure, "job_retries", 0, 0, "job_failure."),
        "ignore_fail": _boolean(failure, "ignore_fail", False, "job_failure."),
    }


def _resource_args(experiment: dict, notes: list[str]) -> dict:
    args = experiment.get("resource_args", {})
    if not isinstance(args, dict):
        raise AuptimizerError(f"resource_args must be an object, got {args!r}")
    other = sorted(str(k) for k in args if k not in _RESOURCE_ARGS)
    if other:
        notes.append(
            f"resource_args {', '.join(other)}: Auptimizer's runner settings; ignored (tunefleet runs on a work pool)"
        )
    labels = args.get("multi_res_labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
        raise AuptimizerError(f"resource_args.multi_res_labels must be a list of names, got {labels!r}")
    early_stop = args.get("early_stop")
    if early_stop is not None and not isinstance(early_stop, dict):
        raise AuptimizerError(f"resource_args.early_stop must be an object, got {early_stop!r}")
    return {
        "save_model": _boolean(args, "save_model", False, "resource_args."),
        "multi_res_labels": labels,
        "track_intermediate_results": _boolean(args, "track_intermediate_results", False, "resource_args.")
        or early_stop is not None,
        "early_stop": early_stop,
    }


def _compute(experiment: dict) -> dict:
    resource = experiment.get("resource", "cpu")
    if resource == "cpu":
        return {"work_pool": "cpu", "resources_per_trial": {"cpu": 1}}
    if resource == "gpu":
        return {"work_pool": "gpu", "resources_per_trial": {"cpu": 1, "gpu": 1}}
    if resource in ("aws", "node", "passive"):
        raise AuptimizerError(
            f"resource {resource}: Auptimizer's own {resource} runner is not offered; tunefleet runs trials on a "
            "work pool (resource cpu or gpu) and on a Ray or Dask cluster (compute_config.address)"
        )
    raise AuptimizerError(f"resource must be one of cpu, gpu (aws, node, passive are not offered), got {resource!r}")


def _early_stop(early_stop: dict, notes: list[str]) -> tuple[str, dict]:
    """The scheduler and its parameters standing for Auptimizer's early-stopping policy."""
    where = "resource_args.early_stop."
    policy = early_stop.get("aup_policy")
    if policy not in _EARLY_STOP_POLICIES:
        raise AuptimizerError(f"{where}aup_policy must be one of {', '.join(_EARLY_STOP_POLICIES)}, got {policy!r}")
    steps = _integer(early_stop, "aup_policy_steps", None, 1, where)
    warmup = _integer(early_stop, "warmup", 0, 0, where)
    if policy == "curve_fitting":
        raise AuptimizerError(
            f"{where}aup_policy curve_fitting has no Ray Tune counterpart; use median or truncation "
            "(or hpo_config.scheduler asynchyperband)"
        )
    if policy == "median":
        notes.append(
            f"early_stop median: Ray Tune's median stopping rule (grace period {warmup} iterations) checks every "
            f"result, not every {steps} epochs"
        )
        return "median", {"time_attr": "training_iteration", "grace_period": warmup, "min_samples_required": 3}
    grace = max(steps, warmup, 1)
    if policy == "truncation":
        fraction = _number(early_stop, "truncation_percentage", 0.3, where, low=0, high=1, open_low=True)
        notes.append(
            f"early_stop truncation: asynchronous successive halving keeping the best {1 - fraction:.0%} at rungs "
            f"from {grace} iterations on"
        )
        return "asynchyperband", {
            "time_attr": "training_iteration",
            "grace_period": grace,
            "reduction_factor": 1 / (1 - fraction),
        }
    _number(early_stop, "bandit_factor", 0.5, where, low=0, open_low=True)
    notes.append(
        "early_stop bandit: approximated by asynchronous successive halving (Ray Tune has no bandit policy); "
        "bandit_factor is not used"
    )
    return "asynchyperband", {"time_attr": "training_iteration", "grace_period": grace}


def _hyperband_samples(max_iter: int, eta: int) -> int:
    """How many configurations Auptimizer's hyperband proposer draws (its nSamples)."""
    s_max = int(math.log(max_iter) / math.log(eta))
    budget = (s_max + 1) * max_iter
    return sum(int(math.ceil(budget / max_iter / (s + 1) * eta**s)) for s in range(s_max + 1))


def _bohb_samples(n_iterations: int, eta: float, min_budget: float, max_budget: float) -> int:
    """How many configurations BOHB's brackets start (Auptimizer's count, first rungs only)."""
    max_sh_iter = -int(math.log(min_budget / max_budget) / math.log(eta)) + 1
    total = 0
    for iteration in range(n_iterations):
        s = max_sh_iter - 1 - (iteration % max_sh_iter)
        total += max(int(math.floor(max_sh_iter / (s + 1)) * eta**s), 1)
    return total


def _hyperband(experiment: dict, hpo: dict, param: dict, notes: list[str]) -> None:
    max_iter = _integer(experiment, "max_iter", 81, 1)
    eta = _integer(experiment, "eta", 3, 2)
    engine = experiment.get("engine", "random")
    if engine not in ("random", "sequence"):
        raise AuptimizerError(f"engine (hyperband's sampler) must be random or sequence, got {engine!r}")
    if engine == "sequence":
        notes.append("hyperband engine sequence: configurations are drawn at random here")
    if experiment.get("skip_last"):
        notes.append("skip_last: Ray Tune's hyperband runs every bracket; ignored")
    hpo["num_trials"] = _hyperband_samples(max_iter, eta)
    hpo["scheduler_param"] = {"time_attr": "training_iteration", "max_t": max_iter, "reduction_factor": eta}
    hpo["stop"] = {"training_iteration": max_iter}
    param["n_iterations"] = max_iter


def _bohb(experiment: dict, hpo: dict, param: dict, notes: list[str]) -> None:
    n_iterations = _integer(experiment, "n_iterations", 4, 1)
    eta = _number(experiment, "eta", 3, low=1, open_low=True)
    max_budget = _number(experiment, "max_budget", 1, low=0, open_low=True)
    min_budget = _number(experiment, "min_budget", 0.01, low=0, open_low=True)
    if min_budget > max_budget:
        raise AuptimizerError(f"min_budget ({min_budget}) is greater than max_budget ({max_budget})")
    hpo["algorithm_param"] = {k: experiment[k] for k in _BOHB_ALGORITHM_FIELDS if experiment.get(k) is not None}
    hpo["num_trials"] = _bohb_samples(n_iterations, eta, min_budget, max_budget)
    if min_budget >= 1 and max_budget == int(max_budget):
        max_t = int(max_budget)
    else:  # Auptimizer's default budgets are fractions of a training (0.01 to 1)
        max_t = max(int(round(max_budget / min_budget)), 1)
        notes.append(
            f"bohb budgets: Ray Tune counts budgets in training iterations; max_budget / min_budget = {max_t} "
            "iterations, the smallest budget being one"
        )
    hpo["scheduler_param"] = {"time_attr": "training_iteration", "max_t": max_t, "reduction_factor": eta}
    hpo["stop"] = {"training_iteration": max_t}
    param["n_iterations"] = max_t


def _proposer_settings(proposer: str, experiment: dict, hpo: dict, param: dict, notes: list[str]) -> None:
    if proposer == "hyperband":
        _hyperband(experiment, hpo, param, notes)
    elif proposer == "bohb":
        _bohb(experiment, hpo, param, notes)
    elif proposer in ("spearmint", "hyperopt") and "engine" in experiment:
        notes.append(f"engine {experiment['engine']!r} of proposer {proposer}: ignored")
    if "n_samples" in experiment and proposer in ("hyperband", "bohb"):
        notes.append(f"n_samples: proposer {proposer} sets the number of trials itself ({hpo['num_trials']})")


def _scripts_path(experiment: dict, base_dir) -> str:
    workingdir = experiment.get("workingdir", "./")
    if not isinstance(workingdir, str) or not workingdir:
        raise AuptimizerError(f"workingdir must be a folder path, got {workingdir!r}")
    folder = Path(os.path.expanduser(workingdir))
    if not folder.is_absolute() and base_dir is not None:
        folder = Path(base_dir) / folder
    return str(folder.resolve()) if base_dir is not None or folder.is_absolute() else str(folder)


def _hpo_config(
    experiment: dict,
    proposer: str,
    searcher: tuple[str, str],
    metric: str,
    failure: dict,
    resource_args: dict,
    param: dict,
    notes: list[str],
) -> dict:
    """hpo_config from the proposer's (algorithm, scheduler), target, budget and failure policy (the
    proposer's own settings go to ``hpo`` or, where they are the script's, to ``param``)."""
    algorithm, scheduler = searcher
    target = experiment.get("target", "max")
    if target not in ("min", "max"):
        raise AuptimizerError(f"target must be min or max, got {target!r}")
    seed = experiment.get("random_seed")
    if seed is not None and not is_int(seed, 0, 2**32 - 1):
        raise AuptimizerError(f"random_seed must be an integer in [0, 2**32), got {seed!r}")
    hpo = {
        "algorithm": algorithm,
        "scheduler": scheduler,
        "metric": metric,
        "mode": target,
        "num_trials": 1 if proposer == "sequence" else _integer(experiment, "n_samples", 10, 1),
        "max_concurrent": _integer(experiment, "n_parallel", 1, 1),
        "seed": seed,
        "stop": {},
        **failure,
    }
    _proposer_settings(proposer, experiment, hpo, param, notes)
    if resource_args["early_stop"] is not None:
        if scheduler != "fifo":
            raise AuptimizerError(
                f"resource_args.early_stop: proposer {proposer} already stops trials early ({scheduler}); remove one"
            )
        hpo["scheduler"], hpo["scheduler_param"] = _early_stop(resource_args["early_stop"], notes)
    return hpo


# -- the translation -------------------------------------------------------------------------------
def from_experiment(
    experiment: dict,
    *,
    name: str | None = None,
    base_dir: str | os.PathLike | None = None,
    model: str = MODEL,
    metric: str = METRIC,
) -> AuptimizerExperiment:
    """Translate an experiment.json's content (see the module's table).

    ``name``: the project's name (default: the experiment's ``name``, else "auptimizer");
    ``base_dir``: the folder a relative ``workingdir`` is relative to (the experiment file's);
    ``model``: the function the script defines (Auptimizer's scripts: ``main``); ``metric``:
    the name of the number the script returns. Raises AuptimizerError (or ConfigError for a
    translated config that does not validate), naming the field."""
    if not isinstance(experiment, dict):
        raise AuptimizerError(f"an experiment must be a JSON object, got {type(experiment).__name__}")
    notes: list[str] = []
    proposer = experiment.get("proposer", "random")
    if not isinstance(proposer, str):
        raise AuptimizerError(f"proposer must be a name, got {proposer!r}")
    searcher = _algorithm(proposer)
    _check_fields(experiment, proposer, notes)
    failure = _job_failure(experiment)
    resource_args = _resource_args(experiment, notes)
    param: dict = {}
    hpo = _hpo_config(experiment, proposer, searcher, metric, failure, resource_args, param, notes)
    project = name or experiment.get("name") or "auptimizer"
    sweep = SweepConfig.build(
        name=project,
        search_space=_search_space(experiment.get("parameter_config"), grid=proposer == "sequence"),
        hpo_config=hpo,
        model_config={
            "script": _text(experiment, "script"),
            "model": model,
            "param": param,
            "save_model": resource_args["save_model"],
            "multi_res_labels": resource_args["multi_res_labels"],
        },
        compute_config=_compute(experiment),
        scripts_path=_scripts_path(experiment, base_dir),
    )
    for note in notes:
        log.info("experiment %s: %s", project, note)
    return AuptimizerExperiment(sweep, failure, resource_args, tuple(notes))


def load_experiment(path: str | os.PathLike, *, name: str | None = None, model: str = MODEL, metric: str = METRIC):
    """``from_experiment`` of an experiment.json file; relative paths in it are relative to its folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuptimizerError(f"experiment file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuptimizerError(f"experiment file {path} cannot be read: {exc}") from None
    try:
        experiment = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AuptimizerError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    return from_experiment(experiment, name=name, base_dir=path.parent, model=model, metric=metric)


__all__ = ["AuptimizerError", "AuptimizerExperiment", "ConfigError", "from_experiment", "load_experiment"]
