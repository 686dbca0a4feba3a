"""Real services for the test suite: a throwaway PostgreSQL cluster, an S3 server, a Prefect server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f}s")


def postgres_bindir() -> Path:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: run scripts/test.sh, which installs them")
    return Path(found[-1]).parent


class PostgresCluster:
    """initdb + pg_ctl on a loopback port; as root, run as the ``postgres`` user (initdb refuses root)."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.base = Path(tempfile.mkdtemp(prefix="tunefleet-pg-"))
        self.datadir = self.base / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, cwd=self.base)

    def start(self) -> PostgresCluster:
        self._run(str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "tunefleet", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-o",
            options,
            "-l",
            str(self.base / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://tunefleet@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="tunefleet", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)


class S3Server:
    """moto's S3 server on loopback, reached over HTTP exactly as MinIO or AWS would be."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def create_bucket(self, name: str, key: str, secret: str) -> None:
        import s3fs

        s3fs.S3FileSystem(key=key, secret=secret, endpoint_url=self.endpoint_url).mkdir(name)


class PrefectServer:
    """``prefect server start`` on loopback with its own home, for real flow runs."""

    def __init__(self) -> None:
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="tunefleet-prefect-"))
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        return {
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }

    def start(self) -> PrefectServer:
        env = {**os.environ, **self.env()}
        env.pop("PREFECT_API_URL")
        prefect = Path(sys.executable).parent / "prefect"
        self.process = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=open(self.home / "server.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        wait_for(
            lambda: urllib.request.urlopen(f"{self.api_url}/health", timeout=2).status == 200, "prefect server", 120
        )
        return self

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.home, ignore_errors=True)
