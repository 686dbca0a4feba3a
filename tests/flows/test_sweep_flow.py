"""The hpo-sweep flow through the CLI: the seed's examples on Dask and on local Ray, trials and their
intermediate results in the records, reports in the store; resume after a kill; bad input."""

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import prefect.main  # noqa: F401 - Prefect sets its logging up at this import: before a test sets a level
import pytest
from fastapi.testclient import TestClient

from blocks.context import artifact_store, database
from infra.services import wait_for
from tasks.publish import NO_PUBLIC_URL
from tests.support.api import app_in_process, signed_in
from tests.support.paths import EXAMPLES
from tests.support.reports import artifacts, flow_run, log_info, logged
from tests.support.sweeps import SIMPLE_SPACE, cli, fails, hpo_options, make_project, run_json, slow_trainable
from tunefleet.bo import service as experiments
from tunefleet.sweep import service as sweeps
from tunefleet.sweep.tables import SweepStatus, SweepTrialStatus


def check_records(backend, sweep_id: int, n: int, epochs: int, metric: str):
    db = database(backend)
    record = sweeps.get(db, sweep_id)
    assert record.status is SweepStatus.succeeded, record.error
    trials = sweeps.trials(db, sweep_id)
    assert len(trials) == n and len({t.trial_key for t in trials}) == n
    assert all(t.status.value == "complete" for t in trials), [t.error for t in trials]
    assert all(len(t.history) == epochs and metric in t.metrics for t in trials)  # every intermediate result
    assert [h["training_iteration"] for h in trials[0].history] == list(range(1, epochs + 1))
    store = artifact_store(backend)
    for kind in ("json", "csv", "html", "pcp"):
        assert store.exists(record.reports[kind])
    report = json.loads(store.get_bytes(record.reports["json"]))
    assert len(report["trials"]) == n and report["summary"]["best"]["trial_id"] == record.best_trial_key
    return record, trials


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_simple_objective_random_search_on_dask(backend, capsys, tmp_path, monkeypatch):
    log_info(monkeypatch)
    hpo = {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": 12, "stop": {}}
    make_project("simple", SIMPLE_SPACE, {**hpo, "seed": 3}, "simple_objective.py", "simple_objective")
    result = run_json(capsys, "local-run", "simple", "--engine", "dask", "--n-jobs", "2")
    record, trials = check_records(backend, result["sweep_id"], 12, 5, "loss")
    best = min(trials, key=lambda t: t.metrics["loss"])
    assert record.best_trial_key == best.trial_key
    assert best.metrics["loss"] == pytest.approx((best.config["height"] - 14) ** 2 - abs(best.config["width"] - 3))

    files = run_json(capsys, "report", "simple", "--to-csv", "--to-pcp", "--out", tmp_path)["files"]
    assert set(files) == {"csv", "pcp"} and Path(files["pcp"]).read_bytes()[:4] == b"\x89PNG"
    assert len(Path(files["csv"]).read_text().strip().splitlines()) == 13

    # Without TUNEFLEET_PUBLIC_URL the summary names the files in the store and the setting that shows them.
    run = flow_run(record.flow_run_id)  # named and tagged from its sweep
    [line] = logged([record.flow_run_id], f"trial {best.trial_key} complete: ")  # one line a trial
    assert f"loss={best.metrics['loss']:.4g}" in line and f"height={best.config['height']:.4g}" in line
    assert run.name == f"sweep {record.id} simple" and {"sweep", f"sweep-{record.id}"} <= set(run.tags)
    summary = artifacts("sweep-simple")[0].data
    assert f"- report.html: `{record.reports['html']}`" in summary and NO_PUBLIC_URL in summary
    with TestClient(app_in_process(backend)) as client:  # an admin opens any sweep's files, signed in
        page = signed_in(client, backend, "admin@test.com", role="admin").get(
            f"/artifacts/sweeps/{record.id}/report.html"
        )
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("sandbox;")  # trial configs are user text
    assert page.content == artifact_store(backend).get_bytes(record.reports["html"])
    shown = run_json(capsys, "sweep", "show", str(record.id))
    assert shown["counts"] == {"complete": 12} and shown["status"] == "succeeded"

    # An ask/tell experiment over a narrower space starts from the sweep's trials that fit it.
    spec = tmp_path / "exp.json"
    narrower = {"height": {"vtype": "cont", "min": -100, "max": 100}, "width": {"vtype": "cont", "min": 0, "max": 10}}
    spec.write_text(json.dumps({"name": "from the sweep", "covars": narrower, "maximize": False}))
    warm = run_json(capsys, "experiment", "new", spec, "--warm-start", "sweep:simple")["warm_start"]
    fits = [t for t in trials if t.config["width"] <= 10]
    assert 0 < len(fits) < 12
    assert (warm["source"], warm["seeded"], warm["dropped"]) == (f"sweep {record.id}", len(fits), 12 - len(fits))
    exp = experiments.get(database(backend), experiments.list(database(backend))[-1].uuid)
    assert sorted(t.response for t in experiments.trials(database(backend), exp)) == sorted(
        t.metrics["loss"] for t in fits
    )  # the sweep's metric, as the experiment's response
    with TestClient(app_in_process(backend)) as client:  # the operator's sweep is no API user's to start from
        user = signed_in(client, backend, "user@test.com")
        refused = user.post("/experiment/new", json={"name": "x", "covars": narrower, "warm_start": "sweep:simple"})
    assert refused.status_code == 404 and refused.json()["error"].startswith("there is no sweep"), refused.text


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
@pytest.mark.parametrize("algorithm", ["random", "tpe"])
def test_simple_objective_search_on_ray_resumes_an_interrupted_sweep(backend, capsys, monkeypatch, algorithm):
    """A sweep whose run died after 2 trials finished and 1 was running: the re-run on local Ray
    (started and stopped by the flow) keeps the 2, runs the rest of the budget, no trial twice;
    TPE's new searcher is told the 2 (with their intermediate results) before it suggests."""
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    hpo = {"algorithm": algorithm, "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": 6, "stop": {}}
    make_project("simple", SIMPLE_SPACE, {**hpo, "seed": 3}, "simple_objective.py", "simple_objective")
    db = database(backend)
    record = sweeps.create(db, sweeps.with_engine(sweeps.project_config(db, "simple"), "ray"))
    for key, height in (("old_00000", 14.0), ("old_00001", 10.0), ("old_00002", 0.0)):
        sweeps.trial_started(db, record.id, key, {"height": height, "width": 3.0})
        for step in range(5):
            sweeps.trial_result(
                db, record.id, key, {"loss": (height - 14) ** 2 + 4 - step, "training_iteration": step + 1}
            )
    for key in ("old_00000", "old_00001"):
        sweeps.trial_finished(
            db, record.id, key, SweepTrialStatus.complete, metrics=sweeps.trials(db, record.id)[0].metrics
        )
    sweeps.set_sweep(db, record.id, status=SweepStatus.running)  # the run that died

    result = run_json(capsys, "local-run", "--sweep-id", record.id, "--n-jobs", "2")
    assert result["sweep_id"] == record.id
    _, trials = check_records(backend, record.id, 6, 5, "loss")
    keys = [t.trial_key for t in trials]
    assert keys[:2] == ["old_00000", "old_00001"] and "old_00002" not in keys  # the interrupted one ran afresh
    assert all(t.attempts == 1 for t in trials)


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_trainable_class_with_bayesian_search_on_ray(backend, capsys, ray_cluster, caplog):
    caplog.set_level(logging.INFO, logger="prefect.task_runs")  # each trial's line, as its task logs it
    space = {
        "alpha": {"method": "uniform", "dimension": {"low": -10, "high": 10}},
        "beta": {"method": "categorical", "dimension": {"categories": [-1, 0, 1, 2, 3, 4, 5]}},
    }
    hpo = {"algorithm": "bayesian", "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": 5,
           "stop": {"training_iteration": 3}, "seed": 0, "max_concurrent": 2,
           "algorithm_param": {"initial_points": 3}}  # fmt: skip
    make_project("alphabeta", space, hpo, "simple_trainable.py", "MyTrainableClass", model_options=["--save-model"])
    result = run_json(capsys, "local-run", "alphabeta", "--engine", "ray", "--n-jobs", "2")
    record, trials = check_records(backend, result["sweep_id"], 5, 3, "loss")
    assert record.reports["model"].startswith("s3://")
    best = next(t for t in trials if t.trial_key == record.best_trial_key)
    model = json.loads(artifact_store(backend).get_bytes(record.reports["model"] + "/model.json"))
    assert model["alpha"] == pytest.approx(best.config["alpha"]) and model["timestep"] == 3
    store = artifact_store(backend)
    assert store.fs.find(f"{store.root}/sweeps/{record.id}/ray")  # Ray Tune's trial storage is in S3 too
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("trial ")]
    assert len(lines) == 5
    [line] = [text for text in lines if text.startswith(f"trial {best.trial_key} complete: ")]
    assert f"loss={best.metrics['loss']:.4g}" in line and f"alpha={best.config['alpha']:.4g}" in line


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_mlp_classifier_with_tpe_search_on_ray(backend, capsys, ray_cluster):
    space = {
        "hidden": {"method": "uniformint", "dimension": {"low": 8, "high": 64}},
        "batchsize": {"method": "categorical", "dimension": {"categories": [32, 64, 128]}},
        "lr": {"method": "loguniform", "dimension": {"low": 1e-4, "high": 1e-1}},
        "beta": {"method": "uniform", "dimension": {"low": 0.8, "high": 0.99}},
    }
    hpo = {"algorithm": "tpe", "metric": "accuracy", "mode": "max", "scheduler": "asynchyperband", "trials": 4,
           "stop": {"training_iteration": 3}, "seed": 0, "scheduler_param": {"grace_period": 1, "max_t": 3}}  # fmt: skip
    make_project("mlp", space, hpo, "mlp_classifier.py", "mlp_classifier", model_options=["--param", '{"epochs": 3}'])
    result = run_json(capsys, "local-run", "mlp", "--engine", "ray", "--n-jobs", "2")
    db = database(backend)
    record = sweeps.get(db, result["sweep_id"])
    assert record.status is SweepStatus.succeeded
    trials = sweeps.trials(db, record.id)
    assert len(trials) == 4 and all(0.0 < t.metrics["accuracy"] <= 1.0 for t in trials)
    assert all(t.status.value == ("complete" if len(t.history) == 3 else "stopped") for t in trials)  # ASHA may cut
    assert record.best_metric > 0.5
    assert all(1e-4 <= t.config["lr"] <= 1e-1 for t in trials)


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_the_class_and_mlp_examples_with_random_search_on_dask(backend, capsys):
    """The Dask engine runs random / grid search: the seed's trainable class and MLP classifier with it."""
    alphabeta = {
        "alpha": {"method": "uniform", "dimension": {"low": -10, "high": 10}},
        "beta": {"method": "categorical", "dimension": {"categories": [-1, 0, 1, 2, 3, 4, 5]}},
    }
    hpo = {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": 4,
           "stop": {"training_iteration": 3}, "seed": 0}  # fmt: skip
    # in hpogrid's own spellings (its README's examples): grid_config, --scripts_path, local_run, --n_jobs
    assert (
        cli("model_config", "create", "ab_model", "--script", "simple_trainable.py", "--model", "MyTrainableClass") == 0
    )
    assert cli("search_space", "create", "ab_space", json.dumps(alphabeta)) == 0
    assert cli("hpo_config", "create", "ab_hpo", *hpo_options(hpo)) == 0
    assert cli("grid_config", "create", "manc_standard", "--engine", "dask") == 0
    assert cli("project", "create", "alphabeta_dask", "--scripts_path", EXAMPLES / "simple_trainable.py",
               "--model_config", "ab_model", "--search_space", "ab_space", "--hpo_config", "ab_hpo",
               "--grid_config", "manc_standard") == 0  # fmt: skip
    result = run_json(capsys, "local_run", "alphabeta_dask", "--n_jobs", "2")
    check_records(backend, result["sweep_id"], 4, 3, "loss")

    mlp = {
        "hidden": {"method": "uniformint", "dimension": {"low": 8, "high": 32}},
        "batchsize": {"method": "categorical", "dimension": {"categories": [32, 64]}},
        "lr": {"method": "loguniform", "dimension": {"low": 1e-3, "high": 1e-1}},
        "beta": {"method": "uniform", "dimension": {"low": 0.8, "high": 0.99}},
    }
    hpo = {**hpo, "metric": "accuracy", "mode": "max", "stop": {}}
    make_project("mlp_dask", mlp, hpo, "mlp_classifier.py", "mlp_classifier",
                 model_options=["--param", '{"epochs": 2}'], compute=["--engine", "dask"])  # fmt: skip
    result = run_json(capsys, "local-run", "mlp_dask", "--n-jobs", "2")
    record, trials = check_records(backend, result["sweep_id"], 4, 2, "accuracy")
    assert record.best_metric == max(t.metrics["accuracy"] for t in trials) > 0.5


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_auptimizer_experiment_runs_with_multi_results(backend, capsys):
    result = run_json(capsys, "auptimizer", "run", EXAMPLES / "experiment.json", "--engine", "dask", "--n-jobs", "2")
    db = database(backend)
    trials = sweeps.trials(db, result["sweep_id"])
    assert len(trials) == 12 and all(t.status.value == "complete" for t in trials)
    assert all({"score", "x2", "y2"} <= set(t.metrics) for t in trials)
    assert sweeps.get(db, result["sweep_id"]).project == "auptimizer"


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_killed_sweep_resumes_without_losing_or_repeating_a_trial(backend, capsys, tmp_path):
    calls = slow_trainable(tmp_path)
    space = {"x": {"method": "uniform", "dimension": {"low": 0, "high": 1}}}
    hpo = {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": 16, "stop": {}}
    make_project("slow", space, hpo, "slow.py", "slow", scripts_path=tmp_path, compute=["--engine", "dask"])
    tunefleet = str(Path(sys.executable).parent / "tunefleet")
    first = subprocess.Popen(
        [tunefleet, "local-run", "slow", "--n-jobs", "2"], env=os.environ.copy(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    db = database(backend)

    def some_done() -> bool:
        found = sweeps.list(db, "slow")
        return bool(found) and sweeps.count_trials(db, found[0].id).get("complete", 0) >= 4

    wait_for(some_done, "4 trials done", timeout=120)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    [record] = sweeps.list(db, "slow")
    done_before = sweeps.finished_keys(db, record.id)
    assert 4 <= len(done_before) < 16
    calls_before = len(calls.read_text().split())

    result = run_json(capsys, "local-run", "--sweep-id", record.id, "--n-jobs", "2")
    assert result["sweep_id"] == record.id and result["status"] == "succeeded"
    trials = sweeps.trials(db, record.id)
    assert len(trials) == 16 and all(t.status.value == "complete" for t in trials)
    assert done_before <= {t.trial_key for t in trials}
    # exactly the unfinished trials ran again (any in flight at the kill once more), none of the finished
    assert len(calls.read_text().split()) - calls_before == 16 - len(done_before)
    assert sweeps.get(db, record.id).status is SweepStatus.succeeded


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_a_bayesian_sweep_of_two_objectives_under_a_constraint_finds_their_pareto_front(
    backend, capsys, tmp_path, ray_cluster
):
    (tmp_path / "two.py").write_text(
        "def two(config):\n    x, y = config['x'], config['y']\n"
        "    return {'loss': (x - 0.2) ** 2 + y, 'ms': 1 + x, 'memory': 10 * y}\n"
    )
    space = {"x": {"method": "uniform", "dimension": {"low": 0, "high": 1}},
             "y": {"method": "uniform", "dimension": {"low": 0, "high": 1}}}  # fmt: skip
    hpo = {"algorithm": "bayesian", "objectives": {"loss": "min", "ms": "min"}, "constraints": ["memory <= 8"],
           "scheduler": "fifo", "trials": 6, "stop": {}, "seed": 0, "max_concurrent": 2,
           "algorithm_param": {"initial_points": 3}}  # fmt: skip
    make_project("two", space, hpo, "two.py", "two", scripts_path=tmp_path, compute=["--engine", "ray"])
    result = run_json(capsys, "local-run", "two", "--n-jobs", "2")
    shown = run_json(capsys, "sweep", "show", str(result["sweep_id"]), "--trials")
    assert shown["counts"] == {"complete": 6} and (shown["metric"], shown["mode"]) == ("loss", "min")
    told = {t["trial_id"]: t["metrics"] for t in shown["trials"]}
    feasible = {key: m for key, m in told.items() if m["memory"] <= 8}
    front = shown["pareto"]
    assert front and set(front) <= set(feasible) and shown["best_trial"] in front
    for key in front:  # no feasible trial is at least as good in both objectives and better in one
        m = told[key]
        assert not any(o != m and o["loss"] <= m["loss"] and o["ms"] <= m["ms"] for o in feasible.values())
    assert shown["best_metric"] == min(told[key]["loss"] for key in front)
    assert artifact_store(backend).get_bytes(shown["reports"]["pareto"])[:4] == b"\x89PNG"
    assert [row["trial_id"] for row in json.loads(artifacts("sweep-two-pareto-front")[0].data)] == front
    assert f"**Pareto front** (minimize `loss`, minimize `ms` subject to `memory <= 8`): {len(front)} trials" in (
        artifacts("sweep-two")[0].data
    )


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
@pytest.mark.parametrize("engine", ["dask", "ray"])
def test_a_trainable_that_never_reports_the_metric_fails_its_trials(backend, capsys, tmp_path, engine, request):
    if engine == "ray":
        request.getfixturevalue("ray_cluster")
    (tmp_path / "quiet.py").write_text("def quiet(config):\n    return {'accuracy': config['x']}\n")
    space = {"x": {"method": "uniform", "dimension": {"low": 0, "high": 1}}}
    hpo = {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": 3, "stop": {},
           "job_retries": 1}  # fmt: skip
    make_project("quiet", space, hpo, "quiet.py", "quiet", scripts_path=tmp_path, compute=["--engine", engine])
    result = run_json(capsys, "local-run", "quiet", "--n-jobs", "1")
    trials = sweeps.trials(database(backend), result["sweep_id"])
    assert len(trials) == 3 and all(t.status.value == "failed" for t in trials)
    assert all("loss" in t.error and "accuracy" in t.error for t in trials), trials[0].error
    assert all(t.attempts == 2 for t in trials)  # job_retries: 1


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
@pytest.mark.parametrize("engine", ["dask", "ray"])
def test_without_ignore_fail_a_failed_trial_fails_the_sweep(backend, capsys, tmp_path, engine, request):
    if engine == "ray":
        request.getfixturevalue("ray_cluster")
    (tmp_path / "flaky.py").write_text(
        "def flaky(config):\n    if config['x'] > 0.5:\n        raise RuntimeError('diverged')\n    return config['x']\n"
    )
    space = {"x": {"method": "uniform", "dimension": {"low": 0, "high": 1}}}
    hpo = {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": 8, "stop": {},
           "seed": 0, "no_ignore_fail": True}  # fmt: skip
    make_project("flaky", space, hpo, "flaky.py", "flaky", scripts_path=tmp_path, compute=["--engine", engine])
    capsys.readouterr()
    assert cli("local-run", "flaky", "--n-jobs", "1") == 1
    assert "error: sweep" in capsys.readouterr().err
    db = database(backend)
    [record] = sweeps.list(db, "flaky")
    assert record.status is SweepStatus.failed and "ignore_fail" in record.error
    failed = sweeps.trials(db, record.id, [SweepTrialStatus.failed])
    assert len(failed) == 1 and "diverged" in failed[0].error  # the sweep stopped at its first failure
    assert record.reports["json"]  # the trials that ran are reported all the same


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_trials_a_scheduler_cuts_short_are_recorded_stopped(backend, capsys, ray_cluster):
    hpo = {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "asynchyperband", "trials": 8,
           "stop": {}, "seed": 1, "max_concurrent": 1,
           "scheduler_param": {"grace_period": 1, "reduction_factor": 2, "max_t": 6}}  # fmt: skip
    make_project("asha", SIMPLE_SPACE, hpo, "simple_objective.py", "simple_objective",
                 model_options=["--param", '{"steps": 6}'])  # fmt: skip
    result = run_json(capsys, "local-run", "asha", "--engine", "ray", "--n-jobs", "1")
    trials = sweeps.trials(database(backend), result["sweep_id"])
    by_status = {s: [t for t in trials if t.status.value == s] for s in ("complete", "stopped")}
    assert len(trials) == 8 and by_status["complete"] and by_status["stopped"], [t.status for t in trials]
    assert all(len(t.history) == 6 for t in by_status["complete"])  # ran to max_t: their whole budget
    assert all(len(t.history) < 6 and t.metrics["loss"] == t.history[-1]["loss"] for t in by_status["stopped"])
    shown = run_json(capsys, "sweep", "show", str(result["sweep_id"]))
    assert shown["counts"] == {"complete": len(by_status["complete"]), "stopped": len(by_status["stopped"])}


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_named_configs_create_update_show_list_remove(backend, capsys):
    hpo = {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo"}
    make_project("crud", SIMPLE_SPACE, hpo, "simple_objective.py", "simple_objective")
    assert run_json(capsys, "hpo_config", "show", "crud_hpo")["num_trials"] == 100  # hpogrid's default
    assert run_json(capsys, "hpo_config", "update", "crud_hpo", "--trials", "5")["config"]["num_trials"] == 5
    assert run_json(capsys, "hpo_config", "show", "crud_hpo")["metric"] == "loss"  # the rest kept
    assert cli("hpo_config", "create", "crud_hpo") == 1  # exists
    assert "use recreate" in capsys.readouterr().err
    assert run_json(capsys, "hpo_config", "recreate", "crud_hpo", "--metric", "acc")["config"]["mode"] == "max"
    assert cli("hpo_config", "remove", "crud_hpo") == 1  # the project uses it
    assert "used by project(s) crud" in capsys.readouterr().err
    assert cli("project", "remove", "crud") == 0 and cli("hpo_config", "remove", "crud_hpo") == 0
    capsys.readouterr()
    assert cli("hpo_config", "list") == 0 and capsys.readouterr().out == ""
    assert cli("project", "create", "p2", "--search-space", "crud_space", "--hpo-config", "gone",
               "--model-config", "crud_model") == 1  # fmt: skip
    assert "no hpo_config named 'gone'" in capsys.readouterr().err


BAD_INPUT = [
    (["hpo_config", "create", "h", "--algorithm", "simulated_annealing"], "simulated_annealing"),
    (["search_space", "create", "s", '{"x": {"method": "uniform", "dimension": {"low": 5, "high": 1}}}'], "x"),
    (["search_space", "create", "s", '{"x": {"method": "uniform"}}'], "dimension"),
    (["search_space", "create", "s", '{"c": {"method": "categorical", "dimension": {}}}'], "categories"),
    (["auptimizer", "run", "/nonexistent/experiment.json"], "not found"),
    (
        ["grid_config", "create", "manc_standard", "--site", "ANALY_MANC_GPU_TEST"],
        "--site: tunefleet runs on a work pool",
    ),
]


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
@pytest.mark.parametrize("args, named", BAD_INPUT, ids=["unknown-algorithm", "low-above-high", "no-dimension",
                                                        "no-categories", "no-experiment-file", "hpogrid-site"])  # fmt: skip
def test_bad_configs_are_refused(backend, capsys, args, named):
    assert cli(*args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and named in err
    if args[0] != "auptimizer":
        assert sweeps.list_configs(database(backend), args[0].replace("grid_config", "compute_config")) == {}
    assert sweeps.list(database(backend)) == []


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
@pytest.mark.parametrize("script, model, named", [("nope.py", "simple_objective", "nope.py"),
                                                  ("simple_objective.py", "nope", "nope")])  # fmt: skip
def test_missing_script_or_function_is_refused_at_project_create_and_before_any_trial(
    backend, capsys, script, model, named
):
    hpo = {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": 2}
    make_project("broken", SIMPLE_SPACE, hpo, "simple_objective.py", "simple_objective", compute=["--engine", "dask"])
    assert cli("model_config", "update", "broken_model", "--script", script, "--model", model) == 0  # broken since
    parts = ["--search-space", "broken_space", "--hpo-config", "broken_hpo", "--model-config", "broken_model"]
    assert named in fails(capsys, "project", "create", "again", *parts, "--scripts-path", EXAMPLES)
    assert list(sweeps.list_configs(database(backend), "project")) == ["broken"]  # nothing stored
    err = fails(capsys, "local-run", "broken")  # checked again where it runs: scripts change
    assert err.startswith("error: ") and named in err
    from flows.sweep import hpo_sweep
    from tunefleet.sweep.trainables import TrainableError

    with pytest.raises(TrainableError, match=named):  # the flow itself checks too, without retrying
        hpo_sweep(project="broken")
    assert sweeps.list(database(backend)) == []
