"""One launcher for every capability: its work as a Prefect flow run here or through its
deployment, and what the CLI and the API do with runs (wait, show progress, kill, retry).

``Launcher.submit`` sends a ridge training or a benchmark run to its deployment when one is
configured (``TUNEFLEET_RIDGE_DEPLOYMENT``, ``TUNEFLEET_BENCHMARK_DEPLOYMENT``,
``TUNEFLEET_HW_TUNING_DEPLOYMENT``): a flow run is
created and a worker on the deployment's work pool picks it up. Without one (the embedded mode) a
background thread of this process runs the flow, one job at a time in arrival order, and jobs
this process owned when it stopped are resumed when it starts again (``recover``). The API's
launcher runs each such job ``apart``: in a child process limited to ``TUNEFLEET_JOB_MEMORY_MB``
(``interfaces.job``), so a job that runs out of memory fails alone and the API stays up. A sweep runs
through its deployment (``TUNEFLEET_SWEEP_DEPLOYMENT``, default ``hpo-sweep/hpo-sweep``) or here
in the calling thread, which watches for a kill (``run_sweep_here``); BO's closed loop runs here.

Command modules hold argparse and printing only; what a command does with a run is here.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from uuid import UUID

from blocks.context import database
from interfaces import local_prefect
from tunefleet.bench import service as benchmarking
from tunefleet.db import Database, StatusConflict
from tunefleet.db.columns import Status
from tunefleet.errors import Unavailable
from tunefleet.ridge import service as ridge
from tunefleet.settings import Settings
from tunefleet.sweep import service as sweeps
from tunefleet.sweep.tables import Sweep, SweepStatus

log = logging.getLogger(__name__)


class LaunchError(Unavailable):
    """A flow run could not be created (the Prefect server or the deployment is out of reach)."""


# -- the flows, run here -----------------------------------------------------------------------------
def _ridge_here(model_id: int) -> None:
    from flows.ridge import ridge_cv

    ridge_cv(model_id=model_id)


def _benchmark_here(run_id: int) -> None:
    from flows.benchmark import benchmark

    benchmark(run_id=run_id)


def _sweep_here(**parameters) -> dict:
    from flows.sweep import hpo_sweep

    return hpo_sweep(**parameters)


def _bo_here(**parameters) -> dict:
    from flows.bo import bo_tuning

    return bo_tuning(**parameters)


def _hw_tuning_here(**parameters) -> dict:
    from flows.hwtune import hw_tuning

    return hw_tuning(**parameters)


def _ridge_gone(db: Database, reason: str, model_id: int) -> None:
    ridge.fail(db, model_id, reason)


def _benchmark_gone(db: Database, reason: str, run_id: int) -> None:
    benchmarking.fail(db, run_id, reason)


def _hw_tuning_gone(db: Database, reason: str, tuning: str, **_) -> None:
    from tunefleet.hwtune import service as tunings

    tunings.fail(db, int(tuning), reason)


@dataclass(frozen=True)
class Capability:
    here: Callable  # runs its flow in this process
    deployment_setting: str | None  # the Settings field naming its deployment (None: it runs here only)
    gone: Callable | None = None  # records a job failed whose process ended before its flow could


CAPABILITIES = {
    "ridge": Capability(_ridge_here, "ridge_deployment", _ridge_gone),
    "benchmark": Capability(_benchmark_here, "benchmark_deployment", _benchmark_gone),
    "sweep": Capability(_sweep_here, "sweep_deployment"),
    "bo": Capability(_bo_here, None),
    "hw-tuning": Capability(_hw_tuning_here, "hw_tuning_deployment", _hw_tuning_gone),
}


class Launcher:
    def __init__(self, settings: Settings | None = None, apart: bool = False) -> None:
        """``apart``: run the embedded mode's jobs in child processes (the API); else in this process."""
        self.settings, self.apart = settings, apart
        self.deployments = {
            kind: getattr(settings, capability.deployment_setting)
            if settings and capability.deployment_setting
            else None
            for kind, capability in CAPABILITIES.items()
        }
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunefleet-job")
        self._pending: list[Future] = []

    def runs_here(self, kind: str) -> bool:
        """Whether ``submit`` runs jobs of ``kind`` in this process (no deployment configured for them)."""
        return not self.deployments[kind]

    def submit(self, kind: str, **parameters) -> None:
        """A job of ``kind`` to its deployment, or to this process's background thread."""
        if not self.runs_here(kind):
            self.to_deployment(kind, parameters)
            return
        context = contextvars.copy_context()  # carries Prefect's settings into the thread
        self._pending = [future for future in self._pending if not future.done()]  # a long-lived API keeps none
        job = functools.partial(self._apart, kind) if self.apart else CAPABILITIES[kind].here
        self._pending.append(self._pool.submit(context.run, _logged, job, kind, parameters))

    def _apart(self, kind: str, **parameters) -> None:
        """The job in a child process with the memory limit; recorded failed if that process died first."""
        command = [
            sys.executable,
            "-m",
            "interfaces.job",
            kind,
            json.dumps(parameters),
            str(self.settings.job_memory_mb),
        ]
        ended = subprocess.run(command, env=os.environ.copy(), check=False)
        if ended.returncode != 0:
            reason = (
                f"the job's process ended with exit code {ended.returncode} (out of memory? TUNEFLEET_JOB_MEMORY_MB)"
            )
            with contextlib.suppress(StatusConflict):  # it ended its own record first
                CAPABILITIES[kind].gone(database(self.settings), reason, **parameters)
            log.error("%s job %s: %s", kind, parameters, reason)

    def run_here(self, kind: str, **parameters):
        """The flow of ``kind`` in this thread; its result."""
        return CAPABILITIES[kind].here(**parameters)

    def to_deployment(self, kind: str, parameters: dict):
        """A flow run of ``kind``'s deployment for a worker (returned at once, as Prefect created it)."""
        from prefect.deployments import run_deployment

        deployment = self.deployments[kind]
        if not deployment:
            raise LaunchError(f"no deployment is configured for {kind} runs")
        try:
            flow_run = run_deployment(deployment, parameters=parameters, timeout=0)
        except Exception as exc:
            raise LaunchError(f"could not create a flow run of {deployment}: {exc}") from exc
        log.info("%s: flow run %s of %s", parameters, flow_run.id, deployment)
        return flow_run

    def recover(self, db: Database) -> None:
        """Requeue in-process jobs this process owned when it stopped (queued, or interrupted mid-run);
        jobs sent to deployments wait in their work pools and need nothing."""
        unfinished = {Status.queued, Status.running}
        if self.runs_here("ridge"):
            for model in ridge.list(db, unfinished):
                log.info("resuming ridge model %s (%s)", model.id, model.status.value)
                self.submit("ridge", model_id=model.id)
        if self.runs_here("benchmark"):
            for run in benchmarking.list(db, status=unfinished):
                log.info("resuming benchmark run %s (%s)", run.id, run.status.value)
                self.submit("benchmark", run_id=run.id)
        if self.runs_here("hw-tuning"):
            from tunefleet.hwtune import service as tunings

            for tuning in tunings.list(db, status=unfinished):
                log.info("resuming hardware-aware tuning %s (%s)", tuning.id, tuning.status.value)
                self.submit("hw-tuning", tuning=str(tuning.id), **(tuning.budget or {}))

    def wait(self) -> None:
        for future in self._pending:
            future.result()
        self._pending.clear()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def _logged(here, kind: str, parameters: dict) -> None:
    try:
        here(**parameters)
    except Exception:  # the flow has recorded the failure on its record
        log.exception("%s job %s failed", kind, parameters)


