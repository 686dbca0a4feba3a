"""Ray Tune search algorithms and schedulers from a tunefleet Space: names, checks, searchers, real runs."""

import json
import math
import sys

import pytest

from tests.support.sweeps import SIMPLE_SPACE
from tunefleet.space import Space, SpaceError
from tunefleet.sweep import search

# The seed's first example: minimise (height - 14)**2 - abs(width - 3).
SIMPLE = Space.from_hpogrid(
    {
        "height": {"method": "uniform", "dimension": {"low": -100, "high": 100}},
        "width": {"method": "uniform", "dimension": {"low": 0, "high": 20}},
    }
)


def simple_objective(config):
    return {"loss": (config["height"] - 14) ** 2 - abs(config["width"] - 3)}


# Every kind of variable, and a fixed one.
EVERY = Space.from_hpogrid(
    {
        "act": {"method": "categorical", "dimension": {"categories": ["relu", True, 1]}},
        "x": {"method": "uniform", "dimension": {"low": -1.0, "high": 1.0}},
        "layers": {"method": "uniformint", "dimension": {"low": 3, "high": 10}},
        "one": {"method": "uniformint", "dimension": {"low": 3, "high": 3}},
        "qu": {"method": "quniform", "dimension": {"low": 0.05, "high": 1.0, "q": 0.1}},
        "lr": {"method": "loguniform", "dimension": {"low": 1e-5, "high": 1e-2, "base": 10}},
        "qlu": {"method": "qloguniform", "dimension": {"low": 1e-4, "high": 1e-2, "q": 1e-3}},
        "n": {"method": "normal", "dimension": {"mu": 0.0, "sigma": 2.0}},
        "qn": {"method": "qnormal", "dimension": {"mu": 0.0, "sigma": 2.0, "q": 0.5}},
        "ln": {"method": "lognormal", "dimension": {"mu": 0.0, "sigma": 1.0}},
        "qln": {"method": "qlognormal", "dimension": {"mu": 1.0, "sigma": 0.5, "base": 10, "q": 5}},
    }
)

GRID = Space.from_hpogrid(
    {
        "act": {"method": "categorical", "dimension": {"categories": ["relu", "tanh", "gelu"], "grid_search": 1}},
        "scale": {"method": "lognormal", "dimension": {"mu": 0.0, "sigma": 0.5}},
    }
)

MODEL_BASED = ["bayesian", "tpe", "hyperopt", "bohb"]


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


needs = {
    "hyperopt": pytest.mark.skipif(not _has("hyperopt"), reason="hyperopt is not installed"),
    "bohb": pytest.mark.skipif(not (_has("hpbandster") and _has("ConfigSpace")), reason="hpbandster is not installed"),
    "tpe": pytest.mark.skipif(not _has("optuna"), reason="optuna is not installed"),
}


def _algorithms(names):
    return [pytest.param(name, marks=needs[name]) if name in needs else name for name in names]


# -- names and checks ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, kind",
    [
        ("random", "BasicVariantGenerator"),
        ("tune", "BasicVariantGenerator"),
        ("bayesian", "TunefleetBOSearch"),
        pytest.param("tpe", "SpaceSearcher", marks=needs["tpe"]),
        pytest.param("Optuna", "SpaceSearcher", marks=needs["tpe"]),
        pytest.param("hyperopt", "SpaceSearcher", marks=needs["hyperopt"]),
        pytest.param("bohb", "SpaceSearcher", marks=needs["bohb"]),
    ],
)
def test_every_algorithm_builds(name, kind):
    algorithm = search.search_algorithm(name, SIMPLE, "loss", "min", seed=0)
    assert type(algorithm).__name__ == kind
    limited = search.search_algorithm(name, SIMPLE, "loss", "min", seed=0, max_concurrent=3)
    if kind == "BasicVariantGenerator":
        assert limited.max_concurrent == 3
    else:
        assert type(limited).__name__ == "ConcurrencyLimiter" and limited.max_concurrent == 3


def test_grid_builds_only_with_a_grid_variable():
    assert type(search.search_algorithm("grid", GRID, "loss", "min")).__name__ == "BasicVariantGenerator"
    with pytest.raises(search.SearchError, match="algorithm grid needs at least one grid variable"):
        search.search_algorithm("grid", SIMPLE, "loss", "min")


@pytest.mark.parametrize("name", _algorithms(MODEL_BASED))
def test_model_based_algorithms_refuse_grid_variables_naming_them(name):
    with pytest.raises(SpaceError, match=f"act: grid_search is for the algorithms random and grid; {name}"):
        search.search_algorithm(name, GRID, "loss", "min")


