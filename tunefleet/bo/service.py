"""Bayesian-optimisation experiments driven by ask / tell — the service's core.

An experiment's state is its trials: every ask rebuilds the optimiser from the complete ones,
so nothing but the records is needed to continue after a crash. An ask records what it hands
out as pending trials with a lease (the experiment's ``pending_lease_s``, default an hour) and
conditions on the pending trials whose lease runs, so workers asking at once get distinct
points; asks of one experiment take turns (``Database.exclusive``). A tell completes the pending
trial it names (by id) or whose point it repeats, or records a point nobody asked for; a tell
after the lease ended is still recorded.

A new experiment may be warm-started from an earlier experiment's or sweep's complete trials
(``warm_start``: ``history`` reads them): those that fit its space and metrics are copied in as
complete trials that name their origin (``seeded_from``), the others are dropped and counted. Seeded
trials inform the optimiser and the best point; budgets count only the experiment's own evaluations.

An experiment may declare several objectives and outcome constraints (``responses``,
``constraints``: ``tunefleet.bo.outcomes``); its tells then carry every metric, each trial keeps
them all (``metrics``), and ``pareto`` gives the feasible non-dominated trials and their
hypervolume. Without them an experiment is the seed's: one ``Response``, best by SQL.

Verbs: ``create``, ``get``, ``list``, ``ask`` / ``tell`` (from outside), ``propose`` /
``finish`` (the closed loop: pending trials, then their outcome), ``history`` (for warm starts),
``summary``, ``pareto``, ``view``.
"""

from __future__ import annotations

import builtins  # ``list`` is a verb here
import math
import uuid as uuidlib
from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy import func, update
from sqlmodel import Session, select

from tunefleet import validation
from tunefleet.bo import pandas_json
from tunefleet.bo.outcomes import RESPONSE, Outcomes
from tunefleet.bo.tables import Experiment, Trial, TrialStatus
from tunefleet.db import OPERATOR, Caller, Database, RecordNotFound, visible
from tunefleet.db.columns import utcnow
from tunefleet.errors import Conflict, InvalidInput
from tunefleet.space import Space

DEFAULT_LEASE_S, MAX_LEASE_S = 3600, 7 * 24 * 3600
MAX_ASK = 64
# Trials one experiment may hold: every ask fits GPs to all of them and every Pareto query sorts them
# (an ask at 1,000 observations takes 0.4 s); a bigger study is a new experiment.
MAX_TRIALS = 20_000
WARM_START_FORMS = "experiment:<uuid> or sweep:<id or project>"
MAX_DROP_REASONS = 5  # the dropped records a warm start names, with the reason
_ASK_LOCK = 0x5446_4241  # Database.exclusive scope of an experiment's asks and tells ("TFBA")


class ExperimentError(InvalidInput):
    """An experiment definition or request that cannot be used; the message says why."""


class TellError(ExperimentError):
    """Told data that cannot be recorded; nothing of that tell is stored."""


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    covars: dict
    description: str = ""
    model_type: str = "SingleTaskGP"
    acq_func: str = "ExpectedImprovement"
    maximize: bool = True
    seed: int = 0
    initial_points: int = 5
    pending_lease_s: int = DEFAULT_LEASE_S
    responses: dict | None = None  # {name: {direction, reference}}; None: one "Response" (``maximize``)
    constraints: list[str] | None = None  # ["latency_ms <= 5", ...]
    warm_start: str | None = None  # WARM_START_FORMS: the earlier records to start from


