"""Reading what a flow published: its Prefect artifacts by key, its runs by tag, and the files its
signed links open."""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterTags

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
