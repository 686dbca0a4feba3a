"""Every flow of prefect.yaml served from this one process, schedules included."""

from __future__ import annotations

from prefect import serve
from prefect.flows import load_flow_from_entrypoint

from deployments.catalog import deployments


def serve_all() -> None:
    runners = []
    for spec in deployments():
        flow = load_flow_from_entrypoint(spec.entrypoint)
        runners.append(
            flow.to_deployment(
                name=spec.name,
                description=spec.description,
                tags=spec.tags,
                parameters=spec.parameters,
                cron=spec.cron or None,
            )
        )
    serve(*runners)