def create(db: Database, spec: ExperimentSpec, owner_id: int | None = None, caller: Caller = OPERATOR) -> Experiment:
    """Validate the space, the model / acquisition names and the warm start (its source as ``caller``
    may see it), then store the experiment with the trials it is seeded with, at once."""
    from tunefleet.bo import engine  # torch: imported only where an optimiser is built (CLI start-up)

    space = Space.from_covars(spec.covars)
    declared = Outcomes.parse(spec.responses, spec.constraints, spec.maximize)
    try:
        engine.Optimizer(space, model=spec.model_type, acquisition=spec.acq_func)
    except InvalidInput as exc:  # an unknown model or acquisition name
        raise ExperimentError(str(exc)) from exc
    if spec.initial_points < 1:
        raise ExperimentError(f"initial_points must be at least 1, got {spec.initial_points}")
    if not validation.is_int(spec.pending_lease_s, 1, MAX_LEASE_S):
        raise ExperimentError(
            f"pending_lease_s must be between 1 and {MAX_LEASE_S} seconds, got {spec.pending_lease_s!r}"
        )
    seeds, warm = _seeds(space, declared, history(db, spec.warm_start, caller)) if spec.warm_start else ([], None)
    exp = Experiment(
        uuid=str(uuidlib.uuid4()),
        owner_id=owner_id,
        name=spec.name,
        description=spec.description,
        covars=space.to_dict(),
        model_type=spec.model_type,
        acq_func=spec.acq_func,
        seed=spec.seed,
        initial_points=spec.initial_points,
        pending_lease_s=spec.pending_lease_s,
        maximize=declared.objectives[0].maximize,
        responses=None if spec.responses is None else declared.responses(),
        constraints=declared.constraint_texts() or None,
        warm_start=warm,
    )
    with db.session() as session:
        session.add(exp)
        session.flush()
        for trial in seeds:
            trial.experiment_id = exp.id
        session.add_all(seeds)
        session.commit()
        session.refresh(exp)
    return exp


@dataclass(frozen=True)
class History:
    """An earlier experiment's or sweep's complete trials, to warm-start a new experiment with."""

    source: str  # "experiment <uuid>", "sweep 3"
    variables: tuple[str, ...]
    primary: str  # the metric an experiment with one objective takes as its response
    records: builtins.list[tuple[str, dict, dict]]  # (label, point, {metric: value}), one per complete trial


def history(db: Database, source: str, caller: Caller = OPERATOR) -> History:
    """The complete trials of ``source`` (``WARM_START_FORMS``) if ``caller`` may see it; another
    user's is reported as missing."""
    kind, _, ref = source.partition(":") if isinstance(source, str) else ("", "", "")
    if kind == "experiment" and ref:
        exp = get(db, ref, caller)
        declared, told = outcomes(exp), trials(db, exp)
        records = [(f"experiment {exp.uuid} trial {t.id}", t.covars, m) for t, m in zip(told, _metrics(declared, told))]
        return History(f"experiment {exp.uuid}", tuple(exp.covars), declared.objectives[0].name, records)
    if kind == "sweep" and ref:
        import tunefleet.sweep.service as sweeps  # the sweep's records; the sweep imports the engine

        sweep = sweeps.find(db, ref)
        if not caller.owns(sweep.owner_id):
            raise RecordNotFound(f"there is no sweep {ref[:40]}")
        metric, _ = sweeps.metric_mode(sweep)
        told = sweeps.trials(db, sweep.id, [sweeps.SweepTrialStatus.complete])
        names = sweeps.sweep_config(sweep).space().names
        records = [
            (f"sweep {sweep.id} trial {t.trial_key}", {k: t.config[k] for k in names if k in t.config}, t.metrics or {})
            for t in told
        ]  # a trial's config also holds the fixed values the sweep passes its trainable
        return History(f"sweep {sweep.id}", names, metric, records)
    raise ExperimentError(f"warm_start must be {WARM_START_FORMS}, got {str(source)[:80]!r}")


