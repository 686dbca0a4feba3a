"""Run planned cells: prepare each candidate on its platform, time the cells together, score them.

One machine times one cell at a time: two timings side by side would measure each other. The
cells of a machine are timed in interleaved rounds (``measure.time_together``), so a slow minute
of the machine falls on all of them alike instead of on whichever cell it happened to be timing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform as host
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tunefleet.bench import metrics
from tunefleet.bench.errors import NotApplicable
from tunefleet.bench.measure import LatencyStats, batch_of, energy_status, measure_memory, time_together
from tunefleet.bench.optimisations import Candidate
from tunefleet.bench.platforms import Predictor
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
    """``run_cells`` of one cell."""
    return run_cells([cell], {cell.optimisation.label: candidate}, X, y, config, workdir)[0]


def run_cells(
    cells: list[Cell],
    candidates: dict[str, Candidate],
    X: np.ndarray,
    y: np.ndarray,
    config: BenchmarkConfig,
    workdir: Path,
    on_round: Callable[[int], None] | None = None,
) -> list[CellResult]:
    """Measure ``cells`` together: prepare each on its platform with its optimisation's candidate
    (``candidates`` by label), time them all with their rounds interleaved (``time_together``), then
    score each; never raises for a failing or inapplicable cell.

    A cell's prepared artifact stays in ``workdir/<cell key>``. A cell whose adapter finds the model
    inapplicable at prepare time is ``skipped``; any other error makes it ``failed`` with the reason
    (and the traceback in the log). ``on_round(r)`` is called after each timing round.
    """
    results = [
        CellResult(c.entry.name, c.optimisation.label, c.hardware, status=FAILED, machine=machine_info()) for c in cells
    ]
    rapl, energy = energy_status()
    prepared: list[tuple[int, Predictor, Path]] = []
    for n, cell in enumerate(cells):
        with _outcome(cell, results[n]):
            prepared.append((n, *_prepare(cell, candidates[cell.optimisation.label], config, workdir)))
    try:
        predicts = [predictor.predict for _, predictor, _ in prepared]
        timed = time_together(predicts, X, list(config.batch_sizes), config.timing, rapl, on_round)
        load_after = round(os.getloadavg()[0], 2)
        for (n, predictor, _), latency in zip(prepared, timed):
            with _outcome(cells[n], results[n]):
                if isinstance(latency, Exception):
                    raise latency
                _score(results[n], predictor, candidates[cells[n].optimisation.label], latency, X, y)
                results[n].energy, results[n].machine["load_1m_after"] = energy, load_after
    finally:
        for _, predictor, _ in reversed(prepared):  # undoes thread limits in the order they were set
            predictor.close()
    for n, _, folder in prepared:
        if config.memory and results[n].status == OK:
            candidate = candidates[cells[n].optimisation.label]
            results[n].memory = _memory(
                cells[n], candidate, batch_of(X, max(config.batch_sizes)), config.threads, folder
            )
    return results


@contextlib.contextmanager
def _outcome(cell: Cell, result: CellResult) -> Iterator[None]:
    """What goes wrong in the block becomes the cell's status and reason, not an error of the others."""
    try:
        yield
    except NotApplicable as exc:
        result.status, result.reason = SKIPPED, str(exc)
    except Exception as exc:  # one broken cell must not end the benchmark of the others
        logger.exception("cell %s failed", cell.key)
        result.status, result.reason = FAILED, f"{type(exc).__name__}: {exc}"


def _prepare(cell: Cell, candidate: Candidate, config: BenchmarkConfig, workdir: Path) -> tuple[Predictor, Path]:
    platform = cell.entry.platform()
    unavailable = platform.unavailable()
    if unavailable:
        raise NotApplicable(f"{cell.entry.name}: {unavailable}")
    folder = workdir / re.sub(r"[^A-Za-z0-9_.=-]+", "_", cell.key)
    folder.mkdir(parents=True, exist_ok=True)
    return platform.prepare(candidate, folder, config.threads), folder


def _score(
    result: CellResult, predictor: Predictor, candidate: Candidate, latency: list[LatencyStats], X: np.ndarray,
    y: np.ndarray,
) -> None:  # fmt: skip
    """The cell's quality and artifact from its predictions of X; its status ok."""
    predictions = predictor.predict(X)
    result.latency, result.threads, result.details = latency, predictor.threads, predictor.details
    result.metric, result.score = candidate.metric, metrics.score(candidate.task, y, predictions, candidate.metric)
    result.drift = metrics.drift(candidate.metric, candidate.original_score, result.score)
    result.usual_metrics = metrics.usual(candidate.task, y, predictions)
    result.size_bytes, result.artifact = predictor.artifact.stat().st_size, str(predictor.artifact)
    result.forest = candidate.forest
    result.status = OK
    logger.info(
        "cell %s: %s",
        f"{result.platform}/{result.optimisation}/{result.hardware}",
        ", ".join(f"batch {s.batch_size} {s.median_ms:.4g} ms" for s in latency),
    )


def _memory(cell: Cell, candidate: Candidate, X: np.ndarray, threads: int, folder: Path) -> dict:
    try:
        return measure_memory(
            cell.entry.test, cell.entry.params, candidate.to_dict(), candidate.payload, X, threads, folder
        )
    except Exception as exc:  # memory is one metric among many; its failure is recorded, not fatal
        logger.warning("memory probe of %s failed: %s", cell.key, exc)
        return {"error": str(exc)}
