"""``tunefleet bo run``: the closed-loop tuning flow in this process."""

from __future__ import annotations

from pathlib import Path

from interfaces import runs
from interfaces.commands.output import emit, json_object
from tunefleet.bo.service import ExperimentError


def register(commands) -> None:
    bo = commands.add_parser("bo", help="closed-loop Bayesian optimisation").add_subparsers(
        dest="action", required=True
    )
    run = bo.add_parser("run", help="run the bo-tuning flow here (a Prefect flow run)")
    run.add_argument("space", nargs="?", help="JSON file with covars, or an /experiment/new body")
    run.add_argument("--objective", required=True, help="module:function, script.py:function or sklearn:Estimator")
    run.add_argument("--objective-args", default="{}", help="JSON object passed to the objective")
    run.add_argument("--iterations", type=int, default=10, help="rounds of ask / evaluate / tell")
    run.add_argument("--batch", type=int, default=1, help="points per round, evaluated in parallel")
    run.add_argument("--initial-points", type=int, default=5)
    run.add_argument("--model", default="SingleTaskGP")
    run.add_argument("--acquisition", default="ExpectedImprovement")
    run.add_argument("--minimize", action="store_true")
    run.add_argument("--responses", help='several objectives, JSON: {"accuracy": "maximize", "latency_ms": "minimize"}')
    run.add_argument(
        "--constraint", action="append", metavar="'METRIC <= BOUND'", help="an outcome constraint (repeatable)"
    )
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--engine", choices=["thread", "dask", "ray"], default="thread")
    run.add_argument("--address", help="an existing Dask scheduler or Ray cluster")
    run.add_argument("--experiment", help="uuid of an experiment to continue (with a larger budget, say)")
    run.add_argument(
        "--warm-start",
        metavar="SOURCE",
        help="seed the new experiment with earlier records: experiment:UUID or sweep:ID",
    )
    run.add_argument("--name", default=None)
    run.set_defaults(handler=run_tuning, prefect=True)


def run_tuning(args) -> int:
    if not args.space and not args.experiment:
        raise ExperimentError("give a SPACE file, or --experiment UUID to continue one")
    covars = None
    name = args.name
    if args.space:
        body = json_object(Path(args.space).read_text(), args.space)
        covars = body.get("covars", body)
        name = name or body.get("name") or Path(args.space).stem
    report = runs.Launcher().run_here(
        "bo",
        covars=covars,
        objective=args.objective,
        objective_args=json_object(args.objective_args, "--objective-args"),
        experiment=args.experiment,
        warm_start=args.warm_start,
        name=name or "bo-tuning",
        model_type=args.model,
        acq_func=args.acquisition,
        direction="minimize" if args.minimize else "maximize",
        responses=json_object(args.responses, "--responses") if args.responses else None,
        constraints=args.constraint,
        iterations=args.iterations,
        batch_size=args.batch,
        initial_points=args.initial_points,
        seed=args.seed,
        engine=args.engine,
        address=args.address,
    )
    emit(report)
    return 0 if report["n_told"] > report["n_seeded"] else 1  # some evaluation of its own completed
