"""HPO sweeps: a project's trials on Ray Tune (every algorithm and scheduler) or Dask (random / grid)."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import get_run_context
from prefect.futures import as_completed

from blocks.context import database
from flows import names
from tasks import sweep as sweep_tasks
from tasks.runners import started
from tunefleet.errors import TunefleetError
from tunefleet.reports import artifact_key
from tunefleet.sweep import service as sweeps
from tunefleet.sweep.configs import SweepConfig
from tunefleet.sweep.tables import SweepStatus


class SweepFailed(TunefleetError):
    """The sweep ended failed (a trial failed and hpo_config.ignore_fail is false)."""


@flow(name="hpo-sweep", flow_run_name=names.sweep)
def hpo_sweep(
    project: str | None = None,
    sweep_id: int | None = None,
    n_jobs: int | None = None,
    engine: str | None = None,
    address: str | None = None,
) -> dict:
    """Run a sweep of ``project`` (a new sweep), or resume sweep ``sweep_id`` (queued, paused,
    failed, or interrupted): its finished trials are kept and only the rest run.

    ``engine`` (ray | dask), ``address`` (an existing cluster) and ``n_jobs`` (workers of a
    local cluster) override the project's compute_config. Every trial's start, intermediate
    results and end go to the records as they happen; afterwards the reports (JSON, CSV,
    HTML, parallel coordinates) go to the artifact store, with table and markdown artifacts
    here, and with model_config.save_model the best config is trained once more and its
    model stored. Bad input fails before anything is recorded.

    Args:
        project: the project (a named set of configs) to run a new sweep of.
        sweep_id: a sweep to resume instead (its finished trials are kept).
        n_jobs: workers of the local cluster (default: the project's compute_config).
        engine: ray or dask (default: the project's compute_config).
        address: an existing Ray or Dask cluster (default: a local one per run).
    """
    logger = get_run_logger()
    if (project is None) == (sweep_id is None):
        raise ValueError("give a project for a new sweep, or the sweep_id of one to resume (not both)")
    config = sweep_tasks.check_sweep(project, sweep_id, engine, address, n_jobs)
    flow_run = get_run_context().flow_run
    sweep_id = sweep_tasks.open_sweep(config, sweep_id, str(flow_run.id) if flow_run else None)
    sweep = SweepConfig.from_dict(config)
    names.label(f"sweep {sweep_id} {sweep.name}", "sweep", f"sweep-{sweep_id}")
    total = sweeps.total_trials(sweep)
    progress = create_progress_artifact(
        0.0,
        key=f"{artifact_key('sweep', sweep.name)}-progress",
        description=f"trials of sweep {sweep_id} ({sweep.name})",
    )
    error = None
    try:
        if sweep.compute_config.engine == "ray":
            outcome = sweep_tasks.run_ray(sweep_id, config, progress)
            error = outcome.get("error")
        else:
            error = _run_dask(sweep_id, sweep, config, total, progress, str(flow_run.id) if flow_run else None)
    except KeyboardInterrupt:
        sweep_tasks.finish(sweep_id, SweepStatus.paused.value, "interrupted; resume with sweep_id")
        raise
    except BaseException as exc:
        sweep_tasks.finish(sweep_id, SweepStatus.failed.value, f"{type(exc).__name__}: {exc}")
        raise
    counts = sweeps.count_trials(database(), sweep_id)
    if counts.get("failed") and not sweep.hpo_config.ignore_fail:
        error = error or f"{counts['failed']} trial(s) failed and hpo_config.ignore_fail is false"
    update_progress_artifact(progress, 100.0)
    published = sweep_tasks.publish_reports(sweep_id)
    if sweep.model_config.save_model and published["best"] is not None and error is None:
        published["reports"]["model"] = sweep_tasks.save_best_model(sweep_id, config, published["best"])
    sweep_tasks.finish(sweep_id, (SweepStatus.failed if error else SweepStatus.succeeded).value, error)
    status = sweeps.get(database(), sweep_id).status.value  # a kill may have paused it meanwhile
    result = {"sweep_id": sweep_id, "status": status, "counts": counts, **published}
    best = published["best"]
    logger.info(
        "sweep %s %s: %s; best %s",
        sweep_id,
        status,
        ", ".join(f"{n} {state}" for state, n in counts.items()),
        f"{best['trial_id']} {sweep_tasks.described(best['metrics'], best['config'])}" if best else "none",
    )
    if error:
        raise SweepFailed(f"sweep {sweep_id}: {error}")
    return result


def _run_dask(sweep_id: int, sweep: SweepConfig, config: dict, total: int, progress, flow_run_id) -> str | None:
    """Trials sampled up front, run in batches (many trials per Prefect task) on a DaskTaskRunner."""
    import os

    from tunefleet.sweep.trainables import load_trainable

    hpo, compute = sweep.hpo_config, sweep.compute_config
    todo = sweep_tasks.plan_trials(sweep_id, config)
    if not todo:
        return None
    trainable = load_trainable(sweep.model_config, sweep.scripts_path, metric=hpo.metric)
    workers = compute.n_jobs or os.cpu_count() or 1
    with started("dask", compute.address, workers) as runner:
        futures = [
            runner.submit(
                sweep_tasks.run_batch,
                parameters={
                    "sweep_id": sweep_id,
                    "trainable": trainable,
                    "batch": batch,
                    "stop": hpo.stop,
                    "retries": hpo.job_retries,
                    "ignore_fail": hpo.ignore_fail,
                    "flow_run_id": flow_run_id,
                },
            )
            for batch in sweep_tasks.batches(todo, workers)
        ]
        for future in as_completed(futures):
            future.result()
            sweep_tasks.update_progress(progress, sweep_id, total)
    return None
