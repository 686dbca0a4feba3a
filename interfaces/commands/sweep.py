"""HPO sweeps in hpogrid's vocabulary:

``tunefleet <config_type> create|recreate|update|remove|list|show NAME [options]`` for
search_space, hpo_config, model_config, compute_config and project (options generated from
``tunefleet.sweep.configs.options``); ``tunefleet local-run PROJECT`` (the hpo-sweep flow here,
with a progress bar), ``tunefleet run PROJECT`` (through the hpo-sweep deployment),
``tunefleet auptimizer run experiment.json``, ``tunefleet sweep list|show|kill|retry`` (hpogrid's
``tasks show|kill|retry``, on the Prefect flow run of the sweep) and
``tunefleet report PROJECT_OR_SWEEP_ID --to-json --to-csv --to-html --to-pcp``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from blocks.context import current_settings, database
from interfaces import runs
from interfaces.commands.output import emit, line
from tunefleet.sweep import configs
from tunefleet.sweep import report as sweep_report
from tunefleet.sweep import service as sweeps
from tunefleet.sweep.configs import ConfigError

_TYPES = {"str": str, "int": int, "float": float}


def register(commands) -> None:
    for config_type in configs.CONFIG_TYPES:
        _register_config(commands, config_type)

    local = commands.add_parser(
        "local-run", aliases=["local_run"], help="run a project's sweep here (the hpo-sweep flow, in process)"
    )
    _run_options(local)
    local.set_defaults(handler=local_run, prefect=True)
    run = commands.add_parser("run", help="run a project's sweep through the hpo-sweep deployment (a worker runs it)")
    _run_options(run)
    run.set_defaults(handler=deployment_run, prefect=True)

    aup = commands.add_parser("auptimizer", help="Auptimizer experiments").add_subparsers(dest="action", required=True)
    aup_run = aup.add_parser("run", help="run an Auptimizer experiment.json as a sweep, here")
    aup_run.add_argument("experiment", help="the experiment.json")
    aup_run.add_argument("--name", help="the project name the sweep is recorded under")
    aup_run.add_argument("--engine", choices=configs.ENGINES)
    aup_run.add_argument("--n-jobs", "--n_jobs", type=int)
    aup_run.add_argument("--address")
    aup_run.set_defaults(handler=auptimizer_run, prefect=True)

    sweep = commands.add_parser("sweep", help="sweeps and their trials").add_subparsers(dest="action", required=True)
    listed = sweep.add_parser("list", help="sweeps, one line each")
    listed.add_argument("project", nargs="?")
    listed.set_defaults(handler=list_sweeps)
    show = sweep.add_parser("show", help="a sweep (by id, or a project's latest), its counts and best trial")
    show.add_argument("sweep")
    show.add_argument("--trials", action="store_true", help="with every trial")
    show.set_defaults(handler=show_sweep)
    kill = sweep.add_parser(
        "kill",
        help="cancel a queued or running sweep's Prefect flow run and mark the sweep paused (hpogrid's tasks kill)",
        description="Mark a queued or running sweep paused and ask Prefect to cancel its flow run (Cancelling, "
        "as `prefect flow-run cancel` does). The worker of a run through the hpo-sweep deployment kills its "
        "process. Prefect 3.8 does not stop a flow run that no worker started: a run in the process of "
        "`tunefleet local-run`, `sweep retry --here` or `auptimizer run` sees the kill and stops itself as "
        "Ctrl-C stops it; one that does not stop within 30 s (its process is gone, or hpo_sweep called from "
        "Python) is marked Cancelled. Finished trials are kept; `tunefleet sweep retry SWEEP` runs the rest.",
    )
    kill.add_argument("sweep", help="a sweep id, or a project (its latest sweep)")
    kill.set_defaults(handler=kill_sweep, prefect=True)
    retry = sweep.add_parser(
        "retry",
        help="resume a paused, failed or dead sweep: its finished trials are kept (hpogrid's tasks retry)",
        description="Resume the sweep as `tunefleet run --sweep-id N` does (through the hpo-sweep deployment), "
        "or here with --here as `tunefleet local-run --sweep-id N`. A sweep whose flow run is still going "
        "(kill it first) or that succeeded is refused.",
    )
    retry.add_argument("sweep", help="a sweep id, or a project (its latest sweep)")
    retry.add_argument("--here", action="store_true", help="run it in this process, with a progress bar")
    _engine_options(retry)
    retry.set_defaults(handler=retry_sweep, prefect=True)

    report = commands.add_parser("report", help="write a sweep's report files")
    report.add_argument("sweep", metavar="PROJECT_OR_SWEEP_ID")
    report.add_argument("--to-json", action="store_true")
    report.add_argument("--to-csv", action="store_true")
    report.add_argument("--to-html", action="store_true")
    report.add_argument("--to-pcp", action="store_true", help="parallel-coordinates plot (PNG)")
    report.add_argument("--out", default=".", help="folder for the files (default: here)")
    report.set_defaults(handler=write_report)


# -- named configs ---------------------------------------------------------------------------------
def _register_config(commands, config_type: str) -> None:
    aliases = ["grid_config"] if config_type == "compute_config" else []  # hpogrid's name for it
    parser = commands.add_parser(config_type, aliases=aliases, help=f"named {config_type} configs")
    actions = parser.add_subparsers(dest="action", required=True)
    for action, text in (
        ("create", f"create a {config_type}"),
        ("recreate", f"create a {config_type}, replacing one of the same name"),
        ("update", f"change options of a stored {config_type}"),
    ):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("name")
        _add_options(sub, config_type)
        sub.set_defaults(handler=_save_config, config_type=config_type)
    remove = actions.add_parser("remove", help=f"remove a {config_type}")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove_config, config_type=config_type)
    actions.add_parser("list", help=f"stored {config_type} names").set_defaults(
        handler=_list_configs, config_type=config_type
    )
    show = actions.add_parser("show", help=f"a stored {config_type}")
    show.add_argument("name")
    show.set_defaults(handler=_show_config, config_type=config_type)


def _remove_config(args) -> None:
    sweeps.remove_config(database(), args.config_type, args.name)
    line(f"removed {args.config_type} {args.name}")


def _list_configs(args) -> None:
    for name in sweeps.list_configs(database(), args.config_type):
        line(name)


def _show_config(args) -> None:
    emit(sweeps.get_config(database(), args.config_type, args.name))


def _add_options(parser, config_type: str) -> None:
    for option in configs.options(config_type):
        if not option.flags:
            if config_type == "search_space":
                parser.add_argument(
                    "search_space", nargs="?", default=argparse.SUPPRESS, help=option.help + " (or a JSON file)"
                )
            continue  # the project's name is the positional NAME
        kwargs = {"dest": f"opt_{option.name}", "default": argparse.SUPPRESS, "help": option.help}
        if option.type == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"], kwargs["metavar"] = _TYPES.get(option.type, str), option.name.upper()
            if option.choices:
                kwargs["choices"] = option.choices
        parser.add_argument(*option.flags, **kwargs)
    if config_type == "compute_config":  # hpogrid's grid_config options: said where they went
        for key in ("site", "container"):
            parser.add_argument(f"--{key}", dest=f"moved_{key}", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _given(args, config_type: str) -> dict:
    if config_type == "search_space":
        text = getattr(args, "search_space", None)
        if text is None:
            raise ConfigError(["search_space: give the space as JSON (or a JSON file)"])
        if not text.lstrip().startswith("{") and Path(text).is_file():
            text = Path(text).read_text()
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError([f"search_space: not valid JSON ({exc.msg} at position {exc.pos})"]) from None
        return value
    moved = [f"--{key}: {configs.MOVED_KEYS[key]}" for key in ("site", "container") if hasattr(args, f"moved_{key}")]
    if moved:
        raise ConfigError(moved)
    names = {option.name for option in configs.options(config_type)} - {"name"}
    return {name: getattr(args, f"opt_{name}") for name in names if hasattr(args, f"opt_{name}")}


def _save_config(args) -> None:
    db, config_type = database(), args.config_type
    given = _given(args, config_type)
    if args.action == "update":
        body = sweeps.update_config(db, config_type, args.name, given)
    else:
        body = sweeps.create_config(db, config_type, args.name, given, replace_existing=args.action == "recreate")
    emit({"config_type": config_type, "name": args.name, "config": body})


# -- running ---------------------------------------------------------------------------------------
def _run_options(parser) -> None:
    parser.add_argument("project", nargs="?", help="the project (leave out with --sweep-id)")
    parser.add_argument("--sweep-id", type=int, help="resume this sweep: its finished trials are kept")
    _engine_options(parser)


def _engine_options(parser) -> None:
    parser.add_argument("--engine", choices=configs.ENGINES, help="overrides the project's compute_config")
    parser.add_argument("--n-jobs", "--n_jobs", type=int, help="workers of the local cluster")
    parser.add_argument("--address", help="an existing Ray or Dask cluster")


def _parameters(args, check: bool = False) -> dict:
    return runs.sweep_parameters(database(), args.project, args.sweep_id, args.engine, args.address, args.n_jobs, check)


def local_run(args) -> int:
    return _run_here(_parameters(args, check=True), args.project)


def _run_here(parameters: dict, project: str | None) -> int:
    outcome = runs.run_sweep_here(database(), parameters, project)
    if outcome.error:
        sys.stderr.write(f"error: {outcome.error}\n")
        return 1
    emit(outcome.result)
    return 0


def deployment_run(args) -> None:
    flow_run = runs.Launcher(current_settings()).to_deployment("sweep", _parameters(args))
    emit({"flow_run_id": str(flow_run.id), "state": flow_run.state.name if flow_run.state else None})


def auptimizer_run(args) -> int:
    from tunefleet.sweep.auptimizer import load_experiment

    experiment = load_experiment(args.experiment, name=args.name)
    for note in experiment.notes:
        sys.stderr.write(f"note: {note}\n")
    config = sweeps.with_engine(experiment.sweep, args.engine, args.address, args.n_jobs)
    sweeps.check(config)  # before anything is recorded
    record = sweeps.create(database(), config)
    return _run_here({"sweep_id": record.id}, None)


# -- monitoring and reports -----------------------------------------------------------------------------
def _find(sweep: str):
    return sweeps.find(database(), sweep)


def show_sweep(args) -> None:
    record = _find(args.sweep)
    document = sweeps.view(database(), record, args.trials)
    document["flow_run_state"] = runs.flow_run_state(record.flow_run_id)
    emit(document)


def kill_sweep(args) -> None:
    emit(runs.kill_sweep(database(), _find(args.sweep)))


def retry_sweep(args) -> int | None:
    """hpogrid's ``tasks retry``: resume the sweep (``run --sweep-id N``; ``--here``: ``local-run --sweep-id N``)."""
    record = _find(args.sweep)
    runs.check_retry(record)
    args.project, args.sweep_id = None, record.id
    return local_run(args) if args.here else deployment_run(args)


