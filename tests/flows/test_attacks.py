"""The attack suite: what a hostile client tries against the HTTP API, with harmless marker payloads
(a file that must never appear), on both backends. SECURITY.md says what each class defends."""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from blocks.context import artifact_store, database
from interfaces.api import create_app
from tests.support.api import PASSWORD, app_in_process, bearer, login
from tests.support.ridge import SEED_CSV
from tunefleet import auth, reports, users
from tunefleet.bench import service as benchmarking
from tunefleet.bo import service as experiments
from tunefleet.db.columns import utcnow
from tunefleet.ridge import service as ridge_service
from tunefleet.validation import MAX_ID

PUBLIC = {"/auth/token", "/auth/refresh", "/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
RIDGE = {"/train", "/model/{model_id}", "/model/{model_id}/predict"}
TRAIN = {"data": SEED_CSV, "target": "a", "n_folds": 2, "l2_coef": [1.0]}
EXPERIMENT = {"name": "e", "covars": {"x": {"vtype": "cont", "guess": 0.5, "min": 0.0, "max": 1.0}}}


# Checks of the HTTP layer alone (token claims, request bounds, JSON shapes) run on one backend: what
# they test happens before any record or file is touched. Everything that reads or writes records or
# files (ownership, URIs, uploads, jobs, concurrency) runs on both.
HTTP_LAYER_ONLY = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)


@pytest.fixture
def client(backend):
    with TestClient(app_in_process(backend)) as test_client:
        yield test_client


@pytest.fixture
def anonymous_client(backend):
    with TestClient(app_in_process(backend.model_copy(update={"anonymous": "ridge"}))) as test_client:
        yield test_client


def routes(app) -> list[tuple[str, str]]:
    return sorted((method, route.path) for route in app.routes for method in getattr(route, "methods", ()) or ())


FILLS = {"{model_id}": "1", "{run_id}": "1", "{ref}": "rf", "{exp_uuid}": "u", "{kind}": "benchmarks",
         "{record}": "1", "{name}": "heatmap.png"}  # fmt: skip


def call(client, method: str, path: str, **kwargs):
    for name, value in FILLS.items():
        path = path.replace(name, value)
    return client.request(method, path, **kwargs)


