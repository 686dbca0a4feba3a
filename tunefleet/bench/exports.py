"""Benchmark runs as JSON between machines: a GPU host without the stack measures a run on its
embedded defaults (``benchmark run --here``), ``export_run`` writes the run's cells with the
model's digest, and ``import_run`` checks that document whole, then adds its cells to a run of the
same model here (new, or ``into`` a succeeded one, whose own cells are kept) and rebuilds that run's
report, so both machines' cells are in one report and heat map. Nothing in a document is imported
or run: it is JSON, read back as cell results."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlmodel import select

from tunefleet import validation
from tunefleet.bench.registry import HARDWARE, MAX_ENTRIES
from tunefleet.bench.service import cells, create, get, record_cell, write_report
from tunefleet.bench.tables import BenchmarkRun, CellStatus, InferenceModel
from tunefleet.db import OPERATOR, Caller, Database, RecordNotFound, visible
from tunefleet.db.columns import Status, utcnow
from tunefleet.errors import Conflict, InvalidInput
from tunefleet.storage import ArtifactStore

EXPORT_FORMAT, EXPORT_VERSION = "tunefleet-benchmark-run", 1
MAX_IMPORTED_CELLS = MAX_ENTRIES * MAX_ENTRIES * len(HARDWARE)  # every cell a config may plan
_EXPORTED_CELL_METRICS = {"artifact"}  # a URI in the exporting machine's store: meaningless here


def export_run(db: Database, record: BenchmarkRun) -> dict:
    """``record`` as a JSON document another tunefleet imports: the model it measured (by digest), its
    config and its cells (measured, skipped, failed), without URIs of this machine's store."""
    model = db.get(InferenceModel, record.model_id)
    exported = []
    for cell in cells(db, record.id):
        metrics = {k: v for k, v in (cell.metrics or {}).items() if k not in _EXPORTED_CELL_METRICS}
        exported.append({
            "hardware": cell.hardware, "platform": cell.platform, "optimisation": cell.optimisation,
            "status": cell.status.value, "reason": cell.reason, "metrics": metrics or None,
        })  # fmt: skip
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "run_id": record.id,
        "status": record.status.value,
        "model": {"name": model.name, "sha256": model.sha256, "task": model.task, "model_type": model.model_type},
        "config": record.config,
        "cells": exported,
    }


@dataclass
class Imported:
    """What ``import_run`` did: the run the cells joined, and how many were added or kept as they were."""

    run: BenchmarkRun
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already recorded in that run: its own measurement stays


def import_run(
    db: Database, store: ArtifactStore, document: dict, into: int | None = None,
    allowed_tests: Collection[str] = (), caller: Caller = OPERATOR,
) -> Imported:  # fmt: skip
    """Add an exported run's cells to a run of the same model (by digest): a new succeeded run, or
    ``into`` an ended run of it (its cells are kept, the imported ones added); then that run's report
    is rebuilt. The whole document is checked before anything is written."""
    checked = _checked_export(document)
    digest = checked["model"]["sha256"]
    target: BenchmarkRun
    if into is not None:
        target = get(db, into, caller)
        model = db.get(InferenceModel, target.model_id)
        if model.sha256 != digest:
            raise InvalidInput(
                f"the export measured another model (sha256 {digest[:12]}…) than run {into}'s "
                f"({model.name}, sha256 {model.sha256[:12]}…)"
            )
        if target.status is not Status.succeeded:
            raise Conflict(f"benchmark run {into} is {target.status.value}: import into a run that has succeeded")
    else:
        model = _model_with_digest(db, digest, caller)
        target = create(db, model, checked["config"], allowed_tests)
    done = Imported(target)
    recorded = {(c.hardware, c.platform, c.optimisation) for c in cells(db, target.id)}
    for cell in checked["cells"]:
        key = (cell["hardware"], cell["platform"], cell["optimisation"])
        name = f"{cell['platform']}+{cell['optimisation']} @ {cell['hardware']}"
        if key in recorded:
            done.kept.append(name)
            continue
        record_cell(db, target.id, *key, CellStatus(cell["status"]), cell["reason"], cell["metrics"])
        done.added.append(name)
    report = write_report(db, store, target).to_record()
    done.run = db.transition(
        BenchmarkRun, target.id, {Status.queued, Status.succeeded},
        status=Status.succeeded, report=report, finished_at=target.finished_at or utcnow(),
    )  # fmt: skip
    return done


