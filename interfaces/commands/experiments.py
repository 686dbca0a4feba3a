"""``tunefleet user create`` and ``tunefleet experiment new|ask|tell|show|pareto|list`` (operator side:
the CLI works on the records directly and sees every experiment)."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

from blocks.context import database
from interfaces.commands.output import emit, line
from tunefleet import users
from tunefleet.bo import pandas_json
from tunefleet.bo import service as experiments
from tunefleet.db import RecordNotFound


def register(commands) -> None:
    user = commands.add_parser("user", help="API users (no open sign-up)").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user of the HTTP API")
    create.add_argument("email")
    create.add_argument(
        "--role", choices=users.ROLES, default="user", help="user: its own records; admin: every record (default: user)"
    )
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(handler=create_user)
    user.add_parser("list", help="users, one line each").set_defaults(handler=list_users)
    for action, active in (("disable", False), ("enable", True)):
        toggle = user.add_parser(action, help=f"{action} a user (a disabled user's tokens stop working at once)")
        toggle.add_argument("email")
        toggle.set_defaults(
            handler=lambda args, active=active: emit(users.view(users.set_active(database(), args.email, active)))
        )

    experiment = commands.add_parser("experiment", help="ask/tell Bayesian-optimisation experiments").add_subparsers(
        dest="action", required=True
    )
    new = experiment.add_parser("new", help="create an experiment from a JSON file (the /experiment/new body)")
    new.add_argument(
        "spec",
        help="JSON file: {name, description, covars, model_type, acq_func, maximize, seed, responses, constraints}",
    )
    new.add_argument("--name", help="overrides the file's name")
    new.add_argument("--owner", help="email of the API user who will own it")
    new.add_argument(
        "--warm-start", metavar="SOURCE", help=f"seed it with the complete trials of {experiments.WARM_START_FORMS}"
    )
    new.set_defaults(handler=new_experiment)
    ask = experiment.add_parser("ask", help="propose the next point(s)")
    ask.add_argument("exp_uuid")
    ask.add_argument("-n", type=int, default=1, help="how many points")
    ask.set_defaults(handler=ask_points)
    tell = experiment.add_parser("tell", help="record evaluated point(s)")
    tell.add_argument("exp_uuid")
    tell.add_argument("covars", help='JSON: {"x": 1, ...}, a list of such rows, or pandas to_json output')
    tell.add_argument(
        "response", nargs="+",
        help='one number per row, or one JSON table: [{"accuracy": 0.9, "latency_ms": 3}, ...] or pandas to_json output',
    )  # fmt: skip
    tell.add_argument(
        "--trial-ids", type=int, nargs="+", metavar="ID",
        help="the trial ids `ask` gave, one per row (default: the pending trial asked with each point, if any)",
    )  # fmt: skip
    tell.set_defaults(handler=tell_results)
    show = experiment.add_parser("show", help="an experiment, its best point and its trials")
    show.add_argument("exp_uuid")
    show.set_defaults(handler=show_experiment)
    front = experiment.add_parser("pareto", help="the feasible non-dominated trials and their hypervolume")
    front.add_argument("exp_uuid")
    front.set_defaults(handler=lambda args: emit(experiments.pareto(database(), _experiment(args.exp_uuid))))
    experiment.add_parser("list", help="all experiments, one line each").set_defaults(handler=list_experiments)


def create_user(args) -> None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise experiments.ExperimentError("the passwords differ")
    else:
        raise experiments.ExperimentError("no terminal to ask for a password: use --password-stdin")
    emit(users.view(users.create(database(), args.email, password, args.role)))


def list_users(args) -> None:
    for user in users.list(database()):
        line(f"{user.id}\t{user.email}\t{user.role}\t{'active' if user.active else 'disabled'}")


def new_experiment(args) -> None:
    try:
        body = json.loads(Path(args.spec).read_text())
    except json.JSONDecodeError as exc:
        raise experiments.ExperimentError(f"{args.spec} is not valid JSON: {exc}") from exc
    if not isinstance(body, dict) or "covars" not in body:
        raise experiments.ExperimentError(f"{args.spec} must be an object with 'covars'")
    if args.name:
        body["name"] = args.name
    if args.warm_start:
        body["warm_start"] = args.warm_start
    body.setdefault("name", Path(args.spec).stem)
    owner_id = None
    if args.owner:
        owner = users.by_email(database(), args.owner)
        if owner is None:
            raise RecordNotFound(f"there is no user {args.owner}")
        owner_id = owner.id
    known = experiments.ExperimentSpec.__dataclass_fields__
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise experiments.ExperimentError(f"unknown fields in {args.spec}: {', '.join(unknown)}")
    exp = experiments.create(database(), experiments.ExperimentSpec(**body), owner_id)
    emit({"exp_uuid": exp.uuid, "name": exp.name, **({"warm_start": exp.warm_start} if exp.warm_start else {})})


def ask_points(args) -> None:
    asked = experiments.ask(database(), _experiment(args.exp_uuid), args.n)
    emit([{"trial_id": t.id, "point": t.covars, "lease_until": t.lease_until.isoformat()} for t in asked])


def tell_results(args) -> None:
    db = database()
    exp = _experiment(args.exp_uuid)
    points = pandas_json.rows(args.covars, "covars", set(exp.covars))
    told = [_json_argument(text) for text in args.response]
    responses = experiments.told_responses(
        exp, told[0] if len(told) == 1 and isinstance(told[0], (dict, list)) else told
    )
    experiments.tell(db, exp, points, responses, args.trial_ids)
    emit(experiments.summary(db, exp).__dict__)


def show_experiment(args) -> None:
    emit(experiments.view(database(), _experiment(args.exp_uuid), with_trials=True))


def list_experiments(args) -> None:
    db = database()
    for exp in experiments.list(db):
        best = experiments.summary(db, exp)
        line(f"{exp.uuid}\t{exp.name}\ttold={best.n_told}\tbest={best.best_response}")


def _json_argument(text: str):
    """A number as Python writes it ("1.", ".5", "+1") or a JSON value."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise experiments.TellError(f"response {text[:100]!r} is neither a number nor JSON: {exc.msg}") from exc


def _experiment(exp_uuid: str):
    return experiments.get(database(), exp_uuid)
