"""HPO sweeps over the records: named configs, projects, sweeps and their trials (no Prefect here).

Named configs (hpogrid's ``search_space``, ``hpo_config``, ``model_config``,
``compute_config`` and ``project``) are rows of ``sweep_configs``, validated by
``tunefleet.sweep.configs`` before they are stored. A sweep snapshots its project's configs
(``SweepConfig.to_dict()``) when it is created, so editing a config later does not change a
sweep that is running or to be resumed. Its trials are written as they happen: start, every
intermediate result (``history``), end (``metrics``, ``error``); ``finished_keys`` tells a
resumed sweep which trials not to run again.

Verbs: configs ``get_config``, ``list_configs``, ``create_config``, ``update_config``,
``remove_config``; sweeps ``create``, ``get`` (``find``: by id or project), ``list``, ``start``,
``finish``, ``view``; trials ``add_pending``, ``trial_started``, ``trial_result``,
``trial_finished``, ``trials``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tunefleet.db import Database, RecordNotFound
from tunefleet.db.columns import utcnow
from tunefleet.errors import Conflict
from tunefleet.sweep import configs
from tunefleet.sweep import report as sweep_report
from tunefleet.sweep.configs import ConfigError, SweepConfig
from tunefleet.sweep.tables import Sweep, SweepConfigRecord, SweepStatus, SweepTrial, SweepTrialStatus
from tunefleet.validation import as_id

FINISHED = (SweepTrialStatus.complete, SweepTrialStatus.failed, SweepTrialStatus.stopped)
CONFIG_KINDS = ("search_space", "hpo_config", "model_config", "compute_config")


# -- named configs ---------------------------------------------------------------------------------
def _config_row(db: Database, config_type: str, name: str) -> SweepConfigRecord | None:
    with db.session() as session:
        return session.exec(
            select(SweepConfigRecord).where(
                SweepConfigRecord.config_type == config_type, SweepConfigRecord.name == name
            )
        ).first()


def get_config(db: Database, config_type: str, name: str) -> dict:
    """The stored body of the config ``name`` of ``config_type``; RecordNotFound if there is none."""
    configs.model_class(config_type)
    row = _config_row(db, config_type, name)
    if row is None:
        raise RecordNotFound(f"there is no {config_type} named {name!r}")
    return row.body


def _body(config_type: str, name: str, data) -> dict:
    configs.check_name(name, f"{config_type} name")
    if config_type == "project":
        data = {**(data or {}), "name": name}
    return configs.dump(configs.validate(config_type, data))


def create_config(db: Database, config_type: str, name: str, data, *, replace_existing: bool = False) -> dict:
    """Validate and store a config (``recreate``: ``replace_existing``); Conflict if it exists."""
    body = _body(config_type, name, data)
    if config_type == "project":
        check(_check_project(db, body))  # as local-run checks it: the script loads, the searcher builds
    row = _config_row(db, config_type, name)
    if row is not None and not replace_existing:
        raise Conflict(f"{config_type} {name!r} exists; use recreate or update")
    with db.session() as session:
        if row is None:
            session.add(SweepConfigRecord(config_type=config_type, name=name, body=body))
        else:
            row.body, row.updated_at = body, utcnow()
            session.add(row)
        try:
            session.commit()
        except IntegrityError:
            raise Conflict(f"{config_type} {name!r} exists; use recreate or update") from None
    return body


def update_config(db: Database, config_type: str, name: str, changes: dict) -> dict:
    """hpogrid's ``update``: the stored config with ``changes`` applied, validated again."""
    old = get_config(db, config_type, name)
    body = configs.dump(configs.merge(config_type, old, changes))
    if config_type == "project":
        check(_check_project(db, body))
    row = _config_row(db, config_type, name)
    with db.session() as session:
        row.body, row.updated_at = body, utcnow()
        session.add(row)
        session.commit()
    return body


def remove_config(db: Database, config_type: str, name: str) -> None:
    row = _config_row(db, config_type, name)
    if row is None:
        raise RecordNotFound(f"there is no {config_type} named {name!r}")
    if config_type != "project":
        users = [p["name"] for p in list_configs(db, "project").values() if _uses(p, config_type, name)]
        if users:
            raise Conflict(f"{config_type} {name!r} is used by project(s) {', '.join(users)}")
    with db.session() as session:
        session.delete(session.get(SweepConfigRecord, row.id))
        session.commit()


