"""The test suite's tiers, by how much of the stack a test needs:

- ``tests/core``: the core library alone (no Prefect, no database server, no object store);
- ``tests/flows``: flows, the API and the CLI against a Prefect server, PostgreSQL and S3 that the
  suite starts (``tests/support/fixtures.py``);
- ``tests/e2e``: the production stack as processes (workers, deployments, ``infra/local-stack``).

A Prefect server starts only when the run holds tests beyond ``tests/core``: ``pytest tests/core``
needs no services.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import pytest

from infra.services import PrefectServer

pytest_plugins = ["tests.support.fixtures"]

CORE = Path(__file__).parent / "core"

_prefect: PrefectServer | None = None


def _core_only(config) -> bool:
    paths = [Path(arg.split("::", 1)[0]).resolve() for arg in config.args] or [Path.cwd()]
    return all(path.is_relative_to(CORE) for path in paths)


def pytest_configure(config) -> None:
    """Start Prefect before anything imports it, so every thread and subprocess sees the same API."""
    global _prefect
    if os.environ.get("PYTEST_XDIST_WORKER") is None and not config.option.collectonly and not _core_only(config):
        _prefect = PrefectServer().start()
        os.environ.update(_prefect.env())
        # Registered before Prefect is imported, so it runs after Prefect's own exit hooks
        # have flushed logs and events to the server.
        atexit.register(_prefect.stop)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item (``item.rep_call``), for fixtures that keep evidence of
    a failure (tests/e2e/test_browser.py's screenshots)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
