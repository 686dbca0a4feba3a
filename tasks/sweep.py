"""Prefect tasks of HPO sweeps: open / resume the sweep, run trials on Ray Tune or in Dask batches,
record every trial as it happens, publish reports, keep the best model."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact, update_progress_artifact

from tasks.context import RECORD_RETRIES, artifact_store, current_settings, database, retry_unless
from tunefleet import sweeps
from tunefleet.records import StatusConflict, SweepStatus, SweepTrialStatus
from tunefleet.sweep import report as sweep_report
from tunefleet.sweep.configs import SweepConfig
from tunefleet.sweep.trainables import TrialError, run_trial, stop_condition

# Records live on other machines: retry what a dropped connection makes fail, never bad input
# (ConfigError, SpaceError, TrainableError, ... are ValueErrors; RecordNotFound a LookupError).
RECORDS = dict(**RECORD_RETRIES, retry_condition_fn=retry_unless(ValueError, LookupError))

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


@task(**RECORDS)
def check_sweep(project: str | None, sweep_id: int | None, engine, address, n_jobs) -> dict:
    """The sweep's configs (a project's as stored now, or a sweep's snapshot), with the engine
    overrides, checked before anything is recorded or run (bad input is not retried)."""
    db = database()
    config = sweeps.project_config(db, project) if sweep_id is None else sweeps.sweep_config(sweeps.sweep(db, sweep_id))
    config = sweeps.with_engine(config, engine, address, n_jobs)
    sweeps.check(config)
    return config.to_dict()


@task(**RECORDS)
def open_sweep(config: dict, sweep_id: int | None, flow_run_id: str | None) -> int:
    db = database()
    if sweep_id is None:
        sweep_id = sweeps.create_sweep(db, SweepConfig.from_dict(config)).id
    sweeps.start_sweep(db, sweep_id, flow_run_id)
    return sweep_id


@task(**RECORDS)
def finish(sweep_id: int, status: str, error: str | None = None) -> None:
    """End the sweep, unless it has ended already: a kill paused it while its flow run was stopped."""
    try:
        sweeps.finish_sweep(database(), sweep_id, SweepStatus(status), error)
    except StatusConflict as exc:
        get_run_logger().info("sweep %s not marked %s: %s", sweep_id, status, exc)


def _progress(progress_id, sweep_id: int, total: int) -> None:
    if progress_id is None:
        return
    done = sum(
        n for s, n in sweeps.count_trials(database(), sweep_id).items() if s in {f.value for f in sweeps.FINISHED}
    )
    update_progress_artifact(progress_id, min(100.0, 100.0 * done / max(total, 1)))


# -- Dask: trials sampled up front, run in batches ------------------------------------------------------
@task(**RECORDS)
def plan_trials(sweep_id: int, config: dict) -> list[tuple[str, dict]]:
    """The trials still to run: all points recorded as pending on the first run; on a resume,
    those not finished (pending, or running when the last run died), by trial_key."""
    db = database()
    sweeps.add_pending(db, sweep_id, sweeps.sample_points(SweepConfig.from_dict(config)))
    return [(t.trial_key, t.config) for t in sweeps.unfinished(db, sweep_id)]


def batches(items: list, workers: int, per_worker: int = 4) -> list[list]:
    """Split into about ``workers × per_worker`` batches: many trials per Prefect task."""
    if not items:
        return []
    size = max(1, math.ceil(len(items) / (workers * per_worker)))
    return [items[i : i + size] for i in range(0, len(items), size)]


@task
def run_batch(
    sweep_id: int, trainable, batch: list, stop: dict, retries: int, ignore_fail: bool, flow_run_id: str | None = None
) -> dict:
    """Run a batch of trials here (a Dask worker), one after the other, recording each as it goes.
    A failed trial is retried ``retries`` times; without ``ignore_fail`` the batch ends at a failure
    and the other batches skip what they have not started. A batch of flow run ``flow_run_id`` also
    skips the rest once that run no longer runs the sweep (killed, or resumed by another run): on a
    Dask cluster of its own, a batch outlives the flow process that submitted it."""
    db = database()
    should_stop = stop_condition(stop)
    counts = {"complete": 0, "failed": 0, "skipped": 0}
    for key, config in batch:
        if _orphaned(db, sweep_id, flow_run_id) or (
            not ignore_fail and sweeps.count_trials(db, sweep_id).get("failed", 0)
        ):
            counts["skipped"] += 1
            continue
        for attempt in range(retries + 1):
            sweeps.trial_started(db, sweep_id, key, config)
            try:
                outcome = run_trial(
                    trainable, config, lambda m, k=key: sweeps.trial_result(db, sweep_id, k, m), should_stop=should_stop
                )
            except TrialError as exc:
                if attempt < retries:
                    continue
                sweeps.trial_finished(db, sweep_id, key, SweepTrialStatus.failed, error=str(exc))
                counts["failed"] += 1
            else:
                sweeps.trial_finished(db, sweep_id, key, SweepTrialStatus.complete, metrics=outcome.metrics)
                counts["complete"] += 1
            break
    return counts


def _orphaned(db, sweep_id: int, flow_run_id: str | None) -> bool:
    if flow_run_id is None:
        return False
    record = sweeps.sweep(db, sweep_id)
    return record.status is not SweepStatus.running or record.flow_run_id != flow_run_id


# -- Ray Tune --------------------------------------------------------------------------------------------
def _recorder(sweep_id: int, names: tuple[str, ...], total: int, progress_id, scheduler):
    from ray import tune

    class Recorder(tune.Callback):
        """Writes each trial's start, every result and its end to the records as they happen; a
        trial the scheduler cut short ends ``stopped``, one that ran its course ``complete``."""

        def __init__(self):
            self.cut_short: set[str] = set()

        def on_trial_start(self, iteration, trials, trial, **info):
            config = {k: v for k, v in trial.config.items() if k in names}
            sweeps.trial_started(database(), sweep_id, trial.trial_id, config)

        def on_trial_result(self, iteration, trials, trial, result, **info):
            sweeps.trial_result(database(), sweep_id, trial.trial_id, _metrics(result))
            if _cut_short(scheduler, result):
                self.cut_short.add(trial.trial_id)

        def on_trial_complete(self, iteration, trials, trial, **info):
            metrics = _metrics(trial.last_result or {})
            status = SweepTrialStatus.stopped if trial.trial_id in self.cut_short else SweepTrialStatus.complete
            sweeps.trial_finished(database(), sweep_id, trial.trial_id, status, metrics=metrics)
            _progress(progress_id, sweep_id, total)

        def on_trial_error(self, iteration, trials, trial, **info):
            sweeps.trial_finished(database(), sweep_id, trial.trial_id, SweepTrialStatus.failed, error=_error(trial))
            _progress(progress_id, sweep_id, total)

    return Recorder()


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


def _storage(sweep_id: int, run: int):
    """(storage_path, storage_filesystem) for Ray Tune: the artifact store's root, on S3 through
    pyarrow with the store's endpoint and credentials."""
    settings = current_settings()
    store = artifact_store(settings)
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


