"""Hardware-aware tuning: a model's hyperparameters and its serving choice tuned together, for a
validation metric and the latency measured on the target hardware.

Each round asks the experiment for ``batch`` points (hyperparameters + ``serving``), trains their
candidates in parallel on the task runner, stores each as an uploaded model with a one-cell
benchmark run, and measures each through the ``benchmark`` flow — on the target's work pool
(its ``benchmark-cells/<hardware>`` deployment) when this run came from a deployment, on this
machine otherwise — one candidate at a time, as timings must be taken. The trials are told the
served model's metric and latency; the Pareto front and its hypervolume are logged each round
and published at the end. A re-run with ``tuning`` continues from the records: a trial whose
candidate was stored is measured (or read) and not trained again.
"""

from __future__ import annotations

import itertools
from typing import Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from flows import names
from flows.benchmark import benchmark, pool_unavailable, use_deployments
from flows.bo import finished
from tasks import bo as bo_tasks
from tasks import hwtune as hw_tasks
from tasks.runners import block_cluster, started
from tunefleet.hwtune import service as tunings
from tunefleet.hwtune.errors import HwTuneError
from tunefleet.hwtune.problem import SERVING, HwProblem
from tunefleet.reports import artifact_key, compact


@flow(name="hw-tuning", flow_run_name=names.hw_tuning)
def hw_tuning(
    estimator: str | None = None,
    data_uri: str | None = None,
    target: str | None = None,
    covars: dict | None = None,
    serving: list[str] | None = None,
    fixed: dict | None = None,
    batch_size: int = 1,
    hardware: str = "cpu",
    metric: str | None = None,
    objectives: list[str] | None = None,
    constraints: list[str] | None = None,
    validation_fraction: float = 0.25,
    timing: dict | None = None,
    tuning: str | None = None,
    name: str = "hw-tuning",
    iterations: int = 10,
    batch: int = 2,
    initial_points: int = 5,
    seed: int = 0,
    engine: Literal["thread", "dask", "ray"] = "thread",
    address: str | None = None,
    compute_block: str | None = None,
    dispatch: Literal["auto", "deployment", "inline"] = "auto",
) -> dict:
    """Tune ``estimator`` on ``data_uri`` together with how it is served, for ``iterations`` rounds of
    ``batch`` evaluations; the Pareto front of the metric and the latency at ``batch_size`` on ``hardware``.

    Args:
        estimator: what to train: sklearn:RandomForestClassifier, sklearn:GradientBoostingRegressor, ...
        data_uri: the numeric training data, a CSV in the artifact store or under a data root.
        target: the data's target column.
        covars: the hyperparameters to tune: {name: {vtype: int|cont|cat, guess, min, max, options}}.
        serving: the serving choices to search, platform+optimisation: treelite+none, onnxruntime+float32, ...
        fixed: hyperparameters set for every candidate, {name: value}.
        batch_size: the batch size latency is measured at (1: one request at a time).
        hardware: the hardware tag the candidates are measured on (cpu, gpu): its work pool's workers.
        metric: the validation metric (default: accuracy, or MSE for a regressor).
        objectives: what to optimise, among the metric, latency_ms and size_bytes (default: metric and latency).
        constraints: outcome constraints like ["latency_ms <= 2", "drift <= 0.005"].
        validation_fraction: the share of rows held out to judge and time candidates on.
        timing: the benchmark's timing settings per candidate (default: 3 rounds of 0.2 s).
        tuning: the id (or experiment uuid) of a tuning to continue; its problem is kept.
        name: the new tuning's name (runs, artifacts and their keys are named after it).
        iterations: rounds of ask, train, measure, tell.
        batch: evaluations per round (trained in parallel, measured one after the other).
        initial_points: the guess plus Sobol points before the GP takes over.
        seed: seed of the data split, the estimators and the search.
        engine: where candidates train: thread (this process), dask or ray.
        address: an existing Dask scheduler or Ray cluster (default: a local one per run).
        compute_block: a saved ComputeCluster block to train on instead of engine and address.
        dispatch: auto, deployment (measure on the hardware's work pool) or inline (here).
    """
    deployed = use_deployments(dispatch)
    settings = tunings.Settings(name, seed, initial_points, iterations, batch)
    settings.check()
    problem = None
    if tuning is None:
        problem = HwProblem.parse(
            estimator=estimator, data_uri=data_uri, target=target, covars=covars, serving=serving, fixed=fixed,
            batch_size=batch_size, hardware=hardware, metric=metric, objectives=objectives,
            constraints=constraints, validation_fraction=validation_fraction, timing=timing,
        )  # fmt: skip
        _check_pool(problem.hardware, deployed)
    record = hw_tasks.open_tuning(problem, settings, tuning, not deployed)
    problem = tunings.problem(record)
    if tuning is not None:
        _check_pool(problem.hardware, deployed)
    record = hw_tasks.start(record, iterations, batch)
    names.label(f"hw-tuning {record.name}", "hw-tuning", f"hw-tuning-{record.id}", problem.hardware)
    try:
        report = _tune(record, problem, iterations * batch, batch, engine, address, compute_block, deployed)
    except BaseException as exc:
        hw_tasks.fail(record, f"{type(exc).__name__}: {exc}")
        raise
    hw_tasks.finish(record)
    return report


