"""Fixtures that start real services once per session and give each test clean state in them."""

from __future__ import annotations

import os
import uuid

import pytest

from infra.services import PostgresCluster, S3Server

S3_KEY, S3_SECRET = "tunefleet-test", "tunefleet-test-secret"
BUCKET = "tunefleet-test"


@pytest.fixture(scope="session")
def postgres():
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def s3():
    server = S3Server(key=S3_KEY, secret=S3_SECRET).start()
    server.create_bucket(BUCKET)
    yield server
    server.stop()


def _unique(request) -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["sqlite-local", "postgres-s3"])
def backend(request, tmp_path, monkeypatch):
    """Settings for one test: embedded defaults (SQLite + folder) or production (PostgreSQL + S3).

    They are put in the environment, as a deployment would, so flow runs and CLI
    subprocesses see them too. Returns the settings object.
    """
    monkeypatch.setenv("TUNEFLEET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TUNEFLEET_ENV_FILE", str(tmp_path / "no-env-file"))
    for name in ("TUNEFLEET_DATABASE_URL", "TUNEFLEET_ARTIFACT_ROOT", "TUNEFLEET_RIDGE_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    if request.param == "postgres-s3":
        postgres, s3 = request.getfixturevalue("postgres"), request.getfixturevalue("s3")
        name = _unique(request)
        monkeypatch.setenv("TUNEFLEET_DATABASE_URL", postgres.create_database(name))
        monkeypatch.setenv("TUNEFLEET_ARTIFACT_ROOT", f"s3://{BUCKET}/{name}")
        monkeypatch.setenv("TUNEFLEET_S3_ENDPOINT_URL", s3.endpoint_url)
        monkeypatch.setenv("TUNEFLEET_S3_KEY", S3_KEY)
        monkeypatch.setenv("TUNEFLEET_S3_SECRET", S3_SECRET)
    from tunefleet.settings import get_settings

    return get_settings()


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray of this module's own (address="local", even if another cluster runs here),
    without token auth (Ray 2.60 turns it on by default)."""
    import logging

    before = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()
    if before is None:
        os.environ.pop("RAY_AUTH_MODE", None)
    else:
        os.environ["RAY_AUTH_MODE"] = before
