"""Hardware-aware tunings as records: what the flow, the CLI and the HTTP API share.

``create`` checks the problem whole (the fields, the data, every serving choice against the
estimator) before it stores anything, then stores the data's split, the BO experiment (the
space plus ``serving``, the objectives and constraints) and the tuning. Each trial's candidate
is an uploaded model (``inference_models``) measured by a one-cell benchmark run; ``link``
records both for the trial once the candidate is stored, so a resumed run never trains or
measures a trial twice. ``front`` is the experiment's Pareto front with each point's model and
run; ``pick`` stores the best feasible point under a latency bound as an uploaded model of its
own name. Nothing here knows about Prefect.

Verbs: ``create``, ``get``, ``list``, ``start`` / ``finish`` / ``fail``, ``experiment``, ``problem``, ``candidate_name``, ``link``,
``links``, ``store_candidate``, ``front``, ``pick``, ``view``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from sqlmodel import select

from tunefleet import validation
from tunefleet.bench import service as benchmarking
from tunefleet.bench.tables import InferenceModel
from tunefleet.bo import service as experiments
from tunefleet.bo.tables import Experiment
from tunefleet.db import OPERATOR, Caller, Database, RecordNotFound, visible
from tunefleet.db.columns import Status, utcnow
from tunefleet.hwtune import training
from tunefleet.hwtune.errors import HwTuneError
from tunefleet.hwtune.problem import LATENCY, SERVING, HwProblem
from tunefleet.hwtune.tables import HwTrial, HwTuning
from tunefleet.storage import ArtifactStore, read_data

MAX_ITERATIONS, MAX_BATCH = 1000, 64  # a tuning evaluates at most 64,000 candidates


@dataclass(frozen=True)
class Settings:
    """How the tuning's BO experiment searches (``bo-tuning``'s settings), and its budget."""

    name: str
    seed: int = 0
    initial_points: int = 5
    iterations: int = 10
    batch: int = 2

    def check(self) -> None:
        if not validation.is_name(self.name):
            raise HwTuneError(
                f"name {self.name!r} must be 1-100 letters, digits, '_', '.', '-' (starting alphanumeric)"
            )
        for field, value, most in (("iterations", self.iterations, MAX_ITERATIONS), ("batch", self.batch, MAX_BATCH)):
            if not validation.is_int(value, 1, most):
                raise HwTuneError(f"{field} must be an integer from 1 to {most}, not {value!r}")


def create(
    db: Database,
    store: ArtifactStore,
    problem: HwProblem,
    settings: Settings,
    data_settings,
    owner_id: int | None = None,
    probe_machine: bool = True,
) -> HwTuning:
    """Check and store a new tuning (``owner_id``'s). ``data_settings``: the settings whose data roots
    ``problem.data_uri`` must be under; ``probe_machine``: this machine measures the candidates, so
    each serving choice must run here."""
    settings.check()
    train_csv, validation_csv = training.split(problem, read_data(problem.data_uri, data_settings), settings.seed)
    training.check_serving(problem, train_csv, validation_csv, settings.seed, probe_machine)
    spec = experiments.ExperimentSpec(
        name=settings.name,
        covars=problem.space().to_dict(),
        description=f"hardware-aware tuning of {problem.estimator} on {problem.hardware}",
        acq_func="qLogNoisyExpectedImprovement",
        seed=settings.seed,
        initial_points=settings.initial_points,
        responses=problem.responses(),
        constraints=[*problem.constraints] or None,
    )
    exp = experiments.create(db, spec, owner_id)
    folder = f"hwtune/{exp.uuid}"
    return db.add(
        HwTuning(
            owner_id=owner_id,
            experiment_id=exp.id,
            name=settings.name,
            problem=problem.to_dict(),
            train_uri=store.put_bytes(f"{folder}/train.csv", train_csv),
            validation_uri=store.put_bytes(f"{folder}/validation.csv", validation_csv),
            budget={"iterations": settings.iterations, "batch": settings.batch},
        )
    )


def get(db: Database, ref: str | int, caller: Caller = OPERATOR) -> HwTuning:
    """A tuning ``caller`` may see, by id or by its experiment's uuid."""
    tuning_id = validation.as_id(ref) if not isinstance(ref, str) or ref.isdigit() else None
    if tuning_id is not None:
        return db.get(HwTuning, tuning_id, caller)
    exp = experiments.get(db, str(ref), caller)
    with db.session() as session:
        found = session.exec(select(HwTuning).where(HwTuning.experiment_id == exp.id)).first()
    if found is None:
        raise RecordNotFound(f"experiment {str(ref)[:64]} is no hardware-aware tuning")
    return found


def list(  # noqa: A001 (the verb)
    db: Database, caller: Caller = OPERATOR, status: set[Status] | None = None
) -> builtins.list[HwTuning]:
    query = visible(select(HwTuning).order_by(HwTuning.id), HwTuning, caller)
    if status:
        query = query.where(HwTuning.status.in_(status))
    with db.session() as session:
        return session.exec(query).all()


def start(db: Database, tuning_id: int, flow_run_id: str | None, iterations: int, batch: int) -> HwTuning:
    """→ running with this run's budget (any tuning may run again: it continues from its records)."""
    values = {"status": Status.running, "flow_run_id": flow_run_id, "error": None, "finished_at": None,
              "budget": {"iterations": iterations, "batch": batch}}  # fmt: skip
    return db.transition(HwTuning, tuning_id, set(Status), **values)


def finish(db: Database, tuning_id: int) -> HwTuning:
    return db.transition(HwTuning, tuning_id, {Status.running}, status=Status.succeeded, finished_at=utcnow())


def fail(db: Database, tuning_id: int, error: str) -> HwTuning:
    """→ failed with the reason, from running or queued (it never started)."""
    values = {"status": Status.failed, "error": error[:2000], "finished_at": utcnow()}
    return db.transition(HwTuning, tuning_id, {Status.queued, Status.running}, **values)


def experiment(db: Database, tuning: HwTuning) -> Experiment:
    return db.get(Experiment, tuning.experiment_id)


def problem(tuning: HwTuning) -> HwProblem:
    return HwProblem.from_dict(tuning.problem)


def candidate_name(tuning: HwTuning, trial_id: int) -> str:
    return f"hw{tuning.id}-trial{trial_id}"


def link(db: Database, trial_id: int) -> HwTrial | None:
    with db.session() as session:
        return session.exec(select(HwTrial).where(HwTrial.trial_id == trial_id)).first()


def links(db: Database, tuning: HwTuning) -> dict[int, HwTrial]:
    """Each linked trial's HwTrial, by trial id."""
    with db.session() as session:
        found = session.exec(select(HwTrial).where(HwTrial.tuning_id == tuning.id)).all()
    return {t.trial_id: t for t in found}


def store_candidate(
    db: Database, store: ArtifactStore, tuning: HwTuning, trial_id: int, serving: str, model_bytes: bytes
) -> HwTrial:
    """A trial's trained candidate as an uploaded model (judged on the tuning's validation rows), its
    one-cell benchmark run queued, and the link of both to the trial; a trial stored before keeps
    its link."""
    if (known := link(db, trial_id)) is not None:
        return known
    checked = problem(tuning)
    model = benchmarking.upload(
        db,
        store,
        candidate_name(tuning, trial_id),
        model_bytes,
        store.get_bytes(tuning.validation_uri),
        checked.target,
        checked.task,
        owner_id=tuning.owner_id,
    )
    run = benchmarking.create(db, model, checked.benchmark_config(serving))
    return db.add(HwTrial(tuning_id=tuning.id, trial_id=trial_id, serving=serving, model_id=model.id, run_id=run.id))


def response(db: Database, tuning: HwTuning, trial: HwTrial) -> dict[str, float]:
    """The trial's values from its measured cell; HwTuneError with the cell's reason if it was not measured."""
    cells = benchmarking.cells(db, trial.run_id)
    measured = [c for c in cells if c.metrics and c.metrics.get("status") == "ok"]
    if not measured:
        reason = "; ".join(f"{c.platform}+{c.optimisation}: {c.status.value}: {c.reason}" for c in cells)
        raise HwTuneError(f"benchmark run {trial.run_id} measured no cell ({reason or 'no cell recorded'})")
    return training.response(problem(tuning), measured[0].metrics)


def front(db: Database, tuning: HwTuning) -> dict:
    """The experiment's Pareto front and hypervolume (``bo.service.pareto``), each point with the serving
    choice, the candidate model and the benchmark run that measured it."""
    found = experiments.pareto(db, experiment(db, tuning))
    linked = links(db, tuning)
    for point in found["points"]:
        trial = linked.get(point["trial_id"])
        point["serving"] = point["covars"].get(SERVING)
        point["model_id"] = trial.model_id if trial else None
        point["run_id"] = trial.run_id if trial else None
    return {"tuning_id": tuning.id, "name": tuning.name, **found}


def pick(
    db: Database, store: ArtifactStore, tuning: HwTuning, max_latency_ms: float | None = None,
    name: str | None = None,
) -> dict:  # fmt: skip
    """Store the front's best point on the metric (ties: the faster) whose latency is at most
    ``max_latency_ms`` as an uploaded model named ``name`` (default ``<tuning>-pick-<trial>``), ready
    for ``benchmark run`` and serving; the pick is recorded on the tuning."""
    if max_latency_ms is not None and (not validation.is_finite(max_latency_ms) or max_latency_ms <= 0):
        raise HwTuneError(f"max_latency_ms must be a positive number, not {max_latency_ms!r}")
    checked = problem(tuning)
    points = [p for p in front(db, tuning)["points"] if p["model_id"] is not None]
    if not points:
        raise HwTuneError(f"tuning {tuning.id} has no feasible evaluated point yet")
    fast = [p for p in points if max_latency_ms is None or p["metrics"][LATENCY] <= max_latency_ms]
    if not fast:
        fastest = min(points, key=lambda p: p["metrics"][LATENCY])
        raise HwTuneError(
            f"no point of tuning {tuning.id}'s Pareto front has {LATENCY} <= {max_latency_ms:g} (the fastest: "
            f"{fastest['metrics'][LATENCY]:.4g} ms, trial {fastest['trial_id']}); raise max_latency_ms"
        )
    sign = 1.0 if checked.responses()[checked.metric_name]["direction"] == "maximize" else -1.0
    best = max(fast, key=lambda p: (sign * p["metrics"][checked.metric_name], -p["metrics"][LATENCY]))
    source = db.get(InferenceModel, best["model_id"])
    chosen = name or f"{tuning.name}-pick-{best['trial_id']}"
    model = benchmarking.upload(
        db, store, chosen, store.get_bytes(source.model_uri), store.get_bytes(source.data_uri),
        source.target, source.task, owner_id=tuning.owner_id,
    )  # fmt: skip
    picked = {
        "model_id": model.id,
        "name": model.name,
        "trial_id": best["trial_id"],
        "serving": best["serving"],
        "covars": best["covars"],
        "metrics": best["metrics"],
        "max_latency_ms": max_latency_ms,
    }
    with db.session() as session:  # the row locked while its list grows: two picks at once keep both
        record = session.get(HwTuning, tuning.id, with_for_update=True)
        record.picks = [*(record.picks or []), picked]
        session.add(record)
        session.commit()
    return picked


def view(db: Database, tuning: HwTuning) -> dict:
    """A tuning as JSON for the CLI and the API: the problem, the experiment's counts, the front, the picks."""
    exp = experiment(db, tuning)
    counts = experiments.count_trials(db, exp)
    checked = problem(tuning)
    return {
        "tuning_id": tuning.id,
        "name": tuning.name,
        "status": tuning.status.value,
        "error": tuning.error,
        "exp_uuid": exp.uuid,
        "estimator": checked.estimator,
        "hardware": checked.hardware,
        "batch_size": checked.batch_size,
        "serving": [*checked.serving],
        "objectives": checked.responses(),
        "constraints": [*checked.constraints],
        "trials": counts,
        "pareto": front(db, tuning),
        "picks": tuning.picks or [],
        "time_created": tuning.created_at.isoformat(),
    }
