"""The embedded defaults stay quiet and quick: no telemetry unless asked for, time for a first start,
read-only commands that load little."""

import logging
import os
import subprocess
import sys

import pytest

CHECK = (
    "import interfaces.cli; from prefect.settings import get_current_settings; server = get_current_settings().server; "
    "print(server.analytics_enabled, server.ephemeral.startup_timeout_seconds)"
)
TUNED = ("PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")


@pytest.mark.parametrize(("given", "expected"), [({}, "False 120"), (dict(zip(TUNED, ("true", "30"))), "True 30")])
def test_the_temporary_server_sends_no_telemetry_and_may_take_two_minutes_unless_the_operator_says(given, expected):
    env = {k: v for k, v in os.environ.items() if k not in TUNED}
    shown = subprocess.run(
        [sys.executable, "-c", CHECK], env={**env, **given}, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == expected


def test_task_runs_that_complete_log_nothing_and_the_other_ends_still_do(caplog):
    import tasks  # noqa: F401 (installs the filter, as every process running tunefleet's tasks does)

    logger = logging.getLogger("prefect.task_runs")
    with caplog.at_level(logging.INFO, logger="prefect.task_runs"):
        logger.info("Finished in state %s", "Completed()")
        logger.error("Finished in state Failed('boom')")
        logger.info("Task run 'x' received parameters")
    assert [r.getMessage() for r in caplog.records] == [
        "Finished in state Failed('boom')",
        "Task run 'x' received parameters",
    ]


def test_an_interrupt_and_the_errors_it_causes_in_prefect_log_their_line_without_a_traceback(caplog):
    import tasks  # noqa: F401 (installs the filter)

    logger = logging.getLogger("prefect.flow_runs")

    def logged_while(raise_it) -> logging.LogRecord:
        caplog.clear()
        try:
            raise_it()
        except BaseException:
            logger.exception("Encountered exception during execution")
        return caplog.records[-1]

    def inside_prefect():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ValueError("Task run is not set")  # noqa: B904 - as Prefect's engine raises it

    def a_bug():
        raise ValueError("a real error")

    with caplog.at_level(logging.INFO, logger="prefect.flow_runs"):
        interrupted, crashed, failed = (logged_while(f) for f in (_raise(KeyboardInterrupt), inside_prefect, a_bug))
    assert interrupted.exc_info is None and crashed.exc_info is None
    assert crashed.getMessage() == "Encountered exception during execution"  # the line stays
    assert failed.exc_info is not None  # a real error keeps its traceback


def test_the_cli_ends_an_error_an_interrupt_caused_as_it_ends_the_interrupt(monkeypatch, capsys):
    from interfaces import cli
    from interfaces.commands import experiments

    def interrupted_inside_prefect(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ValueError("Task run is not set")  # noqa: B904 - as Prefect's engine raises it

    monkeypatch.setattr(experiments, "list_experiments", interrupted_inside_prefect)
    assert cli.main(["experiment", "list"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
    monkeypatch.setattr(experiments, "list_experiments", lambda args: _raise(ValueError("a real error"))())
    with pytest.raises(ValueError, match="a real error"):  # a bug keeps its traceback
        cli.main(["experiment", "list"])


def _raise(kind):
    def raising():
        raise kind

    return raising


@pytest.mark.parametrize(
    ("env", "profiles", "configured"),
    [
        ({"PREFECT_API_URL": "http://prefect:4200/api"}, None, "http://prefect:4200/api"),
        ({}, None, None),  # the embedded defaults: tunefleet's shared local server
        (
            {},
            'active = "prod"\n[profiles.prod]\nPREFECT_API_URL = "http://prefect:4200/api"\n',
            "http://prefect:4200/api",
        ),
        ({"PREFECT_PROFILE": "local"}, 'active = "prod"\n[profiles.prod]\nPREFECT_API_URL = "http://p/api"\n', None),
        ({}, 'active = "ephemeral"\n[profiles.ephemeral]\nPREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n', None),
        ({}, "not toml [", None),
    ],
)
def test_read_only_commands_know_without_prefect_whether_a_server_is_configured(
    monkeypatch, tmp_path, env, profiles, configured
):
    from interfaces.local_prefect import configured_api_url

    for name in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if profiles is not None:
        (tmp_path / "profiles.toml").write_text(profiles)
    assert configured_api_url() == configured


LOADED = (
    "import sys; from interfaces.cli import main; main(sys.argv[1:]); "
    "print(sorted(m for m in ('pandas', 'alembic', 'prefect') if m in sys.modules), file=sys.stderr)"
)


@pytest.mark.parametrize("command", [["sweep", "list"], ["experiment", "list"], ["ridge", "list"]])
def test_read_only_commands_load_neither_prefect_nor_pandas_nor_alembic(tmp_path, command):
    """What keeps them quick on the embedded defaults (the seconds are measured in the closing notes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "TUNEFLEET_"))}
    env.update(TUNEFLEET_HOME=str(tmp_path), TUNEFLEET_ENV_FILE=str(tmp_path / "none"), PREFECT_HOME=str(tmp_path))
    subprocess.run(
        [sys.executable, "-c", LOADED, "sweep", "list"], env=env, capture_output=True, check=True
    )  # migrates
    answered = subprocess.run([sys.executable, "-c", LOADED, *command], env=env, capture_output=True, text=True)
    assert answered.stderr.splitlines()[-1] == "[]", answered.stderr


CREATE = (
    "import sys; from tunefleet.db import open_database; from tunefleet.bo import service; "
    "exp = service.create(open_database(sys.argv[1]), service.ExperimentSpec('e', "
    "{'x': {'vtype': 'cont', 'guess': 0.5, 'min': 0.0, 'max': 1.0}})); print(exp.id)"
)


def test_a_process_that_opens_a_migrated_database_resolves_every_foreign_key(tmp_path):
    """The quick start (no Alembic at the head) still registers every table: an experiment's
    owner_id names users.id, which only tunefleet.users declares."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    first = subprocess.run([sys.executable, "-c", CREATE, url], capture_output=True, text=True)  # migrates
    again = subprocess.run([sys.executable, "-c", CREATE, url], capture_output=True, text=True)  # at the head
    assert (first.stdout, again.stdout) == ("1\n", "2\n"), again.stderr[-2000:]
