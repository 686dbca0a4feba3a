"""Alembic environment: migrations run on the connection handed over by ``records.migrate``."""

from alembic import context
from sqlmodel import SQLModel

import tunefleet.records  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
context.run_migrations()
