"""The bo-tuning flow: real flow runs on thread, Dask and Ray runners; resume after a kill."""

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from blocks.context import artifact_store, database
from flows.bo import bo_tuning
from infra.services import wait_for
from tests.support.api import app_in_process
from tests.support.reports import PUBLIC_URL, artifacts, inline_images, local, runs_tagged, task_run_names
from tests.support.sweeps import run_json
from tunefleet.bo import service as experiments
from tunefleet.bo.tables import TrialStatus
from tunefleet.settings import get_settings

MIXED = {
    "n": {"vtype": "int", "guess": 2, "min": 0, "max": 10},
    "kind": {"vtype": "cat", "guess": "a", "options": ["a", "b", "c"]},
    "x": {"vtype": "cont", "guess": 0.9, "min": 0.0, "max": 1.0},
}


def test_tunes_a_mixed_function_and_reports(backend, monkeypatch, caplog):
    monkeypatch.setenv("TUNEFLEET_PUBLIC_URL", PUBLIC_URL)
    caplog.set_level(logging.INFO, logger="prefect.flow_runs")
    report = bo_tuning(
        name="Mixed demo",
        covars=MIXED,
        objective="tunefleet.objectives:mixed",
        iterations=6,
        batch_size=2,
        initial_points=4,
        seed=1,
    )
    assert report["n_told"] == 12 and report["failed"] == 0
    assert report["best_response"] > 8.5  # the optimum is 10.0; the guess scores 6.34
    assert artifact_store(backend).exists(report["plot_uri"])
    exp = experiments.get(database(backend), report["exp_uuid"])
    assert len(experiments.trials(database(backend), exp)) == 12

    # In the Prefect UI: a summary under the experiment's stable key, its plot inline and as an image artifact.
    summary = artifacts("bo-mixed-demo")[0].data
    assert f"Best response **{report['best_response']:.6g}**" in summary
    [plot] = inline_images(summary)
    assert artifacts("bo-mixed-demo-best-so-far")[0].data == plot
    assert len(artifacts("bo-mixed-demo-trials")) >= 1
    assert runs_tagged(f"bo-{exp.uuid}") == ["bo Mixed demo"]
    named = task_run_names(f"bo-{exp.uuid}")  # its tasks, by round, as the UI lists them
    assert {f"round {n}: {step}" for n in range(1, 7) for step in ("propose", "record")} <= set(named)
    assert sum(name.startswith("round 6: n=") for name in named) == 2  # a round's two points, by their values
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("a thread pool of") and " started in " in line for line in lines)  # stage timing
    assert "12/12 evaluations: this round 2 ok, 0 failed; best of this run" in "\n".join(lines)
    with TestClient(app_in_process(get_settings())) as anyone:
        image = anyone.get(local(plot))
    assert image.status_code == 200 and image.content == artifact_store(backend).get_bytes(report["plot_uri"])


@pytest.mark.parametrize("engine", ["dask", "ray"])
@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_random_forest_on_a_cluster_runner(backend, engine, monkeypatch):
    """The seed's example: a random forest's n_estimators / min_samples_split, evaluated on Dask or Ray."""
    from sklearn.datasets import load_diabetes

    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    data = load_diabetes(as_frame=True).frame.to_csv(index=False).encode()
    data_uri = artifact_store(backend).put_bytes("datasets/diabetes.csv", data)
    report = bo_tuning(
        covars={
            "n_estimators": {"vtype": "int", "guess": 20, "min": 5, "max": 60},
            "min_samples_split": {"vtype": "cont", "guess": 0.3, "min": 0.01, "max": 0.9},
        },
        objective="sklearn:sklearn.ensemble.RandomForestRegressor",
        objective_args={
            "data_uri": data_uri,
            "target": "target",
            "scoring": "r2",
            "cv": 3,
            "fixed": {"random_state": 0},
        },
        iterations=2,
        batch_size=2,
        initial_points=2,
        engine=engine,
    )
    assert report["n_told"] == 4 and report["failed"] == 0
    assert 0.0 < report["best_response"] < 1.0  # a cross-validated R²


