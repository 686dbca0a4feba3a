"""Configuration from the environment (or a .env file kept outside the repository).

Every variable is prefixed ``TUNEFLEET_``. The embedded defaults need no configuration:
records in a SQLite file and artifacts in a folder under ``TUNEFLEET_HOME``
(``~/.tunefleet``). Production points ``TUNEFLEET_DATABASE_URL`` at PostgreSQL and
``TUNEFLEET_ARTIFACT_ROOT`` at ``s3://bucket/prefix``; S3 credentials come from
``TUNEFLEET_S3_KEY`` / ``TUNEFLEET_S3_SECRET`` or the usual AWS variables and files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env_file() -> str | None:
    path = os.environ.get("TUNEFLEET_ENV_FILE", str(Path.home() / ".config" / "tunefleet" / "env"))
    return path if Path(path).is_file() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUNEFLEET_", extra="ignore")

    home: Path = Path.home() / ".tunefleet"
    database_url: SecretStr | None = None
    artifact_root: str | None = None
    s3_endpoint_url: str | None = None
    s3_key: SecretStr | None = None
    s3_secret: SecretStr | None = None
    # Signs the API's JWTs; unset on the embedded defaults, where a key file in `home` is used.
    jwt_secret: SecretStr | None = None
    # Names of Prefect blocks (see blocks/) that override the database and storage settings.
    database_block: str | None = None
    storage_block: str | None = None
    # Name of a Prefect deployment ("flow/deployment") that trains ridge models. Unset:
    # the API and CLI run the flow in their own process (the embedded mode).
    ridge_deployment: str | None = None
    # The same for benchmark runs started by the API and CLI ("benchmark/benchmark").
    benchmark_deployment: str | None = None
    # The same for hardware-aware tunings started by the API ("hw-tuning/hw-tuning").
    hw_tuning_deployment: str | None = None
    # The deployment `tunefleet run` and `sweep retry` send sweeps to (`local-run` runs them here).
    sweep_deployment: str = "hpo-sweep/hpo-sweep"
    # Without PREFECT_API_URL: one local Prefect server that every command shares, started on first use
    # and stopped by `tunefleet server stop` (interfaces/local_prefect.py), or Prefect's temporary
    # server per command.
    local_prefect: Literal["shared", "temporary"] = "shared"
    # Existing clusters flows use when they run on engine "dask" / "ray" without an address
    # (a worker's environment points them at the machine's clusters). Unset: a local cluster per run.
    dask_address: str | None = None
    ray_address: str | None = None

    # -- what the HTTP API lets in (SECURITY.md) ----------------------------------------------------
    # What callers without a token may use: nothing (the default), or "ridge" (/train, /model/{id},
    # /model/{id}/predict, inline data only: the seed-004 contract).
    anonymous: Literal["", "ridge"] = ""
    # Where data_uri may point besides the artifact store: comma-separated s3://bucket/prefix or folders.
    data_roots: str = ""
    # module:Class benchmark platforms admins may name besides the built-in ones (comma-separated).
    platform_allowlist: str = ""
    # The API's address as browsers reach it (http(s)://host[:port][/prefix]): flows link their plots
    # and reports there, signed, so the Prefect UI shows them. Unset: reports name their store URIs.
    public_url: str = Field("", max_length=500, pattern=r"^(https?://[^\s?#]+)?$")
    max_request_mb: float = Field(64, gt=0)  # a request body, uploads and inline CSV included
    max_data_mb: float = Field(1024, gt=0)  # a file read through data_uri
    max_model_mb: float = Field(1024, gt=0)  # a model file once unpacked (skops files are zips)
    max_table_mb: float = Field(2048, gt=0)  # the memory a CSV's parsed numbers may take (estimated)
    max_columns: int = Field(10_000, gt=0)  # columns of a CSV
    job_memory_mb: int = Field(8192, gt=0)  # address space of an embedded job's process (it runs apart)
    signin_failures: int = Field(10, gt=0)  # failed sign-ins per account and per address ...
    signin_window_s: int = Field(300, gt=0)  # ... in this many seconds, then 429

    @property
    def data_root_list(self) -> list[str]:
        """The roots data_uri may name: the artifact store, then ``data_roots``."""
        return [self.artifacts, *(root.strip() for root in self.data_roots.split(",") if root.strip())]

    @property
    def platform_allowlist_set(self) -> frozenset[str]:
        return frozenset(entry.strip() for entry in self.platform_allowlist.split(",") if entry.strip())

    @property
    def database(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.home / 'tunefleet.db'}"

    @property
    def artifacts(self) -> str:
        return self.artifact_root or str(self.home / "artifacts")

    def storage_options(self, uri: str | None = None) -> dict:
        """fsspec options for ``uri`` (default: the artifact root); only S3 needs any."""
        if not (uri or self.artifacts).startswith("s3://"):
            return {}
        options: dict = {}
        if self.s3_endpoint_url:
            options["endpoint_url"] = self.s3_endpoint_url
        if self.s3_key is not None and self.s3_secret is not None:
            options["key"] = self.s3_key.get_secret_value()
            options["secret"] = self.s3_secret.get_secret_value()
        return options


def get_settings() -> Settings:
    return Settings(_env_file=_env_file())
