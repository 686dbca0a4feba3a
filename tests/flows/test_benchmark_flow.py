"""The inference benchmark end to end: upload (core, HTTP, CLI), the `benchmark` flow with its
per-hardware child flow, records and reports; bad input rejected with nothing stored."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import skops.io
from fastapi.testclient import TestClient
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from blocks.context import artifact_store, database
from flows.benchmark import benchmark
from tests.support.api import app_in_process, signed_in
from tests.support.reports import PUBLIC_URL, artifacts, inline_images, local, runs_tagged
from tunefleet.bench import service as benchmarking
from tunefleet.bench.errors import BenchError, DataError, ModelError
from tunefleet.bench.models import load_model
from tunefleet.bench.report import DECIDING
from tunefleet.bench.tables import CellStatus
from tunefleet.db import RecordNotFound
from tunefleet.db.columns import Status
from tunefleet.errors import Conflict
from tunefleet.settings import get_settings

BIN = Path(sys.executable).parent
# Small and quick: three CPU platforms, two optimisations, two batch sizes, short timings.
QUICK = {
    "entries": ["sklearn", "onnxruntime", "treelite-gtil", "torch-cuda"],
    "optimisations": ["none", "float32"],
    "batch_sizes": [1, 64],
    "timing": {"budget_s": 0.05, "warmup_s": 0.01, "min_repeats": 5},
    "memory": False,
}


def _frame(X, y) -> bytes:
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["y"] = y
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def classifier():
    X, y = make_classification(400, 6, random_state=0)
    return skops.io.dumps(RandomForestClassifier(8, max_depth=5, random_state=0).fit(X, y)), _frame(X, y)


@pytest.fixture(scope="module")
def regressor():
    X, y = make_regression(400, 5, random_state=0)
    return skops.io.dumps(RandomForestRegressor(8, max_depth=5, random_state=0).fit(X, y)), _frame(X, y)


def _upload(backend, name, model_and_data, task):
    model, data = model_and_data
    return benchmarking.upload(database(backend), artifact_store(backend), name, model, data, "y", task)


def test_classifier_and_regressor_across_platforms_and_optimisations(backend, classifier, regressor):
    db, store = database(backend), artifact_store(backend)
    for name, pair, task in (("rf-cls", classifier, "classification"), ("rf-reg", regressor, "regression")):
        record = _upload(backend, name, pair, task)
        assert record.model_type == type(load_model(pair[0])).__name__ and record.n_features == (
            6 if task == "classification" else 5
        )
        out = benchmark(name, config=QUICK, dispatch="inline")
        run = benchmarking.get(db, out["run_id"])
        assert run.status is Status.succeeded and run.flow_run_id
        cells = {(c.hardware, c.platform, c.optimisation): c for c in benchmarking.cells(db, run.id)}
        measured = {key for key, c in cells.items() if c.status is CellStatus.measured}
        assert measured == {
            ("cpu", p, o) for p in ("sklearn", "onnxruntime", "treelite-gtil") for o in ("none", "float32")
        }
        gpu = [c for key, c in cells.items() if key[1] == "torch-cuda"]
        assert gpu and all(c.status is CellStatus.skipped and c.reason for c in gpu)
        sklearn = cells[("cpu", "sklearn", "none")].metrics
        assert [s["batch_size"] for s in sklearn["latency"]] == [1, 64] and sklearn["drift"] == 0
        assert all(s["median_ms"] > 0 and s["p95_ms"] >= s["median_ms"] for s in sklearn["latency"])
        assert sklearn["forest"]["n_trees"] == 8 and store.exists(sklearn["artifact"])
        assert store.get_bytes(run.report["heatmap_uri"]).startswith(b"\x89PNG")
        assert "fastest" in store.get_bytes(run.report["summary_uri"]).decode().lower()
        assert {row["batch_size"] for row in run.report["fastest"]} == {1, 64}


def test_a_rerun_keeps_measured_cells_and_measures_the_rest(backend, classifier):
    db = database(backend)
    _upload(backend, "rf", classifier, "classification")
    first = benchmark("rf", config=QUICK, dispatch="inline")["run_id"]
    before = {c.id: c.metrics for c in benchmarking.cells(db, first)}
    benchmark(run_id=first, dispatch="inline")
    after = {c.id: c.metrics for c in benchmarking.cells(db, first)}
    assert after == before  # same rows, nothing measured twice


def test_bad_uploads_are_rejected_and_store_nothing(backend, classifier, regressor):
    db, store = database(backend), artifact_store(backend)
    model, data = classifier
    cases = [
        (ModelError, dict(model_bytes=b"not a pickle at all", data=data, task="classification")),
        (ModelError, dict(model_bytes=model, data=data, task="regression")),
        (DataError, dict(model_bytes=model, data=regressor[1], task="classification")),  # 5 features, not 6
        (DataError, dict(model_bytes=model, data=data.replace(b",y\n", b",label\n", 1), task="classification")),
        (BenchError, dict(model_bytes=model, data=data, task="clustering")),
    ]
    for error, kwargs in cases:
        with pytest.raises(error):
            benchmarking.upload(db, store, "m", target="y", **kwargs)
    with pytest.raises(BenchError, match="model name"):
        benchmarking.upload(db, store, "../escape", model, data, "y", "classification")
    assert benchmarking.list_models(db) == []
    _upload(backend, "m", classifier, "classification")
    with pytest.raises(Conflict, match="exists already"):
        _upload(backend, "m", classifier, "classification")
    with pytest.raises(BenchError, match="unknown optimisation"):
        benchmarking.create(db, benchmarking.get_model(db, "m"), {"optimisations": ["zip"]})
    with pytest.raises(RecordNotFound):
        benchmarking.get_model(db, "nobody")
    assert benchmarking.list(db) == []


def test_http_upload_queue_and_read(backend, classifier, monkeypatch):
    model, data = classifier
    monkeypatch.setenv("TUNEFLEET_PUBLIC_URL", PUBLIC_URL)
    with TestClient(app_in_process(get_settings())) as client:
        client = signed_in(client, backend)
        files = {"model": ("rf.skops", io.BytesIO(model)), "data": ("valid.csv", io.BytesIO(data))}
        created = client.post("/models", data={"name": "rf", "task": "classification", "target": "y"}, files=files)
        assert created.status_code == 201, created.text
        labels = pd.read_csv(io.BytesIO(data))["y"].astype(str).value_counts().to_dict()
        assert created.json()["class_distribution"] == labels
        assert client.get("/models/rf").json()["id"] == created.json()["id"]

        bad = client.post("/models", data={"name": "bad", "task": "classification", "target": "y"},
                          files={"model": ("x.pkl", io.BytesIO(b"garbage")), "data": ("v.csv", io.BytesIO(data))})  # fmt: skip
        assert bad.status_code == 422 and "not a skops, ONNX" in bad.json()["error"]
        again = client.post("/models", data={"name": "rf", "task": "classification", "target": "y"}, files=files)
        assert again.status_code == 409
        assert client.get("/models/nobody").status_code == 404
        assert client.post("/benchmarks", json={"model": "rf", "config": {"batch_sizes": [0]}}).status_code == 422
        assert client.post("/benchmarks", json={"model": "rf", "extra": 1}).status_code == 422

        queued = client.post("/benchmarks", json={"model": "rf", "config": QUICK})
        assert queued.status_code == 201 and queued.json()["status"] == "queued"
        client.app.state.services.launcher.wait()
        run = client.get(f"/benchmarks/{queued.json()['run_id']}").json()
        assert run["status"] == "succeeded", run["error"]
        assert len(run["cells"]) == len(QUICK["entries"]) * len(
            QUICK["optimisations"]
        )  # each platform has one hardware kind
        assert client.get("/benchmarks/999").status_code == 404

        run_id = queued.json()["run_id"]
        named = {f"benchmark {run_id} rf", f"benchmark {run_id} cells @ cpu", f"benchmark {run_id} cells @ gpu"}
        assert named <= set(runs_tagged(f"benchmark-run-{run_id}"))  # (the records of each test start at id 1)

        # The report, as the Prefect UI shows it: the heat map inline, at a signed link any browser opens.
        [summary] = artifacts("benchmark-rf")[:1]
        assert summary.type == "markdown" and "| batch size | fastest |" in summary.data
        [heatmap] = inline_images(summary.data)
        assert artifacts("benchmark-rf-heatmap")[0].data == heatmap
        first_row = json.loads(artifacts("benchmark-rf-cells")[0].data)[0]
        assert [*first_row][: len(DECIDING)] == DECIDING  # the deciding columns first
        anyone = TestClient(client.app)
        image = anyone.get(local(heatmap))
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content[:8] == b"\x89PNG\r\n\x1a\n" and len(image.content) > 1000
        path = f"/artifacts/benchmarks/{run_id}/heatmap.png"
        assert anyone.get(local(heatmap).replace("heatmap.png", "cells.csv")).status_code == 403  # one file a link
        assert anyone.get(path + "?sig=" + "0" * 32).status_code == 403
        assert anyone.get(path).status_code == 401
        assert client.get(path).content == image.content  # the owner, signed in, needs no link
        assert client.get(path.replace("heatmap.png", "cells.csv")).text.startswith("platform,")
        assert client.get(path.replace("heatmap.png", "model.skops")).status_code == 404
        assert signed_in(anyone, backend, email="other@test.com").get(path).status_code == 404


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)  # the HTTP test covers the other one
def test_cli_upload_and_run(backend, classifier, tmp_path):
    model, data = classifier
    (tmp_path / "rf.skops").write_bytes(model)
    (tmp_path / "valid.csv").write_bytes(data)
    (tmp_path / "quick.json").write_text(json.dumps(QUICK))

    def cli(*args):
        return subprocess.run([str(BIN / "tunefleet"), *args], capture_output=True, text=True, cwd=tmp_path)

    uploaded = cli("model", "upload", "rf.skops", "--data", "valid.csv", "--target", "y", "--task", "classification")
    assert uploaded.returncode == 0, uploaded.stderr
    assert json.loads(uploaded.stdout)["name"] == "rf"
    # tl2cgen's compiler logs to the process's stdout: the answer stays the only thing there
    platforms = ("--platforms", "sklearn", "treelite", "--budget-s", "0.02")
    ran = cli("benchmark", "run", "rf", "--config", "quick.json", "--optimisations", "none", *platforms)
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)  # the whole of stdout is the JSON
    assert answer["status"] == "succeeded" and answer["config"]["timing"]["budget_s"] == 0.02
    assert "rf" in cli("benchmark", "list").stdout

    missing = cli(
        "model",
        "upload",
        "rf.skops",
        "--data",
        "valid.csv",
        "--target",
        "nope",
        "--task",
        "classification",
        "--name",
        "x",
    )
    assert missing.returncode == 1 and "target column 'nope'" in missing.stderr
    assert cli("benchmark", "show", "42").returncode == 1