class Marker:
    """A pickle that, if anything ever unpickled it, would create a file (and nothing worse)."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


# -- authentication -------------------------------------------------------------------------------
def test_without_a_token_nothing_but_signing_in_is_served(client):
    for method, path in routes(client.app):
        if path in PUBLIC or method == "HEAD":
            continue
        response = call(client, method, path, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"].startswith("not authenticated")


def test_the_anonymous_opt_in_opens_exactly_the_ridge_routes_with_inline_data(anonymous_client, backend, tmp_path):
    for method, path in routes(anonymous_client.app):
        if path in PUBLIC or method == "HEAD":
            continue
        status = call(anonymous_client, method, path, json={}).status_code
        assert (status != 401) == (path in RIDGE), (method, path, status)
    trained = anonymous_client.post("/train", json=TRAIN)
    assert trained.status_code == 201, trained.text
    model_id = trained.json()["model_id"]
    assert anonymous_client.get(f"/model/{model_id}").status_code == 200
    uri = artifact_store(backend).put_bytes("incoming/seed.csv", SEED_CSV.encode())
    by_uri = anonymous_client.post("/train", json={**TRAIN, "data": None, "data_uri": uri})
    assert by_uri.status_code == 401 and "data_uri needs a signed-in user" in by_uri.json()["error"]
    # a signed-in user does not see what anonymous callers trained, and they do not see the user's
    mine = anonymous_client.post("/train", json=TRAIN, headers=bearer(login(anonymous_client, backend))).json()
    assert anonymous_client.get(f"/model/{mine['model_id']}").status_code == 404
    assert (
        anonymous_client.get(f"/model/{model_id}", headers=bearer(login(anonymous_client, backend))).status_code == 404
    )


def test_a_disabled_users_tokens_stop_working_at_once(client, backend):
    headers = bearer(login(client, backend))
    assert client.get("/auth/me", headers=headers).status_code == 200
    users.set_active(database(backend), "test@test.com", False)
    response = client.get("/auth/me", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "user is disabled"
    assert client.post("/auth/token", data={"username": "test@test.com", "password": PASSWORD}).status_code == 401


@HTTP_LAYER_ONLY
@pytest.mark.parametrize("subject", ["²", "1.5", "-1", str(2**63), "0", "999999", None, 7])
def test_tokens_whose_subject_is_not_a_user_are_401(client, backend, subject):
    claims = {"type": "access_token", "exp": utcnow().timestamp() + 60, "jti": "x"}
    if subject is not None:
        claims["sub"] = subject
    token = jwt.encode(claims, auth.signing_key(backend), "HS256")
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text


def test_failed_sign_ins_are_throttled_per_account(client, backend):
    login(client, backend)
    for _ in range(backend.signin_failures):
        assert client.post("/auth/token", data={"username": "test@test.com", "password": "wrong!!!"}).status_code == 401
    throttled = client.post("/auth/token", data={"username": "test@test.com", "password": PASSWORD})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "too many failed sign-ins" in throttled.json()["error"]


def test_a_refresh_token_works_once_and_its_reuse_revokes_the_family(client, backend):
    first = login(client, backend)
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    reused = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and "already used" in reused.json()["error"]
    revoked = client.post("/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert revoked.status_code == 401  # the thief's reuse ended the whole sign-in
    assert client.post("/auth/refresh", json={"refresh_token": "x" * 5000}).status_code == 422


# -- ownership ------------------------------------------------------------------------------------
def test_a_user_sees_and_acts_on_its_own_records_only(client, backend):
    alice, bob = bearer(login(client, backend, "alice@test.com")), bearer(login(client, backend, "bob@test.com"))
    admin = bearer(login(client, backend, "admin@test.com", role="admin"))
    model_id = client.post("/train", json=TRAIN, headers=alice).json()["model_id"]
    exp_uuid = client.post("/experiment/new", json=EXPERIMENT, headers=alice).json()["exp_uuid"]
    owner = users.by_email(database(backend), "alice@test.com").id
    record = benchmarking.upload(
        database(backend), artifact_store(backend), "rf", *_forest(), "y", "classification", owner_id=owner
    )
    run = benchmarking.create(database(backend), record, {"entries": ["sklearn"], "optimisations": ["none"]})
    for path in (f"/model/{model_id}", f"/experiment/{exp_uuid}", f"/experiment/ask/{exp_uuid}", "/models/rf",
                 f"/models/{record.id}", f"/benchmarks/{run.id}"):  # fmt: skip
        assert client.get(path, headers=bob).status_code == 404, path
        assert client.get(path, headers=alice).status_code == 200, path
        assert client.get(path, headers=admin).status_code == 200, path
    assert client.post(f"/model/{model_id}/predict", json={"data": "b,c\n1,2"}, headers=bob).status_code == 404
    told = client.post(f"/experiment/tell/{exp_uuid}", json={"covars_tell": [{"x": 0.1}], "response_tell": [1.0]},
                       headers=bob)  # fmt: skip
    assert (
        told.status_code == 404
        and experiments.trials(database(backend), experiments.get(database(backend), exp_uuid)) == []
    )
    assert client.post("/benchmarks", json={"model": "rf"}, headers=bob).status_code == 404
    for path in ("/experiments", "/models", "/benchmarks"):
        assert client.get(path, headers=bob).json() == [], path
        assert len(client.get(path, headers=admin).json()) == 1, path


def test_report_links_open_only_the_declared_files_they_were_signed_for(client, backend):
    store = artifact_store(backend)
    store.put_bytes("benchmarks/1/report/heatmap.png", b"\x89PNG heat map")
    store.put_bytes("benchmarks/1/report/secret.txt", b"marker-secret")  # in the store, but no report file
    store.put_bytes("secret.txt", b"marker-secret")
    signed = "/artifacts/benchmarks/1/heatmap.png?sig=" + reports.signature(
        auth.signing_key(backend), "/artifacts/benchmarks/1/heatmap.png"
    )
    assert client.get(signed).content == b"\x89PNG heat map"  # no token: the link is the credential
    assert client.get("/artifacts/benchmarks/1/no-such-file").status_code == 401  # nothing is told before signing in
    sig = signed.split("sig=")[1]
    admin = bearer(login(client, backend, "admin@test.com", role="admin"))
    for path in (
        f"/artifacts/benchmarks/2/heatmap.png?sig={sig}",  # another record
        f"/artifacts/sweeps/1/report.html?sig={sig}",  # another kind
        f"/artifacts/benchmarks/1/cells.csv?sig={sig}",  # another file
    ):
        assert client.get(path).status_code == 403, path
    for path in (
        f"/artifacts/benchmarks/1/secret.txt?sig={sig}",
        "/artifacts/benchmarks/%2E%2E/secret.txt",
        "/artifacts/benchmarks/..%2F..%2Fsecret.txt/heatmap.png",
        "/artifacts/benchmarks/1/..%2Fsecret.txt",
        "/artifacts/benchmarks/1%00/heatmap.png",
        "/artifacts/models/1/model.skops",
        f"/artifacts/benchmarks/{'1' * 65}/heatmap.png",
        f"/artifacts/benchmarks/1/heatmap.png?sig={'0' * 65}",
        f"/artifacts/benchmarks/1/heatmap.png?sig={sig.upper()}",  # signatures are lowercase hex
        "/artifacts/benchmarks/1/heatmap.png?sig=%C3%A9",  # é: hmac.compare_digest raises on non-ASCII
        f"/artifacts/benchmarks/1/heatmap.png?sig={sig[:-1]}%00",
    ):
        response = client.get(path, headers=admin)
        assert response.status_code in (404, 422), (path, response.status_code)
        assert "marker-secret" not in response.text and str(backend.home) not in response.text


def test_answers_name_no_server_paths(client, backend):
    headers = bearer(login(client, backend))
    owner = users.by_email(database(backend), "test@test.com").id
    benchmarking.upload(database(backend), artifact_store(backend), "rf", *_forest(), "y", "classification", owner)
    model_id = client.post("/train", json=TRAIN, headers=headers).json()["model_id"]
    client.app.state.services.launcher.wait()
    root = artifact_store(backend).root
    for path in (f"/model/{model_id}", "/models", "/models/rf"):
        text = client.get(path, headers=headers).text
        assert root not in text and "s3://" not in text and "file://" not in text, (path, text)


# -- code execution -------------------------------------------------------------------------------
def test_a_pickled_model_upload_runs_nothing(client, backend, tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Marker(marker))
    response = client.post(
        "/models",
        data={"name": "evil", "task": "classification", "target": "y"},
        files={"model": ("m.pkl", io.BytesIO(payload)), "data": ("v.csv", io.BytesIO(_forest()[1]))},
        headers=bearer(login(client, backend)),
    )
    assert response.status_code == 422 and "pickle" in response.json()["error"]
    assert not marker.exists() and benchmarking.list_models(database(backend)) == []


def test_a_skops_file_with_types_beyond_scikit_learn_numpy_and_scipy_is_refused_naming_them(client, backend):
    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    model = FunctionTransformer(func=os.getcwd).fit(np.zeros((2, 2)))
    response = client.post(
        "/models",
        data={"name": "evil", "task": "regression", "target": "y"},
        files={"model": ("m.skops", io.BytesIO(skops.io.dumps(model))), "data": ("v.csv", io.BytesIO(_forest()[1]))},
        headers=bearer(login(client, backend)),
    )
    assert response.status_code == 422 and "posix.getcwd" in response.json()["error"], response.text


def test_a_model_file_that_would_unpack_past_the_limit_is_413_before_it_is_decompressed(client, backend, monkeypatch):
    monkeypatch.setenv("TUNEFLEET_MAX_MODEL_MB", "0.001")  # a kilobyte: the small forest is ~20 KB unpacked
    model, data = _forest()
    response = client.post(
        "/models",
        data={"name": "big", "task": "classification", "target": "y"},
        files={"model": ("m.skops", io.BytesIO(model)), "data": ("v.csv", io.BytesIO(data))},
        headers=bearer(login(client, backend)),
    )
    assert response.status_code == 413 and "TUNEFLEET_MAX_MODEL_MB" in response.json()["error"]
    assert benchmarking.list_models(database(backend)) == []


def test_a_benchmark_config_naming_a_class_imports_nothing(client, backend, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evil_platform.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    headers = bearer(login(client, backend))
    owner = users.by_email(database(backend), "test@test.com").id
    benchmarking.upload(database(backend), artifact_store(backend), "rf", *_forest(), "y", "classification", owner)
    for entry in ({"name": "evil", "test": "evil_platform:Evil"}, "evil_platform:Evil"):
        response = client.post("/benchmarks", json={"model": "rf", "config": {"entries": [entry]}}, headers=headers)
        assert response.status_code == 422, response.text
    assert not marker.exists() and "evil_platform" not in sys.modules


def test_a_hardware_aware_tuning_naming_a_module_as_its_estimator_imports_nothing(
    client, backend, tmp_path, monkeypatch
):
    marker = tmp_path / "imported"
    (tmp_path / "evil_estimator.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    headers = bearer(login(client, backend))
    data_uri = artifact_store(backend).put_bytes("datasets/hw.csv", _forest()[1])
    body = {"name": "evil", "data_uri": data_uri, "target": "y", "serving": ["sklearn+none"],
            "covars": {"n_estimators": {"vtype": "int", "min": 2, "max": 4}}}  # fmt: skip
    for estimator in ("evil_estimator:Evil", "sklearn:evil_estimator.Evil", "evil_estimator.Evil", "Evil"):
        response = client.post("/hw-tunings", json={**body, "estimator": estimator}, headers=headers)
        assert response.status_code == 422 and "is not one hardware-aware tuning trains" in response.text
    fixed = client.post("/hw-tunings", json={**body, "estimator": "sklearn:RandomForestClassifier",
                                             "fixed": {"criterion": {"__class__": "evil_estimator.Evil"}}},
                        headers=headers)  # fmt: skip
    assert fixed.status_code == 422 and "fixed: criterion must be a number, a text" in fixed.text
    assert not marker.exists() and "evil_estimator" not in sys.modules


# -- data URIs ------------------------------------------------------------------------------------
OUTSIDE = [
    "/etc/passwd",
    "file:///etc/passwd",
    "../../../../etc/passwd",
    "{root}/../../../../etc/passwd",
    "{root}/link-to-passwd",
    "s3://another-bucket/train.csv",
    "simplecache::file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "memory://train.csv",
    "{root}/missing.csv",
]


@pytest.mark.parametrize("uri", OUTSIDE)
def test_data_uris_outside_the_store_get_one_message_that_shows_nothing(client, backend, uri):
    store = artifact_store(backend)
    if store.protocol in ("file", "local"):
        link = Path(store.root) / "link-to-passwd"
        link.unlink(missing_ok=True)
        link.symlink_to("/etc/passwd")
    uri = uri.format(root=store.root if store.protocol in ("file", "local") else f"s3://{store.root}")
    response = client.post(
        "/train", json={**TRAIN, "data": None, "data_uri": uri}, headers=bearer(login(client, backend))
    )
    assert response.status_code == 422, response.text
    message = response.json()["error"]
    assert "there is no readable file at that URI in this service's data store" in message
    assert "root:" not in message and ridge_service.list(database(backend)) == []


# -- sizes, counts and integers ----------------------------------------------------------------------------
def test_a_body_over_the_limit_is_413_before_it_is_read(backend):
    settings = backend.model_copy(update={"max_request_mb": 0.01})
    with TestClient(create_app(settings)) as client:
        headers = bearer(login(client, backend))
        big = {**TRAIN, "data": SEED_CSV + "1,2,3\n" * 5000}
        assert client.post("/train", json=big, headers=headers).status_code == 413
        streamed = client.post("/train", content=iter([json.dumps(big).encode()]), headers=headers)
        assert streamed.status_code == 413 and "TUNEFLEET_MAX_REQUEST_MB" in streamed.json()["error"]
    assert ridge_service.list(database(backend)) == []


@HTTP_LAYER_ONLY
@pytest.mark.parametrize(
    "change, status, message",
    [
        ({"data": ",".join(f"c{i}" for i in range(20_001)) + "\n" + ",".join(["1"] * 20_001)}, 413, "columns"),
        ({"data": "a," + "b" * 200_000 + "\n1,2\n"}, 422, "header row is not valid CSV"),
        ({"l2_coef": [1.0] * 1001}, 422, "at most 1000 values"),
        ({"n_folds": 10**30}, 422, "n_folds must be at most 1000"),
        ({"random_state": -1}, 422, "random_state"),
        ({"random_state": 2**64}, 422, "random_state"),
        ({"target": "t" * 2000}, 422, "target"),
    ],
)
def test_oversized_and_out_of_range_training_requests_are_4xx(client, backend, change, status, message):
    response = client.post("/train", json={**TRAIN, **change}, headers=bearer(login(client, backend)))
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert ridge_service.list(database(backend)) == []


@HTTP_LAYER_ONLY
@pytest.mark.parametrize(
    "config",
    [
        {"batch_sizes": [10**9]},
        {"batch_sizes": list(range(1, 30))},
        {"threads": 10**6},
        {"timing": {"budget_s": 1e9}},
        {"timing": {"max_repeats": 10**12}},
        {"entries": ["sklearn"] * 60},
    ],
)
def test_benchmark_configs_that_would_run_for_ever_are_422(client, backend, config):
    headers = bearer(login(client, backend))
    owner = users.by_email(database(backend), "test@test.com").id
    benchmarking.upload(database(backend), artifact_store(backend), "rf", *_forest(), "y", "classification", owner)
    response = client.post("/benchmarks", json={"model": "rf", "config": config}, headers=headers)
    assert response.status_code == 422, response.text
    assert benchmarking.list(database(backend)) == []


@HTTP_LAYER_ONLY
@pytest.mark.parametrize(
    "path",
    [
        f"/model/{MAX_ID + 1}", "/model/0", "/model/-3", "/model/%C2%B2", "/benchmarks/99999999999999999999999",
        "/hw-tunings/0", f"/hw-tunings/{MAX_ID + 1}", "/hw-tunings/%C2%B2",
    ],
)  # fmt: skip
def test_ids_out_of_range_are_4xx_not_500(client, backend, path):
    response = client.get(path, headers=bearer(login(client, backend)))
    assert response.status_code in (404, 422), response.text


@HTTP_LAYER_ONLY
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"data": "a,b", "target": "a", "n_folds": ' + b"9" * 5000 + b"}",
        b'{"data": "a,b", "target": "a", "l2_coef": [1e999]}',
    ],
    ids=["deep-nesting", "huge-integer", "infinite-float"],
)
def test_hostile_json_is_4xx(client, backend, body):
    response = client.post(
        "/train", content=body, headers={**bearer(login(client, backend)), "content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()


@HTTP_LAYER_ONLY
@pytest.mark.parametrize(
    "tell",
    [
        {"covars_tell": [[0.1]], "response_tell": [1.0]},
        {"covars_tell": {"x": 5}, "response_tell": [1.0]},
        {"covars_tell": "x", "response_tell": [1.0]},
        {"covars_tell": [{"x": 10**400}], "response_tell": [1.0]},
        {"covars_tell": [{"x": 0.1}], "response_tell": [10**400]},
        {"covars_tell": [{"x": 0.1}], "response_tell": [[[[1.0]]]]},
    ],
)
def test_malformed_tells_are_422_and_later_asks_still_work(client, backend, tell):
    headers = bearer(login(client, backend))
    exp_uuid = client.post("/experiment/new", json=EXPERIMENT, headers=headers).json()["exp_uuid"]
    assert client.post(f"/experiment/tell/{exp_uuid}", json=tell, headers=headers).status_code == 422
    assert client.get(f"/experiment/ask/{exp_uuid}", headers=headers).status_code == 200


@HTTP_LAYER_ONLY
def test_a_negative_seed_is_refused_so_asks_keep_working(client, backend):
    headers = bearer(login(client, backend))
    response = client.post("/experiment/new", json={**EXPERIMENT, "seed": -1}, headers=headers)
    assert response.status_code == 422 and "seed" in response.json()["error"]
    assert client.post("/experiment/new", json={**EXPERIMENT, "seed": 2**40}, headers=headers).status_code == 422


def test_a_training_whose_numbers_overflow_ends_failed_with_the_reason(client, backend):
    headers = bearer(login(client, backend))
    huge = "a,b\n" + "\n".join(f"{i},{i * 1e200}" for i in range(1, 9)) + "\n"
    model_id = client.post("/train", json={**TRAIN, "data": huge}, headers=headers).json()["model_id"]
    client.app.state.services.launcher.wait()
    body = client.get(f"/model/{model_id}", headers=headers).json()
    assert body["status"] == "failed" and "overflow" in body["error"] and body["model"] is None


@pytest.mark.parametrize(
    "backend", ["postgres-s3"], indirect=True
)  # a job process of its own, on the production backend (suite time)
def test_the_apis_jobs_run_in_a_process_of_their_own_that_ends_with_them(backend):
    with TestClient(create_app(backend)) as client:  # production's launcher: each job apart
        headers = bearer(login(client, backend))
        model_id = client.post("/train", json=TRAIN, headers=headers).json()["model_id"]
        client.app.state.services.launcher.wait()
        assert client.get(f"/model/{model_id}", headers=headers).json()["status"] == "succeeded"


def test_a_job_that_runs_out_of_memory_fails_alone_and_the_api_stays_up(backend):
    with TestClient(create_app(backend.model_copy(update={"job_memory_mb": 64}))) as client:
        headers = bearer(login(client, backend))
        model_id = client.post("/train", json=TRAIN, headers=headers).json()["model_id"]
        client.app.state.services.launcher.wait()
        body = client.get(f"/model/{model_id}", headers=headers).json()
        assert body["status"] == "failed" and "TUNEFLEET_JOB_MEMORY_MB" in body["error"]
        assert client.get("/health").status_code == 200


# -- integrity under concurrency ------------------------------------------------------------------------
def test_fifty_identical_trainings_and_uploads_at_once_all_succeed(backend):
    db, store = database(backend), artifact_store(backend)
    params = ridge_service.TrainParams("a", 2, [1.0])
    with ThreadPoolExecutor(8) as pool:
        models = list(pool.map(lambda _: ridge_service.create(db, store, SEED_CSV, params), range(50)))
    assert len({m.id for m in models}) == 50 and len(ridge_service.list(db)) == 50
    model, data = _forest()
    with ThreadPoolExecutor(8) as pool:
        uploads = list(
            pool.map(lambda n: benchmarking.upload(db, store, f"rf{n}", model, data, "y", "classification"), range(50))
        )
    assert len({u.id for u in uploads}) == 50 and all(store.exists(u.model_uri) for u in uploads)


def test_report_csvs_neutralise_cells_a_spreadsheet_would_run():
    from tunefleet.sweep import report

    trials = [{"trial_id": "t1", "config": {"cmd": "=HYPERLINK(1)"}, "metrics": {"loss": -1.5}, "error": "@SUM(A1)"}]
    frame = pd.read_csv(io.StringIO(report.to_csv(trials, "loss", "min")))
    assert frame["config/cmd"].iloc[0] == "'=HYPERLINK(1)" and frame["error"].iloc[0] == "'@SUM(A1)"
    assert frame["loss"].iloc[0] == -1.5  # numbers stay numbers


def _forest() -> tuple[bytes, bytes]:
    """A small fitted forest as skops bytes, and its validation CSV."""
    import skops.io
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(60, 4, random_state=0)
    model = RandomForestClassifier(3, max_depth=3, random_state=0).fit(X, y)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(4)]).assign(y=y)
    return skops.io.dumps(model), frame.to_csv(index=False).encode()
