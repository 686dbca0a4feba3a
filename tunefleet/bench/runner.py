"""Run one planned cell: prepare the candidate on its platform and measure it.

One cell at a time per machine: timings of two cells side by side would measure each other.
"""

from __future__ import annotations

import logging
import os
import platform as host
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tunefleet.bench import metrics
from tunefleet.bench.errors import NotApplicable
from tunefleet.bench.measure import LatencyStats, batch_of, energy_status, measure_memory, time_batches
from tunefleet.bench.optimisations import Candidate
from tunefleet.bench.registry import BenchmarkConfig, Cell

logger = logging.getLogger(__name__)

OK, SKIPPED, FAILED = "ok", "skipped", "failed"


@dataclass
class CellResult:
    """Everything measured for one cell (JSON-ready through ``to_dict``).

    ``drift`` compares the cell's score with the original model on scikit-learn, so it
    holds the optimisation's drift plus any numeric difference of the platform.
    """

    platform: str
    optimisation: str
    hardware: str
    status: str
    reason: str | None = None
    threads: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    machine: dict = field(default_factory=dict)
    metric: str | None = None
    score: float | None = None
    drift: float | None = None
    usual_metrics: dict | None = None  # the task's usual metrics (metrics.USUAL) of the cell's predictions
    size_bytes: int | None = None
    artifact: str | None = None
    latency: list[LatencyStats] = field(default_factory=list)
    memory: dict | None = None
    energy: dict | None = None
    forest: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line for the logs: ``sklearn+none @ cpu: ok, median 0.41 ms @ batch 1, 2.3 ms @ 64; drift 0``,
        or the cell's status and why."""
        name = f"{self.platform}+{self.optimisation} @ {self.hardware}"
        if self.status != OK:
            return f"{name}: {self.status}: {self.reason}"
        medians = ", ".join(f"{s.median_ms:.3g} ms @ {s.batch_size}" for s in self.latency)
        drift = "n/a" if self.drift is None else f"{self.drift:.3g}"
        return f"{name}: ok, median {medians}; drift {drift}"

    @classmethod
    def from_dict(cls, data: dict) -> CellResult:
        return cls(**{**data, "latency": [LatencyStats(**item) for item in data.get("latency", [])]})


def machine_info() -> dict:
    """The CPU model and core count, to tell results of different machines apart, and the load
    average when the cell started (a cell timed while other work used every core is not comparable)."""
    cpu = host.processor() or host.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "python": host.python_version(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def run_cell(
    cell: Cell, candidate: Candidate, X: np.ndarray, y: np.ndarray, config: BenchmarkConfig, workdir: Path
) -> CellResult:
    """Measure ``candidate`` on the cell's platform; never raises for a failing or inapplicable cell.

    The prepared artifact stays in ``workdir/<cell key>``. A cell whose adapter finds the
    model inapplicable at prepare time is ``skipped``; any other error makes it ``failed``
    with the reason (and the traceback in the log).
    """
    base = CellResult(cell.entry.name, cell.optimisation.label, cell.hardware, status=FAILED, machine=machine_info())
    try:
        return _measure(cell, candidate, X, y, config, workdir, base)
    except NotApplicable as exc:
        base.status, base.reason = SKIPPED, str(exc)
    except Exception as exc:  # one broken cell must not end the benchmark of the others
        logger.exception("cell %s failed", cell.key)
        base.reason = f"{type(exc).__name__}: {exc}"
    return base


def _measure(
    cell: Cell,
    candidate: Candidate,
    X: np.ndarray,
    y: np.ndarray,
    config: BenchmarkConfig,
    workdir: Path,
    result: CellResult,
) -> CellResult:
    platform = cell.entry.platform()
    unavailable = platform.unavailable()
    if unavailable:
        raise NotApplicable(f"{cell.entry.name}: {unavailable}")
    folder = workdir / re.sub(r"[^A-Za-z0-9_.=-]+", "_", cell.key)
    folder.mkdir(parents=True, exist_ok=True)
    rapl, result.energy = energy_status()
    predictor = platform.prepare(candidate, folder, config.threads)
    try:
        result.latency = time_batches(predictor.predict, X, list(config.batch_sizes), config.timing, rapl)
        predictions = predictor.predict(X)
    finally:
        predictor.close()
    result.threads, result.details = predictor.threads, predictor.details
    result.metric, result.score = candidate.metric, metrics.score(candidate.task, y, predictions)
    result.drift = metrics.drift(candidate.task, candidate.original_score, result.score)
    result.usual_metrics = metrics.usual(candidate.task, y, predictions)
    result.size_bytes, result.artifact = predictor.artifact.stat().st_size, str(predictor.artifact)
    result.forest = candidate.forest
    if config.memory:
        result.memory = _memory(cell, candidate, batch_of(X, max(config.batch_sizes)), config.threads, folder)
    result.status = OK
    logger.info(
        "cell %s: %s", cell.key, ", ".join(f"batch {s.batch_size} {s.median_ms:.4g} ms" for s in result.latency)
    )
    return result


def _memory(cell: Cell, candidate: Candidate, X: np.ndarray, threads: int, folder: Path) -> dict:
    try:
        return measure_memory(
            cell.entry.test, cell.entry.params, candidate.to_dict(), candidate.payload, X, threads, folder
        )
    except Exception as exc:  # memory is one metric among many; its failure is recorded, not fatal
        logger.warning("memory probe of %s failed: %s", cell.key, exc)
        return {"error": str(exc)}
