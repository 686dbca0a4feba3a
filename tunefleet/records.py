"""Records: SQLModel tables and the queries the flows, API and CLI share.

SQLite by default, PostgreSQL in production (JSON columns become JSONB there). The
schema is owned by the Alembic migrations in ``tunefleet/migrations``; ``Database``
upgrades it on first use.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint, create_engine, event, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def json_column(nullable: bool = True) -> Column:
    return Column(JSON().with_variant(JSONB(), "postgresql"), nullable=nullable)


def timestamp_column(nullable: bool = True) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class Status(str, Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Dataset(SQLModel, table=True):
    __tablename__ = "datasets"

    id: int | None = Field(default=None, primary_key=True)
    uri: str
    sha256: str | None = Field(default=None, index=True)  # None for data referenced by URI
    n_rows: int | None = None  # None until a referenced dataset has been read
    columns: list[str] = Field(sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class RidgeModel(SQLModel, table=True):
    __tablename__ = "ridge_models"

    id: int | None = Field(default=None, primary_key=True)
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


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    password_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class Experiment(SQLModel, table=True):
    """A Bayesian-optimisation experiment: its space and settings; its trials hold the data."""

    __tablename__ = "experiments"

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
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class TrialStatus(str, Enum):
    pending = "pending"  # proposed, being evaluated
    complete = "complete"
    failed = "failed"


class Trial(SQLModel, table=True):
    """One evaluated (or in-flight) point of an experiment. Rows are only appended or
    completed, never rewritten, so concurrent tells cannot lose each other."""

    __tablename__ = "trials"

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: int = Field(foreign_key="experiments.id", index=True)
    covars: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    response: float | None = None
    status: TrialStatus = Field(default=TrialStatus.complete)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class InferenceModel(SQLModel, table=True):
    """A trained model uploaded for benchmarking, with the validation set it is judged on."""

    __tablename__ = "inference_models"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
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

    id: int | None = Field(default=None, primary_key=True)
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

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="benchmark_runs.id", index=True)
    hardware: str
    platform: str
    optimisation: str
    status: CellStatus
    reason: str | None = None
    metrics: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class RecordNotFound(LookupError):
    pass


class Conflict(RuntimeError):
    """The request contradicts what is stored (a duplicate, a wrong state)."""


class StatusConflict(Conflict):
    """A record is not in a state that allows the requested change."""


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = _engine(url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def migrate(self) -> None:
        migrate(self.engine)

    # datasets ---------------------------------------------------------------------
    def add(self, record: SQLModel) -> SQLModel:
        with self.session() as session:
            session.add(record)
            session.commit()
            session.refresh(record)
            return record

    def dataset(self, dataset_id: int) -> Dataset:
        return self.get(Dataset, dataset_id, "dataset")

    # ridge models -----------------------------------------------------------------
    def ridge_model(self, model_id: int) -> RidgeModel:
        return self.get(RidgeModel, model_id, "model")

    def ridge_models(self, status: list[Status] | None = None) -> list[RidgeModel]:
        with self.session() as session:
            query = select(RidgeModel).order_by(RidgeModel.id)
            if status:
                query = query.where(RidgeModel.status.in_(status))
            return list(session.exec(query))

    def transition(self, record_id: int, allowed_from: set[Status], table=RidgeModel, **values):
        """Set ``values`` on a record of ``table`` only if its status is in ``allowed_from``: one atomic UPDATE."""
        with self.session() as session:
            result = session.exec(
                update(table).where(table.id == record_id, table.status.in_(allowed_from)).values(**values)
            )
            session.commit()
        current = self.get(table, record_id, _NAMES[table])  # raises RecordNotFound for unknown ids
        if result.rowcount == 0:
            raise StatusConflict(f"{_NAMES[table]} {record_id} is {current.status.value}")
        return current

    # users ------------------------------------------------------------------------
    def user(self, user_id: int) -> User:
        return self.get(User, user_id, "user")

    def user_by_email(self, email: str) -> User | None:
        with self.session() as session:
            return session.exec(select(User).where(User.email == email)).first()

    def get(self, table, record_id: int, what: str):
        with self.session() as session:
            record = session.get(table, record_id)
        if record is None:
            raise RecordNotFound(f"there is no {what} with id={record_id}")
        return record


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_MIGRATION_LOCK = 74_657_301  # PostgreSQL advisory lock key: one migrator at a time


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (idempotent, safe to run concurrently)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@lru_cache(maxsize=8)
def open_database(url: str) -> Database:
    """The migrated database at ``url`` (migrations run once per process and URL)."""
    database = Database(url)
    database.migrate()
    return database


# -- HPO sweeps (issue 4) -------------------------------------------------------------------------
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

    id: int | None = Field(default=None, primary_key=True)
    config_type: str = Field(index=True)
    name: str
    body: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class Sweep(SQLModel, table=True):
    """One run (and its resumptions) of the ``hpo-sweep`` flow: a snapshot of its configs, its state."""

    __tablename__ = "sweeps"

    id: int | None = Field(default=None, primary_key=True)
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


# what ``Database.get`` and ``transition`` call a record of each table in their errors
_NAMES = {RidgeModel: "model", BenchmarkRun: "benchmark run", Sweep: "sweep"}
