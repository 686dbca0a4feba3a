"""The embedded defaults' one local Prefect server: the first command that runs a flow starts it,
every later command uses it (one UI with every run), a crashed one is started again, and
``tunefleet server stop`` stops it. Run as a new user would: no Prefect or tunefleet settings."""

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from infra.services import pid_alive, wait_for
from tests.support.paths import REPO
from tests.support.ridge import SEED_CSV

TUNEFLEET = str(Path(sys.executable).parent / "tunefleet")


@pytest.fixture
def new_user(tmp_path: Path):
    """A user's environment with no Prefect or tunefleet settings; its local server is stopped after
    the test, whatever the test got to (a server left running would outlive the suite)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TUNEFLEET_"))}
    home = tmp_path / "home"
    home.mkdir()
    env = {**env, "HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    yield env
    subprocess.run([TUNEFLEET, "server", "stop"], env=env, cwd=REPO, capture_output=True, timeout=60)


def _tunefleet(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([TUNEFLEET, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _status(env: dict) -> dict:
    return json.loads(_tunefleet(env, "server", "status").stdout)


def _ridge_runs(api: str) -> int:
    found = httpx.post(f"{api}/flow_runs/filter", json={"flows": {"name": {"any_": ["ridge-cv"]}}}, timeout=10)
    return len(found.json())


def test_commands_share_one_local_prefect_server_until_it_is_stopped(new_user, tmp_path):
    env = new_user
    data = tmp_path / "train.csv"
    data.write_text(SEED_CSV)
    train = ("ridge", "train", str(data), "--target", "a", "--folds", "2", "--l2", "1", "10")
    assert _status(env) == {"running": False}

    with ThreadPoolExecutor(2) as pool:  # two commands at once start one server
        both = list(pool.map(lambda _: _tunefleet(env, "server", "start"), range(2)))
    assert sorted("note: started" in done.stderr for done in both) == [False, True]
    server = json.loads(both[0].stdout)
    assert server == json.loads(both[1].stdout) and server["running"] is True
    assert server["ui"].startswith("http://127.0.0.1:")

    for _ in range(2):
        assert "note:" not in _tunefleet(env, *train).stderr  # the running server, not a new one
    assert _status(env)["pid"] == server["pid"]
    assert _ridge_runs(server["api"]) == 2  # both runs in the one UI

    os.killpg(server["pid"], signal.SIGKILL)  # it crashed: the next command starts it again
    wait_for(lambda: not pid_alive(server["pid"]), "the killed server to exit", 20)
    assert _status(env) == {"running": False}
    assert "note: started" in _tunefleet(env, *train).stderr
    again = _status(env)
    assert again["running"] is True and again["pid"] != server["pid"]
    assert _ridge_runs(again["api"]) == 3  # Prefect's database kept the earlier runs

    assert json.loads(_tunefleet(env, "server", "stop").stdout) == {"running": False, "stopped": again["ui"]}
    assert not pid_alive(again["pid"])
    assert _status(env) == {"running": False}
    assert json.loads(_tunefleet(env, "server", "stop").stdout) == {"running": False}
