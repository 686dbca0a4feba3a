"""The inference benchmark: a model × platforms × optimisations × hardware, as a DAG.

``benchmark`` prepares every optimisation's candidate in parallel, then hands each
hardware tag to a ``benchmark-cells`` child flow run that times that tag's cells together in
interleaved rounds, one timing at a time (two side by side would measure each other): on the tag's work pool
through the ``benchmark-cells/<tag>`` deployment when it runs as a deployment, in its own
process otherwise. Results go to the records once the machine's cells are timed; the report (table,
heat map, summary) to Prefect artifacts and the store. ``benchmark-nightly`` runs it over a
set of models on a schedule.
"""

from __future__ import annotations

from typing import Literal

from prefect import flow, get_run_logger, unmapped
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import FlowRunContext

from blocks.context import database
from flows import names
from tasks import benchmark as bench_tasks
from tunefleet.bench import service as benchmarking


@flow(name="benchmark", flow_run_name=names.benchmark)
def benchmark(
    model: str | None = None,
    config: dict | None = None,
    run_id: int | None = None,
    dispatch: Literal["auto", "deployment", "inline"] = "auto",
) -> dict:
    """Benchmark the uploaded ``model`` (name or id) as ``config`` says (default: every
    built-in platform and optimisation, batch sizes 1/16/64/256/10000, cpu and gpu).

    ``run_id`` runs a queued run (the API and CLI queue them), or an earlier run again:
    cells it measured are kept, the rest measured.
    ``dispatch``: ``deployment`` sends each hardware tag's cells to the
    ``benchmark-cells/<tag>`` deployment (its work pool); ``inline`` measures them here;
    ``auto`` is ``deployment`` when this run itself came from a deployment.

    Args:
        model: an uploaded model's name or id.
        config: entries, optimisations, batch sizes, timing and hardware (default: everything built in).
        run_id: a queued run to measure, or an earlier run to finish (its measured cells are kept).
        dispatch: auto, deployment (each hardware tag's cells on its work pool) or inline (here).
    """
    logger = get_run_logger()
    run = bench_tasks.open_run(model, config, run_id)
    model_name = benchmarking.get_model(database(), run.model_id).name
    names.label(f"benchmark {run.id} {model_name}", "benchmark", f"benchmark-run-{run.id}")
    try:
        plan = bench_tasks.plan_run(run)
        candidates = bench_tasks.prepare_candidate.map(unmapped(run), plan.optimisations()).result()
        logger.info(
            "run %s: %d candidates, %d runnable cells, %d skipped",
            run.id,
            len(candidates),
            len(plan.cells),
            len(plan.skipped),
        )
        for skipped in plan.skipped:  # the cells no machine measures, each with its reason
            logger.info(
                "%s+%s @ %s: skipped: %s", skipped.platform, skipped.optimisation, skipped.hardware, skipped.reason
            )
        for hardware in sorted({cell.hardware for cell in plan.cells}):
            _measure_on(hardware, run.id, [c for c in plan.cells if c.hardware == hardware], use_deployments(dispatch))
        report = bench_tasks.publish_report(run)
    except BaseException as exc:
        bench_tasks.fail_run(run.id, f"{type(exc).__name__}: {exc}")
        raise
    bench_tasks.finish_run(run.id, report)
    return {"run_id": run.id, **report}


def use_deployments(dispatch: str) -> bool:
    if dispatch != "auto":
        return dispatch == "deployment"
    context = FlowRunContext.get()
    return bool(context and context.flow_run and context.flow_run.deployment_id)


def _measure_on(hardware: str, run_id: int, cells: list, deployed: bool) -> None:
    if not deployed:
        benchmark_cells(run_id, hardware)
        return
    from prefect.deployments import run_deployment

    reason = pool_unavailable(hardware)
    if reason:
        bench_tasks.skip_cells(run_id, cells, reason)
        return
    child = run_deployment(f"benchmark-cells/{hardware}", parameters={"run_id": run_id, "hardware": hardware})
    if not child.state.is_completed():
        raise RuntimeError(f"benchmark-cells on {hardware} ended {child.state.name}: {child.state.message}")


def pool_unavailable(hardware: str) -> str | None:
    """Why no child flow run could start on the ``hardware`` pool now, or None."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        try:
            workers = client.read_workers_for_work_pool(hardware)
        except Exception as exc:  # a missing pool is the answer, not an error of the benchmark
            return f"no {hardware} work pool ({type(exc).__name__})"
    if not any(str(worker.status).upper().endswith("ONLINE") for worker in workers):
        return f"no worker online on the {hardware} work pool"
    return None


@flow(name="benchmark-cells", flow_run_name=names.benchmark_cells)
def benchmark_cells(run_id: int, hardware: str) -> dict:
    """Measure the cells of run ``run_id`` that belong to ``hardware`` on this machine, timed together in
    interleaved rounds (one timing at a time: two side by side would measure each other).

    Args:
        run_id: the benchmark run whose cells to measure.
        hardware: the hardware tag (cpu, gpu) of the cells this machine measures.
    """
    run = benchmarking.get(database(), run_id)
    work = bench_tasks.Workload(run)
    cells = bench_tasks.cells_to_measure(run, hardware, work)
    names.label(f"benchmark {run_id} cells @ {hardware}", "benchmark", f"benchmark-run-{run_id}", hardware)
    progress = create_progress_artifact(
        0.0, key=f"benchmark-run-{run_id}-{hardware}-progress", description=f"benchmark run {run_id}: {hardware} cells"
    )
    outcomes: dict[str, int] = {}
    for result in bench_tasks.measure_cells(run, cells, work, progress) if cells else []:
        outcomes[result.status] = outcomes.get(result.status, 0) + 1
    update_progress_artifact(progress, 100.0)
    return {"hardware": hardware, "cells": outcomes}


@flow(name="benchmark-nightly", flow_run_name=names.benchmark_nightly)
def benchmark_nightly(models: list[str] | None = None, config: dict | None = None) -> list[dict]:
    """``benchmark`` for each of ``models`` (default: every uploaded model), one after the other.

    Args:
        models: names of uploaded models (default: every one).
        config: the benchmark config every model is measured with (default: everything built in).
    """
    chosen = models or [record.name for record in benchmarking.list_models(database())]
    if not chosen:
        get_run_logger().warning("no uploaded models to benchmark")
    return [benchmark(name, config) for name in chosen]