# -- progress ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tick:
    description: str
    completed: int | None = None
    total: int | None = None


@contextlib.contextmanager
def progress(poll: Callable[[], Tick | None], interval: float = 0.5) -> Iterator[None]:
    """A progress bar on stderr while the block runs, redrawn from ``poll()`` every ``interval`` s in a
    thread (None: nothing to show yet; an error in ``poll`` skips a redraw: the bar is cosmetic)."""
    done = threading.Event()
    thread = threading.Thread(target=_draw, args=(poll, done, interval), daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


def _draw(poll: Callable[[], Tick | None], done: threading.Event, interval: float) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("starting", total=None)
        while not done.wait(interval):
            try:
                tick = poll()
            except Exception:  # noqa: BLE001 - the bar is cosmetic; the flow reports errors
                continue
            if tick is not None and not done.is_set():
                bar.update(task, description=tick.description, completed=tick.completed or 0, total=tick.total)


def wait_for_ridge(db: Database, model_id: int, launcher: Launcher):
    """The ridge model once its training has ended (here, or on a worker)."""

    def poll() -> Tick:
        return Tick(f"training ridge model {model_id}: {ridge.get(db, model_id).status.value}")

    with progress(poll):
        launcher.wait()
        while (model := ridge.get(db, model_id)).status in (Status.queued, Status.running):
            time.sleep(0.5)
    return model


def run_benchmark_here(db: Database, run):
    """Run benchmark run ``run`` in this thread with a bar of its recorded cells; the run as it ended."""
    total = len(run.config["entries"]) * len(run.config["optimisations"])  # a cell per entry × optimisation

    def poll() -> Tick:
        return Tick(f"benchmark run {run.id}", len(benchmarking.cells(db, run.id)), total)

    with progress(poll), answer_stays_on_stdout():  # Treelite's compiler logs to the process's stdout
        _logged(CAPABILITIES["benchmark"].here, "benchmark", {"run_id": run.id})  # here, deployment or not
    return benchmarking.get(db, run.id)


def run_hw_tuning_here(**parameters) -> dict:
    """The hw-tuning flow in this thread (its rounds are logged as they end); its report."""
    with answer_stays_on_stdout():  # each treelite candidate is compiled: tl2cgen logs to the process's stdout
        return CAPABILITIES["hw-tuning"].here(**parameters)


@contextlib.contextmanager
def answer_stays_on_stdout() -> Iterator[None]:
    """While the block runs, whatever it prints goes to stderr: Python's prints (Ray Tune's tables) and
    native libraries' writes to file descriptor 1 (tl2cgen's logger), so a command's stdout holds its
    JSON answer alone (``tunefleet benchmark run ... > run.json``)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# -- Prefect flow runs ------------------------------------------------------------------------------------
def flow_run(flow_run_id: str | None):
    """The Prefect flow run, or None where there is none or Prefect does not know it."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    if not flow_run_id:
        return None
    with get_client(sync_client=True) as client:
        try:
            return client.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            return None


def flow_run_state(flow_run_id: str | None) -> str | None:
    """The name of the flow run's state (None: no run, no Prefect server to ask, or it cannot say).
    Asked over Prefect's REST API, not its client: importing the client takes 1.4 s, and a read-only
    command answers in under 2 s."""
    import httpx

    url = local_prefect.api_url()
    if not flow_run_id or not url:
        return None
    headers = {"Authorization": f"Bearer {os.environ['PREFECT_API_KEY']}"} if os.environ.get("PREFECT_API_KEY") else {}
    auth = (
        tuple(os.environ["PREFECT_API_AUTH_STRING"].split(":", 1))
        if os.environ.get("PREFECT_API_AUTH_STRING")
        else None
    )
    try:
        answer = httpx.get(f"{url.rstrip('/')}/flow_runs/{UUID(flow_run_id)}", headers=headers, auth=auth, timeout=5)
        return answer.json()["state"]["name"] if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):  # callers work on the records alone
        return None


