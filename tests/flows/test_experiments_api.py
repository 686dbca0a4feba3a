"""Ask / tell over HTTP with JWT auth, in the seed's shapes, on both backends."""

import json
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import jwt
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from interfaces.api import create_app
from tests.support.api import PASSWORD, bearer, login
from tunefleet import auth
from tunefleet.bo import service as experiments
from tunefleet.db.columns import utcnow

SEED_EXPERIMENT = {
    "name": "some_name",
    "description": "some_description",
    "covars": {
        "v1": {"vtype": "int", "guess": 2, "min": 0, "max": 5},
        "color": {"vtype": "cat", "guess": "red", "options": ["red", "green", "blue"]},
        "weight": {"vtype": "cont", "guess": 6.6, "min": -3.0, "max": 200.0},
    },
    "model_type": "SingleTaskGP",
    "acq_func": "ExpectedImprovement",
}


@pytest.fixture
def client(backend):
    with TestClient(create_app(backend)) as test_client:
        yield test_client


@pytest.fixture
def headers(client, backend):
    return bearer(login(client, backend))


@pytest.fixture
def exp_uuid(client, headers):
    response = client.post("/experiment/new", json=SEED_EXPERIMENT, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["exp_uuid"]


def test_seed_flow_token_new_ask_tell(client, headers, exp_uuid):
    asked = client.get(f"/experiment/ask/{exp_uuid}", headers=headers)
    assert asked.status_code == 200, asked.text
    assert json.loads(asked.json()["covars_next_exp"]) == [{"v1": 2, "color": "red", "weight": 6.6}]  # the guess first

    exp_covars = pd.DataFrame({"v1": [3], "color": ["green"], "weight": [5.8]})
    exp_response = pd.DataFrame({"Response": [6.2]})
    told = client.post(
        f"/experiment/tell/{exp_uuid}",
        headers=headers,
        json={
            "exp_uuid": exp_uuid,
            "covars_tell": exp_covars.to_json(orient="records"),
            "response_tell": exp_response.to_json(orient="records"),
        },
    )
    assert told.status_code == 200, told.text
    body = told.json()
    assert json.loads(body["best_response"]) == {"Response": {"0": 6.2}}
    assert json.loads(body["covars_best_response"]) == {"v1": {"0": 3}, "color": {"0": "green"}, "weight": {"0": 5.8}}
    assert body["covars_sampled_iter"] == body["response_sampled_iter"] == 1

    # the default orient, a better response
    told = client.post(
        f"/experiment/tell/{exp_uuid}",
        headers=headers,
        json={
            "covars_tell": pd.DataFrame({"v1": [4], "color": ["blue"], "weight": [7.0]}).to_json(),
            "response_tell": pd.DataFrame({"Response": [9.5]}).to_json(),
        },
    )
    assert told.status_code == 200, told.text
    assert json.loads(told.json()["best_response"]) == {"Response": {"0": 9.5}}

    shown = client.get(f"/experiment/{exp_uuid}", headers=headers).json()
    assert shown["n_told"] == 2 and [t["response"] for t in shown["trials"]] == [6.2, 9.5]
    assert [e["exp_uuid"] for e in client.get("/experiments", headers=headers).json()] == [exp_uuid]

    for _ in range(4):  # past the initial design the GP proposes points inside the space
        point = json.loads(client.get(f"/experiment/ask/{exp_uuid}", headers=headers).json()["covars_next_exp"])[0]
        assert 0 <= point["v1"] <= 5 and point["color"] in ("red", "green", "blue") and -3 <= point["weight"] <= 200
        response = -((point["v1"] - 4) ** 2) - (point["weight"] - 50) ** 2 / 100 + (point["color"] == "blue")
        assert (
            client.post(
                f"/experiment/tell/{exp_uuid}",
                headers=headers,
                json={"covars_tell": [point], "response_tell": [response]},
            ).status_code
            == 200
        )


def _tell(client, headers, exp_uuid, covars, response=1.0):
    return client.post(
        f"/experiment/tell/{exp_uuid}", headers=headers, json={"covars_tell": covars, "response_tell": response}
    )


@pytest.mark.parametrize(
    "covars,response,message",
    [
        ([{"v1": 9, "color": "red", "weight": 1.0}], [1.0], "v1"),
        ([{"v1": 2.5, "color": "red", "weight": 1.0}], [1.0], "v1"),
        ([{"v1": 2, "color": "purple", "weight": 1.0}], [1.0], "color"),
        ([{"v1": 2, "color": "red", "weight": "heavy"}], [1.0], "weight"),
        ([{"v1": 2, "color": "red"}], [1.0], "weight"),
        ([{"v1": 2, "color": "red", "weight": 1.0, "height": 3}], [1.0], "height"),
        ([{"v1": 2, "color": "red", "weight": 1.0}], [1.0, 2.0], "1 rows but response_tell has 2"),
        ([{"v1": 2, "color": "red", "weight": 1.0}], ["high"], "not a number"),
        ("[{not json", [1.0], "covars_tell is not valid JSON"),
        ([{"v1": 2, "color": "red", "weight": 1.0}], '{"Response": {"0": 1}, "Other": {"0": 2}}', "exactly one column"),
    ],
)
def test_bad_tells_are_422_naming_the_field_and_store_nothing(client, headers, exp_uuid, covars, response, message):
    told = _tell(client, headers, exp_uuid, covars, response)
    assert told.status_code == 422, told.text
    assert message in told.json()["error"]
    assert client.get(f"/experiment/{exp_uuid}", headers=headers).json()["n_told"] == 0


def test_non_finite_responses_and_malformed_bodies(client, headers, exp_uuid):
    point = [{"v1": 2, "color": "red", "weight": 1.0}]
    for literal in (b"NaN", b"Infinity"):
        body = b'{"covars_tell": ' + json.dumps(point).encode() + b', "response_tell": [' + literal + b"]}"
        told = client.post(
            f"/experiment/tell/{exp_uuid}", headers={**headers, "content-type": "application/json"}, content=body
        )
        assert told.status_code == 422 and "not finite" in told.json()["error"]
    told = client.post(
        f"/experiment/tell/{exp_uuid}", headers={**headers, "content-type": "application/json"}, content=b"{"
    )
    assert told.status_code == 400
    assert _tell(client, headers, "no-such-uuid", point).status_code == 404
    assert client.get("/experiment/ask/no-such-uuid", headers=headers).status_code == 404
    assert client.get(f"/experiment/ask/{exp_uuid}?n=0", headers=headers).status_code == 422


@pytest.mark.parametrize(
    "change,message",
    [
        ({"covars": {"x": {"vtype": "int", "min": 5, "max": 1}}}, "x"),
        ({"covars": {"x": {"vtype": "float", "min": 0, "max": 1}}}, "vtype"),
        ({"covars": {"x": {"vtype": "cat", "options": []}}}, "x"),
        ({"covars": {"x": {"vtype": "cat", "options": ["a", "a"]}}}, "x"),
        ({"covars": {"x": {"vtype": "cont", "min": 0, "max": 1, "guess": 3}}}, "x"),
        ({"covars": {}}, "covars"),
        ({"model_type": "NoSuchGP"}, "NoSuchGP"),
        ({"acq_func": "Guessing"}, "Guessing"),
        ({"name": ""}, "name"),
    ],
)
def test_new_experiment_validation(client, headers, change, message):
    response = client.post("/experiment/new", json={**SEED_EXPERIMENT, **change}, headers=headers)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]