def _uses(project: dict, config_type: str, name: str) -> bool:
    return project.get(config_type) == name


def list_configs(db: Database, config_type: str) -> dict[str, dict]:
    """Every config of ``config_type``: name → body, by name."""
    configs.model_class(config_type)
    with db.session() as session:
        rows = session.exec(
            select(SweepConfigRecord)
            .where(SweepConfigRecord.config_type == config_type)
            .order_by(SweepConfigRecord.name)
        )
        return {row.name: row.body for row in rows}


# -- projects ----------------------------------------------------------------------------------------
def _check_project(db: Database, body: dict) -> SweepConfig:
    """The project's configs exist and fit together (SweepConfig.build)."""
    missing = []
    parts = {}
    for kind in CONFIG_KINDS:
        name = body.get(kind)
        if name is None:
            continue
        row = _config_row(db, kind, name)
        if row is None:
            missing.append(f"project.{kind}: there is no {kind} named {name!r}")
        else:
            parts[kind] = row.body
    if missing:
        raise ConfigError(missing)
    return SweepConfig.build(name=body["name"], scripts_path=body.get("scripts_path"), **parts)


def create_project(db: Database, name: str, *, replace_existing: bool = False, **fields) -> dict:
    """A project: the names of its four configs and its scripts_path (checked together)."""
    return create_config(db, "project", name, fields, replace_existing=replace_existing)


def project_config(db: Database, name: str) -> SweepConfig:
    """The SweepConfig a project names, from the configs as they are stored now."""
    return _check_project(db, get_config(db, "project", name))


def with_engine(sweep: SweepConfig, engine: str | None = None, address: str | None = None, n_jobs=None):
    """The sweep with its compute_config's engine / address / n_jobs overridden (checked again)."""
    changes = {k: v for k, v in {"engine": engine, "address": address, "n_jobs": n_jobs}.items() if v is not None}
    if not changes:
        return sweep
    compute = configs.merge("compute_config", sweep.compute_config, changes)
    if engine is not None and address is None and sweep.compute_config.engine != engine:
        compute = configs.merge("compute_config", compute, {"address": None})
    updated = replace(sweep, compute_config=compute)
    problems = updated.problems()
    if problems:
        raise ConfigError(problems)
    return updated


# -- sweeps -------------------------------------------------------------------------------------------
def create(db: Database, sweep: SweepConfig) -> Sweep:
    return db.add(Sweep(project=sweep.name, config=sweep.to_dict()))


def get(db: Database, sweep_id: int) -> Sweep:
    return db.get(Sweep, sweep_id)


def sweep_config(record: Sweep) -> SweepConfig:
    return SweepConfig.from_dict(record.config)


def list(db: Database, project: str | None = None) -> list[Sweep]:  # noqa: A001 (the verb)
    query = select(Sweep).order_by(Sweep.id)
    if project is not None:
        query = query.where(Sweep.project == project)
    with db.session() as session:
        return session.exec(query).all()


def latest(db: Database, project: str) -> Sweep:
    found = list(db, project)
    if not found:
        raise RecordNotFound(f"project {project!r} has no sweep")
    return found[-1]


def find(db: Database, project_or_id: str | int) -> Sweep:
    """A sweep by id (digits), or a project's latest sweep."""
    text = str(project_or_id)
    if text.isascii() and text.isdigit():
        sweep_id = as_id(text)
        if sweep_id is None:
            raise RecordNotFound(f"there is no sweep with id={text[:30]}")
        return get(db, sweep_id)
    return latest(db, text)


def set_sweep(db: Database, sweep_id: int, **values) -> Sweep:
    with db.session() as session:
        record = session.get(Sweep, sweep_id)
        if record is None:
            raise RecordNotFound(f"there is no sweep with id={sweep_id}")
        for key, value in values.items():
            setattr(record, key, value)
        session.add(record)
        session.commit()
        session.refresh(record)
        return record


def start(db: Database, sweep_id: int, flow_run_id: str | None = None) -> Sweep:
    """Mark a sweep running (from any state: queued, paused, failed, running when its run died, or
    succeeded, which finds nothing left to run and publishes its reports again)."""
    return set_sweep(db, sweep_id, status=SweepStatus.running, flow_run_id=flow_run_id, started_at=utcnow(), error=None)


ACTIVE = {SweepStatus.queued, SweepStatus.running}


