"""The five config types as validated models: hpo_config, model_config, compute_config,
search_space and project."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, RootModel, field_validator, model_validator

from tunefleet.bo.outcomes import Outcomes
from tunefleet.errors import InvalidInput
from tunefleet.sweep.configs.fields import (
    ENGINES,
    MODES,
    ConfigModel,
    check_json_safe,
    check_names,
    flags,
    json_value,
    option_field,
)
from tunefleet.validation import POOL_NAME, is_finite, is_name

_RAY_SCHEMES = ("ray://", "auto", "local")
_DASK_SCHEMES = ("tcp://", "tls://", "ucx://", "ws://", "wss://", "inproc://")


# -- hpo_config ---------------------------------------------------------------------------------
class HpoConfig(ConfigModel):
    """How the sweep searches: hpogrid's hpo_config, plus the failure policy (Auptimizer's job_failure)."""

    config_type: ClassVar[str] = "hpo_config"

    algorithm: str = option_field(
        "random",
        "search algorithm: random, grid, bayesian (tunefleet's BO), tpe / optuna, hyperopt, bohb "
        "(hpogrid's tune = random)",
        type="str",
        flags=flags("algorithm"),
    )
    metric: str = option_field("accuracy", "the reported metric to optimise", type="str", flags=flags("metric"))
    mode: Literal["min", "max"] = option_field(
        "max", "minimise or maximise the metric", type="str", flags=flags("mode"), choices=MODES
    )
    scheduler: str = option_field(
        "asynchyperband",
        "trial scheduler: asynchyperband (asha), hyperband, bohbhyperband (with bohb), pbt, median, fifo (none)",
        type="str",
        flags=flags("scheduler"),
    )
    num_trials: int = option_field(
        100,
        "number of trials (search points); with grid search, the number of passes over the grid",
        type="int",
        flags=flags("num_trials", "--trials"),
        ge=1,
        validation_alias=AliasChoices("num_trials", "trials"),
    )
    max_concurrent: int = option_field(
        4, "most trials running at once (0: no limit)", type="int", flags=flags("max_concurrent"), ge=0
    )
    log_dir: str | None = option_field(
        None, "where Ray Tune writes trial logs (default: the artifact store)", type="str", flags=flags("log_dir")
    )
    verbose: int = option_field(0, "Ray Tune verbosity, 0 to 3", type="int", flags=flags("verbose"), ge=0, le=3)
    stop: dict[str, Any] = option_field(
        {"training_iteration": 1},
        'stop a trial when a reported value reaches a bound, e.g. {"training_iteration": 10}; {} runs each '
        "trainable to its end",
        type="json",
        flags=flags("stop"),
    )
    scheduler_param: dict[str, Any] = option_field(
        {}, 'extra parameters of the scheduler, e.g. {"grace_period": 2}', type="json", flags=flags("scheduler_param")
    )
    algorithm_param: dict[str, Any] = option_field(
        {}, "extra parameters of the search algorithm", type="json", flags=flags("algorithm_param")
    )
    seed: int | None = option_field(
        None,
        "random seed of the search algorithm (Auptimizer's random_seed)",
        type="int",
        flags=flags("seed"),
        ge=0,
        lt=2**32,
    )
    objectives: dict[str, Literal["min", "max"]] = option_field(
        {},
        'several metrics to optimise together (algorithm bayesian), e.g. {"accuracy": "max", "latency_ms": "min"}: '
        "the sweep finds their Pareto front; metric and mode become the first, which the scheduler uses",
        type="json",
        flags=flags("objectives"),
    )
    constraints: list[str] = option_field(
        [],
        'outcome constraints on reported metrics (algorithm bayesian), e.g. ["latency_ms <= 5"]: the best '
        "trial (or the Pareto front) is the best feasible one",
        type="list",
        flags=flags("constraints"),
    )
    extra_metrics: list[str] = option_field(
        [], "other reported metrics to show in reports", type="list", flags=flags("extra_metrics")
    )
    job_retries: int = option_field(0, "times a failed trial is retried", type="int", flags=flags("job_retries"), ge=0)
    ignore_fail: bool = option_field(
        True,
        "go on when a trial fails (false: the sweep stops at the first failure)",
        type="bool",
        flags=flags("ignore_fail"),
    )

    @model_validator(mode="before")
    @classmethod
    def _hpogrid_compat(cls, data):
        """hpogrid put max_concurrent in scheduler_param (its default was {"max_concurrent": 4});
        here it is an option of its own, as Ray Tune's schedulers do not take it."""
        if not isinstance(data, dict):
            return data
        scheduler_param = json_value(data.get("scheduler_param"), "scheduler_param", dict)
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
        from tunefleet.sweep.search import SearchError, algorithm_name

        name = value.strip().lower()
        try:
            algorithm_name(name)
        except SearchError as exc:
            raise ValueError(str(exc)) from None
        return name

    @field_validator("scheduler", mode="before")
    @classmethod
    def _known_scheduler(cls, value):
        from tunefleet.sweep.search import SearchError, scheduler_name

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
            if not is_finite(bound):
                raise ValueError(f"{key}: must be a finite number, got {bound!r}")
        return value

    @field_validator("scheduler_param", "algorithm_param")
    @classmethod
    def _json_params(cls, value: dict) -> dict:
        return check_json_safe(value)

    @field_validator("extra_metrics")
    @classmethod
    def _extra_metric_names(cls, value: list) -> list:
        return check_names(value)

    @model_validator(mode="after")
    def _consistent(self) -> HpoConfig:
        from tunefleet.sweep.search import SearchError, check_combination

        try:
            check_combination(self.algorithm, self.scheduler)
        except SearchError as exc:
            raise ValueError(str(exc)) from None
        if self.metric in self.extra_metrics:
            raise ValueError(f"extra_metrics names the metric {self.metric} itself")
        if (self.objectives or self.constraints) and self.algorithm != "bayesian":
            raise ValueError(
                f"objectives and constraints are searched by algorithm bayesian (tunefleet's BO engine), "
                f"not {self.algorithm}"
            )
        if self.objectives:
            first, mode = next(iter(self.objectives.items()))
            clash = [
                f
                for f, v in (("metric", first), ("mode", mode))
                if f in self.model_fields_set and getattr(self, f) != v
            ]
            if clash:
                raise ValueError(
                    f"metric {self.metric} ({self.mode}) differs from the first of objectives, {first} ({mode}): "
                    "leave metric and mode out, or put them first"
                )
            self.metric, self.mode = first, mode
        try:
            self.outcomes()
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        return self

    def outcomes(self) -> Outcomes | None:
        """What the bayesian searcher optimises when the sweep declares ``objectives`` or ``constraints``
        (the BO engine's ``Outcomes``); None for one metric alone."""
        if not (self.objectives or self.constraints):
            return None
        objectives = self.objectives or {self.metric: self.mode}
        return Outcomes.parse(
            {name: "maximize" if mode == "max" else "minimize" for name, mode in objectives.items()}, self.constraints
        )


