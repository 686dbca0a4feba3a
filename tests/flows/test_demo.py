"""`tunefleet demo`, the README's main job: a small run of each capability, each recorded, and where to look."""

import pytest

from blocks.context import database
from interfaces.demo import KEYS, run_demo
from tunefleet.bench import service as benchmarking
from tunefleet.bo import service as experiments
from tunefleet.db.columns import Status
from tunefleet.ridge import service as ridge_service
from tunefleet.sweep import service as sweeps
from tunefleet.sweep.tables import SweepStatus


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_the_demo_runs_each_capability_once_and_says_where_to_look(backend, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at the terminal's width
    assert run_demo() == 0
    out = capsys.readouterr().out
    db = database(backend)
    [model] = ridge_service.list(db)
    assert model.status is Status.succeeded and f"ridge-model-{model.id}-cv" in out
    [exp] = experiments.list(db)
    assert exp.name == KEYS["bo"] and experiments.count_trials(db, exp) == {"complete": 12}
    [sweep] = sweeps.list(db)
    assert sweep.status is SweepStatus.succeeded and sweeps.count_trials(db, sweep.id) == {"complete": 8}
    [run] = benchmarking.list(db)
    assert run.status is Status.succeeded and run.report["fastest"]
    for key in ("bo-demo-branin", "sweep-demo", "benchmark-demo-forest"):
        assert f"artifact {key}" in out
    assert "/artifacts" in out.split("where to look")[1]  # the Prefect UI this run reported to