@pytest.mark.parametrize(
    "name, message",
    [
        ("skopt", "algorithm skopt: scikit-optimize's searcher was removed from Ray Tune; the closest is bayesian"),
        ("ax", "algorithm ax: Ax (ax-platform) is not installed here"),
        ("nevergrad", "unknown algorithm 'nevergrad'; known: random, grid, bayesian, tpe, optuna, hyperopt, bohb"),
        (None, "unknown algorithm None; known: random"),
    ],
)
def test_unknown_and_unavailable_algorithms(name, message):
    with pytest.raises(search.SearchError) as raised:
        search.search_algorithm(name, SIMPLE, "loss", "min")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "algorithm, missing, package, closest",
    [
        ("hyperopt", "hyperopt", "hyperopt", "tpe (Optuna's TPE"),
        ("bohb", "hpbandster", "hpbandster", "tpe with the asynchyperband scheduler"),
        ("bohb", "ConfigSpace", "ConfigSpace", "tpe with the asynchyperband scheduler"),
        ("tpe", "optuna", "optuna", "bayesian"),
    ],
)
def test_a_missing_library_is_named_with_the_closest_alternative(monkeypatch, algorithm, missing, package, closest):
    monkeypatch.setitem(sys.modules, missing, None)  # import fails as if it were not installed
    with pytest.raises(search.MissingDependency) as raised:
        search.search_algorithm(algorithm, SIMPLE, "loss", "min")
    assert raised.value.package == package
    assert f"algorithm {algorithm} needs the package {package}, which is not installed" in str(raised.value)
    assert f"the closest available algorithm is {closest}" in str(raised.value)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"metric": ""}, "metric must be a non-empty string"),
        ({"mode": "minimize"}, "mode must be 'min' or 'max', got 'minimize'"),
        ({"seed": -1}, "seed must be an integer in [0, 2**32)"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"max_concurrent": -2}, "max_concurrent must be a positive integer"),
        ({"max_concurrent": True}, "max_concurrent must be a positive integer"),
        ({"points_to_evaluate": {"height": 1}}, "points_to_evaluate must be a list of points"),
        ({"points_to_evaluate": [{"height": 1.0}]}, "points_to_evaluate[0]: width: missing from the point"),
        ({"points_to_evaluate": [{"height": 500.0, "width": 1.0}]}, "points_to_evaluate[0]: height: 500.0 is outside"),
        ({"initial_points": 0}, "algorithm bayesian: initial_points must be an integer of at least 1"),
        ({"acquisition": "EI"}, "algorithm bayesian: unknown acq_func 'EI'"),
        (
            {"n_startup": 3},
            "algorithm bayesian: unknown parameter(s) n_startup; it takes initial_points, model, acquisition",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(kwargs, message):
    arguments = {"metric": "loss", "mode": "min"} | kwargs
    metric, mode = arguments.pop("metric"), arguments.pop("mode")
    with pytest.raises(ValueError) as raised:
        search.search_algorithm("bayesian", SIMPLE, metric, mode, **arguments)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("random", {"gamma": 1}, "algorithm random: unknown parameter(s) gamma; it takes constant_grid_search"),
        pytest.param("hyperopt", {"n_startup_jobs": 1}, "it takes n_initial_points, gamma", marks=needs["hyperopt"]),
        pytest.param("tpe", {"gamma_": 1}, "algorithm tpe: unknown parameter(s) gamma_; it takes", marks=needs["tpe"]),
        pytest.param("bohb", {"eta": 3}, "it takes min_points_in_model, top_n_percent", marks=needs["bohb"]),
    ],
)
def test_algorithm_params_are_checked(name, params, message):
    with pytest.raises(search.SearchError) as raised:
        search.search_algorithm(name, SIMPLE, "loss", "min", **params)
    assert message in str(raised.value)


def test_all_fixed_variables_leave_a_model_nothing_to_search():
    fixed = Space.from_hpogrid({"k": {"method": "uniformint", "dimension": {"low": 2, "high": 2}}})
    with pytest.raises(search.SearchError, match="every variable of the space has a single value; use random"):
        search.search_algorithm("tpe", fixed, "loss", "min")


