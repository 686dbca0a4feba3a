"""The production stack end to end, with real processes: `infra/local-stack start` brings up
PostgreSQL, an S3 server, a Prefect server on PostgreSQL, a `cpu` process worker, a Dask
scheduler with two workers and a Ray head, and runs `tunefleet deploy`. Flow runs are then
started the ways users start them — `prefect deployment run`, Prefect's REST API, a cron
schedule — and faults are injected: a killed flow process, a killed Dask worker, a
database restart."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest

from infra.local_stack import StackState
from infra.services import BIN, Daemon, PostgresCluster, wait_for
from tests.support.paths import EXAMPLES, REPO
from tests.support.sweeps import slow_trainable
from tunefleet.bench import service as benchmarking
from tunefleet.bo import service as experiments
from tunefleet.db import open_database
from tunefleet.hwtune import service as tunings
from tunefleet.ridge import service as ridge_service
from tunefleet.storage import ArtifactStore
from tunefleet.sweep import service as sweeps

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
BRANIN = {
    "x1": {"vtype": "cont", "guess": 0.0, "min": -5.0, "max": 10.0},
    "x2": {"vtype": "cont", "guess": 5.0, "min": 0.0, "max": 15.0},
}


class Stack:
    def __init__(self, folder: Path):
        self.folder = folder
        self.state = StackState.load(folder)
        self.env = {**os.environ, **self.state.env(), "COLUMNS": "250"}
        self.env.pop("PREFECT_HOME", None)  # the session server's home is not this stack's
        self.api = httpx.Client(base_url=self.env["PREFECT_API_URL"], timeout=30)

    def cli(self, *args: str) -> str:
        result = subprocess.run(args, env=self.env, cwd=REPO, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    def deployment_id(self, name: str) -> str:
        return self.api.get(f"/deployments/name/{name}").raise_for_status().json()["id"]

    def create_flow_run(self, deployment: str, parameters: dict) -> str:
        response = self.api.post(
            f"/deployments/{self.deployment_id(deployment)}/create_flow_run", json={"parameters": parameters}
        )
        return response.raise_for_status().json()["id"]

    def flow_run(self, run_id: str) -> dict:
        return self.api.get(f"/flow_runs/{run_id}").raise_for_status().json()

    def wait(self, run_id: str, timeout: float = 180) -> dict:
        wait_for(lambda: self.flow_run(run_id)["state_type"] in FINAL, f"flow run {run_id}", timeout)
        run = self.flow_run(run_id)
        assert run["state_type"] == "COMPLETED", (run["state"], self.log("worker-cpu"))
        return run

    def log(self, name: str) -> str:
        return (self.folder / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]

    def database(self):
        return open_database(self.env["TUNEFLEET_DATABASE_URL"])

    def store(self) -> ArtifactStore:
        options = {
            "endpoint_url": self.env["TUNEFLEET_S3_ENDPOINT_URL"],
            "key": self.env["TUNEFLEET_S3_KEY"],
            "secret": self.env["TUNEFLEET_S3_SECRET"],
        }
        return ArtifactStore(self.env["TUNEFLEET_ARTIFACT_ROOT"], **options)


@pytest.fixture(scope="module")
def stack():
    folder = Path(tempfile.mkdtemp(prefix="tunefleet-stack-"))
    folder.chmod(0o755)  # the postgres user (initdb refuses root) must reach its data folder
    env = {**os.environ, "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2"}
    command = [sys.executable, "-m", "infra.local_stack", "--dir", str(folder)]
    started = subprocess.run([*command, "start", "--no-gpu"], env=env, cwd=REPO, capture_output=True, text=True)
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
    try:
        yield Stack(folder)
    finally:
        subprocess.run([*command, "stop"], cwd=REPO, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def diabetes_uri(stack):
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True).frame.to_csv(index=False).encode()
    return stack.store().put_bytes("datasets/diabetes.csv", data)


QUICK_BENCHMARK = {"entries": ["sklearn", "onnxruntime", "torch-cuda"], "optimisations": ["none"], "batch_sizes": [1],
                   "timing": {"budget_s": 0.05, "warmup_s": 0.01, "min_repeats": 5}, "memory": False}  # fmt: skip


@pytest.fixture(scope="module")
def forest(stack) -> str:
    """A small random forest uploaded for benchmarking; its name."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(300, 5, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)]).assign(y=y)
    model = pickle.dumps(RandomForestClassifier(5, max_depth=4, random_state=0).fit(X, y))
    data = frame.to_csv(index=False).encode()
    benchmarking.upload(
        stack.database(), stack.store(), "rf-prod", model, data, "y", "classification", trust_pickle=True
    )
    return "rf-prod"


