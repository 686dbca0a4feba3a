from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field


class ComputeCluster(Block):
    """Where a flow's tasks run: the thread pool, a Dask scheduler or a Ray cluster.

    ``address`` empty means a local cluster started for the flow run. ``hardware_tag``
    names the work pool (``cpu``, ``gpu``) whose workers can reach this cluster.
    """

    _block_type_name = "Tunefleet Compute Cluster"
    engine: Literal["thread", "dask", "ray"] = "thread"
    address: str | None = Field(default=None, description="tcp://scheduler:8786 or ray://head:10001")
    hardware_tag: str = "cpu"
