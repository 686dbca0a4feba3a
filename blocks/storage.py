from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr


class TunefleetDatabase(Block):
    """The records database: a SQLAlchemy URL (``postgresql+psycopg2://...`` in production)."""

    _block_type_name = "Tunefleet Database"
    url: SecretStr = Field(description="SQLAlchemy URL, e.g. postgresql+psycopg2://user:pw@host/db")

    def settings_overrides(self) -> dict:
        return {"database_url": self.url}


class TunefleetStorage(Block):
    """The artifact store: a folder or ``s3://bucket/prefix`` with an endpoint for MinIO."""

    _block_type_name = "Tunefleet Storage"
    artifact_root: str = Field(description="Local folder or s3://bucket/prefix")
    s3_endpoint_url: str | None = Field(default=None, description="e.g. http://minio:9000; empty for AWS")
    s3_key: SecretStr | None = None
    s3_secret: SecretStr | None = None

    def settings_overrides(self) -> dict:
        return {
            "artifact_root": self.artifact_root,
            "s3_endpoint_url": self.s3_endpoint_url,
            "s3_key": self.s3_key,
            "s3_secret": self.s3_secret,
        }
