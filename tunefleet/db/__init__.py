"""The records database: sessions, adds, gets and guarded status transitions over any table.

SQLite by default, PostgreSQL in production (JSON columns become JSONB there). Each
capability keeps its tables in its own ``tables.py`` and its queries in its ``service.py``;
this package knows none of them. The schema is owned by the Alembic migrations in
``tunefleet/db/migrations``; ``open_database`` upgrades it on first use.

A table names its records in messages with ``__record_name__`` ("model", "sweep", ...). A table
with an ``owner_id`` column holds records of one user each: ``get`` and ``visible`` take the
``Caller`` a request acts as, and another user's record is reported missing, as if it were not
there (``OPERATOR``, the CLI, sees every record).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, TypeVar

from sqlalchemy import create_engine, event, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel

from tunefleet.errors import Conflict, NotFound

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

Record = TypeVar("Record", bound=SQLModel)


class RecordNotFound(NotFound):
    """No record of that table with that id (or name)."""


class StatusConflict(Conflict):
    """A record is not in a state that allows the requested change."""


@dataclass(frozen=True)
class Caller:
    """Who a query acts for: a user (``user_id``; ``admin`` sees every record; ``anonymous``: the
    caller without a token that the operator let in), or the operator."""

    user_id: int | None
    admin: bool = False
    anonymous: bool = False

    def owns(self, owner_id: int | None) -> bool:
        return self.admin or (self.user_id is not None and owner_id == self.user_id)


OPERATOR = Caller(None, admin=True)
"""The operator's CLI, flows and workers: every record."""


def visible(query, table: type[SQLModel], caller: Caller):
    """``query`` narrowed to the records of ``table`` that ``caller`` may see."""
    return query if caller.admin else query.where(table.owner_id == caller.user_id)


def record_name(table: type[SQLModel]) -> str:
    """What messages call a record of ``table`` ("model", "sweep", ...)."""
    return getattr(table, "__record_name__", table.__name__.lower())


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = _engine(url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def exclusive(self, scope: int, key: int) -> Iterator[Session]:
        """A session that alone holds the lock ``(scope, key)`` until the block ends (its work is
        committed by the block): across threads of this process, and across processes through the
        database (PostgreSQL: a transaction-level advisory lock; SQLite: ``BEGIN IMMEDIATE``, its one
        writer). For read-decide-write steps two callers must not interleave (an ask reading the
        pending points and adding its own)."""
        with _LOCKS_GUARD:
            lock = _LOCKS.setdefault((self.url, scope, key), threading.Lock())
        with lock, self.session() as session:
            if self.engine.dialect.name == "postgresql":
                session.exec(text("SELECT pg_advisory_xact_lock(:scope, :key)").bindparams(scope=scope, key=key))
            else:
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def migrate(self) -> None:
        migrate(self.engine)

    def add(self, record: Record) -> Record:
        with self.session() as session:
            session.add(record)
            session.commit()
            session.refresh(record)
            return record

    def get(self, table: type[Record], record_id: int, caller: Caller = OPERATOR) -> Record:
        """The record of ``table`` with ``record_id``, if ``caller`` may see it; RecordNotFound otherwise
        (the same answer for another user's record as for none)."""
        with self.session() as session:
            record = session.get(table, record_id)
        if record is None or not caller.owns(getattr(record, "owner_id", caller.user_id)):
            raise RecordNotFound(f"there is no {record_name(table)} with id={record_id}")
        return record

    def transition(self, table: type[Record], record_id: int, allowed_from: set, **values) -> Record:
        """Set ``values`` on a record of ``table`` only if its status is in ``allowed_from``: one atomic UPDATE."""
        with self.session() as session:
            result = session.exec(
                update(table).where(table.id == record_id, table.status.in_(allowed_from)).values(**values)
            )
            session.commit()
        current = self.get(table, record_id)  # raises RecordNotFound for unknown ids
        if result.rowcount == 0:
            raise StatusConflict(f"{record_name(table)} {record_id} is {current.status.value}")
        return current


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


_LOCKS: dict[tuple, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_MIGRATION_LOCK = 74_657_301  # PostgreSQL advisory lock key: one migrator at a time


def head_revision() -> str:
    """The newest migration's revision, from the file names (``0005_...py``: revisions are their
    files' four-digit prefixes, one after the other; tests/flows/test_storage_records checks it
    against Alembic's own head)."""
    return max(path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    except SQLAlchemyError:  # a new database: no alembic_version table yet
        return False


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (idempotent, safe to run concurrently). A schema at
    the head is left alone without loading Alembic: a read-only command's start is 0.3 s shorter."""
    from tunefleet.db.migrations.tables import register

    register()
    if _at_head(engine):
        return
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
