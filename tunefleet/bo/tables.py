"""The Bayesian-optimisation capability's records: experiments and their trials."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlmodel import Field, SQLModel

from tunefleet.db.columns import json_column, timestamp_column, utcnow


class Experiment(SQLModel, table=True):
    """A Bayesian-optimisation experiment: its space and settings; its trials hold the data."""

    __tablename__ = "experiments"
    __record_name__ = "experiment"

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(unique=True, index=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    name: str
    description: str = ""
    covars: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    model_type: str
    acq_func: str
    maximize: bool = True
    seed: int = 0
    initial_points: int = 5
    pending_lease_s: int = 3600  # how long an asked point counts as pending, waiting for its tell
    # {name: {direction, reference}} and ["metric <= bound", ...] (tunefleet.bo.outcomes); None: the
    # seed's one objective "Response", maximised as ``maximize`` says, and no constraint
    responses: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    constraints: list[str] | None = Field(default=None, sa_column=json_column())
    # what a warm start did: {source, seeded, dropped, dropped_because}; None: the experiment started empty
    warm_start: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class TrialStatus(str, Enum):
    pending = "pending"  # asked or proposed, being evaluated (an ask's counts until its lease ends)
    complete = "complete"
    failed = "failed"


class Trial(SQLModel, table=True):
    """One evaluated (or in-flight) point of an experiment. Rows are only appended or
    completed, never rewritten, so concurrent tells cannot lose each other."""

    __tablename__ = "trials"
    __record_name__ = "trial"

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.id", index=True)
    covars: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    response: float | None = None  # the first objective's value
    metrics: dict[str, float] | None = Field(default=None, sa_column=json_column())  # every told metric; None: plain
    status: TrialStatus = Field(default=TrialStatus.complete)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    lease_until: datetime | None = Field(default=None, sa_column=timestamp_column())  # pending until then
    # a warm start's copy of an earlier record: "experiment <uuid> trial <id>" or "sweep <id> trial <key>";
    # the optimiser learns from it, but it is no evaluation of this experiment (budgets do not count it)
    seeded_from: str | None = Field(default=None, max_length=200)
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())
