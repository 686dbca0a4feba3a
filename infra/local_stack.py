"""The production stack on one machine without Docker: ``infra/local-stack start|stop|status|env``.

Starts PostgreSQL (pg_ctl; databases ``prefect`` and ``tunefleet``), an S3 server
(MinIO when installed, else moto), ``prefect server start`` on PostgreSQL, a Dask
scheduler with workers, a Ray head, and a process worker per work pool (``cpu``; ``gpu``
too when ``nvidia-smi`` works or ``--gpu`` is given), then runs ``tunefleet deploy``.
Everything lives in one state folder (default ``$TUNEFLEET_HOME/stack``): data, logs,
``stack.json`` (pids and ports) and ``env`` (the variables a client needs, mode 0600).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from infra.services import (
    BIN,
    Daemon,
    PostgresCluster,
    PrefectServer,
    S3Server,
    free_port,
    pid_alive,
    port_open,
    stop_all,
    wait_for,
)

log = logging.getLogger("tunefleet.local_stack")

# `ray start --block` shuts Ray down on Ctrl-C within seconds; it ignores SIGTERM
STOP_SIGNALS = {"ray-head": signal.SIGINT}
REPO = Path(__file__).resolve().parents[1]
BUCKET = "tunefleet"


@dataclass
class StackState:
    """What ``stop`` and ``status`` need to find the pieces again, kept in ``stack.json``."""

    folder: str
    postgres_port: int = 0
    s3_port: int = 0
    s3_key: str = ""
    s3_secret: str = ""
    jwt_secret: str = ""
    prefect_port: int = 0
    dask_port: int = 0
    ray_port: int = 0
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return Path(self.folder) / "stack.json"

    def save(self) -> None:
        self.path.write_text(json.dumps(asdict(self), indent=2))
        self.path.chmod(0o600)

    @classmethod
    def load(cls, folder: Path) -> StackState:
        path = folder / "stack.json"
        if not path.exists():
            return cls(folder=str(folder))
        return cls(**json.loads(path.read_text()))

    def env(self) -> dict[str, str]:
        """The variables a client, a worker or a flow run needs to use this stack."""
        return {
            "PREFECT_API_URL": f"http://127.0.0.1:{self.prefect_port}/api",
            "TUNEFLEET_DATABASE_URL": f"postgresql+psycopg2://tunefleet@127.0.0.1:{self.postgres_port}/tunefleet",
            "TUNEFLEET_ARTIFACT_ROOT": f"s3://{BUCKET}/artifacts",
            "TUNEFLEET_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "TUNEFLEET_S3_KEY": self.s3_key,
            "TUNEFLEET_S3_SECRET": self.s3_secret,
            "TUNEFLEET_JWT_SECRET": self.jwt_secret,
            "TUNEFLEET_DASK_ADDRESS": f"tcp://127.0.0.1:{self.dask_port}",
            "TUNEFLEET_RAY_ADDRESS": f"127.0.0.1:{self.ray_port}",
            "TUNEFLEET_CODE_DIR": str(REPO),
            # A local Ray head without token auth (Ray 2.60 turns it on by default); a shared
            # cluster keeps auth on and its clients get RAY_AUTH_TOKEN from their environment.
            "RAY_AUTH_MODE": "disabled",
        }


def default_folder() -> Path:
    """``$TUNEFLEET_HOME/stack``; as root, /var/lib/tunefleet/stack, which the postgres user can reach."""
    if "TUNEFLEET_HOME" in os.environ:
        return Path(os.environ["TUNEFLEET_HOME"]) / "stack"
    return Path("/var/lib/tunefleet/stack") if os.geteuid() == 0 else Path.home() / ".tunefleet" / "stack"


def _with_ports(state: StackState) -> StackState:
    """Ports and credentials chosen once, on the first start, and kept for the next."""
    for name in ("postgres_port", "s3_port", "prefect_port", "dask_port", "ray_port"):
        if not getattr(state, name) or port_open(getattr(state, name)):
            setattr(state, name, free_port())
    state.s3_key = state.s3_key or "tunefleet"
    state.s3_secret = state.s3_secret or secrets.token_urlsafe(24)
    state.jwt_secret = state.jwt_secret or secrets.token_urlsafe(32)
    return state


def has_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    return bool(smi) and subprocess.run([smi, "-L"], capture_output=True).returncode == 0


def start(
    folder: Path,
    gpu: bool | None = None,
    dask_workers: int = 2,
    ray: bool = True,
    deploy: bool = True,
    worker_limit: int | None = None,
) -> dict:
    """Start every piece that is not running yet and return the client environment."""
    folder.mkdir(parents=True, exist_ok=True)
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    state = StackState.load(folder)
    if any(pid_alive(pid) for pid in state.pids.values()):
        raise SystemExit(f"the stack in {folder} is running (pids {state.pids}); `infra/local-stack stop` first")
    state = _with_ports(state)
    env = {**os.environ, **state.env()}

    postgres = PostgresCluster(folder / "postgres", port=state.postgres_port).start()
    prefect_url = postgres.ensure_database("prefect").replace("psycopg2", "asyncpg")
    postgres.ensure_database("tunefleet")

    s3 = S3Server(folder / "s3", port=state.s3_port, key=state.s3_key, secret=state.s3_secret)
    daemons = [s3.daemon.start()]
    prefect = PrefectServer(folder / "prefect", port=state.prefect_port, database_url=prefect_url)
    scheduler = Daemon(
        "dask-scheduler",
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(state.dask_port), "--no-dashboard"],
        logs / "dask-scheduler.log",
        env,
    ).start()
    daemons.append(scheduler)
    for index in range(dask_workers):
        args = [str(BIN / "dask"), "worker", env["TUNEFLEET_DASK_ADDRESS"], "--nthreads", "1", "--no-dashboard"]
        daemons.append(
            Daemon(
                f"dask-worker-{index + 1}",
                [*args, "--name", f"w{index + 1}"],
                logs / f"dask-worker-{index + 1}.log",
                env,
            ).start()
        )
    if ray:
        ray_args = [str(BIN / "ray"), "start", "--head", "--block", "--port", str(state.ray_port)]
        ray_args += ["--include-dashboard", "false", "--disable-usage-stats", "--object-store-memory", str(500 * 2**20)]
        daemons.append(Daemon("ray-head", ray_args, logs / "ray-head.log", env).start())

    prefect.start()
    daemons.append(prefect.daemon)
    s3.wait_ready()
    s3.create_bucket(BUCKET)
    wait_for(lambda: port_open(state.dask_port), "dask scheduler", 60)
    if ray:
        wait_for(lambda: port_open(state.ray_port), "ray head", 120)

    pools = ["cpu", "gpu"] if (has_gpu() if gpu is None else gpu) else ["cpu"]
    # Poll every 2 s (Prefect's default is 10 s: up to 10 s between a run's creation and its start).
    worker_env = {"PREFECT_WORKER_QUERY_SECONDS": "2", **env}
    for pool in pools:
        args = [str(BIN / "prefect"), "worker", "start", "--pool", pool, "--type", "process", "--name", f"local-{pool}"]
        if worker_limit:
            args += ["--limit", str(worker_limit)]
        daemons.append(Daemon(f"worker-{pool}", args, logs / f"worker-{pool}.log", worker_env).start(cwd=REPO))

    state.pids = {daemon.name: daemon.pid for daemon in daemons}
    state.save()
    _write_env_file(folder, state)
    if deploy:
        _tunefleet_deploy(env)
    return state.env()


def _tunefleet_deploy(env: dict) -> None:
    result = subprocess.run([str(BIN / "tunefleet"), "deploy"], env=env, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"tunefleet deploy failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def _write_env_file(folder: Path, state: StackState) -> None:
    path = folder / "env"
    path.write_text("".join(f"export {name}={value}\n" for name, value in state.env().items()))
    path.chmod(0o600)


def stop(folder: Path) -> list[str]:
    """Stop every process of the stack at once, then the database; data stays in ``folder``."""
    state = StackState.load(folder)
    daemons = [
        Daemon(name, [], folder / "logs" / f"{name}.log", pid=pid, stop_signal=STOP_SIGNALS.get(name, signal.SIGTERM))
        for name, pid in state.pids.items()
    ]
    daemons = [d for d in reversed(daemons) if d.alive()]
    stop_all(daemons)
    stopped = [d.name for d in daemons]
    if state.postgres_port and (folder / "postgres" / "data").exists():
        PostgresCluster(folder / "postgres", port=state.postgres_port).stop()
        stopped.append("postgres")
    state.pids = {}
    state.save()
    return stopped


def status(folder: Path) -> dict[str, bool]:
    state = StackState.load(folder)
    report = {name: pid_alive(pid) for name, pid in state.pids.items()}
    if state.postgres_port:
        report["postgres"] = port_open(state.postgres_port)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="infra/local-stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=default_folder(), help="state folder (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("start", help="start every piece and run tunefleet deploy")
    up.add_argument(
        "--gpu",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a worker on the gpu pool (default: if nvidia-smi works)",
    )
    up.add_argument("--dask-workers", type=int, default=2)
    up.add_argument("--no-ray", action="store_true")
    up.add_argument("--no-deploy", action="store_true")
    up.add_argument(
        "--worker-limit",
        type=int,
        default=max(4, os.cpu_count() or 1),
        help="flow runs a worker runs at once (default: %(default)s; a parent flow waiting on its child takes one)",
    )
    commands.add_parser("stop", help="stop every piece (data is kept)")
    commands.add_parser("status", help="which pieces are running")
    commands.add_parser("env", help="print the client environment (source it)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = args.dir.resolve()
    if args.command == "start":
        start(
            folder,
            gpu=args.gpu,
            dask_workers=args.dask_workers,
            ray=not args.no_ray,
            deploy=not args.no_deploy,
            worker_limit=args.worker_limit,
        )
        log.info("stack running; its environment: source %s", folder / "env")
    elif args.command == "stop":
        log.info("stopped: %s", ", ".join(stop(folder)) or "nothing was running")
    elif args.command == "status":
        report = status(folder)
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0 if report and all(report.values()) else 1
    else:
        sys.stdout.write((folder / "env").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
