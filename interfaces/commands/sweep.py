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
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from uuid import UUID

from interfaces.commands.output import emit, line
from tasks.context import database
from tunefleet import sweeps
from tunefleet.records import StatusConflict, SweepStatus
from tunefleet.sweep import configs
from tunefleet.sweep import report as sweep_report
from tunefleet.sweep.configs import ConfigError

_TYPES = {"str": str, "int": int, "float": float}


def _user_errors() -> tuple[type[Exception], ...]:
    from tunefleet.search import SearchError
    from tunefleet.sweep.auptimizer import AuptimizerError
    from tunefleet.sweep.report import ReportError
    from tunefleet.sweep.trainables import TrainableError

    return (ConfigError, SearchError, TrainableError, AuptimizerError, ReportError)


USER_ERRORS = _user_errors()  # bad input of the sweep commands: `error: ...`, exit 1


def register(commands) -> None:
    for config_type in configs.CONFIG_TYPES:
        _register_config(commands, config_type)

    local = commands.add_parser("local-run", help="run a project's sweep here (the hpo-sweep flow, in process)")
    _run_options(local)
    local.set_defaults(handler=local_run)
    run = commands.add_parser("run", help="run a project's sweep through the hpo-sweep deployment (a worker runs it)")
    _run_options(run)
    run.set_defaults(handler=deployment_run)

    aup = commands.add_parser("auptimizer", help="Auptimizer experiments").add_subparsers(dest="action", required=True)
    aup_run = aup.add_parser("run", help="run an Auptimizer experiment.json as a sweep, here")
    aup_run.add_argument("experiment", help="the experiment.json")
    aup_run.add_argument("--name", help="the project name the sweep is recorded under")
    aup_run.add_argument("--engine", choices=configs.ENGINES)
    aup_run.add_argument("--n-jobs", type=int)
    aup_run.add_argument("--address")
    aup_run.set_defaults(handler=auptimizer_run)

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
    kill.set_defaults(handler=kill_sweep)
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
    retry.set_defaults(handler=retry_sweep)

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
    parser = commands.add_parser(config_type, help=f"named {config_type} configs")
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
    parser.add_argument("--n-jobs", type=int, help="workers of the local cluster")
    parser.add_argument("--address", help="an existing Ray or Dask cluster")


def _parameters(args, check: bool = False) -> dict:
    """The flow's parameters; an unknown or broken project fails here, and with ``check`` (the
    flow runs here) also a trainable that does not load or a searcher that does not build."""
    if (args.project is None) == (args.sweep_id is None):
        raise ConfigError(["give a PROJECT, or --sweep-id of a sweep to resume (not both)"])
    db = database()
    if args.project is not None:
        config = sweeps.project_config(db, args.project)
    else:
        config = sweeps.sweep_config(sweeps.sweep(db, args.sweep_id))
    if check:
        sweeps.check(sweeps.with_engine(config, args.engine, args.address, args.n_jobs))
    parameters = {
        "project": args.project,
        "sweep_id": args.sweep_id,
        "n_jobs": args.n_jobs,
        "engine": args.engine,
        "address": args.address,
    }
    return {k: v for k, v in parameters.items() if v is not None}


def local_run(args) -> int:
    return _run_here(_parameters(args, check=True), args.project)


def _run_here(parameters: dict, project: str | None) -> int:
    from flows.sweep import SweepFailed, hpo_sweep

    db = database()
    before = max((s.id for s in sweeps.sweeps(db)), default=0)
    done = threading.Event()
    # a kill interrupts the main thread, as Ctrl-C does: armed only where that is this thread;
    # only a kill of this run (not of the run that a resumed sweep had before) stops it
    stop = _Stop(
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler,
        sweeps.sweep(db, parameters["sweep_id"]).flow_run_id if parameters.get("sweep_id") else None,
    )
    watcher = threading.Thread(
        target=_watch, args=(db, parameters.get("sweep_id"), project, before, done, stop), daemon=True
    )
    watcher.start()
    try:
        with contextlib.redirect_stdout(sys.stderr):  # Ray Tune prints tables: stdout stays the JSON answer
            result = hpo_sweep(**parameters)
    except SweepFailed as exc:
        if stop.sweep_id is not None:
            return _stopped(db, stop)
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        if stop.sweep_id is None:
            raise  # Ctrl-C: the flow recorded the sweep paused
        return _stopped(db, stop)
    finally:
        done.set()
        watcher.join(timeout=5)
    if stop.sweep_id is not None:  # Ray Tune ends its run on SIGINT and returns: the flow went on
        return _stopped(db, stop)
    emit({k: result[k] for k in ("sweep_id", "status", "counts", "best", "reports")})
    return 0


