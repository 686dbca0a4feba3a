"""The artifact store and the records database on both backends (folder/SQLite, S3/PostgreSQL)."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from tunefleet.db import MIGRATIONS, RecordNotFound, StatusConflict, head_revision, open_database
from tunefleet.db.columns import Status
from tunefleet.ridge.tables import Dataset, RidgeModel
from tunefleet.storage import ArtifactNotFound, ArtifactStore, read_data


def test_store_round_trip_and_missing(backend):
    store = ArtifactStore.from_settings(backend)
    uri = store.put_bytes("a/b/c.json", b'{"x": 1}')
    assert uri.startswith("s3://" if backend.artifacts.startswith("s3://") else "/")
    assert store.get_bytes(uri) == b'{"x": 1}'
    assert read_data(uri, backend) == b'{"x": 1}'  # a URI in the store is on the data allow-list
    with pytest.raises(ArtifactNotFound):
        store.get_bytes(store.uri("nope"))


def test_migrations_build_the_schema_the_models_describe(backend):
    database = open_database(backend.database)
    database.migrate()  # a second run is a no-op
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_the_head_read_from_file_names_is_alembics_and_a_database_at_it_is_left_alone(backend):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    database = open_database(backend.database)
    with database.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_json_columns_are_jsonb_on_postgresql(backend):
    database = open_database(backend.database)
    columns = {c["name"]: c["type"] for c in sa.inspect(database.engine).get_columns("ridge_models")}
    expected = "JSONB" if database.engine.dialect.name == "postgresql" else "JSON"
    assert type(columns["model"]).__name__ == expected
    assert type(columns["cv_results"]).__name__ == expected


def test_status_transitions_are_guarded(backend):
    database = open_database(backend.database)
    dataset = database.add(Dataset(uri="x", columns=["a", "b"]))
    model = database.add(RidgeModel(dataset_id=dataset.id, target="a", n_folds=2, l2_coef=[1.0]))
    assert model.status is Status.queued
    database.transition(RidgeModel, model.id, {Status.queued}, status=Status.running)
    with pytest.raises(StatusConflict, match="is running"):
        database.transition(RidgeModel, model.id, {Status.queued}, status=Status.succeeded)
    assert database.get(RidgeModel, model.id).status is Status.running
    with pytest.raises(RecordNotFound, match="no model with id=999"):
        database.transition(RidgeModel, 999, {Status.queued}, status=Status.running)