# -- model_config -------------------------------------------------------------------------------
class ModelConfig(ConfigModel):
    """The trainable: a function or class in the user's script, and fixed parameters for it."""

    config_type: ClassVar[str] = "model_config"

    script: str = option_field(
        help="the training script, relative to the project's scripts_path (.py may be left out)",
        type="str",
        flags=flags("script"),
    )
    model: str = option_field(
        help="name of the function or class in the script that trains the model", type="str", flags=flags("model")
    )
    param: dict[str, Any] = option_field(
        {}, "fixed parameters merged into every trial's config", type="json", flags=flags("param")
    )
    save_model: bool = option_field(
        False,
        "keep the best trial's model files (the trainable writes them to model_dir)",
        type="bool",
        flags=flags("save_model"),
    )
    multi_res_labels: list[str] = option_field(
        [],
        "names of the extra results a trainable returns after the main one ([main, extra, ...])",
        type="list",
        flags=flags("multi_res_labels"),
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
        return check_json_safe(value)

    @field_validator("multi_res_labels")
    @classmethod
    def _labels(cls, value: list) -> list:
        return check_names(value)


# -- compute_config -----------------------------------------------------------------------------
class ComputeConfig(ConfigModel):
    """Where trials run (in place of hpogrid's grid_config)."""

    config_type: ClassVar[str] = "compute_config"

    work_pool: str = option_field(
        "cpu",
        "the Prefect work pool (hardware tag) the sweep runs on, e.g. cpu or gpu",
        type="str",
        flags=flags("work_pool"),
    )
    engine: Literal["ray", "dask"] = option_field(
        "ray",
        "ray (Ray Tune: every algorithm and scheduler) or dask (random / grid without a scheduler)",
        type="str",
        flags=flags("engine"),
        choices=ENGINES,
    )
    address: str | None = option_field(
        None,
        "an existing cluster: ray://host:10001 or auto for Ray, tcp://host:8786 for Dask (default: a local one)",
        type="str",
        flags=flags("address"),
    )
    n_jobs: int | None = option_field(
        None,
        "workers of the local cluster started when no address is given (default: all cores)",
        type="int",
        flags=flags("n_jobs"),
        ge=1,
    )
    resources_per_trial: dict[str, Any] = option_field(
        {"cpu": 1},
        'resources each trial holds, e.g. {"cpu": 2, "gpu": 1}',
        type="json",
        flags=flags("resources_per_trial"),
    )

    @field_validator("work_pool")
    @classmethod
    def _pool_name(cls, value: str) -> str:
        if not is_name(value, POOL_NAME):
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
            if not is_finite(amount) or amount < 0:
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
        return json_value(data, "search_space", dict)

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
class Project(ConfigModel):
    """A name for four configs (by their names) and where the training scripts are."""

    config_type: ClassVar[str] = "project"

    name: str = option_field(help="the project's name", type="str", flags=())
    search_space: str = option_field(help="name of the search_space config", type="str", flags=flags("search_space"))
    hpo_config: str = option_field(help="name of the hpo_config", type="str", flags=flags("hpo_config"))
    model_config_name: str = option_field(
        help="name of the model_config", type="str", flags=flags("model_config"), alias="model_config"
    )
    compute_config: str | None = option_field(
        None,
        "name of the compute_config (default: a local cpu one; hpogrid's --grid_config names it too)",
        type="str",
        flags=(*flags("compute_config"), "--grid_config", "--grid-config"),
    )
    scripts_path: str | None = option_field(
        None,
        "the training script, or the folder holding the training scripts (default: the current folder)",
        type="str",
        flags=flags("scripts_path"),
    )

    @field_validator("name", "search_space", "hpo_config", "model_config_name", "compute_config")
    @classmethod
    def _config_names(cls, value: str | None) -> str | None:
        if value is not None and not is_name(value):
            raise ValueError(f"must be a name of letters, digits, _ . - (got {value!r})")
        return value


MODELS: dict[str, type] = {
    "search_space": SearchSpace,
    "hpo_config": HpoConfig,
    "model_config": ModelConfig,
    "compute_config": ComputeConfig,
    "project": Project,
}
