"""The embedded defaults' one local Prefect server, which every tunefleet command shares.

Without a configured Prefect server (``PREFECT_API_URL`` in the environment or in the active
Prefect profile), Prefect starts a temporary server in every process that touches it. On the 2-core
VM that cost 5-15 s per command and 35 s for a ``sweep kill``. Each server's UI was gone when its
command ended, and a command killed with -9 left its server running with no parent. So tunefleet
starts one ``prefect server start`` on loopback instead, on the first command that runs or stops a
flow. Every later command uses it, and every run is in one UI at one address, until
``tunefleet server stop``.

Its pid and port are in ``TUNEFLEET_HOME/prefect-server.json``. Its log (``server.log``) and its
records (Prefect's own database) are in ``PREFECT_HOME``, as the temporary server's were.
``TUNEFLEET_LOCAL_PREFECT=temporary`` brings Prefect's temporary server per command back.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from infra.services import Daemon, PrefectServer, http_ok, pid_alive, port_open
from tunefleet.errors import Unavailable
from tunefleet.settings import get_settings

PORT = 4200  # Prefect's own default, where its docs send people to the UI; another port when taken


@dataclass(frozen=True)
class Server:
    pid: int
    port: int

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        try:
            return http_ok(f"{self.api_url}/health")
        except OSError:
            return False

    def is_ours(self) -> bool:
        """Our server's process, not another that got its pid after a reboot (Linux's /proc; elsewhere
        whether the port answers as Prefect)."""
        if not pid_alive(self.pid):
            return False
        try:
            command = Path(f"/proc/{self.pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return self.answers()
        return b"server" in command and any(part.endswith(b"prefect") for part in command)


def configured_api_url() -> str | None:
    """The Prefect server the operator configured (``PREFECT_API_URL`` in the environment, or in the
    active Prefect profile), read without importing Prefect (which takes seconds)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or _prefect_home() / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    return profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL") or None


def api_url() -> str | None:
    """The Prefect API this process talks to: the configured one, else the shared local server when it
    runs (None: neither; a command that needs Prefect calls ``ensure`` first)."""
    configured = configured_api_url()
    if configured:
        return configured
    server = running()
    return server.api_url if server is not None else None


def running() -> Server | None:
    """The shared local server, when it runs and answers."""
    server = _load()
    return server if server is not None and server.is_ours() and server.answers() else None


def ensure() -> Server | None:
    """Point this process at a Prefect server before Prefect loads: nothing to do where one is
    configured (or ``TUNEFLEET_LOCAL_PREFECT=temporary``); else the shared local server, started
    when it does not run. Returns the server when this call started it (the CLI says so once)."""
    if configured_api_url() or get_settings().local_prefect == "temporary":
        return None
    with _lock():
        server, started = running(), None
        if server is None:
            server = started = _start(_load())
    os.environ["PREFECT_API_URL"] = server.api_url
    return started


def stop() -> dict:
    """Stop the shared local server (what ``tunefleet server stop`` prints)."""
    with _lock():
        server = _load()
        if server is None or not server.is_ours():
            _state_path().unlink(missing_ok=True)
            return {"running": False}
        Daemon("prefect-server", [], _prefect_home() / "server.log", pid=server.pid).stop()
        _state_path().unlink(missing_ok=True)
    return {"running": False, "stopped": server.ui_url}


def status() -> dict:
    """What ``tunefleet server status`` prints: whether it runs, where its UI is, where it logs."""
    server, configured = running(), configured_api_url()
    if server is not None and configured in (None, server.api_url):
        return {"running": True, "ui": server.ui_url, "api": server.api_url, "pid": server.pid, "log": str(_log())}
    if configured:
        return {"running": False, "configured": configured, "note": "PREFECT_API_URL is set: commands use that server"}
    return {"running": False}


def _start(previous: Server | None) -> Server:
    """``prefect server start`` on loopback, in its own session (it outlives the command), on the port
    it had before when that is free (bookmarks keep working), else 4200, else any."""
    port = next((p for p in (previous.port if previous else None, PORT) if p and not port_open(p)), None)
    prefect = PrefectServer(home=_prefect_home(), port=port)
    try:
        prefect.start()
    except RuntimeError:
        if prefect.daemon is not None:
            prefect.daemon.stop()
        raise Unavailable(
            f"the local Prefect server did not start within 120 s: its log is {_log()} "
            "(or set PREFECT_API_URL to a Prefect server)"
        ) from None
    server = Server(pid=prefect.daemon.pid, port=prefect.port)
    _state_path().write_text(json.dumps({"pid": server.pid, "port": server.port}))
    return server


def _load() -> Server | None:
    try:
        state = json.loads(_state_path().read_text())
        return Server(pid=int(state["pid"]), port=int(state["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _lock():
    """One command at a time decides whether to start the server (two would start two)."""
    path = _state_path().with_suffix(".lock")
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _state_path() -> Path:
    home = get_settings().home
    home.mkdir(parents=True, exist_ok=True)
    return home / "prefect-server.json"


def _prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def _log() -> Path:
    return _prefect_home() / "server.log"
