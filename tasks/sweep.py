"""Prefect tasks of HPO sweeps: open / resume the sweep, run trials on Ray Tune or in Dask batches,
record every trial as it happens, publish reports, keep the best model."""

from __future__ import annotations

import functools
import math
import tempfile
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact, update_progress_artifact

from blocks.context import artifact_store, current_settings, database
from tasks.publish import report_files
from tasks.retries import RECORDS
from tunefleet import reports
from tunefleet.bo import plots
from tunefleet.db import StatusConflict
from tunefleet.sweep import report as sweep_report
from tunefleet.sweep import service as sweeps
from tunefleet.sweep.configs import SweepConfig
from tunefleet.sweep.tables import SweepStatus, SweepTrialStatus
from tunefleet.sweep.trainables import TrialError, run_trial, stop_condition


@task(**RECORDS)
def check_sweep(project: str | None, sweep_id: int | None, engine, address, n_jobs) -> dict:
    """The sweep's configs (a project's as stored now, or a sweep's snapshot), with the engine
    overrides, checked before anything is recorded or run (bad input is not retried)."""
    db = database()
    config = sweeps.project_config(db, project) if sweep_id is None else sweeps.sweep_config(sweeps.get(db, sweep_id))
    config = sweeps.with_engine(config, engine, address, n_jobs)
    sweeps.check(config)
    return config.to_dict()


@task(**RECORDS)
def open_sweep(config: dict, sweep_id: int | None, flow_run_id: str | None) -> int:
    db = database()
    if sweep_id is None:
        sweep_id = sweeps.create(db, SweepConfig.from_dict(config)).id
    sweeps.start(db, sweep_id, flow_run_id)
    return sweep_id


@task(**RECORDS)
def finish(sweep_id: int, status: str, error: str | None = None) -> None:
    """End the sweep, unless it has ended already: a kill paused it while its flow run was stopped."""
    try:
        sweeps.finish(database(), sweep_id, SweepStatus(status), error)
    except StatusConflict as exc:
        get_run_logger().info("sweep %s not marked %s: %s", sweep_id, status, exc)


def _trial_ended(progress_id, sweep_id: int, total: int, key: str, status: str, metrics, config, error) -> None:
    """A Ray trial's end: its log line, as a Dask batch logs its trials, and the sweep's progress."""
    if error:
        get_run_logger().warning("trial %s failed (%s): %s", key, reports.compact(config)[:200], error[:500])
    else:
        get_run_logger().info("trial %s %s: %s", key, status, described(metrics, config))
    update_progress(progress_id, sweep_id, total)


def update_progress(progress_id, sweep_id: int, total: int) -> None:
    """The sweep's progress artifact: finished trials of ``total``."""
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


def _batch_name(parameters: dict) -> str:
    batch = parameters["batch"]
    return f"trials {batch[0][0]}..{batch[-1][0]}" if batch else "trials: none"


@task(task_run_name=_batch_name)
def run_batch(
    sweep_id: int, trainable, batch: list, stop: dict, retries: int, ignore_fail: bool, flow_run_id: str | None = None
) -> dict:
    """Run a batch of trials here (a Dask worker), one after the other, recording each as it goes.
    A failed trial is retried ``retries`` times; without ``ignore_fail`` the batch ends at a failure
    and the other batches skip what they have not started. A batch of flow run ``flow_run_id`` also
    skips the rest once that run no longer runs the sweep (killed, or resumed by another run): on a
    Dask cluster of its own, a batch outlives the flow process that submitted it."""
    db, logger = database(), get_run_logger()
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
                logger.warning("trial %s failed (%s): %s", key, reports.compact(config)[:200], exc)
            else:
                sweeps.trial_finished(db, sweep_id, key, SweepTrialStatus.complete, metrics=outcome.metrics)
                counts["complete"] += 1
                logger.info("trial %s complete: %s", key, described(outcome.metrics, config))
            break
    return counts


def described(metrics: dict, config: dict) -> str:
    """A trial as people read it in a log line: its last numbers (Ray's bookkeeping left out), then
    its config: ``loss=14.12, step=2 (height=8.725, width=18.7)``."""
    shown = {k: v for k, v in metrics.items() if isinstance(v, int | float) and not k.startswith(_RAY_FIELDS)}
    return f"{reports.compact(shown)[:200] or 'no numbers reported'} ({reports.compact(config)[:200]})"


_RAY_FIELDS = ("training_iteration", "time_", "timestamp", "pid", "done", "trial_id", "iterations_since_restore")


def _orphaned(db, sweep_id: int, flow_run_id: str | None) -> bool:
    if flow_run_id is None:
        return False
    record = sweeps.get(db, sweep_id)
    return record.status is not SweepStatus.running or record.flow_run_id != flow_run_id