def _seeds(space: Space, declared: Outcomes, past: History) -> tuple[builtins.list[Trial], dict]:
    """The trials of ``past`` that fit ``space`` and ``declared``'s metrics, as complete trials of the
    new experiment (``experiment_id`` still unset), and what the warm start did."""
    if set(past.variables) != set(space.names):
        raise ExperimentError(
            f"warm_start: {past.source} has the variables {', '.join(past.variables)}; "
            f"this experiment has {', '.join(space.names)}: start from records over the same variables"
        )
    # the seed's one "Response" is the source's primary metric; declared metrics are taken by name
    wanted = (past.primary,) if declared.metrics == (RESPONSE,) else declared.metrics
    known = {name for _, _, metrics in past.records for name in metrics}
    if missing := [name for name in wanted if past.records and name not in known]:
        raise ExperimentError(
            f"warm_start: no trial of {past.source} has {', '.join(missing)}; it has {', '.join(sorted(known)[:20])}"
        )
    now, seeds, reasons = utcnow(), [], []
    for label, point, metrics in past.records:
        try:
            told = (
                space.validate_point(point),
                declared.values(dict(zip(declared.metrics, map(metrics.get, wanted))), label),
            )
        except InvalidInput as exc:
            if len(reasons) < MAX_DROP_REASONS:
                reasons.append(f"{label}: {exc}"[:300])
            continue
        covars, values = told
        seeds.append(
            Trial(
                covars=covars,
                response=values[declared.objectives[0].name],
                metrics=None if declared.plain else values,
                status=TrialStatus.complete,
                finished_at=now,
                seeded_from=label,
            )
        )
    if len(seeds) > MAX_TRIALS:
        raise Conflict(
            f"warm_start: {past.source} has {len(seeds)} trials to seed; an experiment may hold {MAX_TRIALS}"
        )
    report = {"source": past.source, "seeded": len(seeds), "dropped": len(past.records) - len(seeds)}
    return seeds, {**report, "dropped_because": reasons}


def warm_start_text(warm: dict) -> str:
    """What a warm start did (``Experiment.warm_start``), for a log line."""
    dropped = f"; dropped {warm['dropped']}: {'; '.join(warm['dropped_because'])}" if warm["dropped"] else ""
    return f"seeded {warm['seeded']} trials from {warm['source']}{dropped}"


def outcomes(exp: Experiment) -> Outcomes:
    """What ``exp`` measures: its declared objectives and constraints, or the seed's one ``Response``."""
    return Outcomes.parse(exp.responses, exp.constraints, exp.maximize)


def get(db: Database, exp_uuid: str, caller: Caller = OPERATOR) -> Experiment:
    """The experiment ``exp_uuid`` if ``caller`` may see it; another user's is reported as missing."""
    with db.session() as session:
        found = session.exec(select(Experiment).where(Experiment.uuid == exp_uuid)).first()
    if found is None or not caller.owns(found.owner_id):
        raise RecordNotFound(f"there is no experiment {exp_uuid}")
    return found


def list(db: Database, caller: Caller = OPERATOR) -> list[Experiment]:  # noqa: A001 (the verb)
    """The experiments ``caller`` may see, by id."""
    with db.session() as session:
        return session.exec(visible(select(Experiment).order_by(Experiment.id), Experiment, caller)).all()


def trials(db: Database, exp: Experiment, status: TrialStatus | None = TrialStatus.complete) -> list[Trial]:
    with db.session() as session:
        return _trials(session, exp, status)


def optimizer(db: Database, exp: Experiment, session: Session | None = None):
    """The optimiser (a ``tunefleet.bo.engine.Optimizer``) rebuilt from the experiment's complete trials alone."""
    from tunefleet.bo import engine

    told = _trials(session, exp, TrialStatus.complete) if session else trials(db, exp)
    declared = outcomes(exp)
    optimiser = engine.Optimizer(
        Space.from_covars(exp.covars),
        model=exp.model_type,
        acquisition=exp.acq_func,
        initial_points=exp.initial_points,
        seed=exp.seed,
        outcomes=declared,
    )
    if told:
        optimiser.tell([t.covars for t in told], [t.response if declared.plain else t.metrics for t in told])
    return optimiser


def _trials(session: Session, exp: Experiment, status: TrialStatus | None) -> list[Trial]:
    """The experiment's trials of ``status`` (None: all), by id, read in ``session``."""
    query = select(Trial).where(Trial.experiment_id == exp.id).order_by(Trial.id)
    return session.exec(query if status is None else query.where(Trial.status == status)).all()


