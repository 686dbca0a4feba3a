"""The task runner a flow evaluates on, chosen by configuration, never by code changes.

``thread`` — Prefect's thread pool (light work); ``dask`` — a DaskTaskRunner on a
local cluster, or on the scheduler at ``address``; ``ray`` — a RayTaskRunner on local
Ray, or on the cluster at ``address``. Without an address, ``TUNEFLEET_DASK_ADDRESS`` /
``TUNEFLEET_RAY_ADDRESS`` in the worker's environment name the cluster. A
``ComputeCluster`` block can name them too.
"""

from __future__ import annotations

import os

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from tunefleet.errors import InvalidInput
from tunefleet.settings import get_settings

ENGINES = ("thread", "dask", "ray")


def task_runner(engine: str = "thread", address: str | None = None, workers: int | None = None) -> TaskRunner:
    workers = workers or os.cpu_count() or 1
    settings = get_settings()
    if engine == "thread":
        return ThreadPoolTaskRunner(max_workers=workers)
    if engine == "dask":
        from prefect_dask import DaskTaskRunner

        address = address or settings.dask_address
        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "env": _prefect_env()}
        )
    if engine == "ray":
        from prefect_ray import RayTaskRunner

        address = address or settings.ray_address
        if address:
            return RayTaskRunner(address=address)
        # "local": a new Ray instance for this flow run, even when another cluster runs on this machine.
        return RayTaskRunner(
            init_kwargs={"address": "local", "num_cpus": workers, "runtime_env": {"env_vars": _prefect_env()}}
        )
    raise InvalidInput(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def _prefect_env() -> dict[str, str]:
    """The Prefect API of this flow run, for the workers of a local cluster. On the embedded
    defaults that is a temporary server: without its URL each worker process would start one of
    its own (three per sweep were seen, and one timed out under load and failed its sweep)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {"PREFECT_API_URL": str(client.api_url).rstrip("/")}


def runner_from_block(name: str) -> TaskRunner:
    from blocks.compute import ComputeCluster

    cluster = ComputeCluster.load(name)
    return task_runner(cluster.engine, cluster.address)