def test_auth_failures(client, backend, exp_uuid, headers):
    assert client.get(f"/experiment/{exp_uuid}").status_code == 401
    assert client.get(f"/experiment/{exp_uuid}").json()["error"].startswith("not authenticated")
    wrong = client.post("/auth/token", data={"username": "test@test.com", "password": "wrong password"})
    assert wrong.status_code == 401 and wrong.json() == {"error": "incorrect email or password"}
    nobody = client.post("/auth/token", data={"username": "nobody@test.com", "password": PASSWORD})
    assert nobody.status_code == 401 and nobody.json() == wrong.json()

    forged = jwt.encode(
        {"sub": "1", "type": "access_token", "exp": utcnow() + timedelta(minutes=5)},
        "a-forged-key-of-the-same-length-as-real-ones",
        "HS256",
    )
    expired = jwt.encode(
        {"sub": "1", "type": "access_token", "exp": utcnow() - timedelta(seconds=1)}, auth.signing_key(backend), "HS256"
    )
    tokens = login(client, backend)
    for token, message in [
        (forged, "not valid"),
        (expired, "expired"),
        ("garbage", "not valid"),
        (tokens["refresh_token"], "cannot be used here"),
    ]:
        response = client.get(f"/experiment/{exp_uuid}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and message in response.json()["error"], token

    other = bearer(login(client, backend, "other@test.com"))
    assert client.get(f"/experiment/{exp_uuid}", headers=other).status_code == 404
    assert _tell(client, other, exp_uuid, [{"v1": 2, "color": "red", "weight": 1.0}]).status_code == 404
    assert client.get("/experiments", headers=other).json() == []


def test_refresh_gives_a_new_pair_and_refuses_access_tokens(client, backend, exp_uuid):
    tokens = login(client, backend)
    refreshed = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert client.get(f"/experiment/{exp_uuid}", headers=bearer(refreshed.json())).status_code == 200
    assert client.post("/auth/refresh", json={"refresh_token": tokens["access_token"]}).status_code == 401


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_200_concurrent_tells_are_all_recorded(client, headers, exp_uuid):
    def tell(i: int) -> int:
        point = {"v1": i % 6, "color": ["red", "green", "blue"][i % 3], "weight": float(i)}
        return _tell(client, headers, exp_uuid, [point], [math.sin(i)]).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(tell, range(200)))
    assert statuses == [200] * 200
    shown = client.get(f"/experiment/{exp_uuid}", headers=headers).json()
    assert shown["n_told"] == 200
    assert sorted(t["covars"]["weight"] for t in shown["trials"]) == [float(i) for i in range(200)]