KILLED = "killed by the user; resume with `tunefleet sweep retry {id}`"
CANCELLED = "its flow run was cancelled in Prefect; resume with `tunefleet sweep retry {id}`"


class _Stop:
    """Set by the watcher when the sweep this process runs is killed (``tunefleet sweep kill``, or its
    flow run cancelled in Prefect): Prefect stops only runs that a worker started, so a run here
    stops itself, as Ctrl-C stops it."""

    def __init__(self, armed: bool, previous_run: str | None) -> None:
        self.armed, self.previous_run, self.sweep_id, self.reason = armed, previous_run, None, ""

    def check(self, record, poll_prefect: bool) -> None:
        """Stop if ``record`` says that this run was killed, or (``poll_prefect``) Prefect cancels it."""
        if not self.armed or record.flow_run_id in (None, self.previous_run):
            return
        if record.status is SweepStatus.paused and record.error == KILLED.format(id=record.id):
            self(record.id, record.error)
        elif poll_prefect and record.status is SweepStatus.running:
            flow_run = _flow_run(record.flow_run_id)
            if flow_run is not None and flow_run.state is not None and flow_run.state.is_cancelling():
                self(record.id, CANCELLED.format(id=record.id))

    def __call__(self, sweep_id: int, reason: str) -> None:
        if self.armed and self.sweep_id is None:
            self.sweep_id, self.reason = sweep_id, reason
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def _stopped(db, stop: _Stop) -> int:
    """After a kill: the sweep paused with the kill's reason (the interrupted flow wrote its own, or,
    on Ray, whose Tune run ends on SIGINT and returns, its end), its flow run Cancelled (as a worker
    leaves a run it killed; the interrupted flow run reported itself Crashed)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    record = sweeps.sweep(db, stop.sweep_id)
    if not (record.status is SweepStatus.paused and record.error == KILLED.format(id=record.id)):
        # `sweep kill` pauses the record, then cancels the run: the watcher may have seen the cancel first
        record = sweeps.set_sweep(db, stop.sweep_id, status=SweepStatus.paused, error=stop.reason)
    if record.flow_run_id:
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(UUID(record.flow_run_id), Cancelled(message=record.error), force=True)
    sys.stderr.write(f"error: sweep {record.id} stopped: {record.error}\n")
    return 1


def _watch(db, sweep_id, project, before: int, done: threading.Event, stop: _Stop) -> None:
    """A rich progress bar over the sweep's recorded trials, on stderr, until the flow returns; and
    the flow stopped when the sweep is killed meanwhile (here, in the main thread only)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        bar = progress.add_task("sweep starting", total=None)
        tick = 0
        while not done.wait(0.5):
            tick += 1
            try:
                if sweep_id is None:
                    newer = [s for s in sweeps.sweeps(db, project) if s.id > before]
                    if not newer:
                        continue
                    sweep_id = newer[0].id
                record = sweeps.sweep(db, sweep_id)
                if not done.is_set():
                    stop.check(record, poll_prefect=tick % 4 == 0)
                counts = sweeps.count_trials(db, sweep_id)
            except Exception:  # noqa: BLE001 - the bar is cosmetic; the flow reports errors
                continue
            finished = sum(counts.get(s.value, 0) for s in sweeps.FINISHED)
            total = sweeps.total_trials(sweeps.sweep_config(record))
            progress.update(
                bar,
                description=f"sweep {sweep_id}: {counts.get('running', 0)} running, {counts.get('failed', 0)} failed",
                completed=finished,
                total=total,
            )


def deployment_run(args) -> None:
    from prefect.deployments import run_deployment

    flow_run = run_deployment("hpo-sweep/hpo-sweep", parameters=_parameters(args), timeout=0)
    emit({"flow_run_id": str(flow_run.id), "state": flow_run.state.name if flow_run.state else None})


def auptimizer_run(args) -> int:
    from tunefleet.sweep.auptimizer import load_experiment

    experiment = load_experiment(args.experiment, name=args.name)
    for note in experiment.notes:
        sys.stderr.write(f"note: {note}\n")
    config = sweeps.with_engine(experiment.sweep, args.engine, args.address, args.n_jobs)
    sweeps.check(config)  # before anything is recorded
    record = sweeps.create_sweep(database(), config)
    return _run_here({"sweep_id": record.id}, None)


# -- monitoring and reports -----------------------------------------------------------------------------
def _find(sweep: str):
    return sweeps.find_sweep(database(), sweep)