def test_param_space_for_the_tuner():
    assert search.tuner_param_space("bayesian", SIMPLE, {"epochs": 3}) == {"epochs": 3}
    grid = search.tuner_param_space("grid", GRID, {"epochs": 3})
    assert grid["epochs"] == 3 and grid["act"] == {"grid_search": ["relu", "tanh", "gelu"]}
    with pytest.raises(search.SearchError, match="height: both a constant and a variable of the space"):
        search.tuner_param_space("random", SIMPLE, {"height": 1})


# -- the searchers over every kind of variable, driven without a cluster --------------------------------
@pytest.mark.parametrize("name", _algorithms(MODEL_BASED))
def test_model_based_searchers_suggest_valid_points_of_every_kind(name):
    first = EVERY.random(1, seed=7)[0]
    params = {"initial_points": 3} if name == "bayesian" else {}
    algorithm = search.search_algorithm(
        name, EVERY, "loss", "min", seed=1, max_concurrent=2, points_to_evaluate=[first], **params
    )
    suggested = []
    for i in range(6):
        config = algorithm.suggest(str(i))
        assert EVERY.validate_point(config) == config
        # plain Python types, as the space gives them (no numpy scalars, True is not 1)
        assert [type(value) for value in config.values()] == [
            type(value) for value in EVERY.validate_point(config).values()
        ]
        assert config["one"] == 3
        suggested.append(config)
        result = {"loss": (config["x"] - 0.3) ** 2 + abs(config["n"]), "training_iteration": 1}
        result["hyperband_info"] = {"budget": 1}  # what HyperBandForBOHB adds, for BOHB's model
        algorithm.on_trial_complete(str(i), result)
    assert suggested[0] == first  # points to evaluate come first, exactly
    assert len({json.dumps(c, sort_keys=True) for c in suggested}) == len(suggested)


def test_the_bo_searcher_maximises_and_minimises():
    space = Space.from_hpogrid({"k": {"method": "uniformint", "dimension": {"low": -20, "high": 20}}})
    for mode, sign in (("min", 1), ("max", -1)):
        searcher = search.search_algorithm("bayesian", space, "y", mode, seed=0, initial_points=3)
        for i in range(6):
            config = searcher.suggest(str(i))
            searcher.on_trial_complete(str(i), {"y": sign * (config["k"] - 7) ** 2})
        assert searcher.best == ({"k": 7}, 0)


def test_the_bo_searcher_gives_concurrent_trials_different_points_and_never_repeats_a_failure():
    searcher = search.search_algorithm("bayesian", SIMPLE, "loss", "min", seed=2, initial_points=3)
    for i in range(4):
        config = searcher.suggest(str(i))
        searcher.on_trial_complete(str(i), simple_objective(config))
    failed = searcher.suggest("failing")
    searcher.on_trial_complete("failing", None, error=True)
    nan = searcher.suggest("nan")
    searcher.on_trial_complete("nan", {"loss": math.nan})
    pending = [searcher.suggest(f"p{i}") for i in range(3)]  # three running at once
    points = [json.dumps(p, sort_keys=True) for p in [failed, nan, *pending]]
    assert len(set(points)) == 5
    state = searcher.get_state()
    assert state["failed"] == [failed, nan] and len(state["observations"]) == 4 and len(state["live"]) == 3
    assert searcher.suggest("next") not in (failed, nan)


def test_the_bo_searcher_resumes_from_its_saved_state(tmp_path):
    """A searcher restored mid-run (two trials still running) continues exactly as the uninterrupted one."""

    def drive(searcher, start, stop, running):
        for i in range(start, stop):
            running[str(i)] = searcher.suggest(str(i))
            if len(running) > 2:  # two in flight; the oldest completes
                trial_id = min(running, key=int)
                searcher.on_trial_complete(trial_id, simple_objective(running.pop(trial_id)))
        return running

    def new():
        return search.search_algorithm("bayesian", SIMPLE, "loss", "min", seed=3, initial_points=2)

    whole = new()
    drive(whole, 0, 7, {})
    first = new()
    running = drive(first, 0, 4, {})
    first.save(str(tmp_path / "searcher.json"))
    second = new()
    second.restore(str(tmp_path / "searcher.json"))
    assert second.get_state() == first.get_state()
    drive(second, 4, 7, running)  # the GP's turn: suggestions 4-6 come from the model
    assert second.get_state()["observations"] == whole.get_state()["observations"]


