"""Reading what a flow published: its Prefect artifacts by key, its runs by tag, and the files its
signed links open."""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterTags,
    LogFilter,
    LogFilterFlowRunId,
)

from infra.services import wait_for

PUBLIC_URL = "http://testserver"
"""The API's public address in these tests: TestClient's, so a published link opens through it."""

IMAGE = re.compile(r"!\[[^\]]*\]\((?P<url>[^)\s]+)\)")


def artifacts(key: str) -> list:
    """Every artifact published under ``key``, the newest first."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    return sorted(found, key=lambda artifact: artifact.created, reverse=True)


def local(url: str) -> str:
    """A published link as a path and query for TestClient."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL, url
    return f"{parts.path}?{parts.query}"


def inline_images(markdown: str) -> list[str]:
    return IMAGE.findall(markdown)


def flow_run(flow_run_id: str):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(flow_run_id))


def runs_tagged(tag: str) -> list:
    """The names of the flow runs tagged ``tag``."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])))
    return sorted(run.name for run in runs)


def logged(flow_run_ids: list, start: str, timeout: float = 60.0) -> list[str]:
    """The log lines of these flow runs (their tasks' included) that start with ``start``, once
    there are any: Prefect sends logs to the server in batches, a little after they are written."""
    found: list[str] = []

    def arrived() -> bool:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[*map(UUID, flow_run_ids)])))
        found[:] = [log.message for log in logs if log.message.startswith(start)]
        return bool(found)

    wait_for(arrived, f"log lines starting {start!r}", timeout)
    return found


def log_info(monkeypatch) -> None:
    """Prefect's INFO lines sent to the server for this test, here and in processes started from here
    (the suite runs Prefect at WARNING: the servers' log tables stay small)."""
    import logging

    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "INFO")
    prefect_logger = logging.getLogger("prefect")
    monkeypatch.setattr(prefect_logger, "level", logging.INFO)


def task_run_names(tag: str) -> list[str]:
    """The names of the task runs of the flow runs tagged ``tag``."""
    from prefect.client.schemas.filters import FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])))
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[r.id for r in runs])))
    return sorted(task.name for task in tasks)
