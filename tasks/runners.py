"""The task runner a flow evaluates on, chosen by configuration, never by code changes.

``thread`` — Prefect's thread pool (light work); ``dask`` — a DaskTaskRunner on a
local cluster, or on the scheduler at ``address``; ``ray`` — a RayTaskRunner on local
Ray, or on the cluster at ``address``. Without an address, ``TUNEFLEET_DASK_ADDRESS`` /
``TUNEFLEET_RAY_ADDRESS`` in the worker's environment name the cluster. A
``ComputeCluster`` block can name them too.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

from prefect import get_run_logger
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from tunefleet.errors import InvalidInput
from tunefleet.settings import get_settings

ENGINES = ("thread", "dask", "ray")


@contextlib.contextmanager
def started(engine: str = "thread", address: str | None = None, workers: int | None = None) -> Iterator[TaskRunner]:
    """The task runner entered, with a log line saying how long its start took: a local cluster's
    start is seconds of a short run, and people should see where the time went."""
    runner, description = _runner(engine, address, workers)
    began = time.perf_counter()
    with runner:
        get_run_logger().info("%s started in %.1f s", description, time.perf_counter() - began)
        yield runner


def _runner(engine: str, address: str | None, workers: int | None) -> tuple[TaskRunner, str]:
    """The task runner, and what it is in words (``a local Dask cluster of 2 workers``)."""
    workers = workers or os.cpu_count() or 1
    settings = get_settings()
    if engine == "thread":
        return ThreadPoolTaskRunner(max_workers=workers), f"a thread pool of {workers}"
    if engine == "dask":
        from prefect_dask import DaskTaskRunner

        address = address or settings.dask_address
        if address:
            return DaskTaskRunner(address=address), f"the Dask cluster at {address}"
        local = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "env": _prefect_env()}
        return DaskTaskRunner(cluster_kwargs=local), f"a local Dask cluster of {workers} workers"
    if engine == "ray":
        from prefect_ray import RayTaskRunner

        address = address or settings.ray_address
        if address:
            return RayTaskRunner(address=address), f"the Ray cluster at {address}"
        # "local": a new Ray instance for this flow run, even when another cluster runs on this machine.
        local = {"address": "local", "num_cpus": workers, "runtime_env": {"env_vars": _prefect_env()}}
        return RayTaskRunner(init_kwargs=local), f"a local Ray instance of {workers} CPUs"
    raise InvalidInput(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def _prefect_env() -> dict[str, str]:
    """The Prefect API of this flow run, for the workers of a local cluster. On the embedded
    defaults that is a temporary server: without its URL each worker process would start one of
    its own (three per sweep were seen, and one timed out under load and failed its sweep)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {"PREFECT_API_URL": str(client.api_url).rstrip("/")}


def block_cluster(name: str) -> tuple[str, str | None]:
    """The engine and address a ComputeCluster block names."""
    from blocks.compute import ComputeCluster

    cluster = ComputeCluster.load(name)
    return cluster.engine, cluster.address