@pytest.fixture
def slow_objective(tmp_path):
    """Branin that takes ``delay`` seconds: long enough to inject a fault mid-run."""
    script = tmp_path / "slow_branin.py"
    script.write_text(
        "import time\nfrom tunefleet.objectives import branin\n\n"
        "def slow_branin(x1, x2, delay=1.0):\n    time.sleep(delay)\n    return branin(x1=x1, x2=x2)\n"
    )
    return f"{script}:slow_branin"


def _trained_model(stack: Stack, run: dict) -> dict:
    [model] = [m for m in ridge_service.list(stack.database()) if m.flow_run_id == run["id"]]
    assert model.status == "succeeded", model.error
    assert model.artifact_uri.startswith("s3://tunefleet/artifacts/")
    assert stack.store().exists(model.artifact_uri)
    return model


def test_deploy_is_idempotent_and_prefect_cli_runs_a_deployment(stack, diabetes_uri):
    assert json.loads(stack.cli(str(BIN / "tunefleet"), "deploy"))["work_pools_created"] == []
    listed = stack.cli(str(BIN / "prefect"), "deployment", "ls")
    assert all(name in listed for name in ("ridge-cv", "ridge-predict", "bo-tuning"))

    out = stack.cli(
        str(BIN / "prefect"), "deployment", "run", "ridge-cv/ridge-cv",
        "--param", f"data_uri={diabetes_uri}", "--param", "target=target", "--param", "l2_coef=[0.1, 1.0, 10.0]",
    )  # fmt: skip
    run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", out).group(1)
    run = stack.wait(run_id)
    model = _trained_model(stack, run)
    assert model.l2_coef == [0.1, 1.0, 10.0] and model.target == "target"

    out = stack.cli(
        str(BIN / "prefect"), "deployment", "run", "ridge-predict/ridge-predict",
        "--param", f"model_id={model.id}", "--param", f"data_uri={diabetes_uri}",
    )  # fmt: skip
    predicted = stack.wait(re.search(r"UUID:\s*([0-9a-f-]{36})", out).group(1))
    assert stack.store().exists(f"s3://tunefleet/artifacts/predictions/ridge/{model.id}/{predicted['id']}.csv")


def test_rest_api_creates_a_flow_run_the_cpu_worker_runs(stack, diabetes_uri):
    run = stack.wait(
        stack.create_flow_run("ridge-cv/ridge-cv", {"data_uri": diabetes_uri, "target": "target", "n_folds": 3})
    )
    assert run["work_pool_name"] == "cpu"
    assert _trained_model(stack, run).n_folds == 3