def _new(client, headers, **settings) -> str:
    response = client.post("/experiment/new", json={**SEED_EXPERIMENT, **settings}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["exp_uuid"]


def _ask(client, headers, exp_uuid, n=1) -> tuple[list[dict], list[int]]:
    asked = client.get(f"/experiment/ask/{exp_uuid}?n={n}", headers=headers)
    assert asked.status_code == 200, asked.text
    return json.loads(asked.json()["covars_next_exp"]), asked.json()["trial_ids"]


def _told(client, headers, exp_uuid, points, responses, trial_ids=None):
    body = {"covars_tell": points, "response_tell": responses}
    return client.post(f"/experiment/tell/{exp_uuid}", headers=headers, json={**body, "trial_ids": trial_ids})


def test_eight_workers_asking_at_once_get_eight_distinct_points_and_every_tell_is_kept(client, headers):
    exp_uuid = _new(client, headers, initial_points=3)
    first, ids = _ask(client, headers, exp_uuid, n=3)  # the initial design, then the GP
    assert _told(client, headers, exp_uuid, first, [1.0, 2.0, 3.0], ids).status_code == 200

    with ThreadPoolExecutor(max_workers=8) as pool:
        asked = list(pool.map(lambda _: _ask(client, headers, exp_uuid), range(8)))
    points = [points[0] for points, _ in asked]
    assert len({json.dumps(p, sort_keys=True) for p in points}) == 8  # the GP saw the others' pending points
    shown = client.get(f"/experiment/{exp_uuid}", headers=headers).json()
    assert (shown["n_told"], shown["n_pending"]) == (3, 8)

    def tell(pair) -> int:
        (point,), (trial_id,) = pair
        return _told(client, headers, exp_uuid, [point], [point["weight"]], [trial_id]).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(tell, asked)) == [200] * 8
    shown = client.get(f"/experiment/{exp_uuid}", headers=headers).json()
    assert (shown["n_told"], shown["n_pending"]) == (11, 0)
    assert sorted(t["response"] for t in shown["trials"][3:]) == sorted(p["weight"] for p in points)


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)
def test_200_concurrent_ask_tell_cycles_lose_and_repeat_nothing(client, headers):
    exp_uuid = _new(client, headers, initial_points=1000)  # design points only: the records are under test

    def cycle(i: int) -> tuple[int, str]:
        (point,), (trial_id,) = _ask(client, headers, exp_uuid)
        told = _told(client, headers, exp_uuid, [point], [float(i)], [trial_id])
        return told.status_code, json.dumps(point, sort_keys=True)

    with ThreadPoolExecutor(max_workers=16) as pool:
        done = list(pool.map(cycle, range(200)))
    assert [status for status, _ in done] == [200] * 200
    assert len({point for _, point in done}) == 200  # no two workers were handed the same point
    shown = client.get(f"/experiment/{exp_uuid}", headers=headers).json()
    assert (shown["n_told"], shown["n_pending"]) == (200, 0)
    assert sorted(t["response"] for t in shown["trials"]) == [float(i) for i in range(200)]


