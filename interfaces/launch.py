"""How a queued training job becomes a Prefect flow run.

Embedded mode (no deployment configured): a background thread of this process runs the
flow, one job at a time in arrival order. Production: a flow run of the configured
deployment is created and a worker on its work pool picks it up.
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


class InProcessLauncher:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunefleet-train")
        self._pending: list[Future] = []

    def train(self, model_id: int) -> None:
        context = contextvars.copy_context()  # carries Prefect's settings into the thread
        self._pending = [future for future in self._pending if not future.done()]  # a long-lived API keeps none
        self._pending.append(self._pool.submit(context.run, _train_here, model_id))

    def recover(self, db: Database) -> None:
        """Requeue jobs this process owned when it stopped (queued, or interrupted mid-run)."""
        for model in db.ridge_models([Status.queued, Status.running]):
            log.info("resuming ridge model %s (%s)", model.id, model.status.value)
            self.train(model.id)

    def wait(self) -> None:
        for future in self._pending:
            future.result()
        self._pending.clear()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def _train_here(model_id: int) -> None:
    from flows.ridge import ridge_cv

    try:
        ridge_cv(model_id=model_id)
    except Exception:  # the flow has recorded the failure on the model
        log.exception("training of ridge model %s failed", model_id)


class DeploymentLauncher:
    def __init__(self, deployment: str) -> None:
        self.deployment = deployment

    def train(self, model_id: int) -> None:
        from prefect.deployments import run_deployment

        try:
            flow_run = run_deployment(self.deployment, parameters={"model_id": model_id}, timeout=0)
        except Exception as exc:
            raise LaunchError(f"could not create a flow run of {self.deployment}: {exc}") from exc
        log.info("ridge model %s: flow run %s of %s", model_id, flow_run.id, self.deployment)

    def recover(self, db: Database) -> None:
        """Nothing to do: queued flow runs wait in their work pool."""

    def wait(self) -> None:
        """Nothing to wait for here: the flow runs on a worker."""

    def shutdown(self) -> None:
        pass


def launcher_for(settings: Settings) -> InProcessLauncher | DeploymentLauncher:
    if settings.ridge_deployment:
        return DeploymentLauncher(settings.ridge_deployment)
    return InProcessLauncher()
