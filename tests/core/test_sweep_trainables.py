"""Trainables from user scripts: the seed's examples, the result protocol, stopping, models,
checkpoints, every error path, and one real Ray Tune run through as_tune_trainable."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.paths import EXAMPLES
from tunefleet.sweep.trainables import (
    InvalidResult,
    MetricNotReported,
    ModelNotFound,
    ScriptNotFound,
    TrainableError,
    TrialError,
    as_tune_trainable,
    load_trainable,
    normalise_result,
    run_trial,
    stop_condition,
)


def _load(script: str, model: str, metric: str = "loss", scripts_path=EXAMPLES, **model_config):
    return load_trainable({"script": script, "model": model, **model_config}, scripts_path, metric=metric)


def _script(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# -- the seed's examples ------------------------------------------------------------------------------
def test_simple_objective_reports_loss_every_step():
    # hpogrid's projects give scripts_path as the script itself
    trainable = _load("simple_objective.py", "simple_objective", scripts_path=EXAMPLES / "simple_objective.py")
    assert trainable.kind == "function" and trainable.name == "simple_objective"
    reported = []
    outcome = run_trial(trainable, {"height": 10.0, "width": 7.0}, reported.append)
    assert [r["training_iteration"] for r in reported] == [1, 2, 3, 4, 5]
    assert [r["loss"] for r in reported] == [16.0 - 4.0 + k for k in (4, 3, 2, 1, 0)]
    assert outcome.metrics == reported[-1] and outcome.history == reported
    assert outcome.metrics["loss"] == (10.0 - 14) ** 2 - abs(7.0 - 3)  # the seed's objective at the last step
    assert outcome.iterations == 5 and not outcome.stopped and outcome.model_dir is None
    assert all(r["time_total_s"] >= 0 for r in reported)


def test_the_alpha_beta_class_steps_until_a_stop_criterion():
    trainable = _load("simple_trainable.py", "MyTrainableClass")
    assert trainable.kind == "class" and trainable.can_checkpoint and trainable.can_save_model
    outcome = run_trial(trainable, {"alpha": -4.0, "beta": 2}, max_epochs=4)
    losses = [r["loss"] for r in outcome.history]
    assert losses == [(0.1 + 4.0 * t / 100) ** -1 + 0.2 for t in (1, 2, 3, 4)]
    assert losses == sorted(losses, reverse=True) and outcome.stopped
    # hpogrid's default stop: one training iteration
    one = run_trial(trainable, {"alpha": 1.0, "beta": 0}, should_stop=stop_condition({"training_iteration": 1}))
    assert one.iterations == 1


def test_the_mlp_classifier_reports_accuracy_every_epoch_and_saves_its_model(tmp_path):
    trainable = _load("mlp_classifier.py", "mlp_classifier", metric="accuracy", save_model=True)
    config = {"hidden": 64, "batchsize": 64, "lr": 5e-3, "beta": 0.9}
    run_trial(trainable, config, max_epochs=1)  # data and imports warm
    started = time.monotonic()
    outcome = run_trial(trainable, config, model_dir=tmp_path / "model")
    assert time.monotonic() - started < 1.0
    accuracies = [r["accuracy"] for r in outcome.history]
    assert len(accuracies) == 5 and 0.8 < accuracies[-1] <= 1.0 and accuracies[-1] > accuracies[0]
    assert all(r["loss"] > 0 for r in outcome.history)
    with open(Path(outcome.model_dir) / "model.pkl", "rb") as f:
        model = pickle.load(f)
    assert model.hidden_layer_sizes == (64,) and model.batch_size == 64 and model.beta_1 == 0.9
    # stopped early by the sweep, the model is still written (the script saves in a finally block)
    early = run_trial(trainable, {**config, "beta": 1.0}, max_epochs=2, model_dir=tmp_path / "early")
    assert early.iterations == 2 and early.stopped and (tmp_path / "early" / "model.pkl").is_file()


def test_an_auptimizer_script_returns_main_and_extra_results():
    trainable = _load("auptimizer_quadratic.py", "main", metric="score", multi_res_labels=["x2", "y2"])
    outcome = run_trial(trainable, {"x": 3.0, "y": -1.0, "unused": 1})  # keywords: only those main takes
    assert outcome.metrics["score"] == 4.0 + 1.0 and outcome.metrics["x2"] == 9.0 and outcome.metrics["y2"] == 1.0
    assert outcome.iterations == 1


# -- the result protocol -------------------------------------------------------------------------------
def test_results_may_be_dicts_numbers_or_lists():
    import numpy as np

    assert normalise_result({"loss": np.float32(0.5), "n": np.int64(3)}, "loss") == {"loss": 0.5, "n": 3}
    assert normalise_result(2, "score") == {"score": 2}
    assert normalise_result(np.float64(2.5), "score") == {"score": 2.5}
    assert normalise_result((1.0, 10, 20), "score", ["flops", "params"]) == {"score": 1.0, "flops": 10, "params": 20}
    assert normalise_result([0.3], "score") == {"score": 0.3}


def test_function_styles(tmp_path):
    _script(
        tmp_path,
        """
        def returns(config):
            return {"loss": config["x"] * config["scale"]}

        def keywords(x, scale=1.0, **rest):
            return x * scale + len(rest)

        def generator_with_return(config):
            yield {"loss": 3.0}
            yield {"loss": 2.0}
            return {"loss": 1.0, "final": True}

        def done_early(config):
            for i in range(10):
                yield {"loss": float(i), "done": i == 2}

        def config_named(config, model_dir=None):
            return {"loss": 1.0}
        """,
    )
    param = {"scale": 2.0}
    returns = load_trainable({"script": "train.py", "model": "returns", "param": param}, tmp_path, metric="loss")
    assert run_trial(returns, {"x": 3.0}).metrics["loss"] == 6.0  # param merged under the config
    assert run_trial(returns, {"x": 3.0, "scale": 1.0}).metrics["loss"] == 3.0  # the trial's config wins
    keywords = load_trainable({"script": "train.py", "model": "keywords"}, tmp_path, metric="loss")
    assert run_trial(keywords, {"x": 3.0, "scale": 2.0, "other": 0}).metrics["loss"] == 7.0
    generator = load_trainable({"script": "train.py", "model": "generator_with_return"}, tmp_path, metric="loss")
    outcome = run_trial(generator, {})
    assert [r["loss"] for r in outcome.history] == [3.0, 2.0, 1.0] and outcome.metrics["final"] is True
    done = load_trainable({"script": "train.py", "model": "done_early"}, tmp_path, metric="loss")
    outcome = run_trial(done, {})
    assert outcome.iterations == 3 and "done" not in outcome.metrics and not outcome.stopped
    assert load_trainable({"script": "train", "model": "config_named"}, tmp_path, metric="loss").can_save_model


def test_stopping_closes_the_generator_so_its_finally_runs(tmp_path):
    marker = tmp_path / "closed"
    _script(
        tmp_path,
        f"""
        def train(config):
            try:
                for epoch in range(100):
                    yield {{"loss": 1.0 / (epoch + 1), "epoch": epoch}}
            finally:
                open({str(marker)!r}, "w").close()
        """,
    )
    trainable = load_trainable({"script": "train.py", "model": "train"}, tmp_path, metric="loss")
    outcome = run_trial(trainable, {}, should_stop=stop_condition({"epoch": 3, "loss": 10}))
    assert outcome.iterations == 4 and outcome.stopped and marker.is_file()
    assert stop_condition({}) is None and stop_condition(None) is None
    with pytest.raises(ValueError, match="max_epochs must be a positive integer or None, got 0"):
        run_trial(trainable, {}, max_epochs=0)
    with pytest.raises(TypeError, match="config must be a dict of hyperparameters, got list"):
        run_trial(trainable, [1])


def test_errors_raised_by_report_pass_through_unchanged():
    trainable = _load("simple_objective.py", "simple_objective")

    class Full(Exception):
        pass

    def report(metrics):
        raise Full("the queue is full")

    with pytest.raises(Full, match="the queue is full"):
        run_trial(trainable, {"height": 1.0, "width": 1.0}, report)


# -- models and checkpoints -----------------------------------------------------------------------------
def test_class_model_and_auptimizer_save_model(tmp_path):
    trainable = _load("simple_trainable.py", "MyTrainableClass", save_model=True)
    outcome = run_trial(trainable, {"alpha": 2.0, "beta": 1}, max_epochs=2, model_dir=tmp_path / "class")
    assert outcome.model_dir == str(tmp_path / "class")
    assert (tmp_path / "class" / "model.json").read_text() == '{"alpha": 2.0, "beta": 1.0, "timestep": 2}'
    _script(
        tmp_path,
        """
        import os

        def main(x, save_model=False, folder_name=None):
            if save_model:
                with open(os.path.join(folder_name, "model.txt"), "w") as f:
                    f.write(str(x))
            return x * x

        def forgets(config, model_dir=None):
            return 1.0
        """,
    )
    main = load_trainable({"script": "train.py", "model": "main", "save_model": True}, tmp_path, metric="score")
    outcome = run_trial(main, {"x": 3}, model_dir=tmp_path / "aup")
    assert outcome.metrics["score"] == 9 and (tmp_path / "aup" / "model.txt").read_text() == "3"
    assert run_trial(main, {"x": 3}).model_dir is None  # no folder asked for: save_model stays False
    forgets = load_trainable({"script": "train.py", "model": "forgets"}, tmp_path, metric="score")
    assert run_trial(forgets, {}, model_dir=tmp_path / "empty").model_dir is None  # nothing written


def test_class_checkpoints_and_resumes(tmp_path):
    trainable = _load("simple_trainable.py", "MyTrainableClass")
    saved = []

    def report(metrics, checkpoint_dir=None):
        if checkpoint_dir is not None:
            copy = tmp_path / f"checkpoint_{metrics['training_iteration']}"
            copy.mkdir()
            for item in Path(checkpoint_dir).iterdir():
                copy.joinpath(item.name).write_bytes(item.read_bytes())
            saved.append(copy)

    run_trial(trainable, {"alpha": 5.0, "beta": 0}, report, max_epochs=5, checkpoint_every=2)
    assert [p.name for p in saved] == ["checkpoint_2", "checkpoint_4", "checkpoint_5"]  # every 2, and the last
    resumed = run_trial(trainable, {"alpha": 5.0, "beta": 0}, max_epochs=2, restore_dir=saved[1])
    assert [r["training_iteration"] for r in resumed.history] == [5, 6]
    assert [r["timestep"] for r in resumed.history] == [5, 6]  # the class's own state came back


def test_a_ray_tune_trainable_subclass_runs_in_process(tmp_path):
    _script(
        tmp_path,
        """
        from ray import tune

        class Quadratic(tune.Trainable):
            def setup(self, config):
                self.x, self.t = config["x"], 0

            def step(self):
                self.t += 1
                return {"loss": (self.x - 2) ** 2 + 1.0 / self.t}
        """,
    )
    trainable = load_trainable({"script": "train.py", "model": "Quadratic"}, tmp_path, metric="loss")
    assert trainable.kind == "class" and not trainable.can_checkpoint  # Ray's own stubs do not count
    outcome = run_trial(trainable, {"x": 3.0}, max_epochs=3)
    assert [r["loss"] for r in outcome.history] == [2.0, 1.5, 1.0 + 1 / 3]


# -- errors before any trial starts ------------------------------------------------------------------------
def test_script_not_found_names_the_paths(tmp_path):
    with pytest.raises(
        ScriptNotFound,
        match=f"training script 'missing' not found: no file {tmp_path}/missing or {tmp_path}/missing.py",
    ):
        load_trainable({"script": "missing", "model": "f"}, tmp_path, metric="loss")
    with pytest.raises(ScriptNotFound, match=f"scripts_path {tmp_path}/nowhere does not exist"):
        load_trainable({"script": "train.py", "model": "f"}, tmp_path / "nowhere", metric="loss")


def test_model_not_found_names_the_model_and_the_script(tmp_path):
    path = _script(
        tmp_path,
        "import os\nVALUE = 3\n\ndef train(config):\n    return 1.0\n\nclass Model:\n    def step(self):\n        return 1.0\n",
    )
    with pytest.raises(
        ModelNotFound, match=f"'trian' is not defined in training script {path} \\(it defines Model, train\\)"
    ):
        load_trainable({"script": "train.py", "model": "trian"}, tmp_path, metric="loss")
    with pytest.raises(TrainableError, match=f"VALUE in {path} is a int, not a function or class"):
        load_trainable({"script": "train.py", "model": "VALUE"}, tmp_path, metric="loss")


def test_unusable_scripts_and_models(tmp_path):
    _script(tmp_path, "class NoStep:\n    def setup(self, config):\n        pass\n", "nostep.py")
    with pytest.raises(TrainableError, match="class NoStep in .*nostep.py has no step\\(\\) method"):
        load_trainable({"script": "nostep.py", "model": "NoStep"}, tmp_path, metric="loss")
    _script(tmp_path, "def train(config)\n    return 1\n", "syntax.py")
    with pytest.raises(TrainableError, match="training script .*syntax.py: syntax error at line 1"):
        load_trainable({"script": "syntax.py", "model": "train"}, tmp_path, metric="loss")
    _script(tmp_path, "import not_a_module_anywhere\n", "imports.py")
    with pytest.raises(
        TrainableError,
        match="imports.py raised while loading: ModuleNotFoundError: No module named 'not_a_module_anywhere'",
    ):
        load_trainable({"script": "imports.py", "model": "train"}, tmp_path, metric="loss")
    _script(tmp_path, "def train(config):\n    return 1.0\n", "plain.py")
    with pytest.raises(
        TrainableError,
        match="model_config.save_model is true but function train in .*plain.py has no a model_dir parameter|model_config.save_model is true but function train",
    ):
        load_trainable({"script": "plain.py", "model": "train", "save_model": True}, tmp_path, metric="loss")
    with pytest.raises(TrainableError, match="multi_res_labels names the metric loss itself"):
        load_trainable({"script": "plain.py", "model": "train"}, tmp_path, metric="loss", multi_res_labels=["loss"])
    with pytest.raises(ValueError, match="model_config.model: must be the name of a function or class"):
        load_trainable({"script": "plain.py", "model": "not valid"}, tmp_path, metric="loss")


def test_a_keyword_trainable_needs_every_parameter_from_the_space_or_param(tmp_path):
    _script(tmp_path, "def main(x, y, z=0):\n    return x + y + z\n")
    trainable = load_trainable({"script": "train.py", "model": "main", "param": {"y": 1}}, tmp_path, metric="score")
    trainable.check_names(["x"])
    with pytest.raises(
        TrainableError, match="main in .*train.py needs x, which neither the search space nor model_config.param gives"
    ):
        trainable.check_names(["w"])
    with pytest.raises(TrialError, match=r"main needs x, missing from the trial's config \(it has w, y\)"):
        run_trial(trainable, {"w": 1})


# -- failed trials --------------------------------------------------------------------------------------
def test_a_trainable_that_never_reports_the_metric(tmp_path):
    _script(
        tmp_path,
        """
        def wrong_name(config):
            for epoch in range(3):
                yield {"val_loss": 1.0, "accuracy": 0.5}

        def nothing(config):
            pass

        def empty(config):
            yield from ()
        """,
    )
    wrong = load_trainable({"script": "train.py", "model": "wrong_name"}, tmp_path, metric="loss")
    reported = []
    with pytest.raises(
        MetricNotReported, match="did not report the metric 'loss'; it reported 'val_loss', 'accuracy'"
    ) as caught:
        run_trial(wrong, {}, reported.append)
    assert "function wrong_name (result 1)" in str(caught.value) and reported == []
    for name in ("nothing", "empty"):
        trainable = load_trainable({"script": "train.py", "model": name}, tmp_path, metric="loss")
        with pytest.raises(
            MetricNotReported, match=f"function {name} reported nothing; it must report the metric 'loss'"
        ):
            run_trial(trainable, {})


def test_a_trainable_that_raises_fails_with_its_traceback(tmp_path):
    path = _script(
        tmp_path,
        """
        def train(config):
            yield {"loss": 1.0}
            raise RuntimeError("diverged at lr=%s" % config["lr"])

        class Broken:
            def setup(self, config):
                raise KeyError("alpha")

            def step(self):
                return 1.0

        class Steps:
            def step(self):
                return {"loss": 1 / 0}
        """,
    )
    trainable = load_trainable({"script": "train.py", "model": "train"}, tmp_path, metric="loss")
    reported = []
    with pytest.raises(TrialError) as caught:
        run_trial(trainable, {"lr": 0.5}, reported.append)
    error = caught.value
    assert str(error).startswith("function train raised in epoch 2: RuntimeError: diverged at lr=0.5\nTraceback")
    assert f'File "{path}", line 4, in train' in error.traceback and error.traceback in str(error)
    assert len(reported) == 1  # the epoch before it failed was reported
    again = pickle.loads(pickle.dumps(error))  # crosses process boundaries (Ray, Dask) whole
    assert type(again) is TrialError and str(again) == str(error) and again.traceback == error.traceback
    broken = load_trainable({"script": "train.py", "model": "Broken"}, tmp_path, metric="loss")
    with pytest.raises(TrialError, match="class Broken raised in setup\\(\\): KeyError: 'alpha'"):
        run_trial(broken, {}, max_epochs=1)
    steps = load_trainable({"script": "train.py", "model": "Steps"}, tmp_path, metric="loss")
    with pytest.raises(TrialError, match="class Steps raised in step\\(\\) 1: ZeroDivisionError") as caught:
        run_trial(steps, {}, max_epochs=1)
    assert 'return {"loss": 1 / 0}' in caught.value.traceback


@pytest.mark.parametrize(
    "body, labels, error, message",
    [
        (
            'return "0.5"',
            [],
            InvalidResult,
            r"gave a str \('0.5'\); a result is a dict of metrics, a number, or \[main, extra, ...\]",
        ),
        (
            "return [1.0, 2.0]",
            [],
            InvalidResult,
            r"returned 2 value\(s\); multi_res_labels \[\] make a result one value \(loss\)",
        ),
        (
            "return [1.0]",
            ["flops"],
            InvalidResult,
            r"returned 1 value\(s\); multi_res_labels \['flops'\] make a result \[loss, flops\]",
        ),
        ('return {"loss": "low"}', [], InvalidResult, "reported loss = 'low'; the metric must be a number"),
        ('return {"loss": True}', [], InvalidResult, "reported loss = True; the metric must be a number"),
        ('return {1: 0.5, "loss": 1.0}', [], InvalidResult, r"reported metric names that are not strings: \[1\]"),
    ],
)
def test_malformed_results_fail_the_trial(tmp_path, body, labels, error, message):
    _script(tmp_path, f"def train(config):\n    {body}\n")
    trainable = load_trainable(
        {"script": "train.py", "model": "train"}, tmp_path, metric="loss", multi_res_labels=labels
    )
    with pytest.raises(error, match=message):
        run_trial(trainable, {})


# -- travelling to other processes ----------------------------------------------------------------------
def test_a_trainable_travels_as_its_script_text(tmp_path):
    path = _script(tmp_path, "import helper\n\ndef train(config):\n    return helper.square(config['x'])\n")
    _script(tmp_path, "def square(x):\n    return x * x\n", "helper.py")  # a module next to the script
    trainable = load_trainable({"script": "train.py", "model": "train"}, tmp_path, metric="loss")
    assert run_trial(trainable, {"x": 3}).metrics["loss"] == 9
    payload = pickle.dumps(trainable)
    path.unlink()  # the other side does not need the script file
    program = (
        "import pickle, sys\n"
        "from tunefleet.sweep.trainables import run_trial\n"
        "trainable = pickle.loads(sys.stdin.buffer.read())\n"
        "print(run_trial(trainable, {'x': 4}).metrics['loss'])\n"
    )
    done = subprocess.run([sys.executable, "-c", program], input=payload, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == "16"


# -- a real Ray Tune run ------------------------------------------------------------------------------------


def test_as_tune_trainable_reports_and_checkpoints_through_ray_tune(ray_cluster, tmp_path):
    from ray import tune

    alpha_beta = _load("simple_trainable.py", "MyTrainableClass")
    tuner = tune.Tuner(
        as_tune_trainable(alpha_beta, max_epochs=3, checkpoint_every=2),
        param_space={"alpha": tune.grid_search([1.0, 5.0, "steep"]), "beta": 0},
        tune_config=tune.TuneConfig(reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name="alpha_beta", verbose=0),
    )
    results = tuner.fit()
    best = results.get_best_result(metric="loss", mode="min")
    assert best.config["alpha"] == 5.0 and best.metrics["training_iteration"] == 3
    assert [round(m["loss"], 9) for m in best.metrics_dataframe.to_dict("records")] == [
        round((0.1 + 5.0 * t / 100) ** -1, 9) for t in (1, 2, 3)
    ]
    finished = [r for r in results if r.error is None]
    assert len(finished) == 2 and all(r.checkpoint is not None for r in finished)  # tune.report(checkpoint=...)
    # the failed trial keeps the trainable's reason and traceback
    assert len(results.errors) == 1
    reason = str(results.errors[0])
    assert "class MyTrainableClass raised in setup(): ValueError: could not convert string to float: 'steep'" in reason
    assert "simple_trainable.py" in reason
