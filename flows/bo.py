"""Closed-loop Bayesian optimisation: ask q points, evaluate them in parallel, tell, repeat."""

from __future__ import annotations

from typing import Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from flows import names
from tasks import bo as bo_tasks
from tasks.runners import runner_from_block, task_runner
from tunefleet.bo.service import ExperimentSpec
from tunefleet.errors import InvalidInput


@flow(name="bo-tuning", flow_run_name=names.bo)
def bo_tuning(
    covars: dict | None = None,
    objective: str = "tunefleet.objectives:branin",
    objective_args: dict | None = None,
    experiment: str | None = None,
    name: str = "bo-tuning",
    model_type: str = "SingleTaskGP",
    acq_func: str = "ExpectedImprovement",
    direction: Literal["maximize", "minimize"] = "maximize",
    iterations: int = 10,
    batch_size: int = 1,
    initial_points: int = 5,
    seed: int = 0,
    engine: Literal["thread", "dask", "ray"] = "thread",
    address: str | None = None,
    compute_block: str | None = None,
) -> dict:
    """Tune ``objective`` over ``covars`` for ``iterations`` rounds of ``batch_size`` points.

    The budget is ``iterations × batch_size`` evaluations for the experiment as a whole: a
    re-run with ``experiment=<uuid>`` continues from its records (points that were in
    flight are evaluated first, once) until the budget is spent. Evaluations run on the
    ``engine`` task runner (``address`` for an existing Dask or Ray cluster), or on the
    one a saved ``ComputeCluster`` block named ``compute_block`` describes.
    """
    logger = get_run_logger()
    if experiment is None and not covars:
        raise InvalidInput("give covars for a new experiment, or the uuid of one to continue")
    spec = ExperimentSpec(
        name=name,
        covars=covars or {},
        model_type=model_type,
        acq_func=acq_func,
        maximize=direction == "maximize",
        seed=seed,
        initial_points=initial_points,
    )
    bo_tasks.check_objective(objective, objective_args or {})
    exp = bo_tasks.open_experiment(spec, experiment)
    budget = iterations * batch_size
    progress = create_progress_artifact(0.0, description=f"evaluations of {exp.name} ({exp.uuid})")
    runner = runner_from_block(compute_block) if compute_block else task_runner(engine, address)
    with runner:
        while (done := _finished(bo_tasks.trial_counts(exp))) < budget:
            batch = bo_tasks.propose_batch(exp, min(batch_size, budget - done))
            futures = [
                runner.submit(
                    bo_tasks.evaluate,
                    parameters={"objective": objective, "objective_args": objective_args or {}, "point": t.covars},
                )
                for t in batch
            ]
            bo_tasks.record_outcomes([(t.id, *_outcome(f)) for t, f in zip(batch, futures)])
            update_progress_artifact(progress, 100.0 * min(done + len(batch), budget) / budget)
    report = bo_tasks.publish_report(exp)
    logger.info("experiment %s: best %s at %s", exp.uuid, report["best_response"], report["covars_best_response"])
    return report


def _finished(counts: dict[str, int]) -> int:
    return counts.get("complete", 0) + counts.get("failed", 0)


def _outcome(future) -> tuple[float | None, str | None]:
    """(response, None) for an evaluation that returned, (None, reason) for one that raised."""
    try:
        return future.result(), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
