"""A sweep's trials on Ray Tune: the Tuner its configs describe, trial storage in the artifact store,
and a callback that writes every trial to the records as it happens.

A resumed sweep runs only the number of trials still missing, as new trials (those interrupted
in flight are dropped and drawn again), with the searcher's seed moved on by the trials already
done and every model-based searcher told the finished trials' results first (``evaluated``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import ray
from ray import tune

from tunefleet.bo.outcomes import Outcomes
from tunefleet.db import Database, open_database
from tunefleet.storage import ArtifactStore
from tunefleet.sweep import search
from tunefleet.sweep import service as sweeps
from tunefleet.sweep.configs import SweepConfig
from tunefleet.sweep.tables import SweepTrialStatus
from tunefleet.sweep.trainables import as_tune_trainable, stop_condition

# Keys Ray Tune adds to every result: not the trainable's metrics.
_RAY_KEYS = {
    "config",
    "trial_id",
    "experiment_id",
    "date",
    "timestamp",
    "pid",
    "hostname",
    "node_ip",
    "time_this_iter_s",
    "time_since_restore",
    "iterations_since_restore",
    "timesteps_since_restore",
    "checkpoint_dir_name",
    "experiment_tag",
    "done",
    "should_checkpoint",
    "timesteps_total",
    "episodes_total",
    "training_iteration_since_restore",
}


class Recorder(tune.Callback):
    """Writes each trial's start, every result and its end to the records as they happen; a trial
    the scheduler cut short ends ``stopped``, one that ran its course ``complete``. It holds the
    database's URL, not a Database (Ray pickles its callbacks), and calls ``on_trial_end(key, status,
    metrics, config, error)`` after each trial ends (the flow's log line and progress)."""

    def __init__(self, database_url: str, sweep_id: int, names, scheduler, on_trial_end: Callable | None = None):
        self.database_url, self.sweep_id, self.names = database_url, sweep_id, tuple(names)
        self.scheduler, self.on_trial_end = scheduler, on_trial_end
        self.cut_short: set[str] = set()

    @property
    def db(self) -> Database:
        return open_database(self.database_url)

    def _config(self, trial) -> dict:
        return {k: v for k, v in trial.config.items() if k in self.names}

    def on_trial_start(self, iteration, trials, trial, **info):
        sweeps.trial_started(self.db, self.sweep_id, trial.trial_id, self._config(trial))

    def on_trial_result(self, iteration, trials, trial, result, **info):
        sweeps.trial_result(self.db, self.sweep_id, trial.trial_id, _metrics(result))
        if _cut_short(self.scheduler, result):
            self.cut_short.add(trial.trial_id)

    def on_trial_complete(self, iteration, trials, trial, **info):
        status = SweepTrialStatus.stopped if trial.trial_id in self.cut_short else SweepTrialStatus.complete
        metrics = _metrics(trial.last_result or {})
        sweeps.trial_finished(self.db, self.sweep_id, trial.trial_id, status, metrics=metrics)
        self._ended(trial, status, metrics, None)

    def on_trial_error(self, iteration, trials, trial, **info):
        error = _error(trial)
        sweeps.trial_finished(self.db, self.sweep_id, trial.trial_id, SweepTrialStatus.failed, error=error)
        self._ended(trial, SweepTrialStatus.failed, {}, error)

    def _ended(self, trial, status: SweepTrialStatus, metrics: dict, error: str | None) -> None:
        if self.on_trial_end is not None:
            self.on_trial_end(trial.trial_id, status.value, metrics, self._config(trial), error)


def _cut_short(scheduler, result: dict) -> bool:
    """Whether Ray stops the trial at this result before its trainable ends: Ray marks ``done`` a
    result its scheduler answered STOP (results of a trainable that ends by itself never are), and
    ASHA and HyperBand answer STOP at their max_t too, which is the trial's whole budget, not a cut."""
    if not result.get("done"):
        return False
    max_t = getattr(scheduler, "_max_t", None) or getattr(scheduler, "_max_t_attr", None)
    time_attr = getattr(scheduler, "_time_attr", "training_iteration")
    return max_t is None or result.get(time_attr, 0) < max_t


def _metrics(result: dict) -> dict:
    return {
        k: v
        for k, v in result.items()
        if k not in _RAY_KEYS and (v is None or isinstance(v, (int, float, str, bool)) or hasattr(v, "item"))
    }


def _error(trial) -> str:
    try:
        error = trial.get_error()
    except Exception:  # noqa: BLE001 - the reason is best effort; the status says it failed
        error = None
    text = str(error) if error is not None else ""
    if not text and trial.error_file and Path(trial.error_file).is_file():
        text = Path(trial.error_file).read_text()
    return text[-20_000:] or "the trial failed (Ray Tune gave no reason)"


def storage(store: ArtifactStore, settings, sweep_id: int):
    """(storage_path, storage_filesystem) for Ray Tune: the artifact store's root, on S3 through
    pyarrow with the store's endpoint and credentials."""
    path = f"{store.root}/sweeps/{sweep_id}/ray"
    if store.protocol in ("file", "local"):
        return path, None
    from pyarrow import fs

    options = {}
    if settings.s3_endpoint_url:
        scheme, _, host = settings.s3_endpoint_url.partition("://")
        options.update(endpoint_override=host.rstrip("/"), scheme=scheme or "https")
    if settings.s3_key and settings.s3_secret:
        options.update(access_key=settings.s3_key.get_secret_value(), secret_key=settings.s3_secret.get_secret_value())
    return path, fs.S3FileSystem(**options)


def evaluated(finished, metric: str, outcomes: Outcomes | None = None) -> list[search.Evaluated]:
    """A resumed sweep's finished trials as its new searcher is told them: the value of ``metric``,
    or {metric: value} of every metric ``outcomes`` name."""

    def value(trial):
        if trial.status is SweepTrialStatus.failed:
            return None
        metrics = trial.metrics or {}
        return metrics.get(metric) if outcomes is None else {name: metrics.get(name) for name in outcomes.metrics}

    return [search.Evaluated(config=t.config, value=value(t), history=tuple(t.history or ())) for t in finished]


def _drop_interrupted(db: Database, sweep_id: int) -> None:
    """Trials an earlier run left pending or running: they run afresh, as new trials."""
    for stale in sweeps.unfinished(db, sweep_id):
        with db.session() as session:
            session.delete(session.get(type(stale), stale.id))
            session.commit()


def _start_ray(sweep: SweepConfig, settings) -> bool:
    """Connect to the compute config's cluster (or settings.ray_address), else start a local Ray;
    whether this call started it (and so shuts it down)."""
    if ray.is_initialized():
        return False
    compute = sweep.compute_config
    address = compute.address or settings.ray_address
    if address:
        ray.init(address=address)
    else:
        cpus = compute.n_jobs or os.cpu_count() or 1
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    return True


def _tuner(db, settings, store, sweep_id: int, sweep: SweepConfig, done: int, remaining: int, on_trial_end):
    hpo, space = sweep.hpo_config, sweep.space()
    trainable = sweeps.check(sweep)
    checkpoint_every = 1 if trainable.can_checkpoint and search.scheduler_name(hpo.scheduler) != "fifo" else 0
    function = as_tune_trainable(trainable, should_stop=stop_condition(hpo.stop), checkpoint_every=checkpoint_every)
    resources = {k.lower(): v for k, v in sweep.compute_config.resources_per_trial.items()}
    searcher = search.search_algorithm(
        hpo.algorithm,
        space,
        hpo.metric,
        hpo.mode,
        seed=None if hpo.seed is None else (hpo.seed + done) % 2**32,
        max_concurrent=hpo.max_concurrent,
        evaluated=evaluated(sweeps.trials(db, sweep_id, sweeps.FINISHED), hpo.metric, hpo.outcomes()),
        outcomes=hpo.outcomes(),
        **hpo.algorithm_param,
    )
    scheduler = search.scheduler(hpo.scheduler, hpo.metric, hpo.mode, space, **hpo.scheduler_param)
    grid = space.grid_size() if space.grid_variables else 1
    storage_path, filesystem = storage(store, settings, sweep_id)
    return tune.Tuner(
        tune.with_resources(function, resources),
        param_space=search.tuner_param_space(hpo.algorithm, space, sweep.model_config.param),
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=scheduler,
            num_samples=math.ceil(remaining / grid) if grid > 1 else remaining,
        ),
        run_config=tune.RunConfig(
            name=f"run-{done}",
            storage_path=storage_path,
            storage_filesystem=filesystem,
            failure_config=tune.FailureConfig(max_failures=hpo.job_retries, fail_fast=not hpo.ignore_fail),
            callbacks=[Recorder(db.url, sweep_id, space.names, scheduler, on_trial_end)],
            verbose=hpo.verbose,
        ),
    )


def run(db: Database, settings, store: ArtifactStore, sweep_id: int, sweep: SweepConfig, on_trial_end=None) -> dict:
    """The sweep's remaining trials on Ray Tune (local Ray, or the cluster at the compute config's
    address / settings.ray_address): ``{"ran": n}``, with ``"error"`` when a failed trial ended a
    sweep that does not ignore failures."""
    _drop_interrupted(db, sweep_id)
    done = len(sweeps.finished_keys(db, sweep_id))
    remaining = sweeps.total_trials(sweep) - done
    if remaining <= 0:
        return {"ran": 0}
    started = _start_ray(sweep, settings)
    try:
        tuner = _tuner(db, settings, store, sweep_id, sweep, done, remaining, on_trial_end)
        try:
            tuner.fit()
        except Exception as exc:  # fail_fast raises once a trial failed; the records say which
            if sweep.hpo_config.ignore_fail:
                raise
            return {"ran": remaining, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        if started:
            ray.shutdown()
    return {"ran": remaining}
