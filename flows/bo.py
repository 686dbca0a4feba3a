"""Closed-loop Bayesian optimisation: ask q points, evaluate them in parallel, tell, repeat."""

from __future__ import annotations

import itertools
from typing import Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from flows import names
from tasks import bo as bo_tasks
from tasks.runners import block_cluster, started
from tunefleet.bo import service as experiments
from tunefleet.bo.service import ExperimentSpec
from tunefleet.errors import InvalidInput
from tunefleet.reports import artifact_key, compact


@flow(name="bo-tuning", flow_run_name=names.bo)
def bo_tuning(
    covars: dict | None = None,
    objective: str = "tunefleet.objectives:branin",
    objective_args: dict | None = None,
    experiment: str | None = None,
    warm_start: str | None = None,
    name: str = "bo-tuning",
    model_type: str = "SingleTaskGP",
    acq_func: str = "ExpectedImprovement",
    direction: Literal["maximize", "minimize"] = "maximize",
    responses: dict | None = None,
    constraints: list[str] | None = None,
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
    flight are evaluated first, once) until the budget is spent, so a larger ``iterations`` or
    ``batch_size`` resumes it with a changed budget. A new experiment may start from the
    records of an earlier one or of a sweep (``warm_start``). Evaluations run on the
    ``engine`` task runner (``address`` for an existing Dask or Ray cluster), or on the
    one a saved ``ComputeCluster`` block named ``compute_block`` describes.

    Args:
        covars: the search space of a new experiment: {name: {vtype: int|cont|cat, guess, min, max, options}}.
        objective: what to maximise or minimise: module:function, script.py:function, or sklearn:Estimator.
        objective_args: keyword arguments the objective gets besides the point (JSON object).
        experiment: the uuid of an experiment to continue (its covars and settings are kept).
        warm_start: seed a new experiment with earlier records, experiment:<uuid> or sweep:<id or
            project>: their complete trials that fit covars (and the metrics) inform the GP from the
            start; the others are dropped and counted. The budget counts this run's evaluations only.
        name: the new experiment's name (runs, artifacts and their keys are named after it).
        model_type: the Gaussian-process surrogate (SingleTaskGP).
        acq_func: the acquisition function (ExpectedImprovement, qExpectedImprovement, ...).
        direction: maximize or minimize the objective (one objective).
        responses: several objectives, {name: {direction: maximize|minimize, reference?: number}}; the
            objective then returns {name: value} with these and every metric ``constraints`` name.
        constraints: outcome constraints, ["latency_ms <= 5", ...]; the best point (or Pareto front)
            is the best feasible one.
        iterations: rounds of ask, evaluate, tell.
        batch_size: points per round, evaluated in parallel.
        initial_points: the guess plus Sobol points before the GP takes over.
        seed: seed of the Sobol points and the acquisition optimiser (0 to 2^32-1).
        engine: where evaluations run: thread (this process), dask or ray.
        address: an existing Dask scheduler or Ray cluster (default: a local one per run).
        compute_block: a saved ComputeCluster block to run on instead of engine and address.
    """
    logger = get_run_logger()
    if experiment is None and not covars:
        raise InvalidInput("give covars for a new experiment, or the uuid of one to continue")
    if experiment is not None and warm_start is not None:
        raise InvalidInput(
            f"warm_start seeds a new experiment; experiment {experiment[:64]} continues from its own records: give one"
        )
    spec = ExperimentSpec(
        name=name,
        covars=covars or {},
        model_type=model_type,
        acq_func=acq_func,
        maximize=direction == "maximize",
        seed=seed,
        initial_points=initial_points,
        responses=responses,
        constraints=constraints,
        warm_start=warm_start,
    )
    bo_tasks.check_objective(objective, objective_args or {})
    exp = bo_tasks.open_experiment(spec, experiment)
    names.label(f"bo {exp.name}", "bo", f"bo-{exp.uuid}")
    if exp.warm_start:
        logger.info("%s", experiments.warm_start_text(exp.warm_start))
    budget = iterations * batch_size
    if (done := finished(bo_tasks.trial_counts(exp))) >= budget:
        logger.info(
            "experiment %s has %d of its own evaluations, the budget of %d x %d is spent: raise iterations to go on",
            exp.uuid, done, iterations, batch_size,
        )  # fmt: skip
    progress = create_progress_artifact(
        0.0, key=f"{artifact_key('bo', exp.name)}-progress", description=f"evaluations of {exp.name} ({exp.uuid})"
    )
    best, several = None, len(experiments.outcomes(exp).objectives) > 1
    engine, address = block_cluster(compute_block) if compute_block else (engine, address)
    with started(engine, address) as runner:
        for round_number in itertools.count(1):
            if (done := finished(bo_tasks.trial_counts(exp))) >= budget:
                break
            named = f"round {round_number}"  # the tasks of a round, as the UI lists them
            batch = bo_tasks.propose_batch.with_options(task_run_name=f"{named}: propose")(
                exp, min(batch_size, budget - done)
            )
            futures = [
                runner.submit(
                    bo_tasks.evaluate.with_options(task_run_name=f"{named}: {compact(t.covars)[:120]}"),
                    parameters={"objective": objective, "objective_args": objective_args or {}, "point": t.covars},
                )
                for t in batch
            ]
            outcomes = [(t.id, *_outcome(f)) for t, f in zip(batch, futures)]
            bo_tasks.record_outcomes.with_options(task_run_name=f"{named}: record")(exp, outcomes)
            update_progress_artifact(progress, 100.0 * min(done + len(batch), budget) / budget)
            if several:
                front = bo_tasks.front.with_options(task_run_name=f"{named}: Pareto front")(exp)
                standing = f"{len(front['points'])} on the Pareto front, hypervolume {front['hypervolume']:.6g}"
            else:
                told = [response for _, response, _ in outcomes if isinstance(response, (int, float))]
                best = _better(best, told, exp.maximize)
                standing = f"best of this run {'none yet' if best is None else f'{best:.6g}'}"
            logger.info(
                "%d/%d evaluations: this round %d ok, %d failed; %s",
                min(done + len(batch), budget),
                budget,
                sum(error is None for *_, error in outcomes),
                sum(error is not None for *_, error in outcomes),
                standing,
            )
    report = bo_tasks.publish_report(exp)
    if several:
        logger.info(
            "experiment %s (%s): %d evaluations, %d failed, %d on the Pareto front, hypervolume %.6g",
            exp.name, exp.uuid, report["n_told"], report["failed"], len(report["pareto"]), report["hypervolume"],
        )  # fmt: skip
        return report
    logger.info(
        "experiment %s (%s): %d evaluations, %d failed, best %.6g at %s",
        exp.name,
        exp.uuid,
        report["n_told"],
        report["failed"],
        report["best_response"] if report["best_response"] is not None else float("nan"),
        compact(report["covars_best_response"] or {}),
    )
    return report


def _better(best: float | None, responses: list[float], maximize: bool) -> float | None:
    candidates = [*responses, *([] if best is None else [best])]
    if not candidates:
        return None
    return max(candidates) if maximize else min(candidates)


def finished(counts: dict[str, int]) -> int:
    return counts.get("complete", 0) + counts.get("failed", 0)


def _outcome(future) -> tuple[float | None, str | None]:
    """(response, None) for an evaluation that returned, (None, reason) for one that raised."""
    try:
        return future.result(), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
