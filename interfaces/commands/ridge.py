"""``tunefleet ridge train|show|list|predict``."""

from __future__ import annotations

from pathlib import Path

from blocks.context import artifact_store, current_settings, database
from interfaces import runs
from interfaces.commands.output import emit, line
from tunefleet.db.columns import Status
from tunefleet.ridge import service as ridge_service


def register(commands) -> None:
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
    train.set_defaults(handler=train_model, prefect=True)
    show = ridge.add_parser("show", help="a model's status, coefficients and CV results")
    show.add_argument("model_id", type=int)
    show.set_defaults(
        handler=lambda args: emit(ridge_service.view(ridge_service.get(database(), args.model_id), internal=True))
    )
    ridge.add_parser("list", help="all models, one line each").set_defaults(handler=list_models)
    predict = ridge.add_parser("predict", help="predict each row of a CSV file")
    predict.add_argument("model_id", type=int)
    predict.add_argument("file")
    predict.set_defaults(handler=predict_rows)


def train_model(args) -> int:
    settings = current_settings()
    db = database(settings)
    params = ridge_service.TrainParams(args.target, args.folds, args.l2, not args.no_intercept, args.shuffle, args.seed)
    if "://" in args.file and not args.file.startswith("file://"):
        model = ridge_service.create_from_uri(db, settings, args.file, params)
    else:
        model = ridge_service.create(db, artifact_store(settings), Path(args.file).read_bytes(), params)
    launcher = runs.Launcher(settings)
    launcher.submit("ridge", model_id=model.id)
    if launcher.runs_here("ridge") or args.wait:
        model = runs.wait_for_ridge(db, model.id, launcher)
        emit(ridge_service.view(model, internal=True))
        return 0 if model.status is Status.succeeded else 1
    emit({"model_id": model.id, "status": model.status.value})
    return 0


def list_models(args) -> None:
    for model in ridge_service.list(database()):
        line(f"{model.id}\t{model.status.value}\t{model.target}\tbest_alpha={model.best_alpha}")


def predict_rows(args) -> None:
    model = ridge_service.get(database(), args.model_id)
    emit({"result": ridge_service.predict(model, Path(args.file).read_bytes())})
