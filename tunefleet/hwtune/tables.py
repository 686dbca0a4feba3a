"""The hardware-aware tuning's records: a tuning (its problem and data split) over a BO experiment,
and each trial's link to the candidate model it trained and the benchmark run that measured it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from tunefleet.db.columns import Status, json_column, timestamp_column, utcnow


class HwTuning(SQLModel, table=True):
    """A hardware-aware tuning: its problem (``HwProblem.to_dict``), its experiment, its stored split."""

    __tablename__ = "hw_tunings"
    __record_name__ = "hardware-aware tuning"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    experiment_id: int = Field(foreign_key="experiments.id", unique=True)
    name: str
    problem: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    train_uri: str
    validation_uri: str
    status: Status = Field(default=Status.queued, index=True)  # of its latest run
    error: str | None = None
    flow_run_id: str | None = None
    budget: dict[str, Any] | None = Field(default=None, sa_column=json_column())  # its latest run's iterations, batch
    # the candidates stored by ``pick``: [{model_id, name, trial_id, max_latency_ms}]
    picks: list[Any] | None = Field(default=None, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class HwTrial(SQLModel, table=True):
    """What one trial of a tuning trained and measured: written once the candidate is stored, so a
    resumed run measures (or reads) that candidate instead of training it again."""

    __tablename__ = "hw_trials"
    __record_name__ = "hardware-aware trial"

    id: int | None = Field(default=None, primary_key=True)
    tuning_id: int = Field(foreign_key="hw_tunings.id", index=True)
    trial_id: int = Field(foreign_key="trials.id", unique=True)
    serving: str
    model_id: int = Field(foreign_key="inference_models.id")
    run_id: int = Field(foreign_key="benchmark_runs.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