def test_the_bo_searcher_of_two_objectives_under_a_constraint_keeps_the_feasible_front(tmp_path):
    from tunefleet.bo.outcomes import Outcomes

    declared = Outcomes.parse({"loss": "minimize", "width": "maximize"}, ["cost <= 50"])

    def two(config):
        return {"loss": (config["height"] - 14) ** 2, "width": config["width"], "cost": abs(config["height"])}

    searcher = search.search_algorithm("bayesian", SIMPLE, "loss", "min", seed=0, initial_points=3, outcomes=declared)
    for i in range(8):
        searcher.on_trial_complete(str(i), two(searcher.suggest(str(i))))
    failed = searcher.suggest("no cost")
    searcher.on_trial_complete("no cost", {"loss": 1.0, "width": 1.0})  # a metric missing: failed
    running = [searcher.suggest(f"r{i}") for i in range(2)]
    assert len({json.dumps(p, sort_keys=True) for p in [failed, *running]}) == 3
    state = searcher.get_state()
    assert state["failed"] == [failed] and len(state["observations"]) == 8 and searcher.best is None
    told = [values for _, values in searcher.observations]
    front = [values for _, values in searcher.pareto]
    feasible = [v for v in told if v["cost"] <= 50]
    assert front and all(v in feasible for v in front)
    for v in front:  # no feasible observation is at least as good in both objectives and better in one
        assert not any(w != v and w["loss"] <= v["loss"] and w["width"] >= v["width"] for w in feasible)
    searcher.save(str(tmp_path / "searcher.json"))
    again = search.search_algorithm("bayesian", SIMPLE, "loss", "min", seed=0)
    again.restore(str(tmp_path / "searcher.json"))
    assert again.get_state() == state and again.pareto == searcher.pareto
    with pytest.raises(search.SearchError, match="algorithm tpe optimises one metric; objectives and constraints"):
        search.search_algorithm("tpe", SIMPLE, "loss", "min", outcomes=declared)


def test_searchers_pickle_by_reference():
    import pickle

    from tunefleet.sweep.search.bayesian import TunefleetBOSearch

    searcher = search.search_algorithm("bayesian", SIMPLE, "loss", "min", seed=0)
    again = pickle.loads(pickle.dumps(searcher))
    assert type(again) is TunefleetBOSearch and again.get_state() == searcher.get_state()


# -- schedulers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, kind",
    [
        (None, "FIFOScheduler"),
        ("fifo", "FIFOScheduler"),
        ("none", "FIFOScheduler"),
        ("asynchyperband", "AsyncHyperBandScheduler"),
        ("asha", "AsyncHyperBandScheduler"),
        ("hyperband", "HyperBandScheduler"),
        ("bohbhyperband", "HyperBandForBOHB"),
        ("pbt", "PopulationBasedTraining"),
        ("median", "MedianStoppingRule"),
    ],
)
def test_every_scheduler_builds(name, kind):
    assert type(search.scheduler(name, "loss", "min", space=SIMPLE)).__name__ == kind


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("hyperbandit", {}, "unknown scheduler 'hyperbandit'; known: fifo, none, asynchyperband, asha, hyperband"),
        ("asha", {"max_concurrent": 4}, "max_concurrent limits the search algorithm, not the scheduler"),
        (
            "asha",
            {"grace": 2},
            "scheduler asynchyperband: unknown parameter(s) grace; it takes time_attr, max_t, grace_period",
        ),
        ("asha", {"max_t": 2, "grace_period": 5}, "scheduler asynchyperband: grace_period must be <= max_t!"),
        ("hyperband", {"max_t": 0}, "scheduler hyperband: Max (time_attr) not valid!"),
        ("fifo", {"max_t": 3}, "scheduler fifo takes no parameters, got max_t"),
        ("pbt", {"hyperparam_mutations": ["depth"]}, "scheduler pbt: hyperparam_mutations names depth"),
    ],
)
def test_bad_scheduler_settings(name, params, message):
    with pytest.raises(search.SearchError) as raised:
        search.scheduler(name, "loss", "min", space=SIMPLE, **params)
    assert message in str(raised.value)


