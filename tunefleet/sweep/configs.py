"""hpogrid's named configurations as validated models, and what a CLI needs to edit them.

Five config types, stored by name (the name is not part of the config)::

    search_space    {"lr": {"method": "loguniform", "dimension": {"low": 1e-5, "high": 1e-2}}, ...}
                    (parsed by tunefleet.space.Space.from_hpogrid)
    hpo_config      {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "asynchyperband",
                     "num_trials": 200, "max_concurrent": 4, "stop": {"training_iteration": 1}, ...}
    model_config    {"script": "simple_objective.py", "model": "simple_objective", "param": {}}
    compute_config  {"work_pool": "cpu", "engine": "ray", "address": null, "n_jobs": null,
                     "resources_per_trial": {"cpu": 1}}      (in place of hpogrid's grid_config)
    project         {"name": "simple_objective", "search_space": "simple_objective_space",
                     "hpo_config": "random_search_min_loss", "model_config": "simple_objective_model",
                     "compute_config": null, "scripts_path": "/path/to/scripts"}

Field names are hpogrid's stored names (``num_trials``, set by the ``--trials`` option);
defaults are hpogrid's documented ones (algorithm random, metric accuracy, mode max,
scheduler asynchyperband, 100 trials, at most 4 at once, stop after one training iteration).
``validate(config_type, data)`` gives the model or a ``ConfigError`` naming every bad field;
``merge(config_type, old, changes)`` is hpogrid's ``update``; ``options(config_type)`` lists
each option's name, flags, type, default and help for generating a CLI; ``SweepConfig.build``
combines the four configs of a project and checks them against each other.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)

log = logging.getLogger(__name__)

CONFIG_TYPES = ("search_space", "hpo_config", "model_config", "compute_config", "project")
ENGINES = ("ray", "dask")
MODES = ("min", "max")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_POOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_RAY_SCHEMES = ("ray://", "auto", "local")
_DASK_SCHEMES = ("tcp://", "tls://", "ucx://", "ws://", "wss://", "inproc://")

# Keys users bring from hpogrid that live elsewhere here.
_MOVED = {
    "resource": "resources per trial are compute_config.resources_per_trial",
    "grid_config": "tunefleet's project takes a compute_config in place of hpogrid's grid_config",
    "site": "tunefleet runs on a work pool: compute_config.work_pool",
    "container": "tunefleet runs on a work pool: compute_config.work_pool",
    "retry": "retries are hpo_config.job_retries",
}


class ConfigError(ValueError):
    """A configuration is invalid; ``problems`` holds one message per bad field, each naming it."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Option:
    """One option of a config type, for generating CLI options.

    ``name`` is the key in the stored config; ``flags`` the CLI spellings (hpogrid's first;
    empty for the positional search-space JSON); ``type`` one of str, int, float, bool,
    json (an object given as a JSON string), list (a JSON list or comma-separated names)."""

    name: str
    flags: tuple[str, ...]
    type: str
    default: Any
    required: bool
    help: str
    choices: tuple[str, ...] | None = None


def _option(default: Any = ..., help: str = "", *, type: str, flags: tuple[str, ...] = (), choices=None, **kwargs):
    extra = {"type": type, "flags": flags, "choices": choices}
    if isinstance(default, (dict, list)):
        value = default
        return Field(
            default_factory=lambda: json.loads(json.dumps(value)), description=help, json_schema_extra=extra, **kwargs
        )
    return Field(default, description=help, json_schema_extra=extra, **kwargs)


def _flags(name: str, *more: str) -> tuple[str, ...]:
    return (*more, f"--{name.replace('_', '-')}")


