"""The inference benchmark's records: uploaded models, benchmark runs and their cells."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from tunefleet.db.columns import Status, json_column, timestamp_column, utcnow


class InferenceModel(SQLModel, table=True):
    """A trained model uploaded for benchmarking, with the validation set it is judged on."""

    __tablename__ = "inference_models"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_inference_models_owner_id_name"),)
    __record_name__ = "model"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # None: the operator's
    name: str = Field(index=True)  # unique among its owner's models
    task: str  # classification | regression
    framework: str
    model_type: str
    n_features: int
    classes: list[Any] | None = Field(default=None, sa_column=json_column())
    n_samples: int
    class_distribution: dict[str, int] | None = Field(default=None, sa_column=json_column())
    size_bytes: int
    sha256: str
    model_uri: str
    data_uri: str
    target: str
    properties: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class BenchmarkRun(SQLModel, table=True):
    """One run of the ``benchmark`` flow over one model: its plan, state and report."""

    __tablename__ = "benchmark_runs"
    __record_name__ = "benchmark run"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # None: the operator's
    model_id: int = Field(foreign_key="inference_models.id", index=True)
    status: Status = Field(default=Status.queued, index=True)
    config: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    error: str | None = None
    report: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    flow_run_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class CellStatus(str, Enum):
    measured = "measured"
    skipped = "skipped"  # not runnable here; ``reason`` says why
    failed = "failed"


class BenchmarkCell(SQLModel, table=True):
    """One platform × optimisation × hardware cell of a benchmark run, measured or skipped."""

    __tablename__ = "benchmark_cells"
    __table_args__ = (UniqueConstraint("run_id", "hardware", "platform", "optimisation"),)
    __record_name__ = "benchmark cell"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="benchmark_runs.id", index=True)
    hardware: str
    platform: str
    optimisation: str
    status: CellStatus
    reason: str | None = None
    metrics: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