def is_going(run) -> bool:
    return run is not None and run.state is not None and not run.state.is_final()


STOP_WAIT_S = 30.0  # how long a kill waits for a run in a tunefleet process to stop itself


def cancel(run, message: str):
    """Cancelling, as ``prefect flow-run cancel`` does: a deployment run's worker kills its process and
    sets Cancelled. A run in a tunefleet process (local-run, sweep retry --here, auptimizer run)
    stops itself when it sees the kill; one that does not stop in STOP_WAIT_S (its process is gone,
    or it is hpo_sweep called from Python, which Prefect does not stop) is marked Cancelled.
    Returns the flow run as it is then, and a note on what happened (or None)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Cancelling

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run.id, Cancelling(message=message))
        if run.deployment_id is not None:
            current = client.read_flow_run(run.id)
            return current, None if current.state.is_final() else "the deployment's worker stops the flow run"
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline:
            current = client.read_flow_run(run.id)
            if current.state is not None and current.state.is_final() and not current.state.is_crashed():
                return current, None
            time.sleep(0.5)
        client.set_flow_run_state(run.id, Cancelled(message=message), force=True)
        note = (
            f"no tunefleet process stopped flow run {run.id} within {STOP_WAIT_S:.0f} s (it is gone, or "
            "not a tunefleet command: Prefect does not stop flow runs it did not start); marked Cancelled"
        )
        return client.read_flow_run(run.id), note


# -- sweeps --------------------------------------------------------------------------------------------------
KILLED = "killed by the user; resume with `tunefleet sweep retry {id}`"
CANCELLED = "its flow run was cancelled in Prefect; resume with `tunefleet sweep retry {id}`"


def sweep_parameters(db: Database, project, sweep_id, engine=None, address=None, n_jobs=None, check=False) -> dict:
    """The hpo-sweep flow's parameters; an unknown or broken project fails here, and with ``check`` (the
    flow runs here) also a trainable that does not load or a searcher that does not build."""
    from tunefleet.sweep.configs import ConfigError

    if (project is None) == (sweep_id is None):
        raise ConfigError(["give a PROJECT, or --sweep-id of a sweep to resume (not both)"])
    config = (
        sweeps.project_config(db, project) if project is not None else sweeps.sweep_config(sweeps.get(db, sweep_id))
    )
    if check:
        sweeps.check(sweeps.with_engine(config, engine, address, n_jobs))
    parameters = {"project": project, "sweep_id": sweep_id, "n_jobs": n_jobs, "engine": engine, "address": address}
    return {k: v for k, v in parameters.items() if v is not None}


@dataclass(frozen=True)
class SweepOutcome:
    """How a sweep run here ended: the flow's result, or why there is none (failed, or killed)."""

    result: dict | None = None
    error: str | None = None


