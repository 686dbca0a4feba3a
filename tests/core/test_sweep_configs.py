"""The named configurations: hpogrid's vocabulary, defaults, errors naming fields, update, CLI options."""

from __future__ import annotations

import json

import pytest

from tunefleet.sweep import configs
from tunefleet.sweep.configs import ConfigError, SweepConfig, dump, merge, options, validate

# The seed's three examples, as its CLI creates them.
SIMPLE_SPACE = {
    "height": {"method": "uniform", "dimension": {"low": -100, "high": 100}},
    "width": {"method": "uniform", "dimension": {"low": 0, "high": 20}},
}
TRAINABLE_SPACE = {
    "alpha": {"method": "uniform", "dimension": {"low": -10, "high": 10}},
    "beta": {"method": "categorical", "dimension": {"categories": [-1, 0, 1, 2, 3, 4, 5]}},
}
MLP_SPACE = {
    "hidden": {"method": "categorical", "dimension": {"categories": [32, 64, 128]}},
    "batchsize": {"method": "categorical", "dimension": {"categories": [32, 64, 128, 256, 512]}},
    "lr": {"method": "loguniform", "dimension": {"low": 4.5e-05, "high": 1.83e-2}},
    "beta": {"method": "uniform", "dimension": {"low": 0.5, "high": 1.0}},
}


def _problems(config_type, data) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(config_type, data)
    return caught.value.problems


# -- hpo_config ------------------------------------------------------------------------------------
def test_hpo_config_has_hpogrids_names_and_defaults():
    config = validate("hpo_config", {"algorithm": "random", "metric": "loss", "mode": "min", "trials": 200})
    assert dump(config) == {
        "algorithm": "random",
        "metric": "loss",
        "mode": "min",
        "scheduler": "asynchyperband",
        "num_trials": 200,
        "max_concurrent": 4,
        "log_dir": None,
        "verbose": 0,
        "stop": {"training_iteration": 1},
        "scheduler_param": {},
        "algorithm_param": {},
        "seed": None,
        "objectives": {},
        "constraints": [],
        "extra_metrics": [],
        "job_retries": 0,
        "ignore_fail": True,
    }
    assert dump(validate("hpo_config", {}))["metric"] == "accuracy"  # the seed's default
    assert dump(validate("hpo_config", {}))["mode"] == "max"


def test_hpo_config_objectives_make_their_first_the_metric_and_parse_as_the_bo_engines_outcomes():
    config = validate(
        "hpo_config",
        {
            "algorithm": "bayesian",
            "objectives": '{"acc": "max", "ms": "min"}',
            "constraints": "memory <= 64",
        },  # as the CLI gives it
    )
    assert (config.metric, config.mode) == ("acc", "max")  # what the scheduler reads
    declared = config.outcomes()
    assert [(o.name, o.maximize) for o in declared.objectives] == [("acc", True), ("ms", False)]
    assert declared.metrics == ("acc", "ms", "memory") and declared.constraint_texts() == ["memory <= 64"]
    assert validate("hpo_config", dump(config)).outcomes() == declared  # stored and read back
    assert validate("hpo_config", {"algorithm": "bayesian"}).outcomes() is None  # one metric: the seed's sweep


def test_hpo_config_accepts_cli_strings():
    config = validate(
        "hpo_config",
        {
            "algorithm": " TPE ",
            "trials": "20",
            "stop": '{"training_iteration": 5}',
            "scheduler_param": '{"grace_period": 2}',
            "extra_metrics": "f1, recall",
            "ignore_fail": "false",
            "verbose": True,
        },
    )
    assert config.algorithm == "tpe" and config.num_trials == 20
    assert config.stop == {"training_iteration": 5} and config.scheduler_param == {"grace_period": 2}
    assert config.extra_metrics == ["f1", "recall"] and config.ignore_fail is False and config.verbose == 1