def test_a_cron_schedule_fires_the_nightly_benchmark_and_the_worker_runs_it(stack, forest):
    """The nightly deployment's own schedule is at 02:00; a per-minute one on the same deployment fires in the test."""
    deployment = stack.deployment_id("benchmark-nightly/benchmark-nightly")
    schedule = {"schedule": {"cron": "* * * * *", "timezone": "UTC"}, "active": True,
                "parameters": {"models": [forest], "config": QUICK_BENCHMARK}}  # fmt: skip
    created = stack.api.post(f"/deployments/{deployment}/schedules", json=[schedule]).raise_for_status().json()

    def scheduled_runs() -> list[dict]:
        runs = stack.api.post("/flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [deployment]}}})
        return [run for run in runs.raise_for_status().json() if run["auto_scheduled"]]

    def fired() -> list[dict]:
        return [run for run in scheduled_runs() if run["state_type"] in FINAL]

    try:
        wait_for(fired, "a flow run created by the cron schedule", 200)
    finally:
        stack.api.delete(f"/deployments/{deployment}/schedules/{created[0]['id']}")
        for run in scheduled_runs():
            if run["state_type"] == "SCHEDULED" and not run["expected_start_time"].endswith("T02:00:00Z"):
                stack.api.delete(f"/flow_runs/{run['id']}")
    run = fired()[0]
    assert run["state_type"] == "COMPLETED", run["state"]
    children = stack.api.post("/flow_runs/filter", json={"flow_runs": {"parent_flow_run_id": {"any_": [run["id"]]}}})
    child_ids = {child["id"] for child in children.raise_for_status().json()}
    [record] = [r for r in benchmarking.list(stack.database()) if r.flow_run_id in child_ids]
    assert record.status.value == "succeeded" and stack.store().exists(record.report["heatmap_uri"])


def test_a_gpu_deployment_is_not_taken_by_the_cpu_worker(stack):
    stack.cli(
        str(BIN / "prefect"), "--no-prompt", "deploy", "flows.ridge:ridge_cv", "--name", "gpu-probe", "--pool", "gpu"
    )
    run_id = stack.create_flow_run("ridge-cv/gpu-probe", {"data_uri": "s3://tunefleet/none.csv", "target": "y"})
    time.sleep(8)  # four polls of the cpu worker
    run = stack.flow_run(run_id)
    assert run["state_type"] == "SCHEDULED" and run["work_pool_name"] == "gpu"
    stack.api.delete(f"/flow_runs/{run_id}")


def _flow_process(run_id: str) -> psutil.Process:
    for process in psutil.process_iter():
        try:
            if process.environ().get("PREFECT__FLOW_RUN_ID") == run_id:
                return process
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    raise LookupError(run_id)


def _experiment_of(stack: Stack, name: str):
    db = stack.database()

    def named():
        return [exp for exp in experiments.list(db) if exp.name == name]

    wait_for(named, f"experiment {name}", 120)
    return db, named()[0]


def _bo_parameters(name: str, objective: str, **overrides) -> dict:
    return {"covars": BRANIN, "objective": objective, "name": name, "direction": "minimize",
            "iterations": 6, "batch_size": 1, "initial_points": 3, "engine": "thread", **overrides}  # fmt: skip


def _assert_each_point_once(db, exp, budget: int) -> None:
    trials = experiments.trials(db, exp, status=None)
    assert [t.status for t in trials] == ["complete"] * budget, [t.error for t in trials]
    assert len({json.dumps(t.covars, sort_keys=True) for t in trials}) == budget


def test_a_killed_flow_process_crashes_the_run_and_a_rerun_resumes(stack, slow_objective):
    run_id = stack.create_flow_run("bo-tuning/bo-tuning", _bo_parameters("killed", slow_objective))
    db, exp = _experiment_of(stack, "killed")
    wait_for(lambda: experiments.count_trials(db, exp).get("complete", 0) >= 2, "two trials", 120)
    _flow_process(run_id).send_signal(signal.SIGKILL)
    wait_for(lambda: stack.flow_run(run_id)["state_type"] == "CRASHED", "the run to be marked crashed", 60)

    stack.wait(
        stack.create_flow_run("bo-tuning/bo-tuning", _bo_parameters("killed", slow_objective, experiment=exp.uuid))
    )
    _assert_each_point_once(db, exp, budget=6)


def test_a_dask_worker_killed_mid_run_leaves_its_tasks_to_the_other(stack, slow_objective):
    parameters = _bo_parameters("dask-fault", slow_objective, engine="dask", batch_size=2, iterations=3,
                                initial_points=2, objective_args={"delay": 2.0})  # fmt: skip
    run_id = stack.create_flow_run("bo-tuning/bo-tuning", parameters)
    db, exp = _experiment_of(stack, "dask-fault")
    wait_for(lambda: experiments.count_trials(db, exp).get("pending", 0) >= 2, "a batch in flight", 120)
    Daemon(
        "dask-worker-1", [], stack.folder / "logs" / "dask-worker-1.log", pid=stack.state.pids["dask-worker-1"]
    ).kill()
    stack.wait(run_id)
    _assert_each_point_once(db, exp, budget=6)


def test_a_database_restart_mid_run_is_retried_and_the_run_completes(stack, slow_objective):
    run_id = stack.create_flow_run("bo-tuning/bo-tuning", _bo_parameters("db-restart", slow_objective))
    db, exp = _experiment_of(stack, "db-restart")
    wait_for(lambda: experiments.count_trials(db, exp).get("complete", 0) >= 1, "a first trial", 120)
    PostgresCluster(stack.folder / "postgres", port=stack.state.postgres_port).restart()
    stack.wait(run_id)
    _assert_each_point_once(db, exp, budget=6)


def test_benchmark_deployment_measures_on_the_cpu_pool_and_skips_gpu_without_a_worker(stack, forest):
    run = stack.wait(
        stack.create_flow_run("benchmark/benchmark", {"model": forest, "config": QUICK_BENCHMARK}), timeout=300
    )
    db = stack.database()
    [record] = [r for r in benchmarking.list(db) if r.flow_run_id == run["id"]]
    cells = {c.platform: c for c in benchmarking.cells(db, record.id)}
    assert {name for name, c in cells.items() if c.status.value == "measured"} == {"sklearn", "onnxruntime"}
    assert cells["torch-cuda"].reason == "no worker online on the gpu work pool"
    assert stack.store().exists(record.report["heatmap_uri"])
    children = stack.api.post("/flow_runs/filter", json={"flow_runs": {"parent_flow_run_id": {"any_": [run["id"]]}}})
    cpu_children = [c for c in children.raise_for_status().json() if c["work_pool_name"] == "cpu"]
    assert [c["state_type"] for c in cpu_children] == ["COMPLETED"]


def test_hw_tuning_measures_each_candidate_on_the_cpu_pool_and_refuses_gpu_without_a_worker(stack):
    from sklearn.datasets import make_classification

    X, y = make_classification(400, 6, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]).assign(y=y)
    parameters = {
        "estimator": "sklearn:RandomForestClassifier",
        "data_uri": stack.store().put_bytes("datasets/hw.csv", frame.to_csv(index=False).encode()),
        "target": "y",
        "covars": {"n_estimators": {"vtype": "int", "min": 2, "max": 20}, "max_depth": {"vtype": "int", "min": 1, "max": 6}},
        "serving": ["sklearn+none", "onnxruntime+none"],
        "timing": {"budget_s": 0.02, "warmup_s": 0.0, "min_repeats": 5, "rounds": 2},
        "name": "prod-forest", "iterations": 1, "batch": 2, "initial_points": 2,
    }  # fmt: skip
    run = stack.wait(stack.create_flow_run("hw-tuning/hw-tuning", parameters), timeout=300)
    db = stack.database()
    [tuning] = [t for t in tunings.list(db) if t.flow_run_id == run["id"]]
    assert tuning.status.value == "succeeded", tuning.error
    run_ids = {link.run_id for link in tunings.links(db, tuning).values()}
    assert len(run_ids) == 2 and all(benchmarking.get(db, r).status.value == "succeeded" for r in run_ids)
    # each candidate was timed by a benchmark-cells flow run of the cpu pool's deployment, on its worker
    measuring = (
        stack.api.post(
            "/flow_runs/filter",
            json={"flow_runs": {"deployment_id": {"any_": [stack.deployment_id("benchmark-cells/cpu")]}}},
        )
        .raise_for_status()
        .json()
    )
    on_cpu = [r for r in measuring if r["parameters"]["run_id"] in run_ids]
    assert {r["parameters"]["run_id"] for r in on_cpu} == run_ids
    assert {(r["work_pool_name"], r["state_type"]) for r in on_cpu} == {("cpu", "COMPLETED")}

    refused = stack.create_flow_run(
        "hw-tuning/hw-tuning", {**parameters, "name": "prod-gpu", "hardware": "gpu", "serving": ["nvforest+none"]}
    )
    wait_for(lambda: stack.flow_run(refused)["state_type"] in FINAL, "the gpu tuning's flow run", 120)
    state = stack.flow_run(refused)["state"]
    assert state["type"] == "FAILED" and "hardware gpu: no worker online on the gpu work pool" in state["message"]
    assert [t.name for t in tunings.list(db)] == ["prod-forest"]  # refused before anything was stored


