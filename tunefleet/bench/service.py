"""Uploaded models and benchmark runs: what the benchmark flow, the HTTP API and the CLI share.

An upload is checked whole before anything is stored (the model loads, fits its task,
and its validation data has the model's features and labels); then the model goes to the
artifact store as skops or ONNX (``models.dump_model``, never the uploaded pickle, so the
benchmark reads it back without running code) and its description to an ``InferenceModel``
record. A benchmark run is a ``BenchmarkRun`` record (queued → running → succeeded | failed)
whose cells, measured or skipped with a reason, are ``BenchmarkCell`` records, one per
hardware × platform × optimisation — written once, so a re-run of the same run measures
only what is missing.
Nothing here knows about Prefect.

Runs measured on another machine come in through ``tunefleet.bench.exports``.

Verbs: models ``upload``, ``get_model``, ``list_models``, ``model_view``; runs ``create``,
``get``, ``list``, ``start``, ``finish`` / ``fail``, ``view``, ``write_report``; cells
``record_cell``, ``cells``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tunefleet import reports, validation
from tunefleet.bench.errors import BenchError
from tunefleet.bench.models import ModelInfo, describe, dump_model, load_model, model_format, read_validation_csv
from tunefleet.bench.registry import BenchmarkConfig
from tunefleet.bench.tables import BenchmarkCell, BenchmarkRun, CellStatus, InferenceModel
from tunefleet.db import OPERATOR, Caller, Database, RecordNotFound, visible
from tunefleet.db.columns import Status, utcnow
from tunefleet.errors import Conflict
from tunefleet.storage import ArtifactStore
from tunefleet.validation import is_name


def upload(
    db: Database,
    store: ArtifactStore,
    name: str,
    model_bytes: bytes,
    data: bytes,
    target: str,
    task: str,
    owner_id: int | None = None,
    trust_pickle: bool = False,
) -> InferenceModel:
    """Check a model and its validation CSV together, store both, record the model's description
    (``owner_id``'s: a name is unique among its owner's models). The model is stored in its safe
    format (skops, or ONNX as uploaded), so nothing re-reads uploaded pickle bytes;
    ``trust_pickle`` (the operator's CLI only) lets a pickle or joblib file be loaded once."""
    if not is_name(name):
        raise BenchError(f"model name {name!r} must be 1-100 letters, digits, '_', '.', '-' (starting alphanumeric)")
    if _models_named(db, name, owner_id):
        raise Conflict(f"a model named {name!r} exists already")
    model = load_model(model_bytes, trust_pickle=trust_pickle)
    X, y, features = read_validation_csv(data, target, model)
    info = describe(model, X, y, task, size_bytes=len(model_bytes))
    stored = dump_model(model)
    digest = hashlib.sha256(model_bytes).hexdigest()
    folder = f"models/{name}/{digest[:16]}"
    record = InferenceModel(
        owner_id=owner_id,
        name=name,
        task=info.task,
        framework=info.framework,
        model_type=info.model_type,
        n_features=info.n_features,
        classes=info.classes,
        n_samples=info.n_samples,
        class_distribution=info.class_distribution,
        size_bytes=info.size_bytes,
        sha256=digest,
        model_uri=store.put_bytes(f"{folder}/model.{model_format(stored)}", stored),
        data_uri=store.put_bytes(f"{folder}/validation.csv", data),
        target=target,
        properties={"family": info.family, "features": features, "target_summary": info.target_summary},
    )
    try:
        return db.add(record)
    except IntegrityError as exc:  # a concurrent upload took the name between the check and the insert
        raise Conflict(f"a model named {name!r} exists already") from exc


def _models_named(db: Database, name: str, owner_id: int | None = None, caller: Caller | None = None):
    """The models called ``name``: ``owner_id``'s, or (``caller``) those the caller may see."""
    query = select(InferenceModel).where(InferenceModel.name == name).order_by(InferenceModel.id)
    if caller is not None:
        query = visible(query, InferenceModel, caller)
    else:
        query = query.where(
            InferenceModel.owner_id.is_(None) if owner_id is None else InferenceModel.owner_id == owner_id
        )
    with db.session() as session:
        return session.exec(query).all()


def get_model(db: Database, ref: str | int, caller: Caller = OPERATOR) -> InferenceModel:
    """A model ``caller`` may see, by id or by name (a name several owners use needs the id)."""
    if validation.is_int(ref) or (isinstance(ref, str) and ref.isascii() and ref.isdigit()):  # "12": an id
        model_id = validation.as_id(ref)
        if model_id is None:
            raise RecordNotFound("there is no model with that id")
        return db.get(InferenceModel, model_id, caller)
    found = _models_named(db, ref, caller=caller)
    if not found:
        raise RecordNotFound(f"there is no model named {ref!r}")
    if len(found) > 1:
        raise Conflict(
            f"{len(found)} models are named {ref!r} (ids {', '.join(str(m.id) for m in found)}); give the id"
        )
    return found[0]


def list_models(db: Database, caller: Caller = OPERATOR) -> list[InferenceModel]:
    with db.session() as session:
        return session.exec(visible(select(InferenceModel).order_by(InferenceModel.id), InferenceModel, caller)).all()


def info(record: InferenceModel) -> ModelInfo:
    """The core's description of a stored model, rebuilt from its record."""
    properties = record.properties or {}
    return ModelInfo(
        task=record.task,
        framework=record.framework,
        model_type=record.model_type,
        family=properties.get("family", "other"),
        n_features=record.n_features,
        n_samples=record.n_samples,
        classes=record.classes,
        class_distribution=record.class_distribution,
        target_summary=properties.get("target_summary"),
        size_bytes=record.size_bytes,
    )


def create(
    db: Database, record: InferenceModel, config: dict | None, allowed_tests: Collection[str] = ()
) -> BenchmarkRun:
    """Queue a benchmark run of ``record`` (its owner's run); the config is checked (and completed
    with defaults) first. Its entries are the built-in platforms, and the ``module:Class`` tests of
    ``allowed_tests`` (the operator's allow-list: the CLI and admins)."""
    checked = BenchmarkConfig.from_dict(config or {}, allowed_tests=allowed_tests)
    checked.check_task(record.task)
    return db.add(BenchmarkRun(owner_id=record.owner_id, model_id=record.id, config=checked.to_dict()))


def get(db: Database, run_id: int, caller: Caller = OPERATOR) -> BenchmarkRun:
    return db.get(BenchmarkRun, run_id, caller)


def list(  # noqa: A001 (the verb)
    db: Database, model_id: int | None = None, status: set[Status] | None = None, caller: Caller = OPERATOR
) -> list[BenchmarkRun]:
    query = visible(select(BenchmarkRun).order_by(BenchmarkRun.id), BenchmarkRun, caller)
    if model_id is not None:
        query = query.where(BenchmarkRun.model_id == model_id)
    if status:
        query = query.where(BenchmarkRun.status.in_(status))
    with db.session() as session:
        return session.exec(query).all()


def start(db: Database, run_id: int, flow_run_id: str | None) -> BenchmarkRun:
    """queued → running; any run may be run again: its measured cells are kept, missing ones measured."""
    values = {"status": Status.running, "flow_run_id": flow_run_id, "error": None, "finished_at": None}
    return db.transition(BenchmarkRun, run_id, set(Status), **values)


def finish(db: Database, run_id: int, report: dict) -> BenchmarkRun:
    """running → succeeded, with the report."""
    values = {"status": Status.succeeded, "report": report, "finished_at": utcnow()}
    return db.transition(BenchmarkRun, run_id, {Status.running}, **values)


def fail(db: Database, run_id: int, error: str) -> BenchmarkRun:
    """→ failed with the reason, from running or queued (it never started)."""
    values = {"status": Status.failed, "error": error, "finished_at": utcnow()}
    return db.transition(BenchmarkRun, run_id, {Status.queued, Status.running}, **values)


def record_cell(
    db: Database, run_id: int, hardware: str, platform: str, optimisation: str, status: CellStatus,
    reason: str | None = None, metrics: dict | None = None,
) -> BenchmarkCell:  # fmt: skip
    """Record a cell once; a cell recorded before (an earlier attempt of the run) is kept as it is."""
    key = {"run_id": run_id, "hardware": hardware, "platform": platform, "optimisation": optimisation}
    try:
        return db.add(BenchmarkCell(**key, status=status, reason=reason, metrics=metrics))
    except IntegrityError:
        return _cell(db, **key)


def _cell(db: Database, **key) -> BenchmarkCell:
    with db.session() as session:
        query = select(BenchmarkCell)
        for column, value in key.items():
            query = query.where(getattr(BenchmarkCell, column) == value)
        return session.exec(query).one()


def cells(db: Database, run_id: int, hardware: str | None = None) -> list[BenchmarkCell]:
    with db.session() as session:
        query = select(BenchmarkCell).where(BenchmarkCell.run_id == run_id).order_by(BenchmarkCell.id)
        if hardware is not None:
            query = query.where(BenchmarkCell.hardware == hardware)
        return session.exec(query).all()


_INTERNAL_MODEL_FIELDS = {"model_uri", "data_uri"}


def model_view(record: InferenceModel, internal: bool = False) -> dict:
    """A model's record as JSON; its URIs in the store only ``internal``ly (the CLI)."""
    return record.model_dump(mode="json", exclude=None if internal else _INTERNAL_MODEL_FIELDS)


_INTERNAL_CELL_METRICS = {"artifact", "machine"}  # a store URI; the measuring host's name and setup


def view(db: Database, record: BenchmarkRun, with_cells: bool = True, internal: bool = False) -> dict:
    """A run as JSON, with its cells; the store's URIs and the measuring machine only ``internal``ly
    (the CLI): API answers name no server paths."""
    view = record.model_dump(mode="json")
    if view["report"] and not internal:
        view["report"] = {k: v for k, v in view["report"].items() if not k.endswith("_uri")}
    if with_cells:
        view["cells"] = [cell.model_dump(mode="json", exclude={"run_id"}) for cell in cells(db, record.id)]
        for cell in view["cells"] if not internal else ():
            if cell["metrics"]:
                cell["metrics"] = {k: v for k, v in cell["metrics"].items() if k not in _INTERNAL_CELL_METRICS}
    return view


_REPORT_FIELDS = {"table_uri": "cells.csv", "summary_uri": "summary.md", "heatmap_uri": "heatmap.png"}
"""The run's report fields (its record, ``benchmark show``) and the files they name."""


@dataclass
class Report:
    """A run's report from its recorded cells: the table, the summary, the files in the store."""

    table: object  # pandas.DataFrame: results_table of the measured cells
    summary: str
    stored: dict[str, str]  # file name -> store URI
    fastest: list[dict]
    counts: dict[str, int]

    def to_record(self) -> dict:
        """What the run's ``report`` holds."""
        uris = {name: self.stored[file] for name, file in _REPORT_FIELDS.items() if file in self.stored}
        return {**uris, "cells": self.counts, "fastest": self.fastest}


def write_report(db: Database, store: ArtifactStore, run: BenchmarkRun) -> Report:
    """The table (CSV), summary (markdown) and heat map (PNG) of ``run``'s recorded cells, put in the store."""
    import pandas as pd

    from tunefleet.bench.report import fastest, heatmap_png, results_table, summary_markdown
    from tunefleet.tabular import safe_csv

    recorded = cells(db, run.id)
    results = [c.metrics for c in recorded if c.metrics]
    skipped = [
        {"platform": c.platform, "optimisation": c.optimisation, "hardware": c.hardware, "reason": c.reason}
        for c in recorded
        if not c.metrics
    ]
    budget = run.config["accuracy_budget"]  # stored configs are complete (BenchmarkConfig.to_dict)
    table = results_table(results)
    summary = summary_markdown(results, budget, skipped)
    files = {"summary.md": summary.encode(), "cells.csv": safe_csv(table).encode()}
    if len(table):
        files["heatmap.png"] = heatmap_png(results)
    stored = {
        name: store.put_bytes(reports.store_key("benchmarks", run.id, name), data) for name, data in files.items()
    }
    best = json_records(pd.DataFrame(fastest(results, budget))) if len(table) else []
    counts = {status.value: sum(c.status == status for c in recorded) for status in CellStatus}
    return Report(table, summary, stored, best, counts)


def json_records(table) -> list[dict]:
    """A DataFrame's rows with NaN as None (JSON and Prefect's table artifacts have no NaN)."""
    import json

    import numpy as np

    return json.loads(table.replace({np.nan: None}).to_json(orient="records"))
