"""The settings, records and artifact store a process works against: the environment's settings
(``tunefleet.settings``), overridden by the Prefect blocks they name.

``TUNEFLEET_DATABASE_BLOCK`` / ``TUNEFLEET_STORAGE_BLOCK`` name a ``TunefleetDatabase`` /
``TunefleetStorage`` block, so credentials can live in Prefect's block storage instead of the
environment. Tasks, flows and the interfaces all resolve them here, so a CLI command sees the
records its flow runs write.
"""

from __future__ import annotations

from tunefleet.db import Database, open_database
from tunefleet.settings import Settings, get_settings
from tunefleet.storage import ArtifactStore


def current_settings() -> Settings:
    """Environment settings, overridden by the Prefect blocks they name."""
    settings = get_settings()
    overrides: dict = {}
    if settings.database_block:
        from blocks.storage import TunefleetDatabase

        overrides.update(TunefleetDatabase.load(settings.database_block).settings_overrides())
    if settings.storage_block:
        from blocks.storage import TunefleetStorage

        overrides.update(TunefleetStorage.load(settings.storage_block).settings_overrides())
    return settings.model_copy(update=overrides) if overrides else settings


def database(settings: Settings | None = None) -> Database:
    return open_database((settings or current_settings()).database)


def artifact_store(settings: Settings | None = None) -> ArtifactStore:
    return ArtifactStore.from_settings(settings or current_settings())