def test_the_nightly_benchmark_has_its_cron_runs_scheduled(stack):
    deployment = stack.deployment_id("benchmark-nightly/benchmark-nightly")
    runs = stack.api.post("/flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [deployment]}}})
    upcoming = [r for r in runs.raise_for_status().json() if r["state_type"] == "SCHEDULED" and r["auto_scheduled"]]
    assert upcoming and all(r["expected_start_time"].endswith("T02:00:00Z") for r in upcoming)


def test_bo_tuning_on_the_stacks_ray_cluster_from_the_workers_environment(stack):
    """engine=ray without an address: the worker's TUNEFLEET_RAY_ADDRESS names the stack's Ray head."""
    parameters = _bo_parameters(
        "on-ray", "tunefleet.objectives:branin", engine="ray", iterations=2, batch_size=2, initial_points=2
    )
    stack.wait(stack.create_flow_run("bo-tuning/bo-tuning", parameters), timeout=300)
    db, exp = _experiment_of(stack, "on-ray")
    _assert_each_point_once(db, exp, budget=4)


def test_an_hpo_sweep_through_its_deployment_on_the_stacks_dask_cluster(stack):
    """`tunefleet run PROJECT` creates an hpo-sweep flow run; the cpu worker runs it on the stack's Dask scheduler."""
    examples = EXAMPLES
    space = {"height": {"method": "uniform", "dimension": {"low": -100, "high": 100}},
             "width": {"method": "uniform", "dimension": {"low": 0, "high": 20}}}  # fmt: skip
    tunefleet = str(BIN / "tunefleet")
    stack.cli(tunefleet, "search_space", "create", "simple_space", json.dumps(space))
    stack.cli(tunefleet, "hpo_config", "create", "simple_hpo", "--algorithm=random", "--metric=loss", "--mode=min",
              "--scheduler=fifo", "--trials=8", "--stop={}")  # fmt: skip
    stack.cli(
        tunefleet,
        "model_config",
        "create",
        "simple_model",
        "--script",
        "simple_objective.py",
        "--model",
        "simple_objective",
    )
    stack.cli(tunefleet, "compute_config", "create", "simple_compute", "--engine", "dask")
    stack.cli(tunefleet, "project", "create", "simple", "--search-space", "simple_space", "--hpo-config", "simple_hpo",
              "--model-config", "simple_model", "--compute-config", "simple_compute", "--scripts-path", str(examples))  # fmt: skip
    run_id = json.loads(stack.cli(tunefleet, "run", "simple"))["flow_run_id"]
    run = stack.wait(run_id, timeout=300)
    shown = json.loads(stack.cli(tunefleet, "sweep", "show", "simple"))
    assert shown["status"] == "succeeded" and shown["counts"] == {"complete": 8}, shown
    assert run["work_pool_name"] == "cpu"


def test_sweep_kill_stops_a_worker_run_and_retry_resumes_it_through_the_deployment(stack, tmp_path):
    """hpogrid's tasks kill / retry on the stack: the cpu worker kills the flow process, the batches
    left on the Dask cluster stop after their trial in flight, and the retry's flow run (a new
    deployment run) runs only the trials not finished, each once."""
    calls = slow_trainable(tmp_path)
    tunefleet = str(BIN / "tunefleet")
    space = {"x": {"method": "uniform", "dimension": {"low": 0, "high": 1}}}
    stack.cli(tunefleet, "search_space", "create", "slow_space", json.dumps(space))
    stack.cli(tunefleet, "hpo_config", "create", "slow_hpo", "--algorithm=random", "--metric=loss", "--mode=min",
              "--scheduler=fifo", "--trials=16", "--stop={}")  # fmt: skip
    stack.cli(tunefleet, "model_config", "create", "slow_model", "--script", "slow.py", "--model", "slow")
    stack.cli(tunefleet, "compute_config", "create", "slow_compute", "--engine", "dask")
    stack.cli(tunefleet, "project", "create", "slow", "--search-space", "slow_space", "--hpo-config", "slow_hpo",
              "--model-config", "slow_model", "--compute-config", "slow_compute", "--scripts-path", str(tmp_path))  # fmt: skip
    first = json.loads(stack.cli(tunefleet, "run", "slow"))["flow_run_id"]
    db = stack.database()

    def complete() -> int:
        found = sweeps.list(db, "slow")
        return sweeps.count_trials(db, found[0].id).get("complete", 0) if found else 0

    wait_for(lambda: complete() >= 3, "3 trials complete", timeout=180)
    killed = json.loads(stack.cli(tunefleet, "sweep", "kill", "slow"))
    assert killed["status"] == "paused", killed
    wait_for(lambda: stack.flow_run(first)["state_type"] in FINAL, "the killed run to end", timeout=60)
    assert stack.flow_run(first)["state_type"] == "CANCELLED"
    time.sleep(2)  # the trials in flight on the Dask workers finish; their batches then stop
    [record] = sweeps.list(db, "slow")
    done_before = sweeps.finished_keys(db, record.id)
    assert 3 <= len(done_before) < 16 and record.status.value == "paused"

    retried = json.loads(stack.cli(tunefleet, "sweep", "retry", "slow"))["flow_run_id"]
    assert retried != first and stack.wait(retried, timeout=300)["work_pool_name"] == "cpu"
    shown = json.loads(stack.cli(tunefleet, "sweep", "show", "slow"))
    assert shown["status"] == "succeeded" and shown["counts"] == {"complete": 16}, shown
    assert done_before <= {t.trial_key for t in sweeps.trials(db, record.id)}
    xs = calls.read_text().split()
    assert len(xs) == len(set(xs)) == 16  # every trial ran once: none lost at the kill, none again at the retry
