"""Prefect tasks of hardware-aware tuning: the tuning record, training a candidate, storing it for its
benchmark run, reading its measurement, the hypervolume by round."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context

from blocks.context import artifact_store, current_settings, database
from tasks.retries import DATA, RECORDS
from tunefleet import reports
from tunefleet.bench import service as benchmarking
from tunefleet.bo.tables import Experiment
from tunefleet.db.columns import Status
from tunefleet.hwtune import service as tunings
from tunefleet.hwtune import training
from tunefleet.hwtune.problem import HwProblem
from tunefleet.hwtune.tables import HwTrial, HwTuning


@task(**RECORDS)
def open_tuning(problem: HwProblem | None, settings: tunings.Settings, tuning: str | None, here: bool) -> HwTuning:
    """The tuning to continue (``tuning``: its id or experiment uuid), or a new one of ``problem``;
    ``here``: candidates are measured on this machine, so each serving choice must run here."""
    if tuning is not None:
        return tunings.get(database(), tuning)
    return tunings.create(database(), artifact_store(), problem, settings, current_settings(), probe_machine=here)


@task(**RECORDS)
def start(tuning: HwTuning, iterations: int, batch: int) -> HwTuning:
    flow_run = get_run_context().task_run.flow_run_id
    return tunings.start(database(), tuning.id, str(flow_run) if flow_run else None, iterations, batch)


@task(**RECORDS)
def finish(tuning: HwTuning) -> HwTuning:
    return tunings.finish(database(), tuning.id)


@task(**RECORDS)
def fail(tuning: HwTuning, error: str) -> HwTuning:
    return tunings.fail(database(), tuning.id, error)


@task(**RECORDS)
def experiment(tuning: HwTuning) -> Experiment:
    return tunings.experiment(database(), tuning)


@task(**DATA, cache_policy=NO_CACHE)
def train_candidate(problem: dict, train_uri: str, point: dict, seed: int) -> bytes:
    """One candidate trained at ``point`` on the tuning's training rows, as skops bytes."""
    checked = HwProblem.from_dict(problem)
    model = training.train(checked, point, artifact_store().get_bytes(train_uri), seed)
    return training.candidate_bytes(model)


@task(**RECORDS)
def linked(trial_id: int) -> HwTrial | None:
    """The candidate and benchmark run a trial already has (an interrupted run stored them)."""
    return tunings.link(database(), trial_id)


@task(**RECORDS, cache_policy=NO_CACHE)
def store_candidate(tuning: HwTuning, trial_id: int, serving: str, model_bytes: bytes) -> HwTrial:
    return tunings.store_candidate(database(), artifact_store(), tuning, trial_id, serving, model_bytes)


@task(**RECORDS)
def measured(trial: HwTrial) -> bool:
    """Whether the trial's benchmark run has finished (a resumed run does not measure it again)."""
    return benchmarking.get(database(), trial.run_id).status is Status.succeeded


@task(**RECORDS)
def read_response(tuning: HwTuning, trial: HwTrial) -> dict[str, float]:
    return tunings.response(database(), tuning, trial)


@task(**RECORDS)
def publish_rounds(tuning: HwTuning, rounds: list[dict]) -> None:
    """The front's size and hypervolume after each round of this run, as a table in the Prefect UI."""
    create_table_artifact(
        key=f"{reports.artifact_key('hw-tuning', tuning.name)}-rounds",
        table=rounds,
        description=f"hardware-aware tuning {tuning.name} ({tuning.id}): Pareto front and hypervolume by round",
    )
