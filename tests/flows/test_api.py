"""The HTTP API end to end: real flow runs on a real Prefect server, both storage backends."""

import re
import time

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from blocks.context import artifact_store, database
from tests.support.api import app_in_process, signed_in
from tests.support.ridge import SEED_CSV
from tunefleet import users
from tunefleet.ridge import service as ridge_service


@pytest.fixture
def client(backend):
    with TestClient(app_in_process(backend)) as test_client:
        yield signed_in(test_client, backend)


def wait_done(client, model_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/model/{model_id}").json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"model {model_id} still {body['status']} after {timeout}s")


def model_count(backend) -> int:
    return len(ridge_service.list(database(backend)))


def test_seed_example_train_show_predict(client, backend):
    response = client.post(
        "/train",
        json={"data": SEED_CSV, "target": "a", "n_folds": 4, "fit_intercept": True, "l2_coef": [1.0, 10.0, 100.0]},
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    body = wait_done(client, response.json()["model_id"])
    assert body["status"] == "succeeded", body["error"]

    frame = pd.read_csv(pd.io.common.StringIO(SEED_CSV))
    search = GridSearchCV(Ridge(), {"alpha": [1.0, 10.0, 100.0]}, cv=KFold(4), scoring="neg_mean_squared_error").fit(
        frame[["b", "c"]], frame["a"]
    )
    assert [row["param_value"] for row in body["cv_results"]] == [1.0, 10.0, 100.0]
    np.testing.assert_allclose(
        [r["mean_mse"] for r in body["cv_results"]], -search.cv_results_["mean_test_score"], rtol=1e-8
    )
    assert set(body["model"]["coef"]) == {"b", "c"}
    np.testing.assert_allclose(
        [body["model"]["coef"]["b"], body["model"]["coef"]["c"]], search.best_estimator_.coef_, rtol=1e-8
    )
    assert body["flow_run_id"] and "artifact_uri" not in body  # answers name no server paths
    assert artifact_store(backend).exists(ridge_service.get(database(backend), body["model_id"]).artifact_uri)

    predicted = client.post(
        f"/model/{body['model_id']}/predict", json={"data": "c,b\n0.0,2.0\n7.0,1.0\n", "model_id": body["model_id"]}
    )
    assert predicted.status_code == 200, predicted.text
    expected = search.best_estimator_.predict(pd.DataFrame({"b": [2.0, 1.0], "c": [0.0, 7.0]}))
    np.testing.assert_allclose(predicted.json()["result"], expected, rtol=1e-8)


GOOD = {"data": SEED_CSV, "target": "a", "n_folds": 2, "l2_coef": [1.0]}


@pytest.mark.parametrize(
    "change,status,message",
    [
        ({"data": "{not: csv}"}, 422, "header but no rows"),
        ({"data": ""}, 422, "data is empty"),
        ({"data": "a,b\n1,2\n1,2,3\n"}, 422, "not valid CSV"),
        ({"target": "zzz"}, 422, "target column 'zzz' is not in the data"),
        ({"data": "a,b,c\n1,x,2\n2,y,3\n"}, 422, "non-numeric columns: b"),
        ({"data": "a,b\n1,2\n2,\n3,4\n"}, 422, "NaN or infinite"),
        ({"data": "a,b\n1,2\n2,nan\n3,4\n"}, 422, "NaN or infinite"),
        ({"n_folds": 1}, 422, "n_folds must be at least 2"),
        ({"n_folds": 99}, 422, "greater than the number of rows"),
        ({"n_folds": "4"}, 422, "n_folds: Input should be a valid integer"),
        ({"l2_coef": []}, 422, "at least one"),
        ({"l2_coef": [1.0, -2.0]}, 422, ">= 0"),
        ({"l2_coef": "1.0"}, 422, "l2_coef: Input should be a valid list"),
        ({"fit_intercept": "yes"}, 422, "fit_intercept: Input should be a valid boolean"),
        ({"target": None}, 422, "target"),
        ({"data": None}, 422, "exactly one of data"),
        ({"data_uri": "/nonexistent/data.csv"}, 422, "exactly one of data"),
        ({"surprise": 1}, 422, "surprise: Extra inputs are not permitted"),
    ],
)
def test_train_rejects_bad_input_and_stores_nothing(client, backend, change, status, message):
    response = client.post("/train", json={**GOOD, **change})
    assert response.status_code == status
    assert message in response.json()["error"]
    assert model_count(backend) == 0


def test_train_rejects_nan_alpha_and_malformed_json(client, backend):
    response = client.post(
        "/train",
        content=b'{"data": "a,b\\n1,2\\n3,4", "target": "a", "n_folds": 2, "l2_coef": [NaN]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422 and "finite" in response.json()["error"]
    response = client.post("/train", content=b'{"data": ', headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]
    assert model_count(backend) == 0


def test_unknown_model_and_wrong_id_types(client):
    assert client.get("/model/424242").status_code == 404
    assert client.get("/model/424242").json() == {"error": "there is no model with id=424242"}
    response = client.post("/model/424242/predict", json={"data": "b,c\n1,2"})
    assert response.status_code == 404
    response = client.get("/model/abc")
    assert response.status_code == 422 and "model_id" in response.json()["error"]
    assert client.get("/no/such/route").json() == {"error": "Not Found"}


def test_predict_on_unfinished_or_failed_models_is_a_conflict(client, backend):
    db, store = database(backend), artifact_store(backend)
    owner = users.by_email(db, "test@test.com").id  # the signed-in client's user
    queued = ridge_service.create(db, store, SEED_CSV, ridge_service.TrainParams("a", 2, [1.0]), owner)
    response = client.post(f"/model/{queued.id}/predict", json={"data": "b,c\n1,2"})
    assert response.status_code == 409 and "is queued" in response.json()["error"]
    ridge_service.start(db, queued.id)
    response = client.post(f"/model/{queued.id}/predict", json={"data": "b,c\n1,2"})
    assert response.status_code == 409 and "is running" in response.json()["error"]


def test_failed_training_records_its_reason_and_no_model(client, backend):
    store = artifact_store(backend)
    bad_uri = store.put_bytes("incoming/bad.csv", b"a,b\n1,2\n2,oops\n3,4\n")
    response = client.post("/train", json={"data_uri": bad_uri, "target": "a", "n_folds": 2, "l2_coef": [1.0]})
    assert response.status_code == 201, response.text
    body = wait_done(client, response.json()["model_id"])
    assert body["status"] == "failed"
    assert "non-numeric columns: b" in body["error"]
    assert body["model"] is None and body["cv_results"] == []
    assert ridge_service.get(database(backend), body["model_id"]).artifact_uri is None
    response = client.post(f"/model/{body['model_id']}/predict", json={"data": "b\n1"})
    assert response.status_code == 409 and "is failed" in response.json()["error"]


def test_predict_bad_input(client, backend):
    response = client.post("/train", json=GOOD)
    model_id = wait_done(client, response.json()["model_id"])["model_id"]
    cases = [
        ({"data": "b\n1\n"}, 422, "lacks the model's feature columns: c"),
        ({"data": "b,c\n1,x\n"}, 422, "non-numeric columns: c"),
        ({"data": "b,c\n1,inf\n"}, 422, "NaN or infinite"),
        ({"data": ""}, 422, "data is empty"),
        ({"data": "b,c\n1,2", "model_id": model_id + 1}, 422, "differs from the path"),
        ({}, 422, "data: Field required"),
    ]
    for body, status, message in cases:
        response = client.post(f"/model/{model_id}/predict", json=body)
        assert response.status_code == status, body
        assert message in response.json()["error"], body


def test_training_by_uri_and_restart_recovery(backend):
    """A queued job left by a stopped service is trained when the service starts again."""
    db, store = database(backend), artifact_store(backend)
    uri = store.put_bytes("incoming/big.csv", SEED_CSV.encode())
    orphan = ridge_service.create_from_uri(db, backend, uri, ridge_service.TrainParams("a", 3, [0.5, 5.0]))
    with TestClient(app_in_process(backend)) as client:
        body = wait_done(signed_in(client, backend, "admin@test.com", "admin"), orphan.id)  # the operator's model
    assert body["status"] == "succeeded", body["error"]
    assert body["best_alpha"] in (0.5, 5.0)


def test_openapi_docs_work_offline_and_declare_the_error_answers(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200 and "cdn" not in html.text.lower() and "unpkg" not in html.text.lower()
        for asset in re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css))"', html.text):
            assert client.get(asset).status_code == 200, asset  # served by tunefleet itself
    schema = client.get("/openapi.json").json()
    assert "/train" in schema["paths"]
    answers = schema["paths"]["/train"]["post"]["responses"]
    assert {"400", "401", "404", "409", "413", "422", "429", "503"} <= set(answers)
    assert answers["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert "HTTPValidationError" not in schema["components"]["schemas"]  # FastAPI's {"detail"}: never sent
