"""``tunefleet deploy``: work pools, block types and deployments; running it twice changes nothing."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists

from blocks.compute import ComputeCluster
from blocks.storage import TunefleetDatabase, TunefleetStorage
from deployments.catalog import REPO, work_pools

log = logging.getLogger(__name__)


def ensure_work_pools() -> list[str]:
    """Create the process work pools prefect.yaml names (and cpu, gpu) if they are missing."""
    created = []
    with get_client(sync_client=True) as client:
        for name in work_pools():
            try:
                client.create_work_pool(WorkPoolCreate(name=name, type="process"))
                created.append(name)
            except ObjectAlreadyExists:
                pass
    return created


def register_blocks() -> None:
    for block in (TunefleetDatabase, TunefleetStorage, ComputeCluster):
        block.register_type_and_schema()


def deploy_all() -> None:
    """Apply every deployment of prefect.yaml (the code is pulled from TUNEFLEET_CODE_DIR)."""
    env = {**os.environ, "TUNEFLEET_CODE_DIR": os.environ.get("TUNEFLEET_CODE_DIR", str(REPO))}
    prefect = Path(sys.executable).parent / "prefect"
    result = subprocess.run(
        [str(prefect), "--no-prompt", "deploy", "--all"], cwd=REPO, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"prefect deploy failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def deploy() -> dict:
    created = ensure_work_pools()
    register_blocks()
    deploy_all()
    return {"work_pools_created": created, "deployments": "applied from prefect.yaml"}