def finish(db: Database, sweep_id: int, status: SweepStatus, error: str | None = None, **values) -> Sweep:
    """End a queued or running sweep (one guarded UPDATE): one that has ended already — paused by
    ``tunefleet sweep kill`` while its flow run was being stopped, say — is left as it is, and
    StatusConflict says what it is."""
    values.update(status=status, error=error, finished_at=utcnow())
    return db.transition(Sweep, sweep_id, ACTIVE, **values)


# -- trials --------------------------------------------------------------------------------------------
def _trial(session, sweep_id: int, key: str) -> SweepTrial | None:
    return session.exec(select(SweepTrial).where(SweepTrial.sweep_id == sweep_id, SweepTrial.trial_key == key)).first()


def add_pending(db: Database, sweep_id: int, points: Iterable[tuple[str, dict]]) -> int:
    """Record trials sampled up front as pending (keys already there are left alone)."""
    added = 0
    with db.session() as session:
        existing = set(session.exec(select(SweepTrial.trial_key).where(SweepTrial.sweep_id == sweep_id)))
        for key, config in points:
            if key not in existing:
                session.add(SweepTrial(sweep_id=sweep_id, trial_key=key, config=sweep_report.json_safe(config)))
                added += 1
        session.commit()
    return added


def trial_started(db: Database, sweep_id: int, key: str, config: dict) -> SweepTrial:
    """A trial (re)starts: running, one more attempt, its history starts afresh."""
    with db.session() as session:
        trial = _trial(session, sweep_id, key)
        if trial is None:
            trial = SweepTrial(sweep_id=sweep_id, trial_key=key, config=sweep_report.json_safe(config))
        trial.status, trial.attempts, trial.started_at = SweepTrialStatus.running, trial.attempts + 1, utcnow()
        trial.history, trial.metrics, trial.error, trial.finished_at = [], None, None, None
        session.add(trial)
        session.commit()
        session.refresh(trial)
        return trial


def trial_result(db: Database, sweep_id: int, key: str, metrics: dict) -> None:
    """An intermediate result: appended to the trial's history, and its latest metrics."""
    metrics = sweep_report.json_safe(metrics)
    with db.session() as session:
        trial = _trial(session, sweep_id, key)
        if trial is None:
            raise RecordNotFound(f"sweep {sweep_id} has no trial {key}")
        trial.history = [*(trial.history or []), metrics]
        trial.metrics = metrics
        session.add(trial)
        session.commit()


def trial_finished(
    db: Database,
    sweep_id: int,
    key: str,
    status: SweepTrialStatus,
    metrics: dict | None = None,
    error: str | None = None,
    history: list[dict] | None = None,
) -> None:
    with db.session() as session:
        trial = _trial(session, sweep_id, key)
        if trial is None:
            raise RecordNotFound(f"sweep {sweep_id} has no trial {key}")
        trial.status, trial.error, trial.finished_at = status, error, utcnow()
        if history is not None:
            trial.history = sweep_report.json_safe(history)
        if metrics is not None:
            trial.metrics = sweep_report.json_safe(metrics)
        session.add(trial)
        session.commit()


def trials(db: Database, sweep_id: int, status: Iterable[SweepTrialStatus] | None = None) -> list[SweepTrial]:
    with db.session() as session:
        query = select(SweepTrial).where(SweepTrial.sweep_id == sweep_id).order_by(SweepTrial.id)
        if status is not None:
            query = query.where(SweepTrial.status.in_([*status]))
        return session.exec(query).all()


def count_trials(db: Database, sweep_id: int) -> dict[str, int]:
    with db.session() as session:
        rows = session.exec(
            select(SweepTrial.status, func.count()).where(SweepTrial.sweep_id == sweep_id).group_by(SweepTrial.status)
        )
        return {status.value if hasattr(status, "value") else str(status): n for status, n in rows}


def finished_keys(db: Database, sweep_id: int) -> set[str]:
    """Trials a resumed sweep must not run again: complete, failed (after retries) or stopped."""
    return {t.trial_key for t in trials(db, sweep_id, FINISHED)}


def unfinished(db: Database, sweep_id: int) -> list[SweepTrial]:
    """Pending trials, and those that were running when their run died: to run (again) on resume."""
    return trials(db, sweep_id, (SweepTrialStatus.pending, SweepTrialStatus.running))