def show_sweep(args) -> None:
    record = _find(args.sweep)
    document = sweeps.view(database(), record, args.trials)
    document["flow_run_state"] = _flow_run_state(record)
    emit(document)


def _flow_run(flow_run_id: str | None):
    """The sweep's Prefect flow run, or None where it has none or Prefect does not know it."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    if not flow_run_id:
        return None
    with get_client(sync_client=True) as client:
        try:
            return client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            return None


def _flow_run_state(record) -> str | None:
    """The name of the state of the sweep's flow run (None: no run, or Prefect cannot say)."""
    try:
        flow_run = _flow_run(record.flow_run_id)
    except Exception:  # noqa: BLE001 - show works on the records alone when Prefect is out of reach
        return None
    return flow_run.state.name if flow_run is not None and flow_run.state is not None else None


def _going(flow_run) -> bool:
    return flow_run is not None and flow_run.state is not None and not flow_run.state.is_final()


def kill_sweep(args) -> None:
    """hpogrid's ``tasks kill``: mark the sweep paused (only a queued or running one), then cancel its
    flow run in Prefect."""
    db = database()
    record = _find(args.sweep)
    if record.status not in (SweepStatus.queued, SweepStatus.running):
        raise StatusConflict(f"sweep {record.id} is {record.status.value}: there is nothing to kill")
    flow_run, note = _flow_run(record.flow_run_id), None
    killed = sweeps.finish_sweep(
        db, record.id, SweepStatus.paused, KILLED.format(id=record.id)
    )  # guarded: queued or running only
    if record.flow_run_id and flow_run is None:
        note = f"Prefect does not know flow run {record.flow_run_id}"
    elif flow_run is not None and not _going(flow_run):
        note = f"its flow run was already {flow_run.state.name if flow_run.state else 'without a state'}"
    elif flow_run is not None:
        flow_run, note = _cancel(flow_run, f"tunefleet sweep kill {record.id}")
    document = {
        "sweep_id": killed.id,
        "status": killed.status.value,
        "flow_run_id": killed.flow_run_id,
        "flow_run_state": flow_run.state.name if flow_run is not None and flow_run.state else None,
    }
    if note:
        document["note"] = note
    emit(document)


STOP_WAIT_S = 30.0  # how long a kill waits for a run in a tunefleet process to stop itself


def _cancel(flow_run, message: str):
    """Cancelling, as ``prefect flow-run cancel`` does: a deployment run's worker kills its process and
    sets Cancelled. A run in a tunefleet process (local-run, sweep retry --here, auptimizer run)
    stops itself when it sees the kill; one that does not stop in STOP_WAIT_S (its process is gone,
    or it is hpo_sweep called from Python, which Prefect does not stop) is marked Cancelled."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Cancelling

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run.id, Cancelling(message=message))
        if flow_run.deployment_id is not None:
            current = client.read_flow_run(flow_run.id)
            return current, None if current.state.is_final() else "the deployment's worker stops the flow run"
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline:
            current = client.read_flow_run(flow_run.id)
            if current.state is not None and current.state.is_final() and not current.state.is_crashed():
                return current, None
            time.sleep(0.5)
        client.set_flow_run_state(flow_run.id, Cancelled(message=message), force=True)
        note = (
            f"no tunefleet process stopped flow run {flow_run.id} within {STOP_WAIT_S:.0f} s (it is gone, or "
            "not a tunefleet command: Prefect does not stop flow runs it did not start); marked Cancelled"
        )
        return client.read_flow_run(flow_run.id), note


def retry_sweep(args) -> int | None:
    """hpogrid's ``tasks retry``: resume the sweep (``run --sweep-id N``; ``--here``: ``local-run --sweep-id N``)."""
    record = _find(args.sweep)
    if record.status is SweepStatus.succeeded:
        raise StatusConflict(f"sweep {record.id} succeeded: there is nothing to retry")
    flow_run = _flow_run(record.flow_run_id)
    if _going(flow_run) or (record.status is SweepStatus.running and not record.flow_run_id):
        state = flow_run.state.name if flow_run is not None else "unknown"
        raise StatusConflict(
            f"sweep {record.id} is {record.status.value} and its flow run {record.flow_run_id} is {state}: "
            f"wait for it, or kill it first (`tunefleet sweep kill {record.id}`)"
        )
    args.project, args.sweep_id = None, record.id
    return local_run(args) if args.here else deployment_run(args)


def list_sweeps(args) -> None:
    db = database()
    for record in sweeps.sweeps(db, args.project):
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
