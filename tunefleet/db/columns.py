"""Column helpers and the shared job status of every capability's tables."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def json_column(nullable: bool = True) -> Column:
    """JSON, as JSONB on PostgreSQL."""
    return Column(JSON().with_variant(JSONB(), "postgresql"), nullable=nullable)


def timestamp_column(nullable: bool = True) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class Status(str, Enum):
    """A job's life (a ridge training, a benchmark run): queued → running → succeeded | failed."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