def tune_script(backend, tmp_path, source: str, **settings) -> tuple[dict, list]:
    """bo-tuning of the function ``objective`` defined by ``source`` over x in [0, 1]: its report and failed trials."""
    script = tmp_path / "objective.py"
    script.write_text(source)
    report = bo_tuning(
        covars={"x": {"vtype": "cont", "guess": 0.9, "min": 0.0, "max": 1.0}},
        objective=f"{script}:objective",
        **settings,
    )
    exp = experiments.get(database(backend), report["exp_uuid"])
    return report, experiments.trials(database(backend), exp, TrialStatus.failed)


def test_failing_evaluations_are_recorded_not_fatal(backend, tmp_path):
    source = "def objective(x):\n    if x > 0.5:\n        raise RuntimeError('diverged')\n    return x\n"
    report, failed = tune_script(backend, tmp_path, source, iterations=4, initial_points=4)
    assert report["failed"] >= 1 and report["n_told"] + report["failed"] == 4
    assert all("diverged" in t.error for t in failed)


def test_missing_objective_fails_before_any_trial(backend):
    with pytest.raises(Exception, match="has no function 'nope'"):
        bo_tuning(covars=MIXED, objective="tunefleet.objectives:nope", iterations=1)
    assert experiments.list(database(backend)) == []


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_killed_run_resumes_without_losing_or_repeating_a_point(backend, tmp_path):
    script = tmp_path / "slow.py"
    calls = tmp_path / "calls.log"
    script.write_text(
        "import time\n"
        f"def slow(x):\n    open({str(calls)!r}, 'a').write(f'{{x!r}}\\n')\n    time.sleep(0.4)\n    return -(x - 0.3) ** 2\n"
    )
    space = tmp_path / "space.json"
    space.write_text('{"covars": {"x": {"vtype": "cont", "guess": 0.9, "min": 0.0, "max": 1.0}}, "name": "resume"}')
    tunefleet = str(Path(sys.executable).parent / "tunefleet")
    args = [
        tunefleet,
        "bo",
        "run",
        str(space),
        "--objective",
        f"{script}:slow",
        "--iterations",
        "5",
        "--batch",
        "2",
        "--initial-points",
        "2",
        "--minimize",
    ]
    first = subprocess.Popen(
        args, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    db = database(backend)

    def some_done_and_some_in_flight() -> bool:
        [exp] = experiments.list(db)
        counts = experiments.count_trials(db, exp)
        return counts.get("complete", 0) >= 2 and counts.get("pending", 0) >= 1

    wait_for(some_done_and_some_in_flight, "a round in flight", timeout=120)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    [exp] = experiments.list(db)
    in_flight = {t.id for t in experiments.trials(db, exp, TrialStatus.pending)}
    done_before = len(experiments.trials(db, exp))
    calls_before = len(calls.read_text().split())

    second = subprocess.run(
        [*args, "--experiment", exp.uuid], env=os.environ.copy(), capture_output=True, text=True, timeout=300
    )
    assert second.returncode == 0, second.stderr
    trials = experiments.trials(db, exp, status=None)
    assert len(trials) == 10 and all(t.status is TrialStatus.complete for t in trials)
    assert in_flight <= {t.id for t in trials}  # the points in flight were finished, not replaced
    # the restart evaluated exactly what was missing: the interrupted points and the rest of the budget, once each
    assert len(calls.read_text().split()) - calls_before == 10 - done_before


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_runner_from_a_saved_compute_cluster_block(backend):
    from blocks.compute import ComputeCluster

    ComputeCluster(engine="thread", hardware_tag="cpu").save("test-threads", overwrite=True)
    report = bo_tuning(
        covars=MIXED, objective="tunefleet.objectives:mixed", iterations=2, batch_size=2, compute_block="test-threads"
    )
    assert report["n_told"] == 4 and report["failed"] == 0


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_two_objectives_with_a_constraint_report_their_pareto_front(backend, monkeypatch, caplog):
    monkeypatch.setenv("TUNEFLEET_PUBLIC_URL", PUBLIC_URL)
    caplog.set_level(logging.INFO, logger="prefect.flow_runs")
    report = bo_tuning(
        name="BraninCurrin",
        covars={"x1": {"vtype": "cont", "min": 0, "max": 1}, "x2": {"vtype": "cont", "min": 0, "max": 1}},
        objective="tunefleet.objectives:branin_currin",
        responses={"branin": {"direction": "minimize", "reference": 18}, "currin": "minimize"},
        constraints=["currin <= 9"],
        iterations=5,
        batch_size=2,
        initial_points=4,
        seed=1,
    )
    assert report["n_told"] == 10 and report["failed"] == 0 and report["best_response"] is None
    assert report["pareto"] and all(p["metrics"]["currin"] <= 9 for p in report["pareto"])
    assert report["hypervolume"] > 0 and report["reference_point"]["branin"] == 18
    exp = experiments.get(database(backend), report["exp_uuid"])
    told = [t.metrics for t in experiments.trials(database(backend), exp)]
    for point in report["pareto"]:  # nothing feasible told dominates a point of the front
        assert not any(
            row["currin"] <= 9 and row["branin"] <= point["metrics"]["branin"] and row["currin"] <= point["metrics"]["currin"]
            and row != point["metrics"]
            for row in told
        )  # fmt: skip

    summary = artifacts("bo-branincurrin")[0].data
    assert f"{len(report['pareto'])} points on the Pareto front, hypervolume **{report['hypervolume']:.6g}**" in summary
    [plot] = inline_images(summary)
    assert artifacts("bo-branincurrin-pareto")[0].data == plot
    assert len(artifacts("bo-branincurrin-pareto-front")[0].data) > 2  # the front's table
    assert "10/10 evaluations: this round 2 ok, 0 failed; " in "\n".join(r.getMessage() for r in caplog.records)
    assert "on the Pareto front, hypervolume" in caplog.text


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_an_objective_missing_a_declared_metric_fails_its_trials_with_the_reason(backend, tmp_path):
    source = "def objective(x):\n    return {'accuracy': x}\n"
    responses = {"accuracy": "maximize", "latency_ms": "minimize"}
    report, failed = tune_script(backend, tmp_path, source, responses=responses, iterations=2, initial_points=2)
    assert report["n_told"] == 0 and report["failed"] == 2
    assert [t.error for t in failed] == [
        f"trial {t.id}: expected the metrics accuracy, latency_ms; missing latency_ms" for t in failed
    ]


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_a_run_resumes_with_a_larger_budget_and_a_new_one_warm_starts_from_its_records(
    backend, caplog, capsys, tmp_path
):
    caplog.set_level(logging.INFO, logger="prefect.flow_runs")
    tune = {"objective": "tunefleet.objectives:mixed", "initial_points": 9, "seed": 1}  # no GP to fit: quick
    first = bo_tuning(name="first", covars=MIXED, iterations=2, batch_size=2, **tune)
    grown = bo_tuning(experiment=first["exp_uuid"], iterations=3, batch_size=3, **tune)
    assert (first["n_told"], grown["n_told"], grown["exp_uuid"]) == (4, 9, first["exp_uuid"])  # 3 x 3 in all
    again = bo_tuning(experiment=first["exp_uuid"], iterations=2, batch_size=2, **tune)
    assert again["n_told"] == 9
    assert f"experiment {first['exp_uuid']} has 9 of its own evaluations, the budget of 2 x 2 is spent" in caplog.text

    db = database(backend)
    earlier = experiments.trials(db, experiments.get(db, first["exp_uuid"]))
    fits = [t for t in earlier if t.covars["x"] <= 0.5]
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"name": "warm", "covars": {**MIXED, "x": {"vtype": "cont", "min": 0.0, "max": 0.5}}}))
    warm = run_json(
        capsys, "bo", "run", space, "--objective", tune["objective"], "--iterations", 2, "--initial-points", 1,
        "--warm-start", f"experiment:{first['exp_uuid']}",
    )  # fmt: skip
    assert 0 < len(fits) < 9 and warm["n_seeded"] == len(fits)
    assert warm["n_told"] == len(fits) + 2  # the budget, 2 x 1, counts the run's own evaluations
    exp = experiments.get(db, warm["exp_uuid"])
    assert exp.warm_start["dropped"] == 9 - len(fits)
    seeded = experiments.trials(db, exp)[: len(fits)]
    assert [(t.covars, t.response) for t in seeded] == [(t.covars, t.response) for t in fits]
    assert f"seeded {len(fits)} trials from experiment {first['exp_uuid']}; dropped {9 - len(fits)}: " in caplog.text
    assert f"{len(fits) + 2} evaluations, {len(fits)} of them seeded from" in artifacts("bo-warm")[0].data
    with pytest.raises(Exception, match="warm_start seeds a new experiment"):
        bo_tuning(experiment=first["exp_uuid"], warm_start=f"experiment:{first['exp_uuid']}", **tune)
