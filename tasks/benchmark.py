"""Prefect tasks around the inference-benchmark core: the run record, candidates, cells, reports."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from uuid import UUID

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context

from blocks.context import artifact_store, current_settings, database
from tasks.publish import report_files
from tasks.retries import DATA, RECORDS
from tunefleet import reports
from tunefleet.bench import service as benchmarking
from tunefleet.bench.errors import BenchError
from tunefleet.bench.models import load_model, read_validation_csv
from tunefleet.bench.optimisations import Candidate, OptimisationSpec, make_candidate
from tunefleet.bench.registry import BenchmarkConfig, Cell, Plan, plan
from tunefleet.bench.report import readable
from tunefleet.bench.runner import CellResult, run_cells
from tunefleet.bench.tables import BenchmarkRun, CellStatus, InferenceModel
from tunefleet.storage import ArtifactNotFound


@task(**RECORDS)
def open_run(model: str | None, config: dict | None, run_id: int | None) -> BenchmarkRun:
    """A new run of ``model`` (or the run ``run_id``), moved to running."""
    db = database()
    if model is None and run_id is None:
        raise BenchError("give the model to benchmark (name or id), or the id of a run")
    record = (
        benchmarking.get(db, run_id) if run_id else benchmarking.create(db, benchmarking.get_model(db, model), config)
    )
    flow_run = get_run_context().task_run.flow_run_id
    return benchmarking.start(db, record.id, str(flow_run) if flow_run else None)


@task(**RECORDS)
def finish_run(run_id: int, report: dict) -> BenchmarkRun:
    return benchmarking.finish(database(), run_id, report)


@task(**RECORDS)
def fail_run(run_id: int, error: str) -> BenchmarkRun:
    return benchmarking.fail(database(), run_id, error)


def run_config(run: BenchmarkRun) -> BenchmarkConfig:
    """The run's config, read back with the operator's allow-list (a run an admin made may name its platforms)."""
    return BenchmarkConfig.from_dict(run.config, allowed_tests=current_settings().platform_allowlist_set)


class Workload:
    """The model under benchmark, its validation data and the run's config, loaded from the store."""

    def __init__(self, run: BenchmarkRun):
        began, db, store = time.perf_counter(), database(), artifact_store()
        self.run = run
        self.record: InferenceModel = db.get(InferenceModel, run.model_id)
        self.config = run_config(run)
        self.info = benchmarking.info(self.record)
        self.model = load_model(store.get_bytes(self.record.model_uri))
        self.X, self.y, _ = read_validation_csv(store.get_bytes(self.record.data_uri), self.record.target, self.model)
        get_run_logger().info(
            "loaded model %s and %d validation rows in %.2f s",
            self.record.name,
            len(self.X),
            time.perf_counter() - began,
        )


@task(**RECORDS)
def plan_run(run: BenchmarkRun) -> Plan:
    """The runnable cells on the config's hardware; cells that can never run are recorded as skipped."""
    config = run_config(run)
    db = database()
    planned = plan(
        config,
        benchmarking.info(db.get(InferenceModel, run.model_id)),
        list(config.hardware),
        probe_machine=False,
    )
    for cell in planned.skipped:
        benchmarking.record_cell(
            db, run.id, cell.hardware, cell.platform, cell.optimisation, CellStatus.skipped, cell.reason
        )
    return planned


def _candidate_key(run_id: int, label: str) -> str:
    return f"benchmarks/{run_id}/candidates/{label}"


@task(**DATA, cache_policy=NO_CACHE, task_run_name=lambda parameters: f"prepare {parameters['spec'].label}")
def prepare_candidate(run: BenchmarkRun, spec: OptimisationSpec) -> dict:
    """Apply one optimisation; store the candidate (bytes and description) for the measuring flows."""
    work = Workload(run)
    candidate = make_candidate(work.model, spec, work.X, work.y, work.info, work.config.drift_metric)
    store = artifact_store()
    key = _candidate_key(run.id, spec.label)
    described = {**candidate.to_dict(), "uri": store.put_bytes(f"{key}.bin", candidate.payload)}
    store.put_bytes(f"{key}.json", json.dumps(described).encode())
    return described


def load_candidate(run_id: int, label: str) -> Candidate:
    store = artifact_store()
    key = _candidate_key(run_id, label)
    described = json.loads(store.get_bytes(store.uri(f"{key}.json")))
    described.pop("uri")
    return Candidate.from_dict(described, store.get_bytes(store.uri(f"{key}.bin")))


