"""``tunefleet hw-tune run|list|show|pick``: hardware-aware tuning, run here as a Prefect flow run.

``run`` takes the problem from a JSON file of the flow's fields (estimator, data_uri, target,
covars, serving, ...) and/or options, which win over the file's fields.
"""

from __future__ import annotations

from pathlib import Path

from blocks.context import artifact_store, database
from interfaces import runs
from interfaces.commands.output import emit, json_object, line
from tunefleet.hwtune.errors import HwTuneError

PLAIN_OPTIONS = ("estimator", "data_uri", "target", "serving", "batch_size", "hardware", "metric")
JSON_OPTIONS = ("covars", "fixed", "timing")


def register(commands) -> None:
    hw = commands.add_parser(
        "hw-tune", help="tune a model and how it is served together, for a metric and latency on a hardware pool"
    ).add_subparsers(dest="action", required=True)
    run = hw.add_parser("run", help="run the hw-tuning flow here (a Prefect flow run)")
    run.add_argument("problem", nargs="?", help="JSON file with the flow's fields: estimator, data_uri, covars, ...")
    run.add_argument("--estimator", help="sklearn:RandomForestClassifier, sklearn:GradientBoostingRegressor, ...")
    run.add_argument("--data-uri", help="the numeric training data: a CSV in the artifact store or under a data root")
    run.add_argument("--target", help="the data's target column")
    run.add_argument("--covars", help='the hyperparameters, JSON: {"max_depth": {"vtype": "int", "min": 2, "max": 12}}')
    run.add_argument("--serving", help="platform+optimisation choices, comma-separated: treelite+none,sklearn+none")
    run.add_argument("--fixed", help='hyperparameters of every candidate, JSON: {"n_jobs": 1}')
    run.add_argument("--batch-size", type=int, help="the batch size latency is measured at (default 1)")
    run.add_argument("--hardware", help="the hardware tag candidates are measured on (default cpu)")
    run.add_argument("--metric", help="the validation metric (default: accuracy, or mse for a regressor)")
    run.add_argument(
        "--objective", action="append", help="an objective among the metric, latency_ms, size_bytes (repeatable)"
    )
    run.add_argument(
        "--constraint", action="append", metavar="'METRIC <= BOUND'", help="latency_ms <= 2, drift <= 0.005, ..."
    )
    run.add_argument("--timing", help='the benchmark timing per candidate, JSON: {"budget_s": 0.2, "rounds": 3}')
    run.add_argument("--tuning", help="the id of a tuning to continue (with a larger budget, say)")
    run.add_argument("--name", help="the new tuning's name (default: the problem file's name)")
    run.add_argument("--iterations", type=int, default=10, help="rounds of ask / train / measure / tell")
    run.add_argument("--batch", type=int, default=2, help="candidates per round, trained in parallel")
    run.add_argument("--initial-points", type=int, default=5)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--engine", choices=["thread", "dask", "ray"], default="thread")
    run.add_argument("--address", help="an existing Dask scheduler or Ray cluster")
    run.set_defaults(handler=run_tuning, prefect=True)
    hw.add_parser("list", help="tunings, one line each").set_defaults(handler=list_tunings)
    show = hw.add_parser("show", help="a tuning: its problem, counts, Pareto front and picks (JSON)")
    show.add_argument("tuning", help="id or experiment uuid")
    show.set_defaults(handler=show_tuning)
    pick = hw.add_parser("pick", help="store the front's most accurate candidate under a latency bound as a model")
    pick.add_argument("tuning", help="id or experiment uuid")
    pick.add_argument("--max-latency-ms", type=float, help="the latency bound at the tuning's batch size")
    pick.add_argument("--name", help="the stored model's name (default: <tuning>-pick-<trial>)")
    pick.set_defaults(handler=pick_candidate)


def run_tuning(args) -> int:
    fields = _json_file(args.problem) if args.problem else {}
    options = vars(args)
    fields.update({name: options[name] for name in PLAIN_OPTIONS if options[name] is not None})
    fields.update({name: json_object(options[name], f"--{name}") for name in JSON_OPTIONS if options[name]})
    if args.objective:
        fields["objectives"] = args.objective
    if args.constraint:
        fields["constraints"] = args.constraint
    if not args.tuning and not fields.get("estimator"):
        raise HwTuneError("give a PROBLEM file or --estimator, --data-uri, --target, --covars and --serving")
    report = runs.run_hw_tuning_here(
        **{k: v for k, v in fields.items() if v is not None},
        tuning=args.tuning,
        name=args.name or fields.get("name") or (Path(args.problem).stem if args.problem else "hw-tuning"),
        iterations=args.iterations,
        batch=args.batch,
        initial_points=args.initial_points,
        seed=args.seed,
        engine=args.engine,
        address=args.address,
    )
    emit(report)
    return 0 if report["n_told"] else 1  # some candidate was measured


def list_tunings(args) -> None:
    from tunefleet.hwtune import service as tunings

    for tuning in tunings.list(database()):
        line(f"{tuning.id}\t{tuning.name}\t{tuning.status.value}\t{tuning.problem['estimator']}")


def show_tuning(args) -> None:
    from tunefleet.hwtune import service as tunings

    db = database()
    emit(tunings.view(db, tunings.get(db, args.tuning)))


def pick_candidate(args) -> None:
    from tunefleet.hwtune import service as tunings

    db = database()
    emit(tunings.pick(db, artifact_store(), tunings.get(db, args.tuning), args.max_latency_ms, args.name))


def _json_file(path: str) -> dict:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise HwTuneError(f"cannot read the problem file {path}: {exc.strerror}") from None
    return json_object(text, path)
