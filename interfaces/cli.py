"""The ``tunefleet`` command line: exit 0 on success, 1 with ``error: ...`` on stderr for bad input."""

from __future__ import annotations

import argparse
import logging
import sys

from blocks.context import database
from interfaces.commands import benchmark, bo, experiments, ridge, sweep
from interfaces.commands.output import emit, line
from tunefleet.errors import TunefleetError

# What a user's command can get wrong: every error tunefleet raises on purpose, and a file that
# cannot be read. Anything else is a bug, and its traceback is shown.
USER_ERRORS = (TunefleetError, OSError)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.handler(args) or 0
    except USER_ERRORS as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:  # Ctrl-C: one line, not a traceback (a sweep run here is paused first)
        sys.stderr.write("interrupted\n")
        return 130


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

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: loopback only)")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument(
        "--anonymous",
        choices=("ridge",),
        help="let callers without a token use /train, /model/{id} and /model/{id}/predict with inline data "
        "(= TUNEFLEET_ANONYMOUS=ridge; default: every route needs a signed-in user)",
    )
    api.set_defaults(handler=_api)
    commands.add_parser("demo", help="a tour: ridge CV, BO, a sweep and a benchmark, each small").set_defaults(
        handler=_demo
    )
    commands.add_parser(
        "deploy", help="create work pools, block types and the deployments of prefect.yaml (idempotent)"
    ).set_defaults(handler=_deploy)
    commands.add_parser("serve", help="serve every flow, with its schedules, from this process").set_defaults(
        handler=_serve
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