def test_max_concurrent_moves_out_of_scheduler_param_as_hpogrid_put_it():
    config = validate("hpo_config", {"scheduler_param": {"max_concurrent": 2, "grace_period": 1}})
    assert config.max_concurrent == 2 and config.scheduler_param == {"grace_period": 1}
    config = validate("hpo_config", {"scheduler_param": '{"max_concurrent": 3}', "max_concurrent": 3})
    assert config.max_concurrent == 3 and config.scheduler_param == {}
    assert _problems("hpo_config", {"scheduler_param": {"max_concurrent": 2}, "max_concurrent": 5}) == [
        "hpo_config: max_concurrent is given twice: 5 and scheduler_param.max_concurrent 2; keep one"
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"algorithm": "nevergrad"},
            "hpo_config.algorithm: unknown algorithm 'nevergrad'; known: random, grid, bayesian",
        ),
        ({"algorithm": "skopt"}, "hpo_config.algorithm: algorithm skopt: scikit-optimize's searcher was removed"),
        ({"scheduler": "fancy"}, "hpo_config.scheduler: unknown scheduler 'fancy'; known: fifo, none, asynchyperband"),
        ({"mode": "minimum"}, "hpo_config.mode: Input should be 'min' or 'max' (got 'minimum')"),
        ({"trials": 0}, "hpo_config.trials: Input should be greater than or equal to 1 (got 0)"),
        ({"num_trials": "many"}, "hpo_config.num_trials: Input should be a valid integer"),
        ({"max_concurrent": -1}, "hpo_config.max_concurrent: Input should be greater than or equal to 0"),
        ({"verbose": 7}, "hpo_config.verbose: Input should be less than or equal to 3"),
        ({"metric": " "}, "hpo_config.metric: must be a non-empty name"),
        (
            {"stop": {"training_iteration": "ten"}},
            "hpo_config.stop: training_iteration: must be a finite number, got 'ten'",
        ),
        ({"stop": "{not json"}, "hpo_config: stop: not valid JSON"),
        ({"stop": [1]}, "hpo_config.stop: Input should be a valid dictionary"),
        ({"algorithm_param": {"x": float("nan")}}, "hpo_config.algorithm_param: must be JSON"),
        ({"extra_metrics": ["f1", "f1"]}, "hpo_config.extra_metrics: names f1 more than once"),
        ({"metric": "loss", "extra_metrics": ["loss"]}, "hpo_config: extra_metrics names the metric loss itself"),
        ({"algorithm": "bohb"}, "hpo_config: algorithm bohb needs the scheduler bohbhyperband, not asynchyperband"),
        ({"scheduler": "bohbhyperband"}, "hpo_config: scheduler bohbhyperband works only with algorithm bohb"),
        ({"seed": -1}, "hpo_config.seed: Input should be greater than or equal to 0"),
        ({"job_retries": -2}, "hpo_config.job_retries: Input should be greater than or equal to 0"),
        (
            {"objectives": {"loss": "min", "ms": "min"}},
            "hpo_config: objectives and constraints are searched by algorithm bayesian (tunefleet's BO engine), "
            "not random",
        ),
        ({"algorithm": "bayesian", "objectives": {"loss": "down"}}, "hpo_config.objectives.loss: Input should be"),
        (
            {"algorithm": "bayesian", "metric": "acc", "objectives": {"loss": "min"}},
            "hpo_config: metric acc (max) differs from the first of objectives, loss (min): leave metric and mode out",
        ),
        (
            {"algorithm": "bayesian", "constraints": ["ms < 5"]},
            "hpo_config: constraint 'ms < 5' must look like 'metric <= number' or 'metric >= number'",
        ),
    ],
)
def test_hpo_config_errors_name_the_field(data, message):
    problems = _problems("hpo_config", data)
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_unknown_options_list_the_known_ones_and_say_where_hpogrid_options_went():
    problems = _problems("hpo_config", {"resource": {"gpu": 1}, "bogus": 1})
    assert problems[0].startswith(
        "hpo_config.resource: unknown option (resources per trial are compute_config.resources_per_trial); "
        "hpo_config takes algorithm, metric, mode, scheduler, num_trials"
    )
    assert problems[1].startswith("hpo_config.bogus: unknown option; hpo_config takes algorithm")


def test_every_problem_is_reported_at_once():
    problems = _problems("hpo_config", {"mode": "up", "trials": -1, "algorithm": "magic"})
    assert [p.split(":")[0] for p in problems] == ["hpo_config.algorithm", "hpo_config.mode", "hpo_config.trials"]
    assert str(ConfigError(problems)) == "; ".join(problems)


