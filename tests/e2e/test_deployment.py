"""Production path of the ridge service: the HTTP API as a process creates flow runs of the
`ridge-cv` deployment from prefect.yaml; a process worker on the `cpu` pool runs them;
records go to PostgreSQL and artifacts to S3."""

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from blocks.context import artifact_store, database
from infra.services import free_port, wait_for
from tests.support.paths import REPO
from tests.support.ridge import SEED_CSV
from tunefleet.ridge import service as ridge_service

BIN = Path(sys.executable).parent


@pytest.fixture
def processes(tmp_path):
    started: list[subprocess.Popen] = []

    def start(name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "wb")
        started.append(subprocess.Popen(args, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT))
        return started[-1]

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _deploy(env: dict) -> dict:
    result = subprocess.run([str(BIN / "tunefleet"), "deploy"], env=env, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_seed_example_over_http_with_a_worker(backend, processes, tmp_path):
    env = {**os.environ, "TUNEFLEET_CODE_DIR": str(REPO), "PREFECT_WORKER_QUERY_SECONDS": "1"}
    first = _deploy(env)
    assert _deploy(env)["work_pools_created"] == []  # idempotent: the second run creates nothing
    assert set(first["work_pools_created"]) <= {"cpu", "gpu"}
    listed = subprocess.run(
        [str(BIN / "prefect"), "deployment", "ls"], env={**env, "COLUMNS": "250"}, capture_output=True, text=True
    )
    assert all(name in listed.stdout for name in ("ridge-cv", "ridge-predict", "bo-tuning"))
    processes("worker", [str(BIN / "prefect"), "worker", "start", "--pool", "cpu"], env)

    port = free_port()
    api_env = {**env, "TUNEFLEET_RIDGE_DEPLOYMENT": "ridge-cv/ridge-cv"}
    # the seed-004 contract without a token: the operator's opt-in
    processes("api", [str(BIN / "tunefleet"), "api", "--port", str(port), "--anonymous", "ridge"], api_env)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    wait_for(lambda: api.get("/health").status_code == 200, "tunefleet api")

    response = api.post(
        "/train",
        json={"data": SEED_CSV, "target": "a", "n_folds": 4, "fit_intercept": True, "l2_coef": [1.0, 10.0, 100.0]},
    )
    assert response.status_code == 201, response.text
    model_id = response.json()["model_id"]
    wait_for(
        lambda: api.get(f"/model/{model_id}").json()["status"] in ("succeeded", "failed"), "training by the worker", 180
    )
    model = api.get(f"/model/{model_id}").json()
    assert model["status"] == "succeeded", (model["error"], (tmp_path / "worker.log").read_text()[-3000:])
    assert model["flow_run_id"] and "artifact_uri" not in model  # answers name no server paths
    assert ridge_service.get(database(backend), model_id).artifact_uri.startswith("s3://")
    assert set(model["model"]["coef"]) == {"b", "c"}

    predicted = api.post(f"/model/{model_id}/predict", json={"data": "c,b\n0.0,2.0\n0.0,2.0"})
    coef, intercept = model["model"]["coef"], model["model"]["intercept"]
    assert predicted.json() == {"result": [pytest.approx(intercept + 2.0 * coef["b"])] * 2}


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_serve_runs_every_flow_from_one_process_with_schedules(backend, processes, tmp_path):
    """`tunefleet serve`: the single-machine mode — every deployment of prefect.yaml served here."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from sklearn.datasets import load_diabetes

    with get_client(sync_client=True) as client:  # serve and deploy are alternatives on one server
        for deployment in client.read_deployments():
            client.delete_deployment(deployment.id)
    started = datetime.now(timezone.utc)
    processes("serve", [str(BIN / "tunefleet"), "serve"], {**os.environ, "PREFECT_RUNNER_POLL_FREQUENCY": "1"})
    with get_client(sync_client=True) as client:

        def served(name: str):
            """The deployment once `serve` has (re)registered it (an earlier `tunefleet deploy` may have made it)."""
            deployment = client.read_deployment_by_name(name)
            return deployment if deployment.updated >= started else None

        wait_for(lambda: served("benchmark-nightly/benchmark-nightly"), "tunefleet serve", 120)
        assert [s.schedule.cron for s in served("benchmark-nightly/benchmark-nightly").schedules] == ["0 2 * * *"]
    data = artifact_store(backend).put_bytes(
        "datasets/diabetes.csv", load_diabetes(as_frame=True).frame.to_csv(index=False).encode()
    )
    run = run_deployment("ridge-cv/ridge-cv", parameters={"data_uri": data, "target": "target"}, timeout=180)
    assert run.state.is_completed(), ((tmp_path / "serve.log").read_text()[-3000:], run.state)
