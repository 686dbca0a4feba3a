"""Alembic environment: migrations run on the connection handed over by ``tunefleet.db.migrate``."""

from alembic import context
from sqlmodel import SQLModel

from tunefleet.db.migrations.tables import register

register()

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
context.run_migrations()
