"""The HPO sweep's records: named configs, sweeps and their trials."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from tunefleet.db.columns import json_column, timestamp_column, utcnow


class SweepStatus(str, Enum):
    queued = "queued"
    running = "running"
    paused = "paused"
    succeeded = "succeeded"
    failed = "failed"


class SweepTrialStatus(str, Enum):
    pending = "pending"  # known (sampled up front, or about to start), not started
    running = "running"
    complete = "complete"
    failed = "failed"  # after its retries; ``error`` says why
    stopped = "stopped"  # cut short by a scheduler (ASHA, HyperBand, median stopping) before its end


class SweepConfigRecord(SQLModel, table=True):
    """A named hpogrid-style config (search_space, hpo_config, model_config, compute_config, project)."""

    __tablename__ = "sweep_configs"
    __table_args__ = (UniqueConstraint("config_type", "name"),)
    __record_name__ = "config"

    id: int | None = Field(default=None, primary_key=True)
    config_type: str = Field(index=True)
    name: str
    body: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class Sweep(SQLModel, table=True):
    """One run (and its resumptions) of the ``hpo-sweep`` flow: a snapshot of its configs, its state."""

    __tablename__ = "sweeps"
    __record_name__ = "sweep"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # None: the operator's
    project: str = Field(index=True)
    config: dict[str, Any] = Field(sa_column=json_column(nullable=False))  # SweepConfig.to_dict()
    status: SweepStatus = Field(default=SweepStatus.queued, index=True)
    flow_run_id: str | None = None
    best_trial_key: str | None = None
    best_metric: float | None = None
    reports: dict[str, Any] | None = Field(default=None, sa_column=json_column())  # format -> URI
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class SweepTrial(SQLModel, table=True):
    """One trial of a sweep: its config, every intermediate result (``history``) and its last (``metrics``)."""

    __tablename__ = "sweep_trials"
    __table_args__ = (UniqueConstraint("sweep_id", "trial_key"),)
    __record_name__ = "trial"

    id: int | None = Field(default=None, primary_key=True)
    sweep_id: int = Field(foreign_key="sweeps.id", index=True)
    trial_key: str
    config: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    status: SweepTrialStatus = Field(default=SweepTrialStatus.pending)
    history: list[dict[str, Any]] | None = Field(default=None, sa_column=json_column())
    metrics: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    error: str | None = None
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())
