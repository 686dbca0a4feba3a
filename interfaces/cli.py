"""The ``tunefleet`` command line: exit 0 on success, 1 with ``error: ...`` on stderr for bad input."""

from __future__ import annotations

import argparse
import logging
import sys

from blocks.context import database
from interfaces.commands import benchmark, bo, experiments, hwtune, ridge, sweep
from interfaces.commands.output import emit, line
from tunefleet.errors import TunefleetError, caused_by_interrupt

# What a user's command can get wrong: every error tunefleet raises on purpose, and a file that
# cannot be read. Anything else is a bug, and its traceback is shown.
USER_ERRORS = (TunefleetError, OSError)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        if getattr(args, "prefect", False):
            _point_at_prefect()
        return args.handler(args) or 0
    except BaseException as exc:
        # Ctrl-C: one line, not a traceback (a sweep run here is paused first); also for what the
        # interrupt caused where it landed inside Prefect's engine
        if caused_by_interrupt(exc):
            sys.stderr.write("interrupted\n")
            return 130
        if isinstance(exc, USER_ERRORS):
            sys.stderr.write(f"error: {exc}\n")
            return 1
        raise


def _point_at_prefect() -> None:
    """Before a command that runs or stops flows: the shared local Prefect server where none is configured."""
    from interfaces import local_prefect

    started = local_prefect.ensure()
    if started is not None:
        sys.stderr.write(
            f"note: started tunefleet's local Prefect server, its UI at {started.ui_url} "
            "(it stays up for later commands; `tunefleet server stop` stops it)\n"
        )


class _Parser(argparse.ArgumentParser):
    """argparse, with tunefleet's answer to bad input: ``error: ...`` on stderr and exit 1 (argparse's
    own is its usage text and exit 2). Subcommands' parsers are of this class too."""

    def error(self, message: str):
        sys.stderr.write(f"error: {message} (see: {self.prog} --help)\n")
        sys.exit(1)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tunefleet", description="Tune, train and benchmark models on Prefect.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    ridge.register(commands)
    experiments.register(commands)
    bo.register(commands)
    benchmark.register(commands)
    sweep.register(commands)
    hwtune.register(commands)

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: loopback only)")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument(
        "--anonymous",
        choices=("ridge",),
        help="let callers without a token use /train, /model/{id} and /model/{id}/predict with inline data "
        "(= TUNEFLEET_ANONYMOUS=ridge; default: every route needs a signed-in user)",
    )
    api.set_defaults(handler=_api, prefect=True)
    commands.add_parser("demo", help="a tour: ridge CV, BO, a sweep and a benchmark, each small").set_defaults(
        handler=_demo, prefect=True
    )
    commands.add_parser(
        "deploy", help="create work pools, block types and the deployments of prefect.yaml (idempotent)"
    ).set_defaults(handler=_deploy, prefect=True)
    commands.add_parser("serve", help="serve every flow, with its schedules, from this process").set_defaults(
        handler=_serve, prefect=True
    )
    server = commands.add_parser(
        "server",
        help="tunefleet's local Prefect server (where PREFECT_API_URL is not set)",
        description="Where no Prefect server is configured, the first command that runs a flow starts one "
        "local Prefect server on loopback (port 4200, or another one when that is taken) and every later "
        "command uses it: its UI shows every run. It runs until `tunefleet server stop`.",
    ).add_subparsers(dest="action", required=True)
    server.add_parser("start", help="start it (nothing to do when it runs)").set_defaults(
        handler=_server_status,
        prefect=True,  # started before the handler, as for every command using Prefect
    )
    server.add_parser("status", help="whether it runs, its UI's address and its log").set_defaults(
        handler=_server_status
    )
    server.add_parser("stop", help="stop it (runs and artifacts stay in Prefect's database)").set_defaults(
        handler=_server_stop
    )
    db = commands.add_parser("db", help="records database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply schema migrations").set_defaults(handler=_db_upgrade)
    return parser


def _api(args) -> None:
    import uvicorn

    from blocks.context import current_settings
    from interfaces.api import create_app

    settings = current_settings()
    if args.anonymous:
        settings = settings.model_copy(update={"anonymous": args.anonymous})
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")


def _server_status(args) -> None:
    from interfaces import local_prefect

    emit(local_prefect.status())


def _server_stop(args) -> None:
    from interfaces import local_prefect

    emit(local_prefect.stop())


def _db_upgrade(args) -> None:
    database()  # opening the database applies pending migrations
    line("schema is up to date")


def _deploy(args) -> None:
    from deployments.deploy import deploy

    emit(deploy())


def _serve(args) -> None:
    from deployments.serve import serve_all

    serve_all()


def _demo(args) -> int:
    from interfaces.demo import run_demo

    return run_demo()


if __name__ == "__main__":
    sys.exit(main())
