"""The ridge capability's records: the datasets it trains on and its models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from tunefleet.db.columns import Status, json_column, timestamp_column, utcnow


class Dataset(SQLModel, table=True):
    __tablename__ = "datasets"
    __record_name__ = "dataset"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # None: the operator's
    uri: str
    sha256: str | None = Field(default=None, index=True)  # None for data referenced by URI
    n_rows: int | None = None  # None until a referenced dataset has been read
    columns: list[str] = Field(sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class RidgeModel(SQLModel, table=True):
    __tablename__ = "ridge_models"
    __record_name__ = "model"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)  # None: the operator's
    status: Status = Field(default=Status.queued, index=True)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    dataset_id: int = Field(foreign_key="datasets.id")
    target: str
    n_folds: int
    fit_intercept: bool = True
    l2_coef: list[float] = Field(sa_column=json_column(nullable=False))
    shuffle: bool = False
    random_state: int | None = None
    model: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    cv_results: list[dict[str, Any]] | None = Field(default=None, sa_column=json_column())
    best_alpha: float | None = None
    artifact_uri: str | None = None
    flow_run_id: str | None = None