# -- views -------------------------------------------------------------------------------------------
def trial_dict(trial: SweepTrial) -> dict:
    """A trial as tunefleet.sweep.report takes it."""
    return {
        "trial_id": trial.trial_key,
        "config": trial.config,
        "status": trial.status.value,
        "history": trial.history or [],
        "metrics": trial.metrics or {},
        "error": trial.error,
        "attempts": trial.attempts,
    }


def trial_dicts(db: Database, sweep_id: int) -> list[dict]:
    return [trial_dict(t) for t in trials(db, sweep_id)]


def metric_mode(record: Sweep) -> tuple[str, str]:
    hpo = record.config["hpo_config"]
    return hpo["metric"], hpo["mode"]


def best(db: Database, record: Sweep) -> dict | None:
    """The trial with the best final metric; under objectives or constraints, the feasible Pareto
    front's best on the first objective."""
    metric, mode = metric_mode(record)
    declared = sweep_config(record).hpo_config.outcomes()
    return sweep_report.best_trial(_complete(db, record) if declared is None else front(db, record), metric, mode)


def front(db: Database, record: Sweep) -> list[dict]:
    """The finished trials on the feasible Pareto front of the sweep's objectives and constraints
    (none without them)."""
    declared = sweep_config(record).hpo_config.outcomes()
    return [] if declared is None else sweep_report.pareto_trials(_complete(db, record), declared)


def _complete(db: Database, record: Sweep) -> list[dict]:
    return [trial_dict(t) for t in trials(db, record.id, (SweepTrialStatus.complete, SweepTrialStatus.stopped))]


def view(db: Database, record: Sweep, with_trials: bool = False) -> dict[str, Any]:
    metric, mode = metric_mode(record)
    document = {
        "id": record.id,
        "project": record.project,
        "status": record.status.value,
        "metric": metric,
        "mode": mode,
        "counts": count_trials(db, record.id),
        "best_trial": record.best_trial_key,
        "best_metric": record.best_metric,
        **(
            {"pareto": [t["trial_id"] for t in front(db, record)]}
            if record.config["hpo_config"].get("objectives")
            else {}
        ),
        "reports": record.reports,
        "error": record.error,
        "flow_run_id": record.flow_run_id,
        "created_at": record.created_at,
        "finished_at": record.finished_at,
    }
    if with_trials:
        document["trials"] = trial_dicts(db, record.id)
    return document


# -- what a sweep runs ----------------------------------------------------------------------------------
def check(sweep: SweepConfig):
    """Everything that can be wrong before a trial starts: the trainable loads and gets every name
    it needs; on Ray, the searcher and the scheduler build. Returns the Trainable."""
    from tunefleet.sweep import search
    from tunefleet.sweep.trainables import load_trainable

    hpo, space = sweep.hpo_config, sweep.space()
    trainable = load_trainable(sweep.model_config, sweep.scripts_path, metric=hpo.metric)
    trainable.check_names(space.names)
    if sweep.compute_config.engine == "ray":
        search.search_algorithm(
            hpo.algorithm,
            space,
            hpo.metric,
            hpo.mode,
            seed=hpo.seed,
            max_concurrent=hpo.max_concurrent,
            outcomes=hpo.outcomes(),
            **hpo.algorithm_param,
        )
        search.scheduler(hpo.scheduler, hpo.metric, hpo.mode, space, **hpo.scheduler_param)
    return trainable


def total_trials(sweep: SweepConfig) -> int:
    """The sweep's budget in trials: num_trials, times the grid's size when grid variables expand
    (random and grid search pass over the grid num_trials times, as Ray Tune does)."""
    space = sweep.space()
    return sweep.hpo_config.num_trials * (space.grid_size() if space.grid_variables else 1)


def sample_points(sweep: SweepConfig) -> list[tuple[str, dict]]:
    """Every trial of a random / grid sweep, drawn up front (the Dask engine): (trial_key, config).
    The seed (hpo_config.seed, else 0) makes the keys name the same points on every run."""
    space, hpo = sweep.space(), sweep.hpo_config
    seed = hpo.seed if hpo.seed is not None else 0
    if space.grid_variables:
        points = [p for n in range(hpo.num_trials) for p in space.grid_points(seed + n)]
    else:
        points = space.random_points(hpo.num_trials, seed)
    return [(f"t{index:05d}", sweep_report.json_safe(point)) for index, point in enumerate(points)]
