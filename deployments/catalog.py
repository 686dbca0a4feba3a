"""The deployments prefect.yaml declares, as data both `deploy` and `serve` use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PREFECT_YAML = REPO / "prefect.yaml"


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str
    work_pool: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    cron: list[str] = field(default_factory=list)


def deployments(path: Path = PREFECT_YAML) -> list[DeploymentSpec]:
    document = yaml.safe_load(path.read_text())
    return [
        DeploymentSpec(
            name=entry["name"],
            entrypoint=entry["entrypoint"],
            work_pool=entry["work_pool"]["name"],
            description=entry.get("description", ""),
            tags=entry.get("tags", []),
            parameters=entry.get("parameters") or {},
            cron=[s["cron"] for s in entry.get("schedules") or [] if "cron" in s],
        )
        for entry in document["deployments"]
    ]


def work_pools(path: Path = PREFECT_YAML) -> list[str]:
    return sorted({spec.work_pool for spec in deployments(path)} | {"cpu", "gpu"})
