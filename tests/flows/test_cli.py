"""The `tunefleet` command line, run as a user would: a subprocess with the environment."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from blocks.context import database
from infra.services import wait_for
from tests.support.ridge import SEED_CSV
from tunefleet.bo import service as experiments

TUNEFLEET = str(Path(sys.executable).parent / "tunefleet")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TUNEFLEET, *args], capture_output=True, text=True, env=os.environ.copy(), timeout=300)


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(SEED_CSV)
    return path


@pytest.mark.parametrize("backend", ["postgres-s3"], indirect=True)  # the service's own tests run on both
def test_train_show_predict_list(backend, csv_file, tmp_path):
    trained = run_cli(
        "ridge", "train", str(csv_file), "--target", "a", "--folds", "4", "--l2", "1", "10", "100", "--wait"
    )
    assert trained.returncode == 0, trained.stderr
    model = json.loads(trained.stdout)
    assert model["status"] == "succeeded" and set(model["model"]["coef"]) == {"b", "c"}
    assert [row["param_value"] for row in model["cv_results"]] == [1.0, 10.0, 100.0]

    shown = run_cli("ridge", "show", str(model["model_id"]))
    assert shown.returncode == 0 and json.loads(shown.stdout)["model"] == model["model"]

    rows = tmp_path / "rows.csv"
    rows.write_text("c,b\n0.0,2.0\n2.0,0.0\n")
    predicted = run_cli("ridge", "predict", str(model["model_id"]), str(rows))
    assert predicted.returncode == 0, predicted.stderr
    coef, intercept = model["model"]["coef"], model["model"]["intercept"]
    assert json.loads(predicted.stdout)["result"] == pytest.approx(
        [intercept + 2.0 * coef["b"], intercept + 2.0 * coef["c"]], rel=1e-9
    )
    listed = run_cli("ridge", "list")
    assert listed.stdout.startswith(f"{model['model_id']}\tsucceeded\ta\t")


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_bad_input_exits_non_zero_with_a_message(backend, csv_file, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n")
    cases = [
        (["ridge", "train", str(tmp_path / "missing.csv"), "--target", "a"], "No such file"),
        (["ridge", "train", str(bad), "--target", "a"], "non-numeric columns: b"),
        (["ridge", "train", str(csv_file), "--target", "zz"], "target column 'zz'"),
        (["ridge", "train", str(csv_file), "--target", "a", "--folds", "1"], "at least 2"),
        (["ridge", "train", str(csv_file), "--target", "a", "--l2", "-1"], ">= 0"),
        (["ridge", "show", "77"], "no model with id=77"),
        (["ridge", "predict", "77", str(csv_file)], "no model with id=77"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 1, args
        assert message in result.stderr, (args, result.stderr)
    usage = run_cli("ridge", "train", str(csv_file), "--target", "a", "--folds", "four")
    assert usage.returncode == 1 and usage.stderr.startswith("error: argument --folds: invalid int value")
    assert "(see: tunefleet ridge train --help)" in usage.stderr and "usage:" not in usage.stderr


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_users_are_created_with_a_role_listed_disabled_and_enabled(backend):
    created = subprocess.run(
        [TUNEFLEET, "user", "create", "ops@example.com", "--role", "admin", "--password-stdin"],
        input="a long password\n", capture_output=True, text=True, env=os.environ.copy(), timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout) == {"id": 1, "email": "ops@example.com", "role": "admin", "active": True}
    assert run_cli("user", "list").stdout == "1\tops@example.com\tadmin\tactive\n"
    assert json.loads(run_cli("user", "disable", "ops@example.com").stdout)["active"] is False
    assert run_cli("user", "list").stdout.endswith("\tdisabled\n")
    assert json.loads(run_cli("user", "enable", "ops@example.com").stdout)["active"] is True
    missing = run_cli("user", "disable", "nobody@example.com")
    assert missing.returncode == 1 and "there is no user nobody@example.com" in missing.stderr
    bad_role = run_cli("user", "create", "x@example.com", "--role", "root", "--password-stdin")
    assert bad_role.returncode == 1 and bad_role.stderr.startswith("error: argument --role: invalid choice")


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_ctrl_c_ends_a_run_here_with_one_line_and_keeps_its_records(backend, tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"x1": {"vtype": "cont", "guess": 0.5, "min": -5, "max": 10}}))
    run = subprocess.Popen(
        [TUNEFLEET, "bo", "run", str(space), "--objective", "tunefleet.objectives:branin", "--objective-args",
         '{"x2": 2.0}', "--iterations", "500", "--initial-points", "500"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip

    def evaluated() -> bool:
        return any(
            experiments.count_trials(database(backend), exp).get("complete")
            for exp in experiments.list(database(backend))
        )

    wait_for(evaluated, "the first evaluations", timeout=120)
    run.send_signal(signal.SIGINT)  # Ctrl-C
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130 and out == "", err
    assert err.endswith("interrupted\n") and "Traceback" not in err, err
    assert evaluated()  # what ran stays recorded


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)  # the API tests cover PostgreSQL
def test_experiment_ask_gives_trial_ids_and_tell_completes_them(backend, tmp_path):
    spec = tmp_path / "exp.json"
    spec.write_text(json.dumps({"name": "cli", "covars": {"x": {"vtype": "cont", "guess": 0.5, "min": 0, "max": 1}}}))
    created = run_cli("experiment", "new", str(spec))
    assert created.returncode == 0, created.stderr
    exp_uuid = json.loads(created.stdout)["exp_uuid"]
    asked = run_cli("experiment", "ask", exp_uuid, "-n", "2")
    assert asked.returncode == 0, asked.stderr
    handed = json.loads(asked.stdout)
    assert [h["point"]["x"] for h in handed][0] == 0.5 and len({h["trial_id"] for h in handed}) == 2
    points = json.dumps([h["point"] for h in handed])
    ids = [str(h["trial_id"]) for h in handed]
    told = run_cli("experiment", "tell", exp_uuid, points, "1.0", "2.0", "--trial-ids", *ids)
    assert told.returncode == 0, told.stderr
    shown = json.loads(run_cli("experiment", "show", exp_uuid).stdout)
    assert (shown["n_told"], shown["n_pending"]) == (2, 0)
    again = run_cli("experiment", "tell", exp_uuid, points, "1.0", "2.0", "--trial-ids", *ids)
    assert again.returncode == 1 and "is not a pending trial of this experiment" in again.stderr


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_experiment_pareto_gives_the_feasible_front_of_a_two_objective_experiment(backend, tmp_path):
    spec = tmp_path / "exp.json"
    spec.write_text(
        json.dumps({
            "name": "two objectives",
            "covars": {"x": {"vtype": "cont", "guess": 0.5, "min": 0, "max": 1}},
            "responses": {"accuracy": "maximize", "latency_ms": {"direction": "minimize", "reference": 10}},
            "constraints": ["latency_ms <= 5"],
        })
    )  # fmt: skip
    exp_uuid = json.loads(run_cli("experiment", "new", str(spec)).stdout)["exp_uuid"]
    points = json.dumps([{"x": 0.1}, {"x": 0.2}, {"x": 0.3}])
    metrics = [
        {"accuracy": 0.8, "latency_ms": 2},
        {"accuracy": 0.9, "latency_ms": 4},
        {"accuracy": 1.0, "latency_ms": 7},
    ]
    told = run_cli("experiment", "tell", exp_uuid, points, json.dumps(metrics))
    assert told.returncode == 0, told.stderr
    front = run_cli("experiment", "pareto", exp_uuid)
    assert front.returncode == 0, front.stderr
    body = json.loads(front.stdout)
    assert [p["covars"] for p in body["points"]] == [{"x": 0.1}, {"x": 0.2}]  # x = 0.3 breaks the latency bound
    # reference: accuracy 0.79 (the worst feasible less a tenth of the range), latency 10 (declared)
    assert body["hypervolume"] == pytest.approx(0.11 * 6 + 0.01 * 8 - 0.01 * 6)
    bad = run_cli("experiment", "tell", exp_uuid, json.dumps([{"x": 0.4}]), "0.9")
    assert bad.returncode == 1 and "give every metric by name (accuracy, latency_ms)" in bad.stderr