def _model_with_digest(db: Database, digest: str, caller: Caller) -> InferenceModel:
    with db.session() as session:
        query = visible(select(InferenceModel).where(InferenceModel.sha256 == digest), InferenceModel, caller)
        found = session.exec(query.order_by(InferenceModel.id)).all()
    if not found:
        raise RecordNotFound(
            f"no model here has the export's sha256 ({digest[:12]}…): upload the same model file first "
            "(tunefleet model upload), or import --into a run of it"
        )
    return found[-1]


def _checked_export(document) -> dict:
    """The export, checked whole: its format, the model digest, every cell's names, status and metrics."""

    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise InvalidInput(f"not a tunefleet benchmark export (its 'format' must be {EXPORT_FORMAT!r})")
    if document.get("version") != EXPORT_VERSION:
        raise InvalidInput(f"export version {document.get('version')!r} is not {EXPORT_VERSION}, the one read here")
    model, config, found = document.get("model"), document.get("config"), document.get("cells")
    digest = model.get("sha256") if isinstance(model, dict) else None
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput("the export's model.sha256 must be 64 lowercase hex digits")
    if not isinstance(config, dict):
        raise InvalidInput("the export's config must be an object")
    if not isinstance(found, list) or not 1 <= len(found) <= MAX_IMPORTED_CELLS:
        raise InvalidInput(f"the export's cells must be a list of 1 to {MAX_IMPORTED_CELLS} cells")
    statuses = {status.value for status in CellStatus}
    seen = set()
    for n, cell in enumerate(found):
        if not isinstance(cell, dict) or set(cell) != {
            "hardware",
            "platform",
            "optimisation",
            "status",
            "reason",
            "metrics",
        }:
            raise InvalidInput(f"cell {n}: has hardware, platform, optimisation, status, reason and metrics")
        if cell["hardware"] not in HARDWARE or cell["status"] not in statuses:
            raise InvalidInput(
                f"cell {n}: hardware must be one of {', '.join(HARDWARE)} and status one of {', '.join(sorted(statuses))}"
            )
        if not all(isinstance(cell[k], str) and 0 < len(cell[k]) <= 200 for k in ("platform", "optimisation")):
            raise InvalidInput(f"cell {n}: platform and optimisation must be names of 1 to 200 characters")
        if cell["reason"] is not None and (not isinstance(cell["reason"], str) or len(cell["reason"]) > 10_000):
            raise InvalidInput(f"cell {n}: reason must be null or a text of at most 10000 characters")
        key = (cell["hardware"], cell["platform"], cell["optimisation"])
        if key in seen:
            raise InvalidInput(f"cell {n}: {'/'.join(key)} is in the export twice")
        seen.add(key)
        _check_metrics(n, cell)
    return document


def _check_metrics(n: int, cell: dict) -> None:
    """A cell's metrics (where it has any) read back as the result of that cell; a measured cell's
    with finite, non-negative timings at positive batch sizes."""
    from tunefleet.bench.runner import CellResult

    metrics, measured = cell["metrics"], cell["status"] == CellStatus.measured.value
    if metrics is None and not measured:
        return
    try:
        result = CellResult.from_dict(metrics)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"cell {n}: its metrics are not a benchmark cell's result ({type(exc).__name__})") from exc
    if (result.platform, result.optimisation, result.hardware) != (
        cell["platform"],
        cell["optimisation"],
        cell["hardware"],
    ):
        raise InvalidInput(f"cell {n}: its metrics name another cell")
    if not measured:
        return
    timings = [v for s in result.latency for v in (s.median_ms, s.p95_ms, s.median_low_ms, s.median_high_ms)]
    if not result.latency or not all(v is None or (validation.is_finite(v) and v >= 0) for v in timings):
        raise InvalidInput(f"cell {n}: a measured cell needs latency with finite, non-negative timings")
    if not all(validation.is_int(s.batch_size, low=1) for s in result.latency) or not validation.is_finite(
        result.drift
    ):
        raise InvalidInput(f"cell {n}: batch sizes must be positive integers and drift a finite number")