# -- Ray Tune --------------------------------------------------------------------------------------------
@task
def run_ray(sweep_id: int, config: dict, progress_id=None) -> dict:
    """The sweep's remaining trials on Ray Tune (``tunefleet.sweep.tune_run``), the progress artifact
    moved on as each trial ends."""
    from tunefleet.sweep import tune_run

    sweep = SweepConfig.from_dict(config)
    settings = current_settings()
    on_trial_end = functools.partial(_trial_ended, progress_id, sweep_id, sweeps.total_trials(sweep))
    return tune_run.run(database(settings), settings, artifact_store(settings), sweep_id, sweep, on_trial_end)


# -- after the trials -----------------------------------------------------------------------------------
_REPORT_NAMES = {
    "json": "report.json",
    "csv": "report.csv",
    "html": "report.html",
    "pcp": "parallel_coordinates.png",
    "pareto": "pareto.png",  # with several objectives
}
"""The sweep record's names of its report files (``sweep show``, ``report``), and the files'."""


@task(**RECORDS)
def publish_reports(sweep_id: int) -> dict:
    """JSON, CSV, HTML and parallel-coordinates PNG in the store; table and markdown artifacts in Prefect;
    the best trial on the sweep's record."""
    db = database()
    record = sweeps.get(db, sweep_id)
    metric, mode = sweeps.metric_mode(record)
    space = sweeps.sweep_config(record).space()
    trials = sweeps.trial_dicts(db, sweep_id)
    extra = record.config["hpo_config"].get("extra_metrics") or None
    title = f"{record.project}: sweep {sweep_id}"
    log_axes = sweep_report.log_axes_of(space)
    png = sweep_report.parallel_coordinates_png(trials, metric, mode, log_axes=log_axes, title=title)
    page = sweep_report.to_html(trials, metric, mode, title=title, extra_metrics=extra, log_axes=log_axes, png=png)
    files = {
        "parallel_coordinates.png": png,
        "report.html": page.encode(),
        "report.csv": sweep_report.to_csv(trials, metric, mode, extra).encode(),
        "report.json": sweep_report.to_json(trials, metric, mode).encode(),
    }
    declared, front = sweeps.sweep_config(record).hpo_config.outcomes(), sweeps.front(db, record)
    several = declared is not None and len(declared.objectives) > 1
    if several:
        told = [
            t["metrics"] for t in trials if all(sweep_report.metric_value(t, m) is not None for m in declared.metrics)
        ]
        files["pareto.png"] = plots.pareto_png(told, [t["metrics"] for t in front], declared, f"{title}: Pareto front")
    store = artifact_store()
    stored = {name: store.put_bytes(reports.store_key("sweeps", sweep_id, name), data) for name, data in files.items()}
    uris = {kind: stored[name] for kind, name in _REPORT_NAMES.items() if name in stored}
    key = reports.artifact_key("sweep", record.project)
    if several:
        create_table_artifact(
            key=f"{key}-pareto-front",
            table=[{"trial_id": t["trial_id"], **t["config"], **{m: t["metrics"][m] for m in declared.metrics}}
                   for t in front] or [{"trial_id": None}],
            description=f"Pareto front of sweep {sweep_id}: feasible trials no other one dominates",
        )  # fmt: skip
    create_table_artifact(
        key=f"{key}-trials",
        table=sweep_report.rows(trials, metric, mode, extra) or [{"trial_id": None}],
        description=f"Trials of sweep {sweep_id} ({record.project})",
    )
    create_markdown_artifact(
        key=key,
        markdown=sweep_report.summary_markdown(trials, metric, mode, title=title)
        + (_front_markdown(declared, front) if several else "")
        + "\n"
        + report_files("sweeps", sweep_id, stored, key, title),
        description=f"{title}: best trial, counts, plot and report files",
    )
    best = sweeps.best(db, record)
    published = {**(record.reports or {}), **uris}
    sweeps.set_sweep(
        db,
        sweep_id,
        reports=published,
        best_trial_key=best["trial_id"] if best else None,
        best_metric=sweep_report.metric_value(best, metric) if best else None,
    )
    return {"best": best, "reports": published}


def _front_markdown(declared, front: list[dict]) -> str:
    goals = ", ".join(f"{o.direction} `{o.name}`" for o in declared.objectives)
    limits = f" subject to {', '.join(f'`{c}`' for c in declared.constraint_texts())}" if declared.constraints else ""
    listed = ", ".join(f"`{t['trial_id']}`" for t in front[:20]) + (", ..." if len(front) > 20 else "")
    return f"\n**Pareto front** ({goals}{limits}): {len(front)} trials{': ' + listed if front else ''}.\n"


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
    record = sweeps.get(db, sweep_id)
    sweeps.set_sweep(db, sweep_id, reports={**(record.reports or {}), "model": uri})
    return uri
