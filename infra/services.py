"""The services tunefleet runs against, started as real processes on loopback.

Used by ``infra/local-stack`` (persistent, in a state folder) and by the test suite
(throwaway, in temporary folders): PostgreSQL with pg_ctl, an S3 server over HTTP,
``prefect server start``, and any other long-running command as a ``Daemon``.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


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


def http_ok(url: str) -> bool:
    return urllib.request.urlopen(url, timeout=2).status == 200


def http_answers(url: str) -> bool:
    """Whether a server answers HTTP at ``url`` at all (an error status is an answer too)."""
    import urllib.error

    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        pass
    return True


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Daemon:
    """A command run in its own session (so it outlives the caller and dies as a group), logging to a file."""

    def __init__(
        self,
        name: str,
        args: list[str],
        log: Path,
        env: dict | None = None,
        pid: int | None = None,
        stop_signal: int = signal.SIGTERM,
    ):
        self.name, self.args, self.log, self.env, self.pid = name, args, log, env, pid
        self.stop_signal = stop_signal

    def start(self, cwd: Path | None = None) -> Daemon:
        with open(self.log, "ab") as log:
            process = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid = process.pid
        return self

    def alive(self) -> bool:
        return self.pid is not None and pid_alive(self.pid)

    def stop(self, timeout: float = 20.0) -> None:
        """Signal the process group (``stop_signal``), SIGKILL what is left after ``timeout`` seconds."""
        stop_all([self], timeout)

    def kill(self) -> None:
        _signal_group(self.pid, signal.SIGKILL)
        wait_for(lambda: not self.alive(), f"{self.name} to exit", 10)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def stop_all(daemons: list[Daemon], timeout: float = 20.0) -> None:
    """Signal every daemon's process group at once (its ``stop_signal``), SIGKILL what is left
    after ``timeout`` seconds: stopped one after the other, their graceful shutdowns would add up."""
    running = [d for d in daemons if d.alive()]
    for daemon in running:
        _signal_group(daemon.pid, daemon.stop_signal)
    deadline = time.monotonic() + timeout
    while any(d.alive() for d in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for daemon in running:
        if daemon.alive():
            daemon.kill()


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; reaps it first if it is an exited child of this process."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def postgres_bindir() -> Path:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: `apt-get install postgresql` (scripts/test.sh does)")
    return Path(found[-1]).parent


class PostgresCluster:
    """initdb + pg_ctl on a loopback port; as root, run as the ``postgres`` user (initdb refuses root).

    With ``base`` the cluster lives there and survives stop/start; without, it is a
    temporary folder removed on stop.
    """

    def __init__(self, base: Path | None = None, port: int | None = None) -> None:
        self.bindir = postgres_bindir()
        self.ephemeral = base is None
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="tunefleet-pg-"))
        self.base.mkdir(parents=True, exist_ok=True)
        self.datadir = self.base / "data"
        self.port = port or free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([*self.as_user, *args], capture_output=True, text=True, cwd=self.base)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed in {self.base}: {result.stderr.strip() or result.stdout.strip()}"
            )
        return result

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args, check=check)

    def start(self) -> PostgresCluster:
        if self.as_user and self._as_postgres("test", "-w", str(self.base), check=False).returncode != 0:
            raise RuntimeError(f"the postgres user cannot write {self.base}: put the stack in a folder it can reach")
        if not (self.datadir / "PG_VERSION").exists():
            self._as_postgres(
                str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "tunefleet", "--auth=trust", "-E", "UTF8"
            )
        fsync = "off" if self.ephemeral else "on"
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync={fsync}"
        self._pg_ctl("-o", options, "-l", str(self.base / "log"), "-w", "start")
        return self

    def restart(self) -> None:
        """A fast restart: every open connection is cut, as when the database server restarts."""
        self._pg_ctl("-m", "fast", "-l", str(self.base / "log"), "-w", "restart")

    def running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate" if self.ephemeral else "fast", "stop", check=False)
        if self.ephemeral:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres", driver: str = "psycopg2") -> str:
        return f"postgresql+{driver}://tunefleet@127.0.0.1:{self.port}/{database}"

    def _connect(self):
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="tunefleet", dbname="postgres")
        connection.autocommit = True
        return connection

    def create_database(self, name: str) -> str:
        connection = self._connect()
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)

    def ensure_database(self, name: str) -> str:
        connection = self._connect()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            exists = cursor.fetchone() is not None
        connection.close()
        return self.url(name) if exists else self.create_database(name)


class S3Server:
    """An S3 API over HTTP on loopback, reached exactly as MinIO or AWS would be.

    ``minio server`` (data kept in ``base``) when the binary is on PATH; otherwise moto's
    server, which keeps objects in memory only — fine for tests and trying things out,
    not for data you want to keep (use MinIO: infra/compose.yaml).
    """

    def __init__(self, base: Path | None = None, port: int | None = None, key: str = "", secret: str = "") -> None:
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="tunefleet-s3-"))
        self.base.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.key, self.secret = key or "tunefleet", secret or "tunefleet-secret"
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.daemon = Daemon("s3", self._command(), self.base / "s3.log", env=self._env())

    def _command(self) -> list[str]:
        minio = shutil.which("minio")
        if minio:
            return [minio, "server", str(self.base / "data"), "--address", f"127.0.0.1:{self.port}", "--quiet"]
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def _env(self) -> dict:
        return {**os.environ, "MINIO_ROOT_USER": self.key, "MINIO_ROOT_PASSWORD": self.secret}

    @property
    def kind(self) -> str:
        return "minio" if "minio" in Path(self.daemon.args[0]).name else "moto"

    def start(self) -> S3Server:
        self.daemon.start()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Until it answers HTTP: a listening socket is not yet a server that answers."""
        wait_for(lambda: http_answers(self.endpoint_url), f"S3 server ({self.kind})", 60)

    def stop(self) -> None:
        self.daemon.stop()

    def filesystem(self):
        import s3fs

        return s3fs.S3FileSystem(key=self.key, secret=self.secret, endpoint_url=self.endpoint_url)

    def create_bucket(self, name: str) -> None:
        filesystem = self.filesystem()
        if not filesystem.exists(name):
            filesystem.mkdir(name)


class PrefectServer:
    """``prefect server start`` on loopback with its own home; on SQLite, or on PostgreSQL given a URL."""

    def __init__(self, home: Path | None = None, port: int | None = None, database_url: str | None = None) -> None:
        self.port = port or free_port()
        self.ephemeral = home is None
        self.home = Path(home) if home else Path(tempfile.mkdtemp(prefix="tunefleet-prefect-"))
        self.home.mkdir(parents=True, exist_ok=True)
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.database_url = database_url
        self.daemon: Daemon | None = None

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
        env["PREFECT_UI_API_URL"] = self.api_url  # the UI's pages call this server, not Prefect's default port
        if self.database_url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = self.database_url
        args = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]
        self.daemon = Daemon("prefect-server", args, self.home / "server.log", env=env).start()
        try:
            wait_for(lambda: http_ok(f"{self.api_url}/health"), "prefect server", 120)
        except RuntimeError as error:
            raise RuntimeError(f"{error}:\n{self.daemon.tail()}") from None
        return self

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop()
        if self.ephemeral:
            shutil.rmtree(self.home, ignore_errors=True)