def test_pbt_mutates_the_space_and_keeps_perturbed_values_in_it():
    space = Space.from_hpogrid(
        {
            "lr": {"method": "loguniform", "dimension": {"low": 1e-4, "high": 1e-1}},
            "layers": {"method": "uniformint", "dimension": {"low": 1, "high": 4}},
            "act": {"method": "categorical", "dimension": {"categories": ["relu", "tanh"]}},
            "seed": {"method": "categorical", "dimension": {"categories": [1, 2], "grid_search": 1}},
        }
    )
    pbt = search.scheduler("pbt", "loss", "min", space=space, perturbation_interval=2)
    assert set(pbt._hyperparam_mutations) == {"lr", "layers", "act"}  # grid variables are not mutated
    assert pbt._hyperparam_mutations["act"] == ["relu", "tanh"]
    explore = pbt._custom_explore_fn
    assert explore({"lr": 0.12, "layers": 5, "act": "tanh", "seed": 1}) == {
        "lr": 0.1,
        "layers": 4,
        "act": "tanh",
        "seed": 1,
    }
    only = search.scheduler("pbt", "loss", "min", space=space, hyperparam_mutations=["lr"])
    assert list(only._hyperparam_mutations) == ["lr"]
    with pytest.raises(search.SearchError, match="scheduler pbt needs the space"):
        search.scheduler("pbt", "loss", "min")


def test_combinations_and_auptimizer_proposers():
    search.check_combination("bohb", "bohbhyperband")
    search.check_combination("tpe", "asha")
    with pytest.raises(
        search.SearchError, match="algorithm bohb needs the scheduler bohbhyperband, not asynchyperband"
    ):
        search.check_combination("bohb", "asynchyperband")
    with pytest.raises(search.SearchError, match="scheduler bohbhyperband works only with algorithm bohb, not random"):
        search.check_combination("random", "bohbhyperband")
    assert search.auptimizer_proposer("sequence") == ("grid", "fifo")
    assert search.auptimizer_proposer("bohb") == ("bohb", "bohbhyperband")
    with pytest.raises(search.SearchError, match="proposer eas: EAS"):
        search.auptimizer_proposer("eas")
    with pytest.raises(search.SearchError, match="unknown proposer 'grid'"):
        search.auptimizer_proposer("grid")


# -- real runs on a local Ray -----------------------------------------------------------------------------


def _fit(trainable, tmp_path, algorithm, space, num_samples, scheduler=None, constants=None, **search_kwargs):
    from ray import tune

    tuner = tune.Tuner(
        trainable,
        param_space=search.tuner_param_space(algorithm, space, constants),
        tune_config=tune.TuneConfig(
            search_alg=search.search_algorithm(algorithm, space, "loss", "min", **search_kwargs),
            scheduler=scheduler,
            num_samples=num_samples,
        ),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name="sweep", verbose=0),
    )
    results = tuner.fit()
    assert not results.errors
    frame = results.get_dataframe()
    order = {r.metrics["trial_id"]: int(r.metrics["experiment_tag"].split("_")[0]) for r in results}  # "3_height=..."
    return frame.assign(n=frame["trial_id"].map(order)).sort_values("n")  # in the order they were suggested


def test_the_bo_searcher_drives_a_tune_run_and_improves(ray_cluster, tmp_path):
    frame = _fit(
        simple_objective,
        tmp_path,
        "bayesian",
        SIMPLE,
        8,
        seed=0,
        max_concurrent=2,
        initial_points=3,
        constants={"epochs": 1},
    )
    assert len(frame) == 8 and (frame["config/epochs"] == 1).all()
    assert all(
        SIMPLE.validate_point({"height": h, "width": w}) for h, w in zip(frame["config/height"], frame["config/width"])
    )
    order = frame
    assert order["config/height"].iloc[0] == 0.0 and order["config/width"].iloc[0] == 10.0  # the guess comes first
    initial, model = order["loss"].iloc[:3], order["loss"].iloc[3:]
    assert model.min() < initial.min()


def _epochs(config):
    from ray import tune

    for epoch in range(1, 9):
        tune.report({"loss": config["x"] + 1.0 / epoch})


def test_a_scheduler_stops_bad_trials_early(ray_cluster, tmp_path):
    space = Space.from_hpogrid({"x": {"method": "uniform", "dimension": {"low": 0, "high": 10}}})
    asha = search.scheduler("asha", "loss", "min", max_t=8, grace_period=1, reduction_factor=2)
    frame = _fit(_epochs, tmp_path, "random", space, 6, scheduler=asha, seed=0, max_concurrent=2)
    assert len(frame) == 6
    iterations = dict(zip(frame["config/x"], frame["training_iteration"]))
    assert min(iterations.values()) < 8  # some trials stopped before max_t
    assert iterations[min(iterations)] == 8  # the best trial ran to the end


def test_grid_search_runs_each_value_once(ray_cluster, tmp_path):
    def trainable(config):
        return {"loss": {"relu": 1.0, "tanh": 2.0, "gelu": 3.0}[config["act"]] * config["scale"]}

    frame = _fit(trainable, tmp_path, "grid", GRID, 1, seed=0)
    assert sorted(frame["config/act"]) == ["gelu", "relu", "tanh"]
    assert frame["config/scale"].nunique() == 3 and (frame["config/scale"] > 0).all()  # lognormal, drawn per point


