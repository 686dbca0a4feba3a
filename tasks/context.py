"""The database and artifact store a task works against, from settings and blocks."""

from __future__ import annotations

from tunefleet.records import Database, open_database
from tunefleet.settings import Settings, get_settings
from tunefleet.storage import ArtifactStore

# Records and artifacts live on other machines: a task touching them retries what a
# restarting database or a dropped connection makes fail.
RECORD_RETRIES = dict(retries=3, retry_delay_seconds=[1, 4, 10])


def retry_unless(*input_errors: type[Exception]):
    """A retry condition: bad input fails the same way every time, so retry only other errors."""

    def should_retry(task, task_run, state) -> bool:
        try:
            state.result()
        except input_errors:
            return False
        except Exception:
            return True
        return True

    return should_retry


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
