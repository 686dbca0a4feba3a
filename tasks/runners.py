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
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
    if engine == "ray":
        from prefect_ray import RayTaskRunner

        address = address or settings.ray_address
        if address:
            return RayTaskRunner(address=address)
        # "local": a new Ray instance for this flow run, even when another cluster runs on this machine.
        return RayTaskRunner(init_kwargs={"address": "local", "num_cpus": workers})
    raise InvalidInput(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def runner_from_block(name: str) -> TaskRunner:
    from blocks.compute import ComputeCluster

    cluster = ComputeCluster.load(name)
    return task_runner(cluster.engine, cluster.address)