def cells_to_measure(run: BenchmarkRun, hardware: str, work: Workload) -> list[Cell]:
    """This machine's runnable cells not yet recorded; those this machine cannot run are recorded as skipped."""
    db = database()
    done = {(c.platform, c.optimisation) for c in benchmarking.cells(db, run.id, hardware)}
    planned = plan(work.config, work.info, [hardware], probe_machine=True)
    for cell in planned.skipped:
        if cell.hardware == hardware and (cell.platform, cell.optimisation) not in done:
            _record_skip(db, run.id, hardware, cell.platform, cell.optimisation, cell.reason)
    return [c for c in planned.cells if c.hardware == hardware and (c.entry.name, c.optimisation.label) not in done]


@task(**RECORDS)
def skip_cells(run_id: int, cells: list[Cell], reason: str) -> None:
    db = database()
    for cell in cells:
        _record_skip(db, run_id, cell.hardware, cell.entry.name, cell.optimisation.label, reason)


def _record_skip(db, run_id: int, hardware: str, platform: str, optimisation: str, reason: str) -> None:
    """A cell recorded as skipped, and its line in the run's logs."""
    benchmarking.record_cell(db, run_id, hardware, platform, optimisation, CellStatus.skipped, reason)
    get_run_logger().info("%s+%s @ %s: skipped: %s", platform, optimisation, hardware, reason)


def _cells_name(parameters: dict) -> str:
    cells = parameters["cells"]
    return f"time {len(cells)} cells @ {cells[0].hardware}" if cells else "time no cells"


@task(cache_policy=NO_CACHE, task_run_name=_cells_name)
def measure_cells(
    run: BenchmarkRun, cells: list[Cell], work: Workload, progress: UUID | None = None
) -> list[CellResult]:
    """Prepare a machine's cells and time them together in interleaved rounds (``runner.run_cells``);
    each prepared artifact goes to the store, each result to the records. ``progress``: the progress
    artifact that follows the rounds."""
    logger = get_run_logger()
    candidates, missing = {}, set()
    for label in dict.fromkeys(cell.optimisation.label for cell in cells):
        try:
            candidates[label] = load_candidate(run.id, label)
        except ArtifactNotFound:
            missing.add(label)
    for cell in cells:
        if cell.optimisation.label in missing:
            reason = f"the {cell.optimisation.label} candidate was not prepared"
            _record_skip(database(), run.id, cell.hardware, cell.entry.name, cell.optimisation.label, reason)
    cells = [cell for cell in cells if cell.optimisation.label not in missing]
    rounds = work.config.timing.rounds

    def timed(round_: int) -> None:
        logger.info("timing round %d of %d done (%d cells)", round_, rounds, len(cells))
        if progress:
            update_progress_artifact(progress, 100.0 * round_ / rounds)

    with tempfile.TemporaryDirectory(prefix="tunefleet-cells-") as workdir:
        results = run_cells(cells, candidates, work.X, work.y, work.config, Path(workdir), timed)
        for cell, result in zip(cells, results):
            _record_result(run.id, cell, result)
    return results


def _record_result(run_id: int, cell: Cell, result: CellResult) -> None:
    """A measured cell's prepared artifact to the store, its result to the records and a line to the log."""
    if result.artifact:
        artifact = Path(result.artifact)
        key = (
            f"benchmarks/{run_id}/prepared/{cell.hardware}/{cell.entry.name}/{cell.optimisation.label}/{artifact.name}"
        )
        result.artifact = artifact_store().put_bytes(key, artifact.read_bytes())
    get_run_logger().info(result.summary())
    status = {"ok": CellStatus.measured, "skipped": CellStatus.skipped}.get(result.status, CellStatus.failed)
    benchmarking.record_cell(
        database(), run_id, cell.hardware, cell.entry.name, cell.optimisation.label, status, result.reason,
        result.to_dict(),
    )  # fmt: skip


@task(**RECORDS)
def publish_report(run: BenchmarkRun) -> dict:
    """Table, heat map and summary from the run's recorded cells: in the store, and as Prefect artifacts."""
    db = database()
    report = benchmarking.write_report(db, artifact_store(), run)
    model = benchmarking.get_model(db, run.model_id)
    key, title = reports.artifact_key("benchmark", model.name), f"benchmark run {run.id} of {model.name}"
    create_table_artifact(
        benchmarking.json_records(readable(report.table)),
        key=f"{key}-cells",
        description=f"{title}: every measured cell",
    )
    create_markdown_artifact(
        report.summary + "\n\n" + report_files("benchmarks", run.id, report.stored, key, title),
        key=key,
        description=f"{title}: the fastest cells within the accuracy budget, skips, heat map",
    )
    return report.to_record()