def _leased(trial: Trial, now) -> bool:
    """Still pending for the optimiser: no lease (the closed loop's), or one that runs."""
    if trial.lease_until is None:
        return True
    lease = trial.lease_until
    return (lease if lease.tzinfo else lease.replace(tzinfo=timezone.utc)) > now  # SQLite gives naive UTC


def ask(db: Database, exp: Experiment, n: int = 1) -> list[Trial]:
    """``n`` points to evaluate, recorded as pending trials leased for the experiment's
    ``pending_lease_s``; conditioned on the other pending trials whose lease runs."""
    if not validation.is_int(n, 1, MAX_ASK):
        raise ExperimentError(f"n must be between 1 and {MAX_ASK}, got {n}")
    with db.exclusive(_ASK_LOCK, exp.id) as session:
        _check_room(session, exp, n)
        now = utcnow()
        pending = [t.covars for t in _trials(session, exp, TrialStatus.pending) if _leased(t, now)]
        points = optimizer(db, exp, session).ask(n, pending=pending)
        lease = now + timedelta(seconds=exp.pending_lease_s)
        rows = [Trial(experiment_id=exp.id, covars=p, status=TrialStatus.pending, lease_until=lease) for p in points]
        session.add_all(rows)
        session.commit()
        for row in rows:
            session.refresh(row)
    return rows


def tell(
    db: Database, exp: Experiment, points: list[dict], responses: list, trial_ids: list[int] | None = None
) -> list[Trial]:
    """Record evaluated points: all of them or, if any is invalid, none. Row i completes the pending
    trial ``trial_ids[i]`` (None: the pending trial asked with that point, if any), or is a new
    complete trial for a point nobody asked for. A trial told already is refused. A response is a
    number, or {metric: value} with every metric of an experiment with several (``told_responses``)."""
    if len(points) != len(responses):
        raise TellError(f"covars_tell has {len(points)} rows but response_tell has {len(responses)}")
    if not points:
        raise TellError("covars_tell has no rows")
    ids = [None] * len(points) if trial_ids is None else trial_ids
    if len(ids) != len(points):
        raise TellError(f"covars_tell has {len(points)} rows but trial_ids has {len(ids)}")
    named = [i for i in ids if i is not None]
    if not all(validation.is_id(i) for i in named) or len(set(named)) < len(named):
        raise TellError("trial_ids must be distinct trial ids (or null for a point nobody asked for)")
    space = Space.from_covars(exp.covars)
    clean = [space.validate_point(point) for point in points]
    declared = outcomes(exp)
    values = [_told(declared, value, f"response_tell row {row}") for row, value in enumerate(responses)]
    with db.exclusive(_ASK_LOCK, exp.id) as session:
        now = utcnow()
        pending = {t.id: t for t in _trials(session, exp, TrialStatus.pending)}
        rows, added = [], 0
        for row, (trial_id, point, value) in enumerate(zip(ids, clean, values)):
            trial = pending.pop(trial_id, None) if trial_id is not None else _asked_with(pending, point)
            if trial_id is not None and trial is None:
                raise TellError(f"trial_ids row {row}: {trial_id} is not a pending trial of this experiment")
            if trial is None:
                trial = Trial(experiment_id=exp.id, covars=point)
                added += 1
            trial.covars, trial.status, trial.finished_at = point, TrialStatus.complete, now
            trial.response, trial.metrics = value
            rows.append(trial)
        _check_room(session, exp, added)
        session.add_all(rows)
        session.exec(update(Experiment).where(Experiment.id == exp.id).values(updated_at=now))
        session.commit()
    return rows


def told_responses(exp: Experiment, value) -> list:
    """The rows of a tell's responses: a list of numbers, or a pandas-JSON table (any orient) with one
    column (one metric) or one column per metric (an experiment with several)."""
    names = outcomes(exp).metrics
    if isinstance(value, builtins.list) and all(not isinstance(v, (dict, builtins.list)) for v in value):
        return value  # a plain list of numbers
    rows = pandas_json.rows(value, "response_tell", set(names))
    if len(names) > 1:
        return rows
    if any(len(row) != 1 for row in rows):
        raise TellError(f"response_tell must have exactly one column ({names[0]!r})")
    return [next(iter(row.values())) for row in rows]


