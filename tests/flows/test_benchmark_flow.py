"""The inference benchmark end to end: upload (core, HTTP, CLI), the `benchmark` flow with its
per-hardware child flow, records and reports; bad input rejected with nothing stored."""

from __future__ import annotations

import io
import json
import os
import re
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
from tunefleet.bench import CellResult, LatencyStats, exports
from tunefleet.bench import service as benchmarking
from tunefleet.bench.errors import BenchError, DataError, ModelError
from tunefleet.bench.models import load_model
from tunefleet.bench.report import DECIDING
from tunefleet.bench.tables import CellStatus
from tunefleet.db import RecordNotFound
from tunefleet.db.columns import Status
from tunefleet.errors import Conflict, InvalidInput
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


@pytest.mark.parametrize(
    "backend", ["postgres-s3"], indirect=True
)  # the records of a rerun: PostgreSQL, as production keeps them (suite time)
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
        wrong_metric = client.post("/benchmarks", json={"model": "rf", "config": {"drift_metric": "r2"}})
        assert (
            wrong_metric.status_code == 422 and "drift_metric 'r2' is not a classification metric" in wrong_metric.text
        )

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


def _without_the_stack(tmp_path: Path) -> dict:
    """The environment of a machine that reaches none of this stack: embedded defaults in a home of its
    own, Prefect's temporary server, and a benchmark deployment configured that ``--here`` must not use."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUNEFLEET_", "PREFECT_"))}
    return {
        **env,
        "TUNEFLEET_HOME": str(tmp_path / "gpu-host"),
        "TUNEFLEET_ENV_FILE": str(tmp_path / "no-env-file"),
        "TUNEFLEET_LOCAL_PREFECT": "temporary",
        "TUNEFLEET_BENCHMARK_DEPLOYMENT": "benchmark/on-a-pool-nobody-serves",
        "PREFECT_HOME": str(tmp_path / "gpu-host-prefect"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


@pytest.mark.parametrize(
    "backend", ["postgres-s3"], indirect=True
)  # the stack it joins: PostgreSQL and S3 (suite time)
def test_a_run_measured_without_the_stack_joins_a_run_here_through_export_and_import(backend, classifier, tmp_path):
    model, data = classifier
    (tmp_path / "rf.skops").write_bytes(model)
    (tmp_path / "valid.csv").write_bytes(data)
    (tmp_path / "quick.json").write_text(json.dumps(QUICK))

    def cli(env, *args):
        return subprocess.run(
            [str(BIN / "tunefleet"), *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600
        )

    there = _without_the_stack(tmp_path)
    upload = ("model", "upload", "rf.skops", "--data", "valid.csv", "--target", "y", "--task", "classification")
    assert cli(there, *upload).returncode == 0
    platforms = ("--platforms", "sklearn", "treelite-gtil", "torch-cuda", "--optimisations", "none")
    ran = cli(there, "benchmark", "run", "rf", "--here", "--config", "quick.json", *platforms)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == "succeeded"  # measured there, not sent to the deployment
    exported = cli(there, "benchmark", "export", str(json.loads(ran.stdout)["id"]))
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "run.json").write_text(exported.stdout)
    document = json.loads(exported.stdout)
    assert document["model"]["sha256"] == _upload(backend, "rf", classifier, "classification").sha256
    assert all("artifact" not in (cell["metrics"] or {}) for cell in document["cells"])  # that machine's store

    db, store = database(backend), artifact_store(backend)
    mine = benchmark("rf", config={**QUICK, "entries": ["sklearn"], "optimisations": ["none"]}, dispatch="inline")
    own = {c.platform: c.metrics for c in benchmarking.cells(db, mine["run_id"])}
    imported = cli(os.environ.copy(), "benchmark", "import", "run.json", "--into", str(mine["run_id"]))
    assert imported.returncode == 0, imported.stderr
    answer = json.loads(imported.stdout)
    assert answer["kept"] == ["sklearn+none @ cpu"]  # measured here already: this run's own cell stays
    assert sorted(answer["added"]) == ["torch-cuda+none @ gpu", "treelite-gtil+none @ cpu"]
    cells = {c.platform: c for c in benchmarking.cells(db, mine["run_id"])}
    assert cells["sklearn"].metrics == own["sklearn"]
    gtil = next(c for c in document["cells"] if c["platform"] == "treelite-gtil")
    assert cells["treelite-gtil"].status is CellStatus.measured and cells["treelite-gtil"].metrics == gtil["metrics"]
    assert cells["torch-cuda"].status is CellStatus.skipped and cells["torch-cuda"].reason
    run = benchmarking.get(db, mine["run_id"])
    assert run.status is Status.succeeded and run.report["cells"]["measured"] == 2
    summary = store.get_bytes(run.report["summary_uri"]).decode()
    assert "treelite-gtil" in summary and "| torch-cuda | none | gpu |" in summary  # one report of both machines
    table = pd.read_csv(io.BytesIO(store.get_bytes(run.report["table_uri"])))
    assert set(table.platform) == {"sklearn", "treelite-gtil"}

    new = json.loads(cli(os.environ.copy(), "benchmark", "import", "run.json").stdout)  # no --into: a run of its own
    assert new["run_id"] != mine["run_id"] and len(new["added"]) == 3 and new["kept"] == []
    assert benchmarking.get(db, new["run_id"]).report["fastest"]


def _export(backend, classifier) -> tuple[int, dict]:
    """A run of ``rf`` with one measured and one skipped cell, recorded by hand, and its export."""
    db = database(backend)
    record = _upload(backend, "rf", classifier, "classification")
    run = benchmarking.create(db, record, {"entries": ["sklearn", "torch-cuda"], "optimisations": ["none"]})
    stats = LatencyStats(1, 10, 2.0, 2.5, 2.1, 1.9, 0.05, 500.0, 2.0, None, 1.9, 2.1)
    result = CellResult("sklearn", "none", "cpu", "ok", metric="accuracy", score=0.9, drift=0.0, latency=[stats])
    benchmarking.record_cell(db, run.id, "cpu", "sklearn", "none", CellStatus.measured, None, result.to_dict())
    benchmarking.record_cell(db, run.id, "gpu", "torch-cuda", "none", CellStatus.skipped, "no GPU here")
    benchmarking.finish(db, benchmarking.start(db, run.id, None).id, {})
    return run.id, exports.export_run(db, benchmarking.get(db, run.id))


def _tampered(document: dict, change) -> dict:
    copy = json.loads(json.dumps(document))
    change(copy)
    return copy


def test_a_bad_export_is_refused_whole_with_the_reason_and_writes_nothing(backend, classifier, tmp_path):
    db, store = database(backend), artifact_store(backend)
    run_id, document = _export(backend, classifier)
    measured = lambda d: d["cells"][0]["metrics"]  # noqa: E731
    cases = [
        (lambda d: d.update(format="something-else"), "not a tunefleet benchmark export"),
        (lambda d: d.update(version=2), "export version 2"),
        (lambda d: d["model"].update(sha256="'; DROP TABLE benchmark_runs; --"), "64 lowercase hex digits"),
        (lambda d: d.update(cells=[]), "a list of 1 to"),
        (lambda d: d["cells"].append(dict(d["cells"][0])), "in the export twice"),
        (lambda d: d["cells"][0].update(hardware="tpu"), "hardware must be one of cpu, gpu"),
        (lambda d: d["cells"][0].update(platform="x" * 201), "names of 1 to 200 characters"),
        (lambda d: d["cells"][0].update(extra=1), "has hardware, platform"),
        (lambda d: measured(d).update(injected="__import__('os')"), "not a benchmark cell's result"),
        (lambda d: measured(d).update(platform="treelite"), "its metrics name another cell"),
        (lambda d: measured(d)["latency"][0].update(median_ms=-1.0), "finite, non-negative timings"),
        (lambda d: measured(d)["latency"][0].update(median_ms="fast"), "finite, non-negative timings"),
        (lambda d: measured(d).update(latency=[]), "finite, non-negative timings"),
        (lambda d: measured(d)["latency"][0].update(batch_size=0), "batch sizes must be positive integers"),
    ]
    runs_before = [r.id for r in benchmarking.list(db)]
    for change, message in cases:
        with pytest.raises(InvalidInput, match=re.escape(message)):
            exports.import_run(db, store, _tampered(document, change))
    other = _tampered(document, lambda d: d["model"].update(sha256="0" * 64))
    with pytest.raises(RecordNotFound, match="upload the same model file first"):
        exports.import_run(db, store, other)
    with pytest.raises(InvalidInput, match="the export measured another model"):
        exports.import_run(db, store, other, into=run_id)
    queued = benchmarking.create(db, benchmarking.get_model(db, "rf"), {}).id
    with pytest.raises(Conflict, match="import into a run that has succeeded"):
        exports.import_run(db, store, document, into=queued)
    assert [r.id for r in benchmarking.list(db)] == [*runs_before, queued]  # no run made by a refused import
    assert len(benchmarking.cells(db, run_id)) == 2 and benchmarking.cells(db, queued) == []

    (tmp_path / "broken.json").write_text('{"format": ')
    refused = subprocess.run(
        [str(BIN / "tunefleet"), "benchmark", "import", str(tmp_path / "broken.json")], capture_output=True, text=True
    )
    assert refused.returncode != 0 and "is not JSON" in refused.stderr and "Traceback" not in refused.stderr