def test_scheduler_none_is_fifo_and_aliases_are_accepted():
    assert validate("hpo_config", {"scheduler": None}).scheduler == "fifo"
    assert validate("hpo_config", {"scheduler": "ASHA"}).scheduler == "asha"
    assert validate("hpo_config", {"algorithm": "bohb", "scheduler": "bohbhyperband"}).algorithm == "bohb"
    assert validate("hpo_config", {"algorithm": "tune"}).algorithm == "tune"  # hpogrid's name for random


# -- model_config and compute_config ----------------------------------------------------------------
def test_model_config():
    config = validate("model_config", {"script": "mnist.py", "model": "MNISTTrainable", "param": '{"epochs": 3}'})
    assert dump(config) == {
        "script": "mnist.py",
        "model": "MNISTTrainable",
        "param": {"epochs": 3},
        "save_model": False,
        "multi_res_labels": [],
    }


@pytest.mark.parametrize(
    "data, message",
    [
        ({"model": "f"}, "model_config.script: is required"),
        ({"script": "s.py"}, "model_config.model: is required"),
        ({"script": " ", "model": "f"}, "model_config.script: must be a file name"),
        ({"script": "s.py", "model": "my-model"}, "model_config.model: must be the name of a function or class"),
        ({"script": "s.py", "model": "f", "param": {"a": float("inf")}}, "model_config.param: must be JSON"),
        ({"script": "s.py", "model": "f", "param": {"a": object()}}, "model_config.param: must be JSON"),
        (
            {"script": "s.py", "model": "f", "multi_res_labels": ["a", ""]},
            "model_config.multi_res_labels: must hold non-empty names",
        ),
        (
            {"script": "s.py", "model": "f", "save_model": "perhaps"},
            "model_config.save_model: Input should be a valid boolean",
        ),
    ],
)
def test_model_config_errors(data, message):
    problems = _problems("model_config", data)
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_compute_config_defaults_and_errors():
    assert dump(validate("compute_config", {})) == {
        "work_pool": "cpu",
        "engine": "ray",
        "address": None,
        "n_jobs": None,
        "resources_per_trial": {"cpu": 1},
    }
    dask = validate(
        "compute_config", {"engine": "dask", "address": "tcp://10.0.0.1:8786", "work_pool": "gpu", "n_jobs": 4}
    )
    assert (dask.engine, dask.address, dask.work_pool, dask.n_jobs) == ("dask", "tcp://10.0.0.1:8786", "gpu", 4)
    assert validate("compute_config", {"address": "ray://head:10001"}).address == "ray://head:10001"
    cases = {
        "compute_config.engine: Input should be 'ray' or 'dask' (got 'spark')": {"engine": "spark"},
        "compute_config.work_pool: must be a name of letters, digits, _ and -, got 'my pool'": {"work_pool": "my pool"},
        "compute_config.address: must be a cluster address without spaces": {"address": "host 1"},
        "compute_config: address ray://h:1 is a Ray address but engine is dask": {
            "engine": "dask",
            "address": "ray://h:1",
        },
        "compute_config: address tcp://h:1 is a Dask address but engine is ray": {"address": "tcp://h:1"},
        "compute_config.n_jobs: Input should be greater than or equal to 1": {"n_jobs": 0},
        "compute_config.resources_per_trial: gpu: must be a number of at least 0, got -1": {
            "resources_per_trial": {"gpu": -1}
        },
    }
    for message, data in cases.items():
        problems = _problems("compute_config", data)
        assert len(problems) == 1 and problems[0].startswith(message), problems


# -- search_space --------------------------------------------------------------------------------------
@pytest.mark.parametrize("space", [SIMPLE_SPACE, TRAINABLE_SPACE, MLP_SPACE])
def test_the_seeds_search_spaces_validate(space):
    config = validate("search_space", json.dumps(space))
    assert dump(config) == space
    assert config.space().names == tuple(space)


@pytest.mark.parametrize(
    "space, message",
    [
        (
            {"x": {"method": "uniform", "dimension": {"low": 5, "high": 1}}},
            "search_space: x: low (5) is greater than high (1)",
        ),
        ({"x": {"method": "gaussian", "dimension": {}}}, "search_space: x: unknown method 'gaussian'"),
        ({"x": {"method": "uniform"}}, "search_space: x: dimension is required for method uniform"),
        ({"x": {"method": "uniform", "dimension": {"low": 0}}}, "search_space: x: high is required for method uniform"),
        (
            {"x": {"method": "categorical", "dimension": {}}},
            "search_space: x: a categorical variable needs a non-empty list of categories",
        ),
        ({}, "search_space: search space: no variables"),
        ("{oops", "search_space: search_space: not valid JSON"),
    ],
)
def test_search_space_errors(space, message):
    problems = _problems("search_space", space)
    assert len(problems) == 1 and problems[0].startswith(message), problems


