"""`tunefleet sweep kill|retry` (hpogrid's `tasks kill|retry`) on real sweeps and their Prefect flow runs."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.states import Crashed, Running

from blocks.context import database
from flows.sweep import hpo_sweep
from infra.services import wait_for
from interfaces import runs
from tests.support.sweeps import SIMPLE_SPACE, fails, make_project, run_json, slow_trainable
from tunefleet.sweep import service as sweeps
from tunefleet.sweep.tables import SweepStatus

SPACE = {"x": {"method": "uniform", "dimension": {"low": 0, "high": 1}}}


def hpo(trials: int) -> dict:
    return {"algorithm": "random", "metric": "loss", "mode": "min", "scheduler": "fifo", "trials": trials, "stop": {}}


def flow_run_state(flow_run_id: str):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).state


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_kill_a_running_sweep_then_retry_it_here(backend, capsys, tmp_path):
    # 1 s a trial: 16 take 8 s on 2 workers, longer than the refused retry and the kill take even on a
    # fast machine (at 0.4 s, CI once finished every trial before the kill stopped the run)
    calls = slow_trainable(tmp_path, delay=1.0)
    make_project("slow", SPACE, hpo(16), "slow.py", "slow", scripts_path=tmp_path, compute=["--engine", "dask"])
    tunefleet = str(Path(sys.executable).parent / "tunefleet")
    first = subprocess.Popen(
        [tunefleet, "local-run", "slow", "--n-jobs", "2"], env=os.environ.copy(),
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "first.err").open("w"), start_new_session=True,
    )  # fmt: skip
    db = database(backend)
    try:

        def some_done() -> bool:
            found = sweeps.list(db, "slow")
            return bool(found) and sweeps.count_trials(db, found[0].id).get("complete", 0) >= 2

        wait_for(some_done, "2 trials done", timeout=60)
        [record] = sweeps.list(db, "slow")
        assert record.status is SweepStatus.running and record.flow_run_id
        # a sweep whose flow run is going is not retried behind its back
        assert "kill it first" in fails(capsys, "sweep", "retry", record.id, "--here")

        killed = run_json(capsys, "sweep", "kill", "slow")  # the project's latest sweep
        # Prefect stops only runs a worker started: the local-run process sees the kill and stops itself
        assert killed == {"sweep_id": record.id, "status": "paused", "flow_run_id": record.flow_run_id,
                          "flow_run_state": "Cancelled"}  # fmt: skip
        assert first.wait(timeout=60) == 1
        assert f"sweep {record.id} stopped: killed by the user" in (tmp_path / "first.err").read_text()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    state = flow_run_state(record.flow_run_id)
    assert state.is_final(), state
    record = sweeps.get(db, record.id)
    assert record.status is SweepStatus.paused  # the stopped run did not overwrite the kill
    done_before = sweeps.finished_keys(db, record.id)
    assert len(done_before) < 16
    calls_before = len(calls.read_text().split())
    shown = run_json(capsys, "sweep", "show", record.id)
    assert shown["status"] == "paused" and shown["flow_run_state"] == state.name

    result = run_json(capsys, "sweep", "retry", record.id, "--here", "--n-jobs", "2")
    assert result["sweep_id"] == record.id and result["status"] == "succeeded"
    trials = sweeps.trials(db, record.id)
    assert len(trials) == 16 and all(t.status.value == "complete" for t in trials)
    assert done_before <= {t.trial_key for t in trials}
    # exactly the unfinished trials ran again (any in flight at the kill once more), none of the finished
    assert len(calls.read_text().split()) - calls_before == 16 - len(done_before)
    record = sweeps.get(db, record.id)
    assert record.status is SweepStatus.succeeded and record.error is None
    assert run_json(capsys, "sweep", "show", "slow")["flow_run_state"] == "Completed"

    # a finished sweep is neither killed nor retried; its record stays as it is
    assert "succeeded: there is nothing to kill" in fails(capsys, "sweep", "kill", record.id)
    assert "succeeded: there is nothing to retry" in fails(capsys, "sweep", "retry", "slow", "--here")
    after = sweeps.get(db, record.id)
    assert (after.status, after.error, after.finished_at) == (record.status, record.error, record.finished_at)


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_kill_and_retry_of_what_is_not_there_or_not_running(backend, capsys, monkeypatch):
    assert "no sweep with id=4242" in fails(capsys, "sweep", "kill", "4242")
    assert "project 'nowhere' has no sweep" in fails(capsys, "sweep", "kill", "nowhere")
    assert "no sweep with id=4242" in fails(capsys, "sweep", "retry", "4242")

    make_project("quick", SIMPLE_SPACE, hpo(2), "simple_objective.py", "simple_objective", compute=["--engine", "dask"])
    db = database(backend)
    failed = sweeps.create(db, sweeps.project_config(db, "quick"))
    sweeps.finish(db, failed.id, SweepStatus.failed, "a trial failed")
    failed = sweeps.get(db, failed.id)
    assert f"sweep {failed.id} is failed: there is nothing to kill" in fails(capsys, "sweep", "kill", failed.id)
    assert sweeps.get(db, failed.id) == failed

    queued = sweeps.create(db, sweeps.project_config(db, "quick"))  # no flow run yet
    killed = run_json(capsys, "sweep", "kill", queued.id)
    assert killed == {"sweep_id": queued.id, "status": "paused", "flow_run_id": None, "flow_run_state": None}
    assert "is paused: there is nothing to kill" in fails(capsys, "sweep", "kill", queued.id)

    # sweeps whose process died: their flow runs crashed, or still say Running (SIGKILL, a lost machine)
    crashed = sweeps.create(db, sweeps.project_config(db, "quick"))
    orphan = sweeps.create(db, sweeps.project_config(db, "quick"))
    with get_client(sync_client=True) as client:  # real flow runs of hpo-sweep
        for record, state in ((crashed, Crashed(message="gone")), (orphan, Running())):
            run = client.create_flow_run(flow=hpo_sweep, parameters={"sweep_id": record.id}, state=state)
            sweeps.start(db, record.id, str(run.id))
    killed = run_json(capsys, "sweep", "kill", crashed.id)
    assert killed["status"] == "paused" and killed["flow_run_state"] == "Crashed"
    assert "already Crashed" in killed["note"]

    assert "kill it first" in fails(capsys, "sweep", "retry", orphan.id)
    monkeypatch.setattr(runs, "STOP_WAIT_S", 1.0)  # no process answers the kill: do not wait 30 s
    killed = run_json(capsys, "sweep", "kill", orphan.id)
    assert killed["status"] == "paused" and killed["flow_run_state"] == "Cancelled"
    assert "no tunefleet process stopped flow run" in killed["note"]
    assert flow_run_state(sweeps.get(db, orphan.id).flow_run_id).is_cancelled()

    for record in (crashed, orphan):
        result = run_json(capsys, "sweep", "retry", record.id, "--here", "--n-jobs", "1")
        assert result["sweep_id"] == record.id and result["status"] == "succeeded"
        assert result["counts"] == {"complete": 2}
        assert sweeps.get(db, record.id).status is SweepStatus.succeeded
