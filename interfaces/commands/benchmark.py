"""``tunefleet model upload|list|show`` and ``tunefleet benchmark run|list|show|export|import``.

The benchmark core (pandas, scikit-learn, ...) is imported by the commands that use it,
so that every other command starts fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from blocks.context import artifact_store, current_settings, database
from interfaces import runs
from interfaces.commands.output import emit, line
from tunefleet import users
from tunefleet.db import RecordNotFound
from tunefleet.db.columns import Status
from tunefleet.errors import InvalidInput


def _core():
    from tunefleet.bench import service

    return service


def register(commands) -> None:
    models = commands.add_parser("model", help="trained models to benchmark").add_subparsers(
        dest="action", required=True
    )
    upload = models.add_parser("upload", help="check and store a model with its validation data")
    upload.add_argument("file", help="a fitted scikit-learn estimator saved with skops, or an ONNX model")
    upload.add_argument("--data", required=True, help="validation CSV with a header row")
    upload.add_argument("--target", required=True, help="the target column of the CSV")
    upload.add_argument("--task", required=True, choices=("classification", "regression"))
    upload.add_argument("--name", help="a unique name (default: the file's name without extension)")
    upload.add_argument("--owner", metavar="EMAIL", help="the API user who owns it (default: the operator)")
    upload.add_argument(
        "--trust-pickle",
        action="store_true",
        help="accept a pickle or joblib file: loading one runs its code, so only for files you trust; "
        "it is stored as skops and never unpickled again",
    )
    upload.set_defaults(handler=upload_model)
    models.add_parser("list", help="uploaded models, one line each").set_defaults(handler=list_models)
    show = models.add_parser("show", help="a model's description")
    show.add_argument("model", help="name or id")
    show.set_defaults(
        handler=lambda args: emit(_core().model_view(_core().get_model(database(), args.model), internal=True))
    )

    bench = commands.add_parser("benchmark", help="inference benchmarks").add_subparsers(dest="action", required=True)
    run = bench.add_parser("run", help="benchmark a model (here, or through the benchmark deployment)")
    run.add_argument("model", help="name or id")
    run.add_argument("--config", help="JSON file: entries, optimisations, batch_sizes, hardware, timing, ...")
    run.add_argument("--platforms", nargs="+", metavar="NAME", help="registry entries (default: all)")
    run.add_argument("--optimisations", nargs="+", metavar="NAME", help="(default: all)")
    run.add_argument("--batch-sizes", nargs="+", type=int, metavar="N", help="(default: 1 16 64 256 10000)")
    run.add_argument(
        "--budget-s",
        type=float,
        metavar="S",
        help="seconds of timed runs per cell and batch size (the config's timing.budget_s; default 1, at most 60)",
    )
    run.add_argument(
        "--here",
        action="store_true",
        help="measure on this machine, in this process, even where a benchmark deployment is configured "
        "(a GPU host without the stack: its embedded defaults, then `benchmark export`)",
    )
    run.set_defaults(handler=run_benchmark, prefect=True)
    bench.add_parser("list", help="benchmark runs, one line each").set_defaults(handler=list_runs)
    export = bench.add_parser("export", help="a run and its cells as JSON, for `benchmark import` on another machine")
    export.add_argument("run_id", type=int)
    export.set_defaults(handler=export_run)
    imported = bench.add_parser(
        "import", help="add an exported run's cells here: a new run of the same model, or --into an ended run of it"
    )
    imported.add_argument("file", help="the JSON `benchmark export` wrote ('-': standard input)")
    imported.add_argument(
        "--into", type=int, metavar="RUN", help="a succeeded run of the same model: its cells are kept, these added"
    )
    imported.set_defaults(handler=import_run)
    show_run = bench.add_parser("show", help="a run with its cells")
    show_run.add_argument("run_id", type=int)
    show_run.set_defaults(
        handler=lambda args: emit(_core().view(database(), _core().get(database(), args.run_id), internal=True))
    )


def upload_model(args) -> None:
    benchmarking = _core()
    settings = current_settings()
    path = Path(args.file)
    db = database(settings)
    record = benchmarking.upload(
        db, artifact_store(settings), args.name or path.stem, path.read_bytes(), Path(args.data).read_bytes(),
        args.target, args.task, owner_id=_owner_id(db, args.owner), trust_pickle=args.trust_pickle,
    )  # fmt: skip
    emit(benchmarking.model_view(record, internal=True))


def _owner_id(db, email: str | None) -> int | None:
    if email is None:
        return None
    user = users.by_email(db, email)
    if user is None:
        raise RecordNotFound(f"there is no user {email}")
    return user.id


def list_models(args) -> None:
    benchmarking = _core()
    for record in benchmarking.list_models(database()):
        line(f"{record.id}\t{record.name}\t{record.task}\t{record.model_type}\t{record.n_features} features")


def _config(args) -> dict:
    config = json.loads(Path(args.config).read_text()) if args.config else {}
    for key, value in (
        ("entries", args.platforms),
        ("optimisations", args.optimisations),
        ("batch_sizes", args.batch_sizes),
    ):
        if value:
            config[key] = value
    if args.budget_s is not None:
        config["timing"] = {**config.get("timing", {}), "budget_s": args.budget_s}
    return config


def run_benchmark(args) -> int:
    benchmarking = _core()
    settings = current_settings()
    db = database(settings)
    record = benchmarking.get_model(db, args.model)
    run = benchmarking.create(db, record, _config(args), allowed_tests=settings.platform_allowlist_set)
    launcher = runs.Launcher(settings)
    if not args.here and not launcher.runs_here("benchmark"):
        launcher.submit("benchmark", run_id=run.id)
        emit({"run_id": run.id, "status": run.status.value, "deployment": settings.benchmark_deployment})
        return 0
    run = runs.run_benchmark_here(db, run)
    emit(benchmarking.view(db, run, with_cells=False))
    return 0 if run.status is Status.succeeded else 1


MAX_EXPORT_BYTES = 64 * 1024 * 1024  # a full run of every cell is a few MB


def export_run(args) -> None:
    from tunefleet.bench import exports

    db = database()
    emit(exports.export_run(db, _core().get(db, args.run_id)))


def import_run(args) -> None:
    from tunefleet.bench import exports

    settings = current_settings()
    handle = sys.stdin.buffer if args.file == "-" else Path(args.file).open("rb")
    with handle:
        data = handle.read(MAX_EXPORT_BYTES + 1)
    if len(data) > MAX_EXPORT_BYTES:
        raise InvalidInput(f"{args.file} is over {MAX_EXPORT_BYTES // 2**20} MiB: not a benchmark export")
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{args.file} is not JSON ({type(exc).__name__} at byte {getattr(exc, 'pos', 0)})") from exc
    done = exports.import_run(
        database(settings), artifact_store(settings), document, into=args.into,
        allowed_tests=settings.platform_allowlist_set,
    )  # fmt: skip
    emit({"run_id": done.run.id, "added": done.added, "kept": done.kept, "report": done.run.report})


def list_runs(args) -> None:
    benchmarking = _core()
    db = database()
    names = {record.id: record.name for record in benchmarking.list_models(db)}
    for run in benchmarking.list(db):
        line(
            f"{run.id}\t{run.status.value}\t{names.get(run.model_id)}\t{run.created_at:%Y-%m-%d %H:%M}\t{run.error or ''}"
        )