def _told(declared: Outcomes, value, where: str) -> tuple[float, dict | None]:
    """A told response as (the first objective's value, every metric; None for a plain experiment)."""
    try:
        metrics = declared.values(value, where)
    except InvalidInput as exc:
        raise TellError(str(exc)) from exc
    return metrics[declared.objectives[0].name], None if declared.plain else metrics


def _check_room(session: Session, exp: Experiment, adding: int) -> None:
    held = session.exec(select(func.count()).select_from(Trial).where(Trial.experiment_id == exp.id)).one()
    if held + adding > MAX_TRIALS:
        raise Conflict(
            f"experiment {exp.uuid} holds {held} trials and may hold {MAX_TRIALS}; start a new experiment for more"
        )


def _asked_with(pending: dict[int, Trial], point: dict) -> Trial | None:
    """The oldest pending trial asked with ``point`` (taken out of ``pending``), or None."""
    for trial_id, trial in pending.items():
        if trial.covars == point:
            return pending.pop(trial_id)
    return None


def propose(db: Database, exp: Experiment, q: int) -> list[Trial]:
    """Points to evaluate next, recorded as pending before anyone evaluates them.

    Pending trials left by an interrupted run come first, so a point in flight at a crash
    is evaluated once after the restart, not proposed again beside a new one.
    """
    pending = trials(db, exp, TrialStatus.pending)
    return pending[:q] if pending else ask(db, exp, q)


def finish(
    db: Database, exp: Experiment, trial_id: int, response: float | dict | None = None, error: str | None = None
) -> None:
    """Complete a pending trial of ``exp`` with its response (a number, or {metric: value}), or fail it
    with the error; only once."""
    values = dict(status=TrialStatus.failed, error=error) if error else dict(status=TrialStatus.complete)
    if not error:
        values["response"], values["metrics"] = _told(outcomes(exp), response, f"trial {trial_id}")
    now = utcnow()
    with db.session() as session:
        done = session.exec(
            update(Trial)
            .where(Trial.id == trial_id, Trial.experiment_id == exp.id, Trial.status == TrialStatus.pending)
            .values(finished_at=now, **values)
        )
        session.exec(update(Experiment).where(Experiment.id == exp.id).values(updated_at=now))
        session.commit()
    if done.rowcount == 0:
        raise Conflict(f"trial {trial_id} is not pending")


def count_trials(db: Database, exp: Experiment) -> dict[str, int]:
    """Trials by status; those a warm start copied in count as "seeded", not "complete"."""
    seeded = Trial.seeded_from.is_not(None)
    with db.session() as session:
        counts = session.exec(
            select(Trial.status, seeded, func.count())
            .where(Trial.experiment_id == exp.id)
            .group_by(Trial.status, seeded)
        ).all()
    return {("seeded" if copied else TrialStatus(status).value): int(n) for status, copied, n in counts}


@dataclass(frozen=True)
class Summary:
    best_response: float | None
    covars_best_response: dict | None
    n_told: int
    time_updated: str


def summary(db: Database, exp: Experiment) -> Summary:
    """The best complete trial (feasible, with constraints; none with several objectives) and counts."""
    declared = outcomes(exp)
    if not declared.plain:
        return _outcome_summary(db, exp, declared)
    best_first = Trial.response.desc() if exp.maximize else Trial.response.asc()
    with db.session() as session:
        where = (Trial.experiment_id == exp.id, Trial.status == TrialStatus.complete)
        best = session.exec(select(Trial).where(*where).order_by(best_first, Trial.id).limit(1)).first()
        count = session.exec(select(func.count()).select_from(Trial).where(*where)).one()
        updated = session.exec(select(Experiment.updated_at).where(Experiment.id == exp.id)).one()
    return Summary(
        best_response=best.response if best else None,
        covars_best_response=best.covars if best else None,
        n_told=int(count),
        time_updated=updated.isoformat(),
    )