class _Stop:
    """Set by the watcher when the sweep this process runs is killed (``tunefleet sweep kill``, or its
    flow run cancelled in Prefect): Prefect stops only runs that a worker started, so a run here
    stops itself, as Ctrl-C stops it."""

    def __init__(self, armed: bool, previous_run: str | None) -> None:
        self.armed, self.previous_run, self.sweep_id, self.reason = armed, previous_run, None, ""

    def check(self, record: Sweep, poll_prefect: bool) -> None:
        """Stop if ``record`` says that this run was killed, or (``poll_prefect``) Prefect cancels it."""
        if not self.armed or record.flow_run_id in (None, self.previous_run):
            return
        if record.status is SweepStatus.paused and record.error == KILLED.format(id=record.id):
            self(record.id, record.error)
        elif poll_prefect and record.status is SweepStatus.running:
            found = flow_run(record.flow_run_id)
            if found is not None and found.state is not None and found.state.is_cancelling():
                self(record.id, CANCELLED.format(id=record.id))

    def __call__(self, sweep_id: int, reason: str) -> None:
        if self.armed and self.sweep_id is None:
            self.sweep_id, self.reason = sweep_id, reason
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def run_sweep_here(db: Database, parameters: dict, project: str | None) -> SweepOutcome:
    """The hpo-sweep flow in this thread, with a progress bar of its recorded trials; a kill of it
    (``kill_sweep``, or a cancel in the Prefect UI) stops it as Ctrl-C does. Ctrl-C itself propagates:
    the flow recorded the sweep paused."""
    from flows.sweep import SweepFailed

    before = max((s.id for s in sweeps.list(db)), default=0)
    # a kill interrupts the main thread, as Ctrl-C does: armed only where that is this thread;
    # only a kill of this run (not of the run that a resumed sweep had before) stops it
    stop = _Stop(
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler,
        sweeps.get(db, parameters["sweep_id"]).flow_run_id if parameters.get("sweep_id") else None,
    )
    poll = _sweep_poll(db, parameters.get("sweep_id"), project, before, stop)
    try:
        with progress(poll), answer_stays_on_stdout():  # Ray Tune prints tables
            result = _sweep_here(**parameters)
    except SweepFailed as exc:
        return _stopped(db, stop) if stop.sweep_id is not None else SweepOutcome(error=str(exc))
    except KeyboardInterrupt:
        if stop.sweep_id is None:
            raise
        return _stopped(db, stop)
    if stop.sweep_id is not None:  # Ray Tune ends its run on SIGINT and returns: the flow went on
        return _stopped(db, stop)
    return SweepOutcome(result={k: result[k] for k in ("sweep_id", "status", "counts", "best", "reports")})


