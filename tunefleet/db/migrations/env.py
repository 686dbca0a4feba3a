"""Alembic environment: migrations run on the connection handed over by ``tunefleet.db.migrate``."""

from alembic import context
from sqlmodel import SQLModel

# Every capability's tables on SQLModel.metadata: what the migrations build and the schema checks compare.
import tunefleet.bench.tables  # noqa: F401
import tunefleet.bo.tables  # noqa: F401
import tunefleet.ridge.tables  # noqa: F401
import tunefleet.sweep.tables  # noqa: F401
import tunefleet.users  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
context.run_migrations()