# -- project ------------------------------------------------------------------------------------------
def test_project_keeps_hpogrids_key_names():
    project = validate(
        "project",
        {
            "name": "simple_objective",
            "scripts_path": "/scripts/simple_objective.py",
            "model_config": "simple_objective_model",
            "search_space": "simple_objective_space",
            "hpo_config": "random_search_min_loss",
        },
    )
    assert project.model_config_name == "simple_objective_model"
    assert dump(project) == {
        "name": "simple_objective",
        "search_space": "simple_objective_space",
        "hpo_config": "random_search_min_loss",
        "model_config": "simple_objective_model",
        "compute_config": None,
        "scripts_path": "/scripts/simple_objective.py",
    }
    problems = _problems("project", {"name": "p q", "search_space": "s", "hpo_config": "h", "grid_config": "manc"})
    assert problems[0].startswith("project.name: must be a name of letters, digits, _ . -")
    assert "project.model_config: is required" in problems
    assert any(
        p.startswith("project.grid_config: unknown option (tunefleet's project takes a compute_config in place of")
        for p in problems
    )


def test_unknown_config_type_and_names():
    with pytest.raises(ConfigError, match="unknown config type 'grid_config'; known: search_space, hpo_config"):
        validate("grid_config", {})
    assert configs.check_name("mnist_cnn-2.v1") == "mnist_cnn-2.v1"
    with pytest.raises(ConfigError, match="name must start with a letter or digit"):
        configs.check_name("-x")


# -- update (merge) -----------------------------------------------------------------------------------
def test_merge_updates_only_the_given_options_and_validates_again():
    old = dump(
        validate("hpo_config", {"metric": "loss", "mode": "min", "trials": 200, "stop": {"training_iteration": 3}})
    )
    new = merge("hpo_config", old, {"trials": 50, "max-concurrent": 2, "--algorithm": "bayesian"})
    assert (new.num_trials, new.max_concurrent, new.algorithm, new.metric, new.stop) == (
        50,
        2,
        "bayesian",
        "loss",
        {"training_iteration": 3},
    )
    assert merge("hpo_config", new, {"stop": None}).stop == {"training_iteration": 1}  # None: back to the default
    assert merge("hpo_config", new, {"stop": {"loss": 0.1}}).stop == {"loss": 0.1}  # replaced whole
    with pytest.raises(ConfigError, match="hpo_config: unknown option 'site'; hpo_config takes algorithm"):
        merge("hpo_config", old, {"site": "ANALY_MANC"})
    with pytest.raises(ConfigError, match="hpo_config.mode: Input should be 'min' or 'max'"):
        merge("hpo_config", old, {"mode": "sideways"})


def test_merge_search_space_adds_replaces_and_removes_variables():
    space = merge(
        "search_space",
        SIMPLE_SPACE,
        {"width": None, "depth": {"method": "uniformint", "dimension": {"low": 1, "high": 4}}},
    )
    assert list(dump(space)) == ["height", "depth"]
    with pytest.raises(ConfigError, match="search_space: depth: low"):
        merge("search_space", SIMPLE_SPACE, {"depth": {"method": "uniformint", "dimension": {"low": 9, "high": 4}}})


