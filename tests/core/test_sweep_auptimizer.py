"""Auptimizer's experiment.json translated to a tunefleet sweep, and its bad inputs."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import EXAMPLES
from tunefleet.sweep.auptimizer import AuptimizerError, from_experiment, load_experiment
from tunefleet.sweep.configs import ConfigError
from tunefleet.sweep.trainables import load_trainable, run_trial

EXPERIMENT = json.loads((EXAMPLES / "experiment.json").read_text())


def _experiment(**changes) -> dict:
    experiment = dict(EXPERIMENT)
    for key, value in changes.items():
        if value is None:
            experiment.pop(key, None)
        else:
            experiment[key] = value
    return experiment


def test_the_seeds_experiment_becomes_a_project():
    translated = load_experiment(EXAMPLES / "experiment.json")
    sweep = translated.sweep
    assert sweep.name == "auptimizer" and sweep.scripts_path == str(EXAMPLES.resolve())
    assert translated.configs()["search_space"] == {
        "x": {"method": "uniform", "dimension": {"low": -5.0, "high": 5.0}},
        "y": {"method": "uniform", "dimension": {"low": -5.0, "high": 5.0}},
    }
    hpo = sweep.hpo_config
    assert (hpo.algorithm, hpo.scheduler, hpo.metric, hpo.mode) == ("random", "fifo", "score", "min")
    assert (hpo.num_trials, hpo.max_concurrent, hpo.seed, hpo.stop) == (12, 3, 1, {})
    assert (hpo.job_retries, hpo.ignore_fail) == (2, True)
    assert translated.job_failure == {"job_retries": 2, "ignore_fail": True}
    assert translated.resource_args == {
        "save_model": False,
        "multi_res_labels": ["x2", "y2"],
        "track_intermediate_results": False,
        "early_stop": None,
    }
    assert sweep.model_config.model == "main" and sweep.model_config.multi_res_labels == ["x2", "y2"]
    assert (sweep.compute_config.work_pool, sweep.compute_config.resources_per_trial) == ("cpu", {"cpu": 1})
    assert translated.notes == ()
    # and the script runs as the translated model_config says
    trainable = load_trainable(sweep.model_config, sweep.scripts_path, metric=hpo.metric)
    assert run_trial(trainable, {"x": 2.0, "y": -2.0}).metrics["x2"] == 4.0


def test_defaults_follow_auptimizer():
    translated = from_experiment(
        _experiment(job_failure=None, n_parallel=None, target=None, n_samples=None, random_seed=None)
    )
    hpo = translated.sweep.hpo_config
    assert (hpo.mode, hpo.max_concurrent, hpo.num_trials, hpo.seed) == ("max", 1, 10, None)
    assert translated.job_failure == {"job_retries": 0, "ignore_fail": False}  # without job_failure a failure stops it
    assert (hpo.job_retries, hpo.ignore_fail) == (0, False)


def test_proposers_become_algorithms_and_schedulers():
    grid_space = [
        {"name": "x", "range": [0, 1], "type": "float", "n": 3},
        {"name": "k", "range": [1, 3], "type": "int"},
    ]
    sequence = from_experiment(_experiment(proposer="sequence", parameter_config=grid_space)).sweep
    assert (sequence.hpo_config.algorithm, sequence.hpo_config.num_trials) == ("grid", 1)
    assert sequence.search_space.root["x"]["dimension"] == {"categories": [0.0, 0.5, 1.0], "grid_search": 1}
    assert sequence.space().grid_size() == 9

    hyperband = from_experiment(_experiment(proposer="hyperband", max_iter=27, eta=3))
    hpo = hyperband.sweep.hpo_config
    assert (hpo.algorithm, hpo.scheduler) == ("random", "hyperband")
    assert hpo.scheduler_param == {"time_attr": "training_iteration", "max_t": 27, "reduction_factor": 3}
    assert hpo.num_trials == 27 + 12 + 6 + 4  # Auptimizer's count of hyperband's configurations for 27 / 3
    assert hyperband.sweep.model_config.param == {"n_iterations": 27}
    assert any("n_samples: proposer hyperband sets the number of trials itself" in note for note in hyperband.notes)

    bohb = from_experiment(_experiment(proposer="bohb", n_samples=None, top_n_percent=20, min_budget=1, max_budget=9))
    hpo = bohb.sweep.hpo_config
    assert (hpo.algorithm, hpo.scheduler, hpo.algorithm_param) == ("bohb", "bohbhyperband", {"top_n_percent": 20})
    assert hpo.scheduler_param["max_t"] == 9 and bohb.sweep.model_config.param == {"n_iterations": 9}
    fractions = from_experiment(_experiment(proposer="bohb"))
    assert fractions.sweep.hpo_config.scheduler_param["max_t"] == 100  # budgets 0.01 .. 1
    assert any(note.startswith("bohb budgets") for note in fractions.notes)

    assert from_experiment(_experiment(proposer="spearmint")).sweep.hpo_config.algorithm == "bayesian"
    assert from_experiment(_experiment(proposer="hyperopt")).sweep.hpo_config.algorithm == "hyperopt"


def test_early_stopping_policies_become_schedulers():
    def scheduler(policy):
        translated = from_experiment(_experiment(resource_args={"early_stop": policy}))
        assert translated.resource_args["track_intermediate_results"] is True  # early stopping tracks them
        return translated.sweep.hpo_config, translated.notes

    hpo, notes = scheduler({"aup_policy": "median", "aup_policy_steps": 5, "warmup": 2})
    assert hpo.scheduler == "median" and hpo.scheduler_param["grace_period"] == 2
    hpo, notes = scheduler({"aup_policy": "truncation", "aup_policy_steps": 4, "truncation_percentage": 0.5})
    assert hpo.scheduler == "asynchyperband"
    assert hpo.scheduler_param == {"time_attr": "training_iteration", "grace_period": 4, "reduction_factor": 2.0}
    hpo, notes = scheduler({"aup_policy": "bandit", "aup_policy_steps": 3})
    assert hpo.scheduler == "asynchyperband" and "approximated" in notes[0]


def test_gpu_resource_and_working_dir(tmp_path):
    translated = from_experiment(_experiment(resource="gpu", workingdir="scripts", name="quad"), base_dir=tmp_path)
    sweep = translated.sweep
    assert sweep.name == "quad" and sweep.scripts_path == str((tmp_path / "scripts").resolve())
    assert (sweep.compute_config.work_pool, sweep.compute_config.resources_per_trial) == ("gpu", {"cpu": 1, "gpu": 1})


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"proposer": "annealing"}, "proposer: unknown proposer 'annealing'; Auptimizer's are random, sequence"),
        ({"proposer": "passive"}, "proposer: proposer passive: passive runs jobs by hand"),
        ({"proposer": "eas"}, "proposer: proposer eas: EAS"),
        ({"script": None}, "script is required"),
        ({"script": 3}, "script must be a non-empty string, got 3"),
        ({"parameter_config": None}, r"parameter_config is required \(a list of \{name, range, type\}\)"),
        ({"parameter_config": []}, "parameter_config: parameter_config: no parameters"),
        (
            {"parameter_config": [{"name": "x", "range": [1, 0], "type": "float"}]},
            r"parameter_config: x: range\[0\] \(1\) is greater",
        ),
        (
            {"parameter_config": [{"name": "x", "range": [0, 1], "type": "double"}]},
            "parameter_config: x: unknown type 'double'",
        ),
        ({"parameter_config": [{"name": "c", "range": [], "type": "choice"}]}, "parameter_config: c: "),
        (
            {"parameter_config": [{"range": [0, 1], "type": "float"}]},
            r"parameter_config: parameter_config\[0\]: name is required",
        ),
        ({"n_samples": "10"}, "n_samples must be an integer of at least 1, got '10'"),
        ({"n_samples": 0}, "n_samples must be an integer of at least 1, got 0"),
        ({"n_parallel": 1.5}, "n_parallel must be an integer of at least 1"),
        ({"target": "minimise"}, "target must be min or max, got 'minimise'"),
        ({"random_seed": -3}, r"random_seed must be an integer in \[0, 2\*\*32\)"),
        ({"job_failure": {"job_retries": -1}}, "job_failure.job_retries must be an integer of at least 0"),
        ({"job_failure": {"ignore_fail": "yes"}}, "job_failure.ignore_fail must be true or false"),
        ({"job_failure": {"retries": 1}}, r"job_failure: unknown field\(s\) retries"),
        ({"job_failure": 3}, "job_failure must be an object"),
        ({"resource": "aws"}, "resource aws: Auptimizer's own aws runner is not offered"),
        ({"resource": "tpu"}, "resource must be one of cpu, gpu"),
        ({"resource_args": {"save_model": "yes"}}, "resource_args.save_model must be true or false"),
        ({"resource_args": {"multi_res_labels": "flops"}}, "resource_args.multi_res_labels must be a list of names"),
        (
            {"resource_args": {"early_stop": {"aup_policy": "patience", "aup_policy_steps": 2}}},
            "resource_args.early_stop.aup_policy must be one of",
        ),
        (
            {"resource_args": {"early_stop": {"aup_policy": "median"}}},
            "resource_args.early_stop.aup_policy_steps must be an integer",
        ),
        (
            {"resource_args": {"early_stop": {"aup_policy": "curve_fitting", "aup_policy_steps": 2}}},
            "curve_fitting has no Ray Tune counterpart",
        ),
        (
            {
                "resource_args": {
                    "early_stop": {"aup_policy": "truncation", "aup_policy_steps": 2, "truncation_percentage": 1}
                }
            },
            r"resource_args.early_stop.truncation_percentage must be in \(0, 1\), got 1",
        ),
        (
            {"proposer": "hyperband", "resource_args": {"early_stop": {"aup_policy": "median", "aup_policy_steps": 2}}},
            "proposer hyperband already stops trials early",
        ),
        ({"proposer": "hyperband", "eta": 1}, "eta must be an integer of at least 2"),
        ({"proposer": "bohb", "min_budget": 2, "max_budget": 1}, r"min_budget \(2\) is greater than max_budget \(1\)"),
        ({"n_sample": 10}, r"unknown field\(s\) n_sample; an experiment has proposer, n_samples"),
        ({"workingdir": ""}, "workingdir must be a folder path"),
    ],
)
def test_bad_experiments_are_refused_naming_the_field(changes, message):
    with pytest.raises(AuptimizerError, match=message):
        from_experiment(_experiment(**changes))


def test_a_bad_name_or_a_translated_clash_is_a_config_error():
    with pytest.raises(ConfigError, match="project name must start with a letter or digit"):
        from_experiment(_experiment(name="my experiment"))
    with pytest.raises(ConfigError, match="multi_res_labels names the metric score itself"):
        from_experiment(_experiment(resource_args={"multi_res_labels": ["score"]}))


def test_fields_of_another_proposer_are_noted_not_used():
    translated = from_experiment(_experiment(max_iter=10))
    assert translated.notes == ("max_iter: not used by proposer random; ignored",)
    translated = from_experiment(_experiment(resource_args={"aws_key": "x"}))
    assert translated.notes[0].startswith("resource_args aws_key: Auptimizer's runner settings; ignored")


def test_experiment_files(tmp_path):
    with pytest.raises(AuptimizerError, match="experiment file .*missing.json not found"):
        load_experiment(tmp_path / "missing.json")
    bad = tmp_path / "experiment.json"
    bad.write_text('{"proposer": "random",')
    with pytest.raises(AuptimizerError, match=r"experiment.json: not valid JSON \(.* at line 1"):
        load_experiment(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(AuptimizerError, match="an experiment must be a JSON object, got list"):
        load_experiment(bad)