def _sweep_poll(db: Database, sweep_id, project, before: int, stop: _Stop) -> Callable[[], Tick | None]:
    """The sweep's bar (finished trials of its budget), and the kill check, every half second."""
    ticks = itertools.count(1)

    def poll() -> Tick | None:
        nonlocal sweep_id
        tick = next(ticks)
        if sweep_id is None:
            newer = [s for s in sweeps.list(db, project) if s.id > before]
            if not newer:
                return None
            sweep_id = newer[0].id
        record = sweeps.get(db, sweep_id)
        stop.check(record, poll_prefect=tick % 4 == 0)
        counts = sweeps.count_trials(db, sweep_id)
        finished = sum(counts.get(s.value, 0) for s in sweeps.FINISHED)
        description = f"sweep {sweep_id}: {counts.get('running', 0)} running, {counts.get('failed', 0)} failed"
        return Tick(description, finished, sweeps.total_trials(sweeps.sweep_config(record)))

    return poll


def _stopped(db: Database, stop: _Stop) -> SweepOutcome:
    """After a kill: the sweep paused with the kill's reason (the interrupted flow wrote its own, or,
    on Ray, whose Tune run ends on SIGINT and returns, its end), its flow run Cancelled (as a worker
    leaves a run it killed; the interrupted flow run reported itself Crashed)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    record = sweeps.get(db, stop.sweep_id)
    if not (record.status is SweepStatus.paused and record.error == KILLED.format(id=record.id)):
        # `sweep kill` pauses the record, then cancels the run: the watcher may have seen the cancel first
        record = sweeps.set_sweep(db, stop.sweep_id, status=SweepStatus.paused, error=stop.reason)
    if record.flow_run_id:
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(UUID(record.flow_run_id), Cancelled(message=record.error), force=True)
    return SweepOutcome(error=f"sweep {record.id} stopped: {record.error}")


def kill_sweep(db: Database, record: Sweep) -> dict:
    """hpogrid's ``tasks kill``: mark the sweep paused (only a queued or running one), then cancel its
    flow run in Prefect. What happened, as the CLI shows it."""
    if record.status not in (SweepStatus.queued, SweepStatus.running):
        raise StatusConflict(f"sweep {record.id} is {record.status.value}: there is nothing to kill")
    found, note = flow_run(record.flow_run_id), None
    killed = sweeps.finish(db, record.id, SweepStatus.paused, KILLED.format(id=record.id))  # guarded
    if record.flow_run_id and found is None:
        note = f"Prefect does not know flow run {record.flow_run_id}"
    elif found is not None and not is_going(found):
        note = f"its flow run was already {found.state.name if found.state else 'without a state'}"
    elif found is not None:
        found, note = cancel(found, f"tunefleet sweep kill {record.id}")
    document = {
        "sweep_id": killed.id,
        "status": killed.status.value,
        "flow_run_id": killed.flow_run_id,
        "flow_run_state": found.state.name if found is not None and found.state else None,
    }
    if note:
        document["note"] = note
    return document


def check_retry(record: Sweep) -> None:
    """hpogrid's ``tasks retry`` refuses a sweep that succeeded, and one whose flow run is still going."""
    if record.status is SweepStatus.succeeded:
        raise StatusConflict(f"sweep {record.id} succeeded: there is nothing to retry")
    found = flow_run(record.flow_run_id)
    if is_going(found) or (record.status is SweepStatus.running and not record.flow_run_id):
        state = found.state.name if found is not None else "unknown"
        raise StatusConflict(
            f"sweep {record.id} is {record.status.value} and its flow run {record.flow_run_id} is {state}: "
            f"wait for it, or kill it first (`tunefleet sweep kill {record.id}`)"
        )