def test_tells_match_their_asks_by_id_or_point_and_a_lease_that_ran_out_frees_the_point(client, headers):
    import time

    exp_uuid = _new(client, headers, pending_lease_s=1)
    (guess,), (guess_id,) = _ask(client, headers, exp_uuid)
    (second,), (second_id,) = _ask(client, headers, exp_uuid)
    assert second != guess  # the guess is pending: the design went on past it
    assert _told(client, headers, exp_uuid, [second], [2.0]).status_code == 200  # by point: the asked trial
    shown = client.get(f"/experiment/{exp_uuid}", headers=headers).json()
    assert (shown["n_told"], shown["n_pending"]) == (1, 1)

    time.sleep(1.2)  # the guess's lease ends: its worker is gone, the point is free again
    (again,), (again_id,) = _ask(client, headers, exp_uuid)
    assert again == guess and again_id != guess_id
    late = _told(client, headers, exp_uuid, [guess], [1.0], [guess_id])  # the first worker was slow, not gone
    assert late.status_code == 200

    other = {"v1": 0, "color": "blue", "weight": 0.0}  # nobody asked for it: recorded as it is
    refused = [
        ([second], [guess_id], "is not a pending trial"),  # told already
        ([other], [999_999], "is not a pending trial"),
        ([other, other], [again_id, again_id], "must be distinct"),
        ([other], [again_id, None], "1 rows but trial_ids has 2"),
        ([other], [0], "must be distinct trial ids"),
    ]
    for points, ids, message in refused:
        response = _told(client, headers, exp_uuid, points, [0.0] * len(points), ids)
        assert response.status_code == 422 and message in response.json()["error"], response.text
    assert _told(client, headers, exp_uuid, [other], [3.0], [None]).status_code == 200
    shown = client.get(f"/experiment/{exp_uuid}", headers=headers).json()
    assert (shown["n_told"], shown["n_pending"]) == (3, 1)  # the re-asked guess is still out
    assert [t["response"] for t in shown["trials"]] == [1.0, 2.0, 3.0]  # by trial id: the order of the asks
    bad_lease = client.post("/experiment/new", json={**SEED_EXPERIMENT, "pending_lease_s": 0}, headers=headers)
    assert bad_lease.status_code == 422 and "pending_lease_s" in bad_lease.text


TWO_OBJECTIVES = {
    "name": "accuracy vs latency",
    "covars": {"depth": {"vtype": "int", "guess": 4, "min": 1, "max": 12}, "lr": {"vtype": "cont", "min": 0, "max": 1}},
    "responses": {"accuracy": {"direction": "maximize"}, "latency_ms": {"direction": "minimize", "reference": 10}},
    "constraints": ["memory_mb <= 100"],
}
TOLD = [  # (covars, metrics): rows 0-2 are the front; 3 is dominated; 4 dominates all but breaks the memory budget
    ({"depth": 4, "lr": 0.1}, {"accuracy": 0.90, "latency_ms": 4.0, "memory_mb": 50.0}),
    ({"depth": 8, "lr": 0.2}, {"accuracy": 0.95, "latency_ms": 6.0, "memory_mb": 80.0}),
    ({"depth": 2, "lr": 0.3}, {"accuracy": 0.80, "latency_ms": 2.0, "memory_mb": 20.0}),
    ({"depth": 3, "lr": 0.4}, {"accuracy": 0.70, "latency_ms": 3.0, "memory_mb": 30.0}),
    ({"depth": 12, "lr": 0.5}, {"accuracy": 0.99, "latency_ms": 1.0, "memory_mb": 500.0}),
]


