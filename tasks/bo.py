"""Prefect tasks of Bayesian-optimisation tuning: records, proposals, evaluations, reports."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from blocks.context import artifact_store, database
from tasks.publish import report_files
from tasks.retries import RECORDS
from tunefleet import objectives, reports
from tunefleet.bo import plots
from tunefleet.bo import service as experiments
from tunefleet.bo.tables import Experiment, Trial, TrialStatus


@task(**RECORDS)
def open_experiment(spec: experiments.ExperimentSpec, exp_uuid: str | None) -> Experiment:
    """The experiment to continue (``exp_uuid``), or a new one from ``spec``."""
    db = database()
    if exp_uuid:
        return experiments.get(db, exp_uuid)
    return experiments.create(db, spec)


@task(**RECORDS)
def trial_counts(exp: Experiment) -> dict[str, int]:
    return experiments.count_trials(database(), exp)


@task(**RECORDS)
def propose_batch(exp: Experiment, q: int) -> list[Trial]:
    return experiments.propose(database(), exp, q)


@task
def check_objective(objective: str, objective_args: dict) -> None:
    """Fail before any trial starts when the objective cannot be loaded."""
    objectives.resolve(objective, objective_args)


@task
def evaluate(objective: str, objective_args: dict, point: dict) -> float | dict[str, float]:
    return objectives.resolve(objective, objective_args)(**point)


@task(**RECORDS)
def record_outcomes(exp: Experiment, outcomes: list[tuple[int, float | dict | None, str | None]]) -> None:
    """(trial id, response, error) for each evaluated point of a round; a response that does not
    fit the experiment (a metric missing, say) fails its trial with the reason."""
    db = database()
    for trial_id, response, error in outcomes:
        try:
            experiments.finish(db, exp, trial_id, response, error)
        except experiments.TellError as exc:
            experiments.finish(db, exp, trial_id, error=str(exc))


@task(**RECORDS)
def front(exp: Experiment) -> dict:
    """The experiment's Pareto front and hypervolume so far (``service.pareto``)."""
    return experiments.pareto(database(), exp)


@task(**RECORDS)
def publish_report(exp: Experiment, capability: str = "bo") -> dict:
    """Trials table and best-so-far plot (several objectives: the Pareto front's table and plot) in
    Prefect and in the artifact store; the summary. Artifact keys start with ``capability``
    (``bo-<name>``, ``hw-tuning-<name>``)."""
    db = database()
    done = experiments.trials(db, exp, status=None)
    complete = [t for t in done if t.status is TrialStatus.complete]
    key = reports.artifact_key(capability, exp.name)
    create_table_artifact(
        key=f"{key}-trials",
        table=[
            {**t.covars, **(t.metrics or {"response": t.response}), "status": t.status.value, "error": t.error}
            for t in done
        ],
        description=f"Trials of experiment {exp.name} ({exp.uuid})",
    )
    if len(experiments.outcomes(exp).objectives) > 1:
        return _publish_front(exp, key, complete, len(done) - len(complete))
    summary = experiments.summary(db, exp)
    plot_uri, files = None, ""
    if complete:
        png = plots.best_so_far_png([t.response for t in complete], exp.maximize, f"{exp.name}: best so far")
        plot_uri = artifact_store().put_bytes(reports.store_key("experiments", exp.uuid, "best_so_far.png"), png)
        files = report_files("experiments", exp.uuid, {"best_so_far.png": plot_uri}, key, f"experiment {exp.name}")
    create_markdown_artifact(
        key=key,
        markdown=(
            f"# {exp.name}\n\nExperiment `{exp.uuid}`: {summary.n_told} evaluations{_seeded(exp)}, "
            f"{'maximising' if exp.maximize else 'minimising'}.\n\n"
            f"Best response **{summary.best_response:.6g}** at `{reports.compact(summary.covars_best_response)}`.\n\n{files}\n"
            if summary.best_response is not None
            else f"# {exp.name}\n\nExperiment `{exp.uuid}`: no evaluation has completed yet.\n"
        ),
        description=f"experiment {exp.name}: best response and best-so-far plot",
    )
    return {
        "exp_uuid": exp.uuid,
        "best_response": summary.best_response,
        "covars_best_response": summary.covars_best_response,
        "n_told": summary.n_told,
        "n_seeded": _n_seeded(exp),
        "failed": len(done) - len(complete),
        "plot_uri": plot_uri,
    }


def _publish_front(exp: Experiment, key: str, complete: list[Trial], failed: int) -> dict:
    front = experiments.pareto(database(), exp)
    declared = experiments.outcomes(exp)
    create_table_artifact(
        key=f"{key}-pareto-front",
        table=[{"trial": p["trial_id"], **p["covars"], **p["metrics"]} for p in front["points"]],
        description=f"Pareto front of experiment {exp.name}: feasible trials no other one dominates",
    )
    plot_uri, files = None, ""
    if complete:
        png = plots.pareto_png(
            [t.metrics for t in complete],
            [p["metrics"] for p in front["points"]],
            declared,
            f"{exp.name}: Pareto front",
        )
        plot_uri = artifact_store().put_bytes(reports.store_key("experiments", exp.uuid, "pareto.png"), png)
        files = report_files("experiments", exp.uuid, {"pareto.png": plot_uri}, key, f"experiment {exp.name}")
    goals = ", ".join(f"{o.direction} {o.name}" for o in declared.objectives)
    limits = f" subject to {', '.join(front['constraints'])}" if front["constraints"] else ""
    create_markdown_artifact(
        key=key,
        markdown=(
            f"# {exp.name}\n\nExperiment `{exp.uuid}`: {front['n_told']} evaluations{_seeded(exp)} "
            f"({front['n_feasible']} feasible), "
            f"{goals}{limits}.\n\n{len(front['points'])} points on the Pareto front, hypervolume "
            f"**{front['hypervolume']:.6g}** from `{reports.compact(front['reference_point'])}`.\n\n{files}\n"
        ),
        description=f"experiment {exp.name}: Pareto front and hypervolume",
    )
    return {
        "exp_uuid": exp.uuid,
        "best_response": None,
        "covars_best_response": None,
        "pareto": front["points"],
        "hypervolume": front["hypervolume"],
        "reference_point": front["reference_point"],
        "n_told": front["n_told"],
        "n_seeded": _n_seeded(exp),
        "failed": failed,
        "plot_uri": plot_uri,
    }


def _n_seeded(exp: Experiment) -> int:
    return (exp.warm_start or {}).get("seeded", 0)


def _seeded(exp: Experiment) -> str:
    """ ", 12 of them seeded from experiment ..." when a warm start copied trials in."""
    return f", {_n_seeded(exp)} of them seeded from {exp.warm_start['source']}" if _n_seeded(exp) else ""