def evaluated(finished, metric: str) -> list:
    """A resumed sweep's finished trials as its new searcher is told them (``search.Evaluated``)."""
    from tunefleet.search import Evaluated

    return [
        Evaluated(
            config=trial.config,
            value=None if trial.status is SweepTrialStatus.failed else (trial.metrics or {}).get(metric),
            history=tuple(trial.history or ()),
        )
        for trial in finished
    ]


@task
def run_ray(sweep_id: int, config: dict, progress_id=None) -> dict:
    """The sweep's remaining trials on Ray Tune (local Ray, or the cluster at the compute
    config's address / settings.ray_address). A resumed sweep runs only the number of trials
    still missing, as new trials (those interrupted in flight are dropped and drawn again), with
    the searcher's seed moved on by the trials already done and every model-based searcher told
    the finished trials' results first (``evaluated``)."""
    import ray
    from ray import tune

    from tunefleet import search

    sweep = SweepConfig.from_dict(config)
    hpo, compute, space = sweep.hpo_config, sweep.compute_config, sweep.space()
    db = database()
    for stale in sweeps.unfinished(db, sweep_id):  # interrupted trials of an earlier run: run afresh
        with db.session() as session:
            session.delete(session.get(type(stale), stale.id))
            session.commit()
    done = len(sweeps.finished_keys(db, sweep_id))
    total = sweeps.total_trials(sweep)
    remaining = total - done
    if remaining <= 0:
        return {"ran": 0}
    grid = space.grid_size() if space.grid_variables else 1
    started = False
    if not ray.is_initialized():
        address = compute.address or current_settings().ray_address
        if address:
            ray.init(address=address)
        else:
            cpus = compute.n_jobs or os.cpu_count() or 1
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        trainable = sweeps.check(sweep)
        scheduler_name = search.scheduler_name(hpo.scheduler)
        checkpoint_every = 1 if trainable.can_checkpoint and scheduler_name != "fifo" else 0
        from tunefleet.sweep.trainables import as_tune_trainable

        function = as_tune_trainable(trainable, should_stop=stop_condition(hpo.stop), checkpoint_every=checkpoint_every)
        resources = {k.lower(): v for k, v in compute.resources_per_trial.items()}
        seed = None if hpo.seed is None else (hpo.seed + done) % 2**32
        searcher = search.search_algorithm(
            hpo.algorithm,
            space,
            hpo.metric,
            hpo.mode,
            seed=seed,
            max_concurrent=hpo.max_concurrent,
            evaluated=evaluated(sweeps.trials(db, sweep_id, sweeps.FINISHED), hpo.metric),
            **hpo.algorithm_param,
        )
        scheduler = search.scheduler(hpo.scheduler, hpo.metric, hpo.mode, space, **hpo.scheduler_param)
        storage_path, filesystem = _storage(sweep_id, done)
        tuner = tune.Tuner(
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
                callbacks=[_recorder(sweep_id, space.names, total, progress_id, scheduler)],
                verbose=hpo.verbose,
            ),
        )
        try:
            tuner.fit()
        except Exception as exc:  # fail_fast raises once a trial failed; the records say which
            if hpo.ignore_fail:
                raise
            return {"ran": remaining, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        if started:
            ray.shutdown()
    return {"ran": remaining}


# -- after the trials -----------------------------------------------------------------------------------
@task(**RECORDS)
def publish_reports(sweep_id: int) -> dict:
    """JSON, CSV, HTML and parallel-coordinates PNG in the store; table and markdown artifacts in Prefect;
    the best trial on the sweep's record."""
    db = database()
    record = sweeps.sweep(db, sweep_id)
    metric, mode = sweeps.metric_mode(record)
    space = sweeps.sweep_config(record).space()
    trials = sweeps.trial_dicts(db, sweep_id)
    extra = record.config["hpo_config"].get("extra_metrics") or None
    store = artifact_store()
    prefix = f"sweeps/{sweep_id}"
    title = f"{record.project}: sweep {sweep_id}"
    log_axes = sweep_report.log_axes_of(space)
    png = sweep_report.parallel_coordinates_png(trials, metric, mode, log_axes=log_axes, title=title)
    page = sweep_report.to_html(trials, metric, mode, title=title, extra_metrics=extra, log_axes=log_axes, png=png)
    uris = {
        "json": store.put_bytes(f"{prefix}/report.json", sweep_report.to_json(trials, metric, mode).encode()),
        "csv": store.put_bytes(f"{prefix}/report.csv", sweep_report.to_csv(trials, metric, mode, extra).encode()),
        "html": store.put_bytes(f"{prefix}/report.html", page.encode()),
        "pcp": store.put_bytes(f"{prefix}/parallel_coordinates.png", png),
    }
    create_table_artifact(
        key=f"sweep-{sweep_id}-trials",
        table=sweep_report.rows(trials, metric, mode, extra) or [{"trial_id": None}],
        description=f"Trials of sweep {sweep_id} ({record.project})",
    )
    create_markdown_artifact(
        key=f"sweep-{sweep_id}-summary",
        markdown=sweep_report.summary_markdown(trials, metric, mode, title=title)
        + "\n"
        + "\n".join(f"- {kind}: `{uri}`" for kind, uri in uris.items()),
    )
    best = sweeps.best(db, record)
    reports = {**(record.reports or {}), **uris}
    sweeps.set_sweep(
        db,
        sweep_id,
        reports=reports,
        best_trial_key=best["trial_id"] if best else None,
        best_metric=sweep_report.metric_value(best, metric) if best else None,
    )
    return {"best": best, "reports": reports}


@task
def save_best_model(sweep_id: int, config: dict, best: dict) -> str | None:
    """Auptimizer's save_model: the best trial's config runs once more with a model_dir; its files
    go to the store under sweeps/<id>/model/. The URI of that folder, or None if nothing was written."""
    from tunefleet.sweep.trainables import load_trainable

    sweep = SweepConfig.from_dict(config)
    trainable = load_trainable(sweep.model_config, sweep.scripts_path, metric=sweep.hpo_config.metric)
    store = artifact_store()
    with tempfile.TemporaryDirectory(prefix="tunefleet-model-") as folder:
        outcome = run_trial(
            trainable, best["config"], should_stop=stop_condition(sweep.hpo_config.stop), model_dir=folder
        )
        if outcome.model_dir is None:
            return None
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                store.put_bytes(f"sweeps/{sweep_id}/model/{path.relative_to(folder).as_posix()}", path.read_bytes())
    uri = store.uri(f"sweeps/{sweep_id}/model")
    db = database()
    record = sweeps.sweep(db, sweep_id)
    sweeps.set_sweep(db, sweep_id, reports={**(record.reports or {}), "model": uri})
    return uri