def test_a_two_objective_experiment_with_a_constraint_gives_its_pareto_front(client, headers, backend):
    created = client.post("/experiment/new", json=TWO_OBJECTIVES, headers=headers)
    assert created.status_code == 201, created.text
    exp_uuid = created.json()["exp_uuid"]
    assert created.json()["constraints"] == ["memory_mb <= 100"]
    frame = pd.DataFrame([metrics for _, metrics in TOLD])
    told = client.post(
        f"/experiment/tell/{exp_uuid}",
        headers=headers,
        json={"covars_tell": pd.DataFrame([c for c, _ in TOLD]).to_json(), "response_tell": frame.to_json()},
    )
    assert told.status_code == 200, told.text
    front = pd.DataFrame([m for _, m in TOLD[:3]])  # the best rows are the front, as pandas writes them
    assert json.loads(told.json()["best_response"]) == json.loads(front.to_json())

    front = client.get(f"/experiment/{exp_uuid}/pareto", headers=headers)
    assert front.status_code == 200, front.text
    body = front.json()
    assert [p["covars"] for p in body["points"]] == [c for c, _ in TOLD[:3]]
    assert [p["metrics"] for p in body["points"]] == [m for _, m in TOLD[:3]]
    assert (body["n_told"], body["n_feasible"]) == (5, 4)
    # the accuracy's reference inferred (the front's worst 0.80 less a tenth of its range 0.15); latency's declared
    assert body["reference_point"] == pytest.approx({"accuracy": 0.785, "latency_ms": 10.0})
    # boxes above (0.785, 10): 0.115 x 6, 0.165 x 4, 0.015 x 8, less their overlaps 0.115 x 4 and 0.015 x 6
    assert body["hypervolume"] == pytest.approx(0.69 + 0.66 + 0.12 - 0.46 - 0.09) and body["hypervolume_exact"]

    asked = client.get(f"/experiment/ask/{exp_uuid}?n=3", headers=headers).json()  # the GP over three metrics
    points = json.loads(asked["covars_next_exp"])
    assert len({json.dumps(p, sort_keys=True) for p in points}) == 3 and all(1 <= p["depth"] <= 12 for p in points)
    records = [{"accuracy": 0.5, "latency_ms": 9.0, "memory_mb": 10.0}] * 3
    told = client.post(
        f"/experiment/tell/{exp_uuid}",
        headers=headers,
        json={"covars_tell": points, "response_tell": records, "trial_ids": asked["trial_ids"]},
    )
    assert told.status_code == 200, told.text
    shown = client.get(f"/experiment/{exp_uuid}", headers=headers).json()
    assert (shown["n_told"], shown["n_pending"]) == (8, 0) and shown["trials"][-1]["metrics"] == records[0]

    other = bearer(login(client, backend, email="other@test.com"))
    assert client.get(f"/experiment/{exp_uuid}/pareto", headers=other).status_code == 404  # not theirs
    assert client.get(f"/experiment/{exp_uuid}/pareto").status_code == 401


@pytest.mark.parametrize(
    "response,message",
    [
        ([0.9], "give every metric by name (accuracy, latency_ms, memory_mb)"),
        ([{"accuracy": 0.9, "latency_ms": 4.0}], "missing memory_mb"),
        ([{"accuracy": 0.9, "latency_ms": "fast", "memory_mb": 1.0}], "latency_ms = 'fast' is not a number"),
        ('{"accuracy": {"0": 0.9}, "latency_ms": {"0": 4.0}, "memory_mb": {"0": 1.0}, "os": {"0": 1}}', "unknown os"),
        ([{"accuracy": 1e200, "latency_ms": 4.0, "memory_mb": 1.0}], "accuracy = 1e+200 is beyond ±1e+30"),
        ({"columns": [["accuracy"]], "data": [[1]]}, "a split-orient table needs 'columns' (names)"),
        ({"columns": ["accuracy"], "data": [1]}, "a split-orient table needs 'columns' (names)"),
    ],
)
def test_a_tell_of_several_metrics_missing_or_mistyping_one_is_422_and_stores_nothing(
    client, headers, response, message
):
    exp_uuid = client.post("/experiment/new", json=TWO_OBJECTIVES, headers=headers).json()["exp_uuid"]
    told = _tell(client, headers, exp_uuid, [{"depth": 4, "lr": 0.1}], response)
    assert told.status_code == 422 and message in told.json()["error"], told.text
    assert client.get(f"/experiment/{exp_uuid}", headers=headers).json()["n_told"] == 0