def list_sweeps(args) -> None:
    db = database()
    for record in sweeps.list(db, args.project):
        counts = sweeps.count_trials(db, record.id)
        line(f"{record.id}\t{record.project}\t{record.status.value}\t{json.dumps(counts)}\tbest={record.best_metric}")


def write_report(args) -> None:
    db = database()
    record = _find(args.sweep)
    metric, mode = sweeps.metric_mode(record)
    trials = sweeps.trial_dicts(db, record.id)
    extra = record.config["hpo_config"].get("extra_metrics") or None
    log_axes = sweep_report.log_axes_of(sweeps.sweep_config(record).space())
    title = f"{record.project}: sweep {record.id}"
    wanted = [k for k in ("json", "csv", "html", "pcp") if getattr(args, f"to_{k}")] or ["json", "csv", "html", "pcp"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind in wanted:
        if kind == "json":
            path, data = out / f"sweep_{record.id}.json", sweep_report.to_json(trials, metric, mode).encode()
        elif kind == "csv":
            path, data = out / f"sweep_{record.id}.csv", sweep_report.to_csv(trials, metric, mode, extra).encode()
        elif kind == "html":
            html = sweep_report.to_html(trials, metric, mode, title=title, extra_metrics=extra, log_axes=log_axes)
            path, data = out / f"sweep_{record.id}.html", html.encode()
        else:
            png = sweep_report.parallel_coordinates_png(trials, metric, mode, log_axes=log_axes, title=title)
            path, data = out / f"sweep_{record.id}_pcp.png", png
        path.write_bytes(data)
        written[kind] = str(path)
    emit({"sweep_id": record.id, "files": written})