@pytest.mark.parametrize(
    "algorithm, scheduler_name",
    [
        pytest.param("bohb", "bohbhyperband", marks=needs["bohb"]),
        pytest.param("tpe", "asha", marks=needs["tpe"]),
        pytest.param("hyperopt", "fifo", marks=needs["hyperopt"]),
    ],
)
def test_library_searchers_run_with_their_schedulers(ray_cluster, tmp_path, algorithm, scheduler_name):
    search.check_combination(algorithm, scheduler_name)
    params = {"max_t": 4 if algorithm == "bohb" else 8, "reduction_factor": 2}
    if scheduler_name == "asha":
        params["grace_period"] = 1
    if scheduler_name == "fifo":
        params = {}
    scheduler = search.scheduler(scheduler_name, "loss", "min", **params)
    frame = _fit(_epochs, tmp_path, algorithm, SIMPLE_X, 4, scheduler=scheduler, seed=0, max_concurrent=2)
    assert len(frame) == 4 and frame["config/x"].between(0, 10).all()


SIMPLE_X = Space.from_hpogrid(
    {
        "x": {"method": "quniform", "dimension": {"low": 0, "high": 10, "q": 0.5}},
        "noise": {"method": "lognormal", "dimension": {"mu": 0.0, "sigma": 0.5}},
    }
)


@pytest.mark.parametrize("algorithm", ["bayesian", "tpe", "hyperopt", "bohb"])
def test_a_resumed_sweeps_searcher_is_told_the_finished_trials(algorithm):
    from tunefleet.sweep.tables import SweepTrial, SweepTrialStatus
    from tunefleet.sweep.tune_run import evaluated

    space = Space.from_hpogrid(
        {**SIMPLE_SPACE, "act": {"method": "categorical", "dimension": {"categories": ["relu", "tanh"]}}}
    )
    history = [{"loss": 3.0, "training_iteration": 1}, {"loss": 0.5, "training_iteration": 2}]
    finished = [
        SweepTrial(sweep_id=1, trial_key="a", config={"height": 14.0, "width": 3.0, "act": "tanh"},
                   metrics=history[-1], history=history, status=SweepTrialStatus.complete),
        SweepTrial(sweep_id=1, trial_key="b", config={"height": -7.5, "width": 11.0, "act": "relu"},
                   metrics={"loss": 9.0}, history=[{"loss": 9.0, "training_iteration": 1}],
                   status=SweepTrialStatus.stopped),
        SweepTrial(sweep_id=1, trial_key="c", config={"height": 1.0, "width": 2.0, "act": "relu"}, error="diverged",
                   status=SweepTrialStatus.failed),
    ]  # fmt: skip
    told = evaluated(finished, "loss")
    assert [t.value for t in told] == [0.5, 9.0, None] and told[2].failed
    searcher = search.search_algorithm(
        algorithm, space, "loss", "min", seed=0, max_concurrent=2, evaluated=told
    ).searcher
    inner = getattr(searcher, "searcher", searcher)  # Ray's searcher inside tunefleet's codec wrapper
    if algorithm == "bayesian":
        assert sorted(y for _, y in inner._observations) == [0.5, 9.0] and len(inner._failed) == 1
    elif algorithm == "tpe":
        states = sorted((t.state.name, t.value) for t in inner._ot_study.trials)
        assert states == [("COMPLETE", 0.5), ("COMPLETE", 9.0), ("FAIL", None)]
        assert {t.params["height"] for t in inner._ot_study.trials} == {14.0, -7.5, 1.0}
    elif algorithm == "hyperopt":
        from hyperopt import JOB_STATE_DONE, JOB_STATE_ERROR

        assert sorted(inner._hpopt_trials.losses()) == [0.5, 9.0]
        states = sorted(t["state"] for t in inner._hpopt_trials._dynamic_trials)  # hyperopt hides failed ones
        assert states == [JOB_STATE_DONE] * 2 + [JOB_STATE_ERROR]
    else:  # BOHB learns from the results at each budget (training_iteration)
        assert sorted(inner.bohber.losses[1]) == [3.0, 9.0] and inner.bohber.losses[2] == [0.5]
    suggestion = searcher.suggest("next")
    assert set(suggestion) == {"height", "width", "act"} and -100 <= suggestion["height"] <= 100