# -- options for a CLI ----------------------------------------------------------------------------------
def test_options_describe_every_field_and_round_trip():
    hpo = {option.name: option for option in options("hpo_config")}
    assert list(hpo)[:5] == ["algorithm", "metric", "mode", "scheduler", "num_trials"]
    assert hpo["num_trials"].flags == ("--trials", "--num-trials", "--num_trials") and hpo["num_trials"].type == "int"
    assert hpo["num_trials"].default == 100 and not hpo["num_trials"].required
    assert hpo["mode"].choices == ("min", "max") and hpo["stop"].type == "json"
    assert hpo["ignore_fail"].type == "bool" and hpo["extra_metrics"].type == "list"
    assert all(option.help for option in hpo.values())
    model = {option.name: option for option in options("model_config")}
    assert model["script"].required and model["model"].required and model["param"].default == {}
    assert [o.name for o in options("project")] == [
        "name",
        "search_space",
        "hpo_config",
        "model_config",
        "compute_config",
        "scripts_path",
    ]
    assert options("project")[3].flags == ("--model-config", "--model_config")  # hpogrid's spelling too
    assert [(o.name, o.type, o.required) for o in options("search_space")] == [("search_space", "json", True)]
    # defaults are valid values: a config of every default validates and dumps to them
    for config_type in ("hpo_config", "compute_config"):
        defaults = {o.name: o.default for o in options(config_type)}
        assert dump(validate(config_type, defaults)) == defaults
    # a mutable default handed out is a copy
    hpo["stop"].default["training_iteration"] = 99
    assert validate("hpo_config", {}).stop == {"training_iteration": 1}


# -- a project's configs together ---------------------------------------------------------------------
def _sweep(**changes):
    parts = {
        "name": "simple_objective",
        "search_space": SIMPLE_SPACE,
        "hpo_config": {"algorithm": "random", "metric": "loss", "mode": "min", "trials": 200},
        "model_config": {"script": "simple_objective.py", "model": "simple_objective"},
        "compute_config": None,
        "scripts_path": "tests/support/sweep_examples",
    }
    parts.update(changes)
    return SweepConfig.build(**parts)


def test_a_sweep_config_combines_the_four_configs_and_round_trips():
    sweep = _sweep()
    assert sweep.compute_config.engine == "ray" and sweep.space().names == ("height", "width")
    again = SweepConfig.from_dict(json.loads(json.dumps(sweep.to_dict())))
    assert again == sweep


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"model_config": {"script": "s.py", "model": "f", "param": {"height": 3, "epochs": 2}}},
            "model_config.param: height also variable(s) of the search space",
        ),
        (
            {"model_config": {"script": "s.py", "model": "f", "multi_res_labels": ["loss"]}},
            "model_config.multi_res_labels names the metric loss itself",
        ),
        (
            {"hpo_config": {"algorithm": "grid", "metric": "loss"}},
            "hpo_config.algorithm grid needs a categorical variable",
        ),
        (
            {
                "search_space": {
                    "act": {"method": "categorical", "dimension": {"categories": ["a", "b"], "grid_search": 1}}
                },
                "hpo_config": {"algorithm": "bayesian", "metric": "loss"},
            },
            "search_space: act use grid_search, which only random and grid take (hpo_config.algorithm is bayesian)",
        ),
        (
            {"hpo_config": {"algorithm": "tpe", "scheduler": "fifo"}, "compute_config": {"engine": "dask"}},
            "compute_config.engine dask runs random or grid search only (hpo_config.algorithm is tpe); use engine ray",
        ),
        (
            {"compute_config": {"engine": "dask"}},
            "compute_config.engine dask runs trials without a scheduler (hpo_config.scheduler is asynchyperband)",
        ),
    ],
)
def test_configs_that_do_not_fit_together(changes, message):
    with pytest.raises(ConfigError) as caught:
        _sweep(**changes)
    problems = caught.value.problems
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_a_sweep_config_reports_the_problems_of_every_config():
    with pytest.raises(ConfigError) as caught:
        _sweep(hpo_config={"mode": "down"}, model_config={"model": "f"}, search_space={"x": {"method": "uniform"}})
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "search_space",
        "hpo_config.mode",
        "model_config.script",
    ]
    with pytest.raises(ConfigError, match="project name must start"):
        _sweep(name="no name")
    with pytest.raises(ConfigError, match=r"sweep config: unknown key\(s\) grid_config"):
        SweepConfig.from_dict({**_sweep().to_dict(), "grid_config": {}})
    with pytest.raises(ConfigError, match="sweep config: hpo_config is required"):
        SweepConfig.from_dict({"name": "p", "search_space": SIMPLE_SPACE, "model_config": {}})


def test_dask_runs_random_and_grid_without_a_scheduler():
    sweep = _sweep(
        hpo_config={"algorithm": "random", "scheduler": "fifo", "metric": "loss"}, compute_config={"engine": "dask"}
    )
    assert sweep.compute_config.engine == "dask"
