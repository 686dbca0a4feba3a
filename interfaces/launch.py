"""How a queued job (a ridge training, a benchmark run) becomes a Prefect flow run.

Each kind of job goes to its deployment when one is configured
(``TUNEFLEET_RIDGE_DEPLOYMENT``, ``TUNEFLEET_BENCHMARK_DEPLOYMENT``): a flow run is
created and a worker on the deployment's work pool picks it up. Without one (the embedded
mode) a background thread of this process runs the flow, one job at a time in arrival
order, and jobs this process owned when it stopped are resumed when it starts again.
"""

from __future__ import annotations

import contextvars
import logging
from concurrent.futures import Future, ThreadPoolExecutor

from tunefleet.records import Database, Status
from tunefleet.settings import Settings

log = logging.getLogger(__name__)


class LaunchError(RuntimeError):
    pass


def _train_here(model_id: int) -> None:
    from flows.ridge import ridge_cv

    ridge_cv(model_id=model_id)


def _benchmark_here(run_id: int) -> None:
    from flows.benchmark import benchmark

    benchmark(run_id=run_id)


class Launcher:
    def __init__(self, ridge_deployment: str | None = None, benchmark_deployment: str | None = None) -> None:
        self.deployments = {"ridge": ridge_deployment, "benchmark": benchmark_deployment}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunefleet-job")
        self._pending: list[Future] = []

    def runs_here(self, kind: str) -> bool:
        """Whether jobs of ``kind`` run in this process (no deployment configured for them)."""
        return not self.deployments[kind]

    def train(self, model_id: int) -> None:
        self._launch("ridge", _train_here, {"model_id": model_id})

    def benchmark(self, run_id: int) -> None:
        self._launch("benchmark", _benchmark_here, {"run_id": run_id})

    def _launch(self, kind: str, here, parameters: dict) -> None:
        deployment = self.deployments[kind]
        if deployment:
            self._create_flow_run(deployment, parameters)
            return
        context = contextvars.copy_context()  # carries Prefect's settings into the thread
        self._pending = [future for future in self._pending if not future.done()]  # a long-lived API keeps none
        self._pending.append(self._pool.submit(context.run, _logged, here, kind, parameters))

    @staticmethod
    def _create_flow_run(deployment: str, parameters: dict) -> None:
        from prefect.deployments import run_deployment

        try:
            flow_run = run_deployment(deployment, parameters=parameters, timeout=0)
        except Exception as exc:
            raise LaunchError(f"could not create a flow run of {deployment}: {exc}") from exc
        log.info("%s: flow run %s of %s", parameters, flow_run.id, deployment)

    def recover(self, db: Database) -> None:
        """Requeue in-process jobs this process owned when it stopped (queued, or interrupted mid-run);
        jobs sent to deployments wait in their work pools and need nothing."""
        unfinished = [Status.queued, Status.running]
        if not self.deployments["ridge"]:
            for model in db.ridge_models(unfinished):
                log.info("resuming ridge model %s (%s)", model.id, model.status.value)
                self.train(model.id)
        if not self.deployments["benchmark"]:
            from tunefleet import benchmarking

            for run in benchmarking.runs(db, status=unfinished):
                log.info("resuming benchmark run %s (%s)", run.id, run.status.value)
                self.benchmark(run.id)

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


def launcher_for(settings: Settings) -> Launcher:
    return Launcher(settings.ridge_deployment, settings.benchmark_deployment)