@pytest.mark.parametrize(
    "change,message",
    [
        ({"responses": {"accuracy": {"direction": "up"}}}, "direction must be 'maximize' or 'minimize'"),
        ({"responses": {}}, "with 1 to 8 objectives"),
        ({"responses": {f"m{i}": "maximize" for i in range(9)}}, "responses"),
        ({"constraints": ["memory_mb < 100"]}, "must look like 'metric <= number'"),
        ({"constraints": ["m <= 1"] * 17}, "constraints"),
        ({"constraints": ["m" * 400 + " <= 1"]}, "constraints"),
    ],
)
def test_bad_objectives_and_constraints_are_422_naming_them(client, headers, change, message):
    response = client.post("/experiment/new", json={**TWO_OBJECTIVES, **change}, headers=headers)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]


def test_an_experiment_holds_at_most_max_trials_and_says_so(client, headers, exp_uuid, monkeypatch):
    monkeypatch.setattr(experiments, "MAX_TRIALS", 3)
    point = {"v1": 2, "color": "red", "weight": 1.0}
    assert _tell(client, headers, exp_uuid, [point, point], [1.0, 2.0]).status_code == 200
    full = _tell(client, headers, exp_uuid, [point, point], [1.0, 2.0])
    assert full.status_code == 409 and "holds 2 trials and may hold 3" in full.json()["error"], full.text
    assert client.get(f"/experiment/ask/{exp_uuid}?n=2", headers=headers).status_code == 409
    asked = client.get(f"/experiment/ask/{exp_uuid}", headers=headers)
    assert asked.status_code == 200, asked.text  # the last place
    assert (
        client.get(f"/experiment/{exp_uuid}", headers=headers).json()["n_told"] == 2
    )  # the refused tell stored nothing


def test_a_warm_started_experiment_copies_the_earlier_trials_that_fit_its_space_and_asks_from_them(
    client, headers, exp_uuid
):
    inside = [{"v1": v, "color": c, "weight": w} for v, c, w in [(0, "red", 1.0), (1, "green", 50.0), (3, "blue", 9.0)]]
    outside = [{"v1": 5, "color": "red", "weight": 150.0}, {"v1": 4, "color": "green", "weight": 120.0}]
    assert _tell(client, headers, exp_uuid, inside + outside, [3.0, 7.0, 5.0, 9.0, 8.0]).status_code == 200
    narrower = {**SEED_EXPERIMENT["covars"], "weight": {"vtype": "cont", "guess": 6.6, "min": -3.0, "max": 100.0}}
    body = {**SEED_EXPERIMENT, "covars": narrower, "initial_points": 3, "warm_start": f"experiment:{exp_uuid}"}
    created = client.post("/experiment/new", json=body, headers=headers)
    assert created.status_code == 201, created.text
    view = created.json()
    warm = view["warm_start"]
    assert (warm["source"], warm["seeded"], warm["dropped"]) == (f"experiment {exp_uuid}", 3, 2)
    assert warm["dropped_because"] == [
        f"experiment {exp_uuid} trial {t['trial_id']}: weight: {t['covars']['weight']} is outside [-3.0, 100.0]"
        for t in client.get(f"/experiment/{exp_uuid}", headers=headers).json()["trials"][3:]
    ]
    assert (view["n_seeded"], view["n_told"], view["best_response"]) == (3, 3, 7.0)  # the best of those that fit
    assert view["covars_best_response"] == inside[1]

    shown = client.get(f"/experiment/{view['exp_uuid']}", headers=headers).json()
    assert [t["covars"] for t in shown["trials"]] == inside
    earlier = client.get(f"/experiment/{exp_uuid}", headers=headers).json()["trials"]
    assert [t["seeded_from"] for t in shown["trials"]] == [
        f"experiment {exp_uuid} trial {t['trial_id']}" for t in earlier[:3]
    ]
    assert all("seeded_from" not in t for t in earlier)  # the source is left as it was
    # three seeded trials make the initial design of three: the first ask is the GP's, not the guess
    asked = json.loads(client.get(f"/experiment/ask/{view['exp_uuid']}", headers=headers).json()["covars_next_exp"])
    assert asked != [{"v1": 2, "color": "red", "weight": 6.6}] and 0 <= asked[0]["weight"] <= 100