def check_name(name, what: str = "name") -> str:
    """A config or project name: letters, digits, ``_ . -``, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            [f"{what} must start with a letter or digit and hold only letters, digits, _ . - (got {name!r})"]
        )
    return name


def _json_value(value, field: str, kind: type):
    """A JSON string (as a CLI gives it) parsed; anything else as it is."""
    if not isinstance(value, str):
        return value
    if kind is list and not value.strip().startswith("["):
        return [part.strip() for part in value.split(",") if part.strip()]
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{field}: not valid JSON ({exc.msg} at position {exc.pos}): {value!r}") from None


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_names(values: list) -> list[str]:
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must hold non-empty names, got {value!r}")
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"names {', '.join(duplicates)} more than once")
    return values


def _check_json_safe(value):
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"must be JSON (strings, finite numbers, lists, objects): {exc}") from None
    return value


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())
    config_type: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _parse_json_fields(cls, data):
        if isinstance(data, str):
            data = _json_value(data, cls.config_type, dict)
        if not isinstance(data, dict):
            raise ValueError(f"must be an object of options, got {data!r}")
        data = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias or name
            kind = field.json_schema_extra["type"]
            if key in data and kind in ("json", "list"):
                data[key] = _json_value(data[key], key, dict if kind == "json" else list)
        return data


# -- hpo_config ---------------------------------------------------------------------------------
class HpoConfig(_Config):
    """How the sweep searches: hpogrid's hpo_config, plus the failure policy (Auptimizer's job_failure)."""

    config_type: ClassVar[str] = "hpo_config"

    algorithm: str = _option(
        "random",
        "search algorithm: random, grid, bayesian (tunefleet's BO), tpe / optuna, hyperopt, bohb "
        "(hpogrid's tune = random)",
        type="str",
        flags=_flags("algorithm"),
    )
    metric: str = _option("accuracy", "the reported metric to optimise", type="str", flags=_flags("metric"))
    mode: Literal["min", "max"] = _option(
        "max", "minimise or maximise the metric", type="str", flags=_flags("mode"), choices=MODES
    )
    scheduler: str = _option(
        "asynchyperband",
        "trial scheduler: asynchyperband (asha), hyperband, bohbhyperband (with bohb), pbt, median, fifo (none)",
        type="str",
        flags=_flags("scheduler"),
    )
    num_trials: int = _option(
        100,
        "number of trials (search points); with grid search, the number of passes over the grid",
        type="int",
        flags=_flags("num_trials", "--trials"),
        ge=1,
        validation_alias=AliasChoices("num_trials", "trials"),
    )
    max_concurrent: int = _option(
        4, "most trials running at once (0: no limit)", type="int", flags=_flags("max_concurrent"), ge=0
    )
    log_dir: str | None = _option(
        None, "where Ray Tune writes trial logs (default: the artifact store)", type="str", flags=_flags("log_dir")
    )
    verbose: int = _option(0, "Ray Tune verbosity, 0 to 3", type="int", flags=_flags("verbose"), ge=0, le=3)
    stop: dict[str, Any] = _option(
        {"training_iteration": 1},
        'stop a trial when a reported value reaches a bound, e.g. {"training_iteration": 10}; {} runs each '
        "trainable to its end",
        type="json",
        flags=_flags("stop"),
    )
    scheduler_param: dict[str, Any] = _option(
        {}, 'extra parameters of the scheduler, e.g. {"grace_period": 2}', type="json", flags=_flags("scheduler_param")
    )
    algorithm_param: dict[str, Any] = _option(
        {}, "extra parameters of the search algorithm", type="json", flags=_flags("algorithm_param")
    )
    seed: int | None = _option(
        None,
        "random seed of the search algorithm (Auptimizer's random_seed)",
        type="int",
        flags=_flags("seed"),
        ge=0,
        lt=2**32,
    )
    extra_metrics: list[str] = _option(
        [], "other reported metrics to show in reports", type="list", flags=_flags("extra_metrics")
    )
    job_retries: int = _option(0, "times a failed trial is retried", type="int", flags=_flags("job_retries"), ge=0)
    ignore_fail: bool = _option(
        True,
        "go on when a trial fails (false: the sweep stops at the first failure)",
        type="bool",
        flags=_flags("ignore_fail"),
    )

    @model_validator(mode="before")
    @classmethod
    def _hpogrid_compat(cls, data):
        """hpogrid put max_concurrent in scheduler_param (its default was {"max_concurrent": 4});
        here it is an option of its own, as Ray Tune's schedulers do not take it."""
        if not isinstance(data, dict):
            return data
        scheduler_param = _json_value(data.get("scheduler_param"), "scheduler_param", dict)
        if not isinstance(scheduler_param, dict) or "max_concurrent" not in scheduler_param:
            return data
        data, scheduler_param = dict(data), dict(scheduler_param)
        value = scheduler_param.pop("max_concurrent")
        if "max_concurrent" in data and data["max_concurrent"] != value:
            raise ValueError(
                f"max_concurrent is given twice: {data['max_concurrent']!r} and scheduler_param.max_concurrent "
                f"{value!r}; keep one"
            )
        data["max_concurrent"], data["scheduler_param"] = value, scheduler_param
        return data

    @field_validator("verbose", mode="before")
    @classmethod
    def _verbose_flag(cls, value):
        return int(value) if isinstance(value, bool) else value

    @field_validator("algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        from tunefleet.search import SearchError, algorithm_name

        name = value.strip().lower()
        try:
            algorithm_name(name)
        except SearchError as exc:
            raise ValueError(str(exc)) from None
        return name

    @field_validator("scheduler", mode="before")
    @classmethod
    def _known_scheduler(cls, value):
        from tunefleet.search import SearchError, scheduler_name

        if value is None:
            return "fifo"
        if not isinstance(value, str):
            return value  # the str type check reports it
        name = value.strip().lower()
        try:
            scheduler_name(name)
        except SearchError as exc:
            raise ValueError(str(exc)) from None
        return name

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty name")
        return value.strip()

    @field_validator("stop")
    @classmethod
    def _stop_bounds(cls, value: dict) -> dict:
        for key, bound in value.items():
            if not key.strip():
                raise ValueError("a criterion needs a metric name")
            if not _finite_number(bound):
                raise ValueError(f"{key}: must be a finite number, got {bound!r}")
        return value

    @field_validator("scheduler_param", "algorithm_param")
    @classmethod
    def _json_params(cls, value: dict) -> dict:
        return _check_json_safe(value)

    @field_validator("extra_metrics")
    @classmethod
    def _extra_metric_names(cls, value: list) -> list:
        return _check_names(value)

    @model_validator(mode="after")
    def _consistent(self) -> HpoConfig:
        from tunefleet.search import SearchError, check_combination

        try:
            check_combination(self.algorithm, self.scheduler)
        except SearchError as exc:
            raise ValueError(str(exc)) from None
        if self.metric in self.extra_metrics:
            raise ValueError(f"extra_metrics names the metric {self.metric} itself")
        return self


# -- model_config -------------------------------------------------------------------------------
class ModelConfig(_Config):
    """The trainable: a function or class in the user's script, and fixed parameters for it."""

    config_type: ClassVar[str] = "model_config"

    script: str = _option(
        help="the training script, relative to the project's scripts_path (.py may be left out)",
        type="str",
        flags=_flags("script"),
    )
    model: str = _option(
        help="name of the function or class in the script that trains the model", type="str", flags=_flags("model")
    )
    param: dict[str, Any] = _option(
        {}, "fixed parameters merged into every trial's config", type="json", flags=_flags("param")
    )
    save_model: bool = _option(
        False,
        "keep the best trial's model files (the trainable writes them to model_dir)",
        type="bool",
        flags=_flags("save_model"),
    )
    multi_res_labels: list[str] = _option(
        [],
        "names of the extra results a trainable returns after the main one ([main, extra, ...])",
        type="list",
        flags=_flags("multi_res_labels"),
    )

    @field_validator("script")
    @classmethod
    def _script_path(cls, value: str) -> str:
        if not value.strip() or "\x00" in value:
            raise ValueError(f"must be a file name, got {value!r}")
        return value.strip()

    @field_validator("model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"must be the name of a function or class (a Python identifier), got {value!r}")
        return value

    @field_validator("param")
    @classmethod
    def _param_json(cls, value: dict) -> dict:
        return _check_json_safe(value)

    @field_validator("multi_res_labels")
    @classmethod
    def _labels(cls, value: list) -> list:
        return _check_names(value)


# -- compute_config -----------------------------------------------------------------------------
class ComputeConfig(_Config):
    """Where trials run (in place of hpogrid's grid_config)."""

    config_type: ClassVar[str] = "compute_config"

    work_pool: str = _option(
        "cpu",
        "the Prefect work pool (hardware tag) the sweep runs on, e.g. cpu or gpu",
        type="str",
        flags=_flags("work_pool"),
    )
    engine: Literal["ray", "dask"] = _option(
        "ray",
        "ray (Ray Tune: every algorithm and scheduler) or dask (random / grid without a scheduler)",
        type="str",
        flags=_flags("engine"),
        choices=ENGINES,
    )
    address: str | None = _option(
        None,
        "an existing cluster: ray://host:10001 or auto for Ray, tcp://host:8786 for Dask (default: a local one)",
        type="str",
        flags=_flags("address"),
    )
    n_jobs: int | None = _option(
        None,
        "workers of the local cluster started when no address is given (default: all cores)",
        type="int",
        flags=_flags("n_jobs"),
        ge=1,
    )
    resources_per_trial: dict[str, Any] = _option(
        {"cpu": 1},
        'resources each trial holds, e.g. {"cpu": 2, "gpu": 1}',
        type="json",
        flags=_flags("resources_per_trial"),
    )

    @field_validator("work_pool")
    @classmethod
    def _pool_name(cls, value: str) -> str:
        if not _POOL.match(value):
            raise ValueError(f"must be a name of letters, digits, _ and -, got {value!r}")
        return value

    @field_validator("address")
    @classmethod
    def _address_form(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value or any(c.isspace() for c in value):
            raise ValueError(f"must be a cluster address without spaces, got {value!r}")
        return value

    @field_validator("resources_per_trial")
    @classmethod
    def _resources(cls, value: dict) -> dict:
        for key, amount in value.items():
            if not key.strip():
                raise ValueError("a resource needs a name")
            if not _finite_number(amount) or amount < 0:
                raise ValueError(f"{key}: must be a number of at least 0, got {amount!r}")
        return value

    @model_validator(mode="after")
    def _address_matches_engine(self) -> ComputeConfig:
        if self.address is None:
            return self
        if self.engine == "dask" and self.address.startswith(_RAY_SCHEMES):
            raise ValueError(f"address {self.address} is a Ray address but engine is dask (use tcp://host:8786)")
        if self.engine == "ray" and self.address.startswith(_DASK_SCHEMES):
            raise ValueError(f"address {self.address} is a Dask address but engine is ray (use ray://host:10001)")
        return self


# -- search_space ---------------------------------------------------------------------------------
class SearchSpace(RootModel[dict[str, Any]]):
    """hpogrid's search space ``{name: {"method": ..., "dimension": {...}}}``, checked by
    ``tunefleet.space.Space.from_hpogrid``."""

    config_type: ClassVar[str] = "search_space"

    @model_validator(mode="before")
    @classmethod
    def _parse_json(cls, data):
        return _json_value(data, "search_space", dict)

    @model_validator(mode="after")
    def _parses(self) -> SearchSpace:
        self.space()
        return self

    def space(self):
        """The parsed ``tunefleet.space.Space``."""
        from tunefleet.space import Space, SpaceError

        try:
            return Space.from_hpogrid(self.root)
        except SpaceError as exc:
            raise ValueError(str(exc)) from None


# -- project ---------------------------------------------------------------------------------------
class Project(_Config):
    """A name for four configs (by their names) and where the training scripts are."""

    config_type: ClassVar[str] = "project"

    name: str = _option(help="the project's name", type="str", flags=())
    search_space: str = _option(help="name of the search_space config", type="str", flags=_flags("search_space"))
    hpo_config: str = _option(help="name of the hpo_config", type="str", flags=_flags("hpo_config"))
    model_config_name: str = _option(
        help="name of the model_config", type="str", flags=_flags("model_config"), alias="model_config"
    )
    compute_config: str | None = _option(
        None, "name of the compute_config (default: a local cpu one)", type="str", flags=_flags("compute_config")
    )
    scripts_path: str | None = _option(
        None,
        "the training script, or the folder holding the training scripts (default: the current folder)",
        type="str",
        flags=_flags("scripts_path"),
    )

    @field_validator("name", "search_space", "hpo_config", "model_config_name", "compute_config")
    @classmethod
    def _config_names(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"must be a name of letters, digits, _ . - (got {value!r})")
        return value


MODELS: dict[str, type] = {
    "search_space": SearchSpace,
    "hpo_config": HpoConfig,
    "model_config": ModelConfig,
    "compute_config": ComputeConfig,
    "project": Project,
}


# -- the functions a CLI uses ----------------------------------------------------------------------
def _model_class(config_type: str) -> type:
    if config_type not in MODELS:
        raise ConfigError([f"unknown config type {config_type!r}; known: {', '.join(CONFIG_TYPES)}"])
    return MODELS[config_type]


def _describe(config_type: str, error: dict, known: list[str]) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    where = f"{config_type}.{loc}" if loc else config_type
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        hint = f" ({_MOVED[key]})" if key in _MOVED else ""
        return f"{where}: unknown option{hint}; {config_type} takes {', '.join(known)}"
    if kind == "missing":
        return f"{where}: is required"
    if kind in ("value_error", "assertion_error"):
        return f"{where}: {message.removeprefix('Value error, ').removeprefix('Assertion failed, ')}"
    shown = repr(error.get("input"))
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"{where}: {message} (got {shown})"


def _known_options(config_type: str) -> list[str]:
    return [option.name for option in options(config_type)] if config_type != "search_space" else []


def validate(config_type: str, data) -> BaseModel:
    """The config of ``config_type`` from ``data`` (a dict, a JSON string, or the model itself),
    defaults filled in; a ConfigError naming every bad field otherwise."""
    cls = _model_class(config_type)
    if isinstance(data, cls):
        data = dump(data)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        known = _known_options(config_type)
        raise ConfigError([_describe(config_type, error, known) for error in exc.errors()]) from None


def dump(config: BaseModel) -> dict:
    """A validated config as the JSON-ready dict it is stored as (hpogrid's key names)."""
    return config.model_dump(mode="json", by_alias=True)


def _option_key(config_type: str, key: str) -> str:
    """The stored name of an option given by a stored name, a flag or hpogrid's spelling."""
    spelled = key.lstrip("-").replace("-", "_")
    for option in options(config_type):
        names = {option.name, *(flag.lstrip("-").replace("-", "_") for flag in option.flags)}
        if spelled in names:
            return option.name
    raise ConfigError(
        [f"{config_type}: unknown option {key!r}; {config_type} takes {', '.join(_known_options(config_type))}"]
    )


def merge(config_type: str, old, changes: dict) -> BaseModel:
    """hpogrid's ``update``: ``old`` (stored dict or model) with ``changes`` applied, validated again.

    ``changes`` maps option names (stored names or CLI flags such as ``trials``) to new
    values; a value of None puts an option back to its default. An option's value is
    replaced whole (a new ``stop`` replaces the old one). For ``search_space`` the changes
    are variables: each replaces its namesake or is added; None removes it."""
    if not isinstance(changes, dict):
        raise ConfigError([f"{config_type}: changes must be an object of options, got {changes!r}"])
    current = dump(validate(config_type, old))
    if config_type == "search_space":
        for name, spec in changes.items():
            if spec is None:
                current.pop(name, None)
            else:
                current[name] = spec
        return validate(config_type, current)
    for key, value in changes.items():
        name = _option_key(config_type, key)
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value
    return validate(config_type, current)


def options(config_type: str) -> list[Option]:
    """Every option of ``config_type``, in order: what a CLI needs to offer them."""
    cls = _model_class(config_type)
    if cls is SearchSpace:
        return [
            Option(
                name="search_space",
                flags=(),
                type="json",
                default=None,
                required=True,
                help='the space as JSON: {"NAME": {"method": "uniform", "dimension": {"low": 0, "high": 1}}, ...}; '
                "methods: categorical (categories, grid_search), uniform, uniformint, quniform (q), loguniform "
                "(base), qloguniform, normal (mu, sigma), qnormal, lognormal, qlognormal",
            )
        ]
    listed = []
    for name, field in cls.model_fields.items():
        extra = field.json_schema_extra
        listed.append(
            Option(
                name=field.alias or name,
                flags=tuple(extra["flags"]),
                type=extra["type"],
                default=None if field.is_required() else field.get_default(call_default_factory=True),
                required=field.is_required(),
                help=field.description or "",
                choices=tuple(extra["choices"]) if extra["choices"] else None,
            )
        )
    return listed


# -- a project's four configs together ----------------------------------------------------------------
@dataclass(frozen=True)
class SweepConfig:
    """Everything a sweep needs: the four configs of a project, checked against each other."""

    name: str
    search_space: SearchSpace
    hpo_config: HpoConfig
    model_config: ModelConfig
    compute_config: ComputeConfig
    scripts_path: str | None = None

    @classmethod
    def build(
        cls,
        name: str,
        search_space,
        hpo_config,
        model_config,
        compute_config=None,
        scripts_path: str | None = None,
    ) -> SweepConfig:
        """Validate each config (dicts or models) and their combination; a ConfigError lists every problem."""
        check_name(name, "project name")
        problems, parts = [], {}
        given = {
            "search_space": search_space,
            "hpo_config": hpo_config,
            "model_config": model_config,
            "compute_config": {} if compute_config is None else compute_config,
        }
        for config_type, data in given.items():
            try:
                parts[config_type] = validate(config_type, data)
            except ConfigError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ConfigError(problems)
        sweep = cls(name=name, scripts_path=scripts_path, **parts)
        problems = sweep.problems()
        if problems:
            raise ConfigError(problems)
        return sweep

    @classmethod
    def from_dict(cls, data: dict) -> SweepConfig:
        """The inverse of ``to_dict``."""
        if not isinstance(data, dict):
            raise ConfigError([f"a sweep config must be an object, got {data!r}"])
        known = {"name", "search_space", "hpo_config", "model_config", "compute_config", "scripts_path"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError([f"sweep config: unknown key(s) {', '.join(unknown)}; it has {', '.join(sorted(known))}"])
        missing = sorted({"name", "search_space", "hpo_config", "model_config"} - set(data))
        if missing:
            raise ConfigError([f"sweep config: {key} is required" for key in missing])
        return cls.build(**data)

    def to_dict(self) -> dict:
        """The configs themselves (not their names), as hpogrid's project_config.json held them."""
        return {
            "name": self.name,
            "scripts_path": self.scripts_path,
            "search_space": dump(self.search_space),
            "hpo_config": dump(self.hpo_config),
            "model_config": dump(self.model_config),
            "compute_config": dump(self.compute_config),
        }

    def space(self):
        """The search space as a ``tunefleet.space.Space``."""
        return self.search_space.space()

    def problems(self) -> list[str]:
        """What does not fit together: constants that are also variables, an engine that cannot
        run the algorithm or the scheduler, grid variables for a model-based algorithm."""
        from tunefleet.search import algorithm_name, scheduler_name

        space, hpo, model = self.space(), self.hpo_config, self.model_config
        algorithm, scheduler = algorithm_name(hpo.algorithm), scheduler_name(hpo.scheduler)
        problems = []
        clash = [name for name in model.param if name in space.names]
        if clash:
            problems.append(f"model_config.param: {', '.join(clash)} also variable(s) of the search space")
        if hpo.metric in model.multi_res_labels:
            problems.append(f"model_config.multi_res_labels names the metric {hpo.metric} itself")
        grid = [v.name for v in space.grid_variables]
        if algorithm == "grid" and not grid:
            problems.append(
                "hpo_config.algorithm grid needs a categorical variable with grid_search in the search space"
            )
        if grid and algorithm not in ("random", "grid"):
            problems.append(
                f"search_space: {', '.join(grid)} use grid_search, which only random and grid take "
                f"(hpo_config.algorithm is {hpo.algorithm})"
            )
        if self.compute_config.engine == "dask":
            if algorithm not in ("random", "grid"):
                problems.append(
                    f"compute_config.engine dask runs random or grid search only (hpo_config.algorithm is "
                    f"{hpo.algorithm}); use engine ray"
                )
            if scheduler != "fifo":
                problems.append(
                    f"compute_config.engine dask runs trials without a scheduler (hpo_config.scheduler is "
                    f"{hpo.scheduler}); set scheduler fifo or use engine ray"
                )
        return problems
