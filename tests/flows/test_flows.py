"""The ridge flows as Prefect runs them: parameters only, as from `prefect deployment run`."""

import json
import logging
from uuid import UUID

import numpy as np
import pytest
from prefect.client.orchestration import get_client

from blocks.context import artifact_store, database
from flows.ridge import ridge_cv, ridge_predict
from tests.support.reports import artifacts
from tunefleet.db.columns import Status
from tunefleet.ridge import service as ridge_service

rng = np.random.default_rng(0)
X = rng.normal(size=(120, 3))
y = X @ [2.0, -1.0, 0.5] + 4.0 + rng.normal(scale=0.1, size=120)
CSV = "y,x1,x2,x3\n" + "\n".join(",".join(str(float(v)) for v in [t, *row]) for t, row in zip(y, X)) + "\n"


def test_ridge_cv_from_uri_then_batch_predict(backend, caplog):
    caplog.set_level(logging.INFO, logger="prefect.task_runs")
    store = artifact_store(backend)
    data_uri = store.put_bytes("incoming/train.csv", CSV.encode())
    view = ridge_cv(data_uri=data_uri, target="y", n_folds=3, l2_coef=[0.01, 1.0, 100.0], shuffle=True, random_state=1)
    assert view["status"] == "succeeded"
    assert view["best_alpha"] == 0.01
    assert view["model"]["coef"]["x1"] == pytest.approx(2.0, abs=0.05)
    assert len(view["cv_results"]) == 3 and all(len(r["fold_mse"]) == 3 for r in view["cv_results"])
    with get_client(sync_client=True) as client:  # the run is named from its work and tagged with it in the UI
        run = client.read_flow_run(UUID(view["flow_run_id"]))
    assert run.name == f"ridge {view['model_id']}: y from train.csv"
    assert {"ridge", f"ridge-model-{view['model_id']}"} <= set(run.tags)
    lines = "\n".join(r.getMessage() for r in caplog.records)  # where the time went, stage by stage
    assert "read 120 rows × 3 features in " in lines and "cross-validated 3 L2 coefficients over 3 folds in " in lines

    rows_uri = store.put_bytes("incoming/rows.csv", b"x3,x2,x1\n0,0,1\n1,1,0\n")
    predictions_uri = ridge_predict(model_id=view["model_id"], data_uri=rows_uri)
    lines = store.get_bytes(predictions_uri).decode().split()
    assert lines[0] == "y" and len(lines) == 3
    assert float(lines[1]) == pytest.approx(6.0, abs=0.1)


def test_ridge_cv_publishes_a_cv_table_artifact_with_the_best_alpha_marked(backend):
    uri = artifact_store(backend).put_bytes("incoming/train.csv", CSV.encode())
    view = ridge_cv(data_uri=uri, target="y", n_folds=2, l2_coef=[1.0, 200.0])
    table = artifacts(f"ridge-model-{view['model_id']}-cv")[0]  # the newest: each test has its own records
    rows = json.loads(table.data)
    assert table.type == "table" and [row["l2_coef"] for row in rows] == [1.0, 200.0]
    assert [row["best"] for row in rows] == ["best", ""] and view["best_alpha"] == 1.0
    assert rows[0]["mean_mse"] == float(f"{view['cv_results'][0]['mean_mse']:.6g}")


def test_failing_flow_marks_the_model_failed(backend):
    uri = artifact_store(backend).put_bytes("incoming/few.csv", b"y,x\n1,2\n2,3\n")
    with pytest.raises(Exception, match="greater than the number of rows"):
        ridge_cv(data_uri=uri, target="y", n_folds=5, l2_coef=[1.0])
    [model] = ridge_service.list(database(backend))
    assert model.status is Status.failed and "greater than the number of rows" in model.error
    assert model.model is None and model.cv_results is None


def test_queue_from_missing_uri_fails_clearly(backend):
    with pytest.raises(Exception, match="no readable file at that URI"):  # one message: missing or refused
        ridge_cv(data_uri=artifact_store(backend).uri("missing.csv"), target="y")
    assert ridge_service.list(database(backend)) == []