def _outcome_summary(db: Database, exp: Experiment, declared: Outcomes) -> Summary:
    with db.session() as session:
        told = _trials(session, exp, TrialStatus.complete)
        updated = session.exec(select(Experiment.updated_at).where(Experiment.id == exp.id)).one()
    best = declared.best([t.metrics for t in told]) if len(declared.objectives) == 1 else None
    return Summary(
        best_response=None if best is None else told[best].response,
        covars_best_response=None if best is None else told[best].covars,
        n_told=len(told),
        time_updated=updated.isoformat(),
    )


def front(db: Database, exp: Experiment, told: builtins.list[Trial] | None = None) -> builtins.list[dict]:
    """The feasible complete trials no other dominates (with one objective: the best), as
    {trial_id, covars, metrics}; ``told``: the complete trials, if read already."""
    declared = outcomes(exp)
    told = trials(db, exp) if told is None else told
    rows = _metrics(declared, told)
    return [{"trial_id": told[i].id, "covars": told[i].covars, "metrics": rows[i]} for i in declared.pareto(rows)]


def pareto(db: Database, exp: Experiment) -> dict:
    """The front (``front``) with the hypervolume it spans from the reference point (declared, or
    inferred from the front: ``Outcomes.reference_point``); null if it overflows a float."""
    declared = outcomes(exp)
    told = trials(db, exp)
    rows = _metrics(declared, told)
    points = front(db, exp, told)
    front_rows = [p["metrics"] for p in points]
    reference = declared.reference_point(front_rows or rows) if rows else {}
    volume, exact = declared.measure(front_rows, reference) if front_rows else (0.0, True)
    return {
        "exp_uuid": exp.uuid,
        "objectives": declared.responses(),
        "constraints": declared.constraint_texts(),
        "n_told": len(rows),
        "n_feasible": sum(declared.feasible(row) for row in rows),
        "reference_point": reference,
        "hypervolume": volume if math.isfinite(volume) else None,
        "hypervolume_exact": exact,  # else a seeded Monte-Carlo estimate
        "points": points,
    }


def _metrics(declared: Outcomes, told: builtins.list[Trial]) -> builtins.list[dict]:
    """Each trial's told metrics ({first objective: response} for a plain experiment)."""
    return [t.metrics if t.metrics is not None else {declared.objectives[0].name: t.response} for t in told]


def view(db: Database, exp: Experiment, with_trials: bool = False) -> dict:
    """The JSON shape of an experiment for the API and CLI: settings, best point, counts."""
    result, counts = summary(db, exp), count_trials(db, exp)
    document = {
        "exp_uuid": exp.uuid,
        "name": exp.name,
        "description": exp.description,
        "covars": exp.covars,
        "model_type": exp.model_type,
        "acq_func": exp.acq_func,
        "maximize": exp.maximize,
        "responses": outcomes(exp).responses(),
        "constraints": outcomes(exp).constraint_texts(),
        "seed": exp.seed,
        "initial_points": exp.initial_points,
        "pending_lease_s": exp.pending_lease_s,
        "best_response": result.best_response,
        "covars_best_response": result.covars_best_response,
        "n_told": result.n_told,
        "n_pending": counts.get(TrialStatus.pending.value, 0),
        "n_seeded": counts.get("seeded", 0),
        "warm_start": exp.warm_start,
        "time_created": exp.created_at.isoformat(),
        "time_updated": result.time_updated,
    }
    if with_trials:
        document["trials"] = [
            {
                "trial_id": t.id,
                "covars": t.covars,
                "response": t.response,
                **({} if t.metrics is None else {"metrics": t.metrics}),
                **({} if t.seeded_from is None else {"seeded_from": t.seeded_from}),
            }
            for t in trials(db, exp)
        ]
    return document