def _tune(record, problem, budget: int, batch: int, engine: str, address, compute_block, deployed: bool) -> dict:
    """Rounds until ``budget`` evaluations of the tuning are done; the published report."""
    logger = get_run_logger()
    exp = hw_tasks.experiment(record)
    progress = create_progress_artifact(
        0.0, key=f"{artifact_key('hw-tuning', record.name)}-progress",
        description=f"evaluations of hardware-aware tuning {record.name} ({record.id})",
    )  # fmt: skip
    rounds: list[dict] = []
    engine, address = block_cluster(compute_block) if compute_block else (engine, address)
    with started(engine, address) as runner:
        for round_number in itertools.count(1):
            if (done := finished(bo_tasks.trial_counts(exp))) >= budget:
                break
            named = f"round {round_number}"
            trials = bo_tasks.propose_batch.with_options(task_run_name=f"{named}: propose")(
                exp, min(batch, budget - done)
            )
            known = {t.id: hw_tasks.linked(t.id) for t in trials}
            training = {
                t.id: runner.submit(
                    hw_tasks.train_candidate.with_options(task_run_name=f"{named}: train {compact(t.covars)[:110]}"),
                    parameters={
                        "problem": problem.to_dict(),
                        "train_uri": record.train_uri,
                        "point": t.covars,
                        "seed": exp.seed,
                    },
                )  # fmt: skip
                for t in trials
                if known[t.id] is None
            }
            outcomes = [
                (t.id, *_evaluated(record, t, known[t.id], training.get(t.id), deployed, named)) for t in trials
            ]
            bo_tasks.record_outcomes.with_options(task_run_name=f"{named}: record")(exp, outcomes)
            front = bo_tasks.front.with_options(task_run_name=f"{named}: Pareto front")(exp)
            rounds.append(
                {"round": round_number, "evaluations": min(done + len(trials), budget),
                 "front": len(front["points"]), "hypervolume": front["hypervolume"]}
            )  # fmt: skip
            update_progress_artifact(progress, 100.0 * min(done + len(trials), budget) / budget)
            logger.info(
                "%d/%d evaluations: this round %d ok, %d failed; %d on the Pareto front, hypervolume %.6g",
                min(done + len(trials), budget), budget, sum(e is None for *_, e in outcomes),
                sum(e is not None for *_, e in outcomes), len(front["points"]), front["hypervolume"] or 0.0,
            )  # fmt: skip
    report = bo_tasks.publish_report(exp, "hw-tuning")
    hw_tasks.publish_rounds(record, rounds)
    logger.info(
        "hardware-aware tuning %s (%d): %d evaluations, %d failed, %d on the Pareto front, hypervolume %.6g",
        record.name, record.id, report["n_told"], report["failed"], len(report["pareto"]), report["hypervolume"] or 0.0,
    )  # fmt: skip
    return {"tuning_id": record.id, **report, "rounds": rounds}


def _check_pool(hardware: str, deployed: bool) -> None:
    """Before any training: a run that measures on the ``hardware`` pool needs a worker there."""
    reason = pool_unavailable(hardware) if deployed else None
    if reason:
        raise HwTuneError(
            f"hardware {hardware}: {reason}; start one on a {hardware} machine (prefect worker start --pool {hardware})"
        )


def _evaluated(record, trial, known, training, deployed: bool, named: str) -> tuple[dict | None, str | None]:
    """(response, None) for a trial trained, stored and measured; (None, reason) for one that failed."""
    try:
        linked = known or hw_tasks.store_candidate.with_options(task_run_name=f"{named}: store trial {trial.id}")(
            record, trial.id, trial.covars[SERVING], training.result()
        )
        if not hw_tasks.measured(linked):
            benchmark(run_id=linked.run_id, dispatch="deployment" if deployed else "inline")
        return hw_tasks.read_response(record, linked), None
    except Exception as exc:  # one candidate that cannot be trained or measured fails its trial alone
        return None, f"{type(exc).__name__}: {exc}"