def test_a_warm_start_of_several_objectives_takes_the_declared_metrics_and_a_plain_one_the_first(client, headers):
    source = client.post("/experiment/new", json=TWO_OBJECTIVES, headers=headers).json()["exp_uuid"]
    frame = pd.DataFrame([metrics for _, metrics in TOLD])
    _tell(client, headers, source, pd.DataFrame([c for c, _ in TOLD]).to_json(), frame.to_json())
    again = client.post(
        "/experiment/new", json={**TWO_OBJECTIVES, "warm_start": f"experiment:{source}"}, headers=headers
    )
    assert again.status_code == 201, again.text
    front = client.get(f"/experiment/{again.json()['exp_uuid']}/pareto", headers=headers).json()
    assert [p["covars"] for p in front["points"]] == [c for c, _ in TOLD[:3]]  # the same front, from the copies

    plain = {"name": "accuracy alone", "covars": TWO_OBJECTIVES["covars"], "warm_start": f"experiment:{source}"}
    created = client.post("/experiment/new", json=plain, headers=headers).json()
    assert created["n_seeded"] == 5 and created["best_response"] == 0.99  # its one Response: the first objective


@pytest.mark.parametrize(
    "warm_start,status,message",
    [
        ("experiment", 422, "warm_start must be experiment:<uuid> or sweep:<id or project>, got 'experiment'"),
        ("model:1", 422, "warm_start must be experiment:<uuid> or sweep:<id or project>, got 'model:1'"),
        ("experiment:no-such-uuid", 404, "there is no experiment no-such-uuid"),
        ("sweep:12345", 404, "there is no sweep"),
        ("x" * 201, 422, "warm_start"),
    ],
)
def test_a_warm_start_that_names_no_visible_records_is_refused_and_creates_nothing(
    client, headers, warm_start, status, message
):
    created = client.post("/experiment/new", json={**SEED_EXPERIMENT, "warm_start": warm_start}, headers=headers)
    assert created.status_code == status and message in created.json()["error"], created.text
    assert client.get("/experiments", headers=headers).json() == []


def test_a_warm_start_from_other_variables_or_without_the_metric_is_422_and_another_users_is_404(
    client, headers, backend, exp_uuid
):
    assert _tell(client, headers, exp_uuid, [{"v1": 2, "color": "red", "weight": 1.0}], [1.0]).status_code == 200
    other_space = {"name": "other", "covars": {"x": {"vtype": "cont", "min": 0, "max": 1}}}
    refused = client.post(
        "/experiment/new", json={**other_space, "warm_start": f"experiment:{exp_uuid}"}, headers=headers
    )
    assert refused.status_code == 422, refused.text
    assert (
        f"experiment {exp_uuid} has the variables v1, color, weight; this experiment has x" in refused.json()["error"]
    )
    several = {**SEED_EXPERIMENT, "responses": {"accuracy": "maximize"}, "warm_start": f"experiment:{exp_uuid}"}
    refused = client.post("/experiment/new", json=several, headers=headers)
    assert refused.status_code == 422 and "no trial of experiment" in refused.json()["error"], refused.text
    assert "has accuracy; it has Response" in refused.json()["error"]

    other = bearer(login(client, backend, "other@test.com"))
    theirs = client.post(
        "/experiment/new", json={**SEED_EXPERIMENT, "warm_start": f"experiment:{exp_uuid}"}, headers=other
    )
    assert theirs.status_code == 404 and theirs.json()["error"] == f"there is no experiment {exp_uuid}"
    assert client.get("/experiments", headers=other).json() == []
    assert len(client.get("/experiments", headers=headers).json()) == 1  # none of the refused ones was stored
