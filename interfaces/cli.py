"""The ``tunefleet`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from interfaces.launch import InProcessLauncher, launcher_for
from tasks.context import artifact_store, current_settings, database
from tunefleet import ridge_service
from tunefleet.records import RecordNotFound, Status, StatusConflict
from tunefleet.ridge import RidgeInputError
from tunefleet.storage import ArtifactNotFound
from tunefleet.tabular import TabularError

log = logging.getLogger("tunefleet")

USER_ERRORS = (TabularError, RidgeInputError, RecordNotFound, StatusConflict, ArtifactNotFound, OSError)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.handler(args) or 0
    except USER_ERRORS as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunefleet", description="Tune, train and benchmark models on Prefect.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    ridge = commands.add_parser("ridge", help="ridge regression with k-fold CV").add_subparsers(
        dest="action", required=True
    )
    train = ridge.add_parser("train", help="queue (and in embedded mode, run) a training")
    train.add_argument("file", help="CSV file with a header row: a local path or s3:// URI")
    train.add_argument("--target", required=True)
    train.add_argument("--folds", type=int, default=5)
    train.add_argument("--l2", type=float, nargs="+", default=[1.0], metavar="ALPHA")
    train.add_argument("--no-intercept", action="store_true")
    train.add_argument("--shuffle", action="store_true")
    train.add_argument("--seed", type=int, default=None, help="random_state for shuffled folds")
    train.add_argument("--wait", action="store_true", help="wait for the result (always so in embedded mode)")
    train.set_defaults(handler=_ridge_train)
    show = ridge.add_parser("show", help="a model's status, coefficients and CV results")
    show.add_argument("model_id", type=int)
    show.set_defaults(handler=_ridge_show)
    listing = ridge.add_parser("list", help="all models, one line each")
    listing.set_defaults(handler=_ridge_list)
    predict = ridge.add_parser("predict", help="predict each row of a CSV file")
    predict.add_argument("model_id", type=int)
    predict.add_argument("file")
    predict.set_defaults(handler=_ridge_predict)

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.set_defaults(handler=_api)

    demo = commands.add_parser("demo", help="train and use a ridge model on a bundled dataset")
    demo.set_defaults(handler=_demo)

    db = commands.add_parser("db", help="records database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply schema migrations").set_defaults(handler=_db_upgrade)
    return parser


def _emit(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def _ridge_train(args) -> int:
    settings = current_settings()
    db = database(settings)
    params = ridge_service.TrainParams(args.target, args.folds, args.l2, not args.no_intercept, args.shuffle, args.seed)
    if "://" in args.file and not args.file.startswith("file://"):
        model = ridge_service.submit_uri(db, settings, args.file, params)
    else:
        model = ridge_service.submit_csv(db, artifact_store(settings), Path(args.file).read_bytes(), params)
    launcher = launcher_for(settings)
    launcher.train(model.id)
    if isinstance(launcher, InProcessLauncher) or args.wait:
        model = _wait_for(db, model.id, launcher)
        _emit(ridge_service.view(model))
        return 0 if model.status is Status.succeeded else 1
    _emit({"model_id": model.id, "status": model.status.value})
    return 0


def _wait_for(db, model_id: int, launcher):
    from rich.console import Console

    with Console(stderr=True).status(f"training ridge model {model_id}") as status:
        launcher.wait()
        while (model := db.ridge_model(model_id)).status in (Status.queued, Status.running):
            status.update(f"training ridge model {model_id}: {model.status.value}")
            time.sleep(0.5)
    return model


def _ridge_show(args) -> int:
    _emit(ridge_service.view(database().ridge_model(args.model_id)))


def _ridge_list(args) -> int:
    for model in database().ridge_models():
        sys.stdout.write(f"{model.id}\t{model.status.value}\t{model.target}\tbest_alpha={model.best_alpha}\n")


def _ridge_predict(args) -> int:
    model = database().ridge_model(args.model_id)
    _emit({"result": ridge_service.predict(model, Path(args.file).read_bytes())})


def _api(args) -> int:
    import uvicorn

    from interfaces.api import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")


def _db_upgrade(args) -> int:
    database()  # opening the database applies pending migrations
    sys.stdout.write("schema is up to date\n")


def _demo(args) -> int:
    from interfaces.demo import run_demo

    return run_demo()


if __name__ == "__main__":
    sys.exit(main())
