"""Hardware-aware tuning end to end: the `hw-tuning` flow trains candidates, measures each as a one-cell
benchmark run, tells the experiment accuracy and latency, and publishes the Pareto front; a resumed run
trains nothing twice; `pick` stores a candidate `benchmark` confirms; bad input is refused before any
training, with nothing stored."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import make_classification

from blocks.context import artifact_store, database
from flows.benchmark import benchmark
from flows.hwtune import hw_tuning
from interfaces.api import create_app
from tests.support.api import app_in_process, signed_in
from tests.support.reports import PUBLIC_URL, artifacts, inline_images, local, runs_tagged
from tests.support.sweeps import fails, run_json
from tunefleet.bench import service as benchmarking
from tunefleet.bo import service as experiments
from tunefleet.bo.tables import TrialStatus
from tunefleet.errors import InvalidInput
from tunefleet.hwtune import service as tunings
from tunefleet.hwtune.errors import HwTuneError
from tunefleet.hwtune.tables import HwTuning
from tunefleet.settings import get_settings

FOREST = {
    "n_estimators": {"vtype": "int", "guess": 10, "min": 2, "max": 40},
    "max_depth": {"vtype": "int", "guess": 4, "min": 1, "max": 10},
}
SERVING = ["sklearn+none", "treelite+none", "onnxruntime+float32"]
QUICK = {"budget_s": 0.02, "warmup_s": 0.0, "min_repeats": 5, "rounds": 2}


def _data(backend) -> str:
    X, y = make_classification(600, 8, n_informative=5, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)]).assign(label=y)
    return artifact_store(backend).put_bytes("datasets/hw.csv", frame.to_csv(index=False).encode())


def _problem(data_uri: str, **changes) -> dict:
    return {
        "estimator": "sklearn:RandomForestClassifier",
        "data_uri": data_uri,
        "target": "label",
        "covars": FOREST,
        "serving": SERVING,
        "timing": QUICK,
        **changes,
    }


PRODUCTION = pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)  # the records' one store
EMBEDDED = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)  # refusals store nothing anywhere


@PRODUCTION
def test_tunes_a_forest_with_its_serving_for_accuracy_and_latency(backend, caplog, monkeypatch):
    monkeypatch.setenv("TUNEFLEET_PUBLIC_URL", PUBLIC_URL)
    caplog.set_level(logging.INFO, logger="prefect.flow_runs")
    report = hw_tuning(
        **_problem(_data(backend), constraints=["drift <= 0.05"]), name="forest-cpu", iterations=3, batch=2,
        initial_points=4, seed=3,
    )  # fmt: skip
    db = database(backend)
    tuning = tunings.get(db, report["tuning_id"])
    exp = tunings.experiment(db, tuning)
    told = experiments.trials(db, exp)
    assert report["n_told"] == 6 and report["failed"] == 0 and len(told) == 6
    assert all(set(t.metrics) == {"accuracy", "latency_ms", "drift"} for t in told)
    # Each trial is linked to its stored candidate and the benchmark run that measured it on cpu.
    linked = tunings.links(db, tuning)
    assert set(linked) == {t.id for t in told}
    for trial in told:
        link = linked[trial.id]
        assert link.serving == trial.covars["serving"]
        [cell] = benchmarking.cells(db, link.run_id)
        platform, optimisation = link.serving.split("+")
        assert (cell.platform, cell.optimisation, cell.hardware) == (platform, optimisation, "cpu")
        assert trial.metrics["latency_ms"] == cell.metrics["latency"][0]["median_ms"]
        assert trial.metrics["accuracy"] == cell.metrics["score"]  # the served candidate's, drift counted
        assert benchmarking.get_model(db, link.model_id).name == f"hw{tuning.id}-trial{trial.id}"
    # The front: feasible, mutually non-dominated, each point with its model and run.
    front = tunings.front(db, tuning)
    assert front["points"] and front["hypervolume"] > 0
    for point in front["points"]:
        assert point["model_id"] == linked[point["trial_id"]].model_id and point["metrics"]["drift"] <= 0.05
        assert not any(
            other["metrics"]["accuracy"] >= point["metrics"]["accuracy"]
            and other["metrics"]["latency_ms"] <= point["metrics"]["latency_ms"]
            and other is not point
            and other["metrics"] != point["metrics"]
            for other in front["points"]
        )
    # In the Prefect UI: the run named and tagged after the tuning, its front, plot and hypervolume by round.
    assert runs_tagged(f"hw-tuning-{tuning.id}") == ["hw-tuning forest-cpu"]
    assert len(artifacts("hw-tuning-forest-cpu-pareto-front")[0].data) > 0
    summary = artifacts("hw-tuning-forest-cpu")[0].data
    assert f"points on the Pareto front, hypervolume **{report['hypervolume']:.6g}**" in summary
    [plot] = inline_images(summary)  # the front's plot, inline, at a signed link the UI's browser opens
    assert artifacts("hw-tuning-forest-cpu-pareto")[0].data == plot
    with TestClient(create_app(get_settings())) as anyone:
        image = anyone.get(local(plot))
        assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert [row["round"] for row in json.loads(artifacts("hw-tuning-forest-cpu-rounds")[0].data)] == [1, 2, 3]
    assert [r["round"] for r in report["rounds"]] == [1, 2, 3]
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("6/6 evaluations: this round 2 ok, 0 failed;") for line in lines)

    # Resumed with a larger budget: 2 more evaluations; nothing trained or measured twice.
    runs_before = {t.run_id for t in linked.values()}
    again = hw_tuning(tuning=str(tuning.id), iterations=4, batch=2)
    assert again["n_told"] == 8
    relinked = tunings.links(db, tuning)
    assert {t.run_id for t in relinked.values()} >= runs_before and len(relinked) == 8

    # Pick the most accurate point under a latency bound: a stored model benchmark confirms.
    fastest = min(p["metrics"]["latency_ms"] for p in tunings.front(db, tuning)["points"])
    picked = tunings.pick(db, artifact_store(backend), tuning, max_latency_ms=fastest * 1.0001, name="forest-pick")
    assert picked["metrics"]["latency_ms"] <= fastest * 1.0001
    model = benchmarking.get_model(db, "forest-pick")
    platform, optimisation = picked["serving"].split("+")
    confirmed = benchmark(
        "forest-pick",
        {"entries": [platform], "optimisations": [optimisation], "batch_sizes": [1], "hardware": ["cpu"],
         "timing": QUICK, "memory": False},
    )  # fmt: skip
    [cell] = benchmarking.cells(db, confirmed["run_id"])
    assert cell.metrics["score"] == picked["metrics"]["accuracy"]  # the same model, the same validation rows
    assert model.id != picked["trial_id"] and db.get(HwTuning, tuning.id).picks[0]["name"] == "forest-pick"
    with pytest.raises(HwTuneError, match=r"no point of tuning \d+'s Pareto front has latency_ms <= 1e-06"):
        tunings.pick(db, artifact_store(backend), tuning, max_latency_ms=1e-6)


@EMBEDDED
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"estimator": "os:system"}, "estimator 'os:system' is not one hardware-aware tuning trains"),
        ({"serving": ["tensorrt+none"]}, "unknown platform 'tensorrt'"),
        ({"serving": ["treelite+zip"]}, "unknown optimisation 'zip'"),
        ({"serving": ["nvforest+none"]}, "nvforest runs on gpu, the target hardware is cpu"),
        ({"serving": ["treelite+int8"]}, "treelite\\+int8: "),
        ({"constraints": ["memory_mb <= 3"]}, "constraint 'memory_mb <= 3' is on 'memory_mb', which no evaluation"),
        ({"metric": "r2"}, "metric 'r2' does not fit sklearn:RandomForestClassifier, a classification model"),
        ({"covars": {"depth": {"vtype": "int", "min": 1, "max": 3}}}, "has no hyperparameter depth"),
        ({"target": "nope"}, "target column 'nope' is not in the data"),
        ({"data_uri": "/etc/passwd"}, "cannot read data_uri '/etc/passwd': there is no readable file"),
    ],
)
def test_refuses_bad_input_before_training_and_stores_nothing(backend, changes, message):
    data_uri = _data(backend)
    with pytest.raises(InvalidInput, match=message):
        hw_tuning(**{**_problem(data_uri), **changes}, iterations=1, batch=1)
    db = database(backend)
    assert tunings.list(db) == [] and experiments.list(db) == [] and benchmarking.list_models(db) == []


@EMBEDDED
def test_a_gpu_target_without_a_gpu_is_refused_with_the_reason(backend):
    from tunefleet.bench.nvforest_support import gpu_unavailable

    if gpu_unavailable() is None:
        pytest.skip("this machine has a GPU: the gpu target is measured here")
    with pytest.raises(HwTuneError, match="serving choices sklearn:RandomForestClassifier cannot be measured with: "
                       "nvforest\\+none: nvforest: "):  # fmt: skip
        hw_tuning(**_problem(_data(backend), serving=["nvforest+none"], hardware="gpu"), iterations=1, batch=1)
    assert tunings.list(database(backend)) == []


@EMBEDDED
def test_a_deployment_run_whose_hardware_pool_has_no_worker_is_refused_before_training(backend):
    # Whether an earlier test of the session created the gpu pool or not, no worker serves it here.
    with pytest.raises(HwTuneError, match="hardware gpu: no (gpu work pool|worker online on the gpu work pool).*; "
                       "start one on a gpu machine"):  # fmt: skip
        hw_tuning(**_problem(_data(backend), serving=["nvforest+none"], hardware="gpu"), dispatch="deployment")
    assert tunings.list(database(backend)) == [] and benchmarking.list_models(database(backend)) == []


@PRODUCTION
def test_a_trial_whose_candidate_cannot_be_trained_fails_alone(backend):
    covars = {**FOREST, "max_features": {"vtype": "cat", "guess": "sqrt", "options": ["sqrt", "bogus"]}}
    report = hw_tuning(**_problem(_data(backend), covars=covars, serving=["sklearn+none"]), iterations=3, batch=2,
                       initial_points=6)  # fmt: skip
    db = database(backend)
    exp = tunings.experiment(db, tunings.get(db, report["tuning_id"]))
    failed = experiments.trials(db, exp, TrialStatus.failed)
    assert failed and all("max_features" in t.error for t in failed)
    assert all(t.covars["max_features"] == "bogus" for t in failed)
    assert report["n_told"] == 6 - len(failed)


@EMBEDDED
def test_the_cli_runs_shows_and_picks_and_refuses_with_exit_1(backend, tmp_path, capsys):
    problem = tmp_path / "forest.json"
    problem.write_text(json.dumps(_problem(_data(backend), serving=["treelite+none", "sklearn+none"])))
    report = run_json(capsys, "hw-tune", "run", str(problem), "--iterations", "2", "--batch", "2",
                      "--initial-points", "2", "--constraint", "latency_ms <= 1000")  # fmt: skip
    assert report["n_told"] == 4 and report["pareto"] and len(report["rounds"]) == 2
    shown = run_json(capsys, "hw-tune", "show", str(report["tuning_id"]))
    assert shown["name"] == "forest" and shown["status"] == "succeeded" and shown["trials"] == {"complete": 4}
    assert shown["constraints"] == ["latency_ms <= 1000"]
    assert [p["trial_id"] for p in shown["pareto"]["points"]] == [p["trial_id"] for p in report["pareto"]]
    assert all(p["model_id"] and p["run_id"] and p["serving"] for p in shown["pareto"]["points"])
    picked = run_json(capsys, "hw-tune", "pick", str(report["tuning_id"]), "--max-latency-ms", "1000", "--name", "fast")
    assert picked["name"] == "fast" and picked["metrics"]["latency_ms"] <= 1000
    assert benchmarking.get_model(database(backend), "fast").id == picked["model_id"]
    error = fails(capsys, "hw-tune", "run", str(problem), "--estimator", "sklearn:SVC")
    assert "error: estimator 'sklearn:SVC' is not one hardware-aware tuning trains" in error
    assert len(tunings.list(database(backend))) == 1


@EMBEDDED
def test_http_queues_a_users_tuning_and_keeps_it_and_its_models_theirs(backend, monkeypatch):
    monkeypatch.setenv("TUNEFLEET_PUBLIC_URL", PUBLIC_URL)
    body = {**_problem(_data(backend), serving=["sklearn+none", "onnxruntime+none"]), "name": "api-forest",
            "iterations": 2, "batch": 2, "initial_points": 2}  # fmt: skip
    with TestClient(app_in_process(get_settings())) as anyone:
        assert anyone.post("/hw-tunings", json=body).status_code == 401
        client = signed_in(TestClient(anyone.app), backend)
        for changes, message in (
            ({"estimator": "subprocess:Popen"}, "estimator 'subprocess:Popen' is not one hardware-aware tuning trains"),
            ({"data_uri": "/etc/passwd"}, "cannot read data_uri '/etc/passwd'"),
            ({"serving": ["treelite+none"] * 2}, "serving lists a choice twice"),
            ({"batch_size": 0}, "greater than or equal to 1"),
            ({"command": "touch /tmp/marker"}, "Extra inputs are not permitted"),
        ):
            refused = client.post("/hw-tunings", json={**body, **changes})
            assert refused.status_code == 422 and message in refused.text, refused.text
            assert "root:" not in refused.text  # nothing of a file is echoed
        assert tunings.list(database(backend)) == []

        queued = client.post("/hw-tunings", json=body)
        assert queued.status_code == 201 and queued.json()["status"] == "queued", queued.text
        client.app.state.services.launcher.wait()
        tuning_id = queued.json()["tuning_id"]
        shown = client.get(f"/hw-tunings/{tuning_id}").json()
        assert shown["status"] == "succeeded" and shown["trials"] == {"complete": 4}, shown["error"]
        front = shown["pareto"]["points"]
        mine = {m["id"] for m in client.get("/models").json()}
        assert front and {p["model_id"] for p in front} <= mine  # the candidates are the caller's models
        assert client.get(f"/experiment/{shown['exp_uuid']}/pareto").json()["points"] == [
            {k: p[k] for k in ("trial_id", "covars", "metrics")} for p in front
        ]
        assert [t["tuning_id"] for t in client.get("/hw-tunings").json()] == [tuning_id]

        other = signed_in(TestClient(anyone.app), backend, email="other@test.com")
        assert other.get(f"/hw-tunings/{tuning_id}").status_code == 404
        assert other.post(f"/hw-tunings/{tuning_id}/pick", json={}).status_code == 404
        assert other.get("/hw-tunings").json() == [] and other.get("/models").json() == []

        slow = client.post(f"/hw-tunings/{tuning_id}/pick", json={"max_latency_ms": 1e-9})
        assert slow.status_code == 422 and "raise max_latency_ms" in slow.json()["error"]
        picked = client.post(f"/hw-tunings/{tuning_id}/pick", json={"name": "api-pick"})
        assert picked.status_code == 201, picked.text
        assert client.get("/models/api-pick").json()["id"] == picked.json()["model_id"]
        assert client.get(f"/hw-tunings/{tuning_id}").json()["picks"][0]["name"] == "api-pick"
