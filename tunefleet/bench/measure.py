"""Measurements of one prepared model: latency per batch size, energy, memory, artifact size.

Latency: per batch size, warm-up runs, then timed runs whose count fits a time budget
(clamped to [min_repeats, max_repeats]); median, p95, coefficient of variation and
throughput. The timed runs are taken in rounds that visit every batch size in turn, so a
burst of other work on the machine (a neighbour on the host, seconds long) falls on a few
runs of every batch size instead of on all the runs of one, and the medians repeat from one
benchmark run to the next. Each median comes with a 95 % confidence interval from a bootstrap over
those rounds (``median_interval``): the spread between stretches of the run, which is what moves a
median from one run to the next on a shared machine, not the spread of single runs. Energy: the RAPL package counters over the timed runs, where readable.
Peak memory: a separate process prepares the model and predicts the largest batch, and
reports its peak resident set size before and after.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tunefleet.bench.errors import BenchError
from tunefleet.validation import is_finite, is_int

logger = logging.getLogger(__name__)

RAPL_ROOT = Path("/sys/class/powercap")
ROUNDS = 5
CONFIDENCE = 0.95
BOOTSTRAP_SAMPLES = 1000
SUMMARY_POINTS = 1001


@dataclass(frozen=True)
class TimingSettings:
    """How long to warm up and time each batch size; shrink these to make tests fast."""

    budget_s: float = 1.0
    warmup_s: float = 0.2
    min_warmup: int = 3
    min_repeats: int = 10
    max_repeats: int = 100_000
    rounds: int = ROUNDS

    def __post_init__(self):
        numbers = (self.budget_s, self.warmup_s)
        if not all(is_finite(n) for n in numbers) or not 0 < self.budget_s <= 60 or not 0 <= self.warmup_s <= 60:
            raise BenchError(
                f"timing budget_s must be > 0 and at most 60, warmup_s >= 0 and at most 60 "
                f"(got {self.budget_s}, {self.warmup_s})"
            )
        counts = (self.min_warmup, self.min_repeats, self.max_repeats, self.rounds)
        if not all(is_int(n) for n in counts):
            raise BenchError(f"timing min_warmup, min_repeats, max_repeats and rounds must be integers (got {counts})")
        if not 1 <= self.min_repeats <= self.max_repeats or self.min_warmup < 1 or self.rounds < 1:
            raise BenchError(
                f"timing needs 1 <= min_repeats <= max_repeats, min_warmup >= 1 and rounds >= 1 "
                f"(got {self.min_repeats}, {self.max_repeats}, {self.min_warmup}, {self.rounds})"
            )
        if max(self.min_warmup, self.max_repeats) > 10_000_000 or self.rounds > 100:
            raise BenchError(f"timing asks for too many runs: at most 10000000 repeats and 100 rounds (got {counts})")


@dataclass(frozen=True)
class LatencyStats:
    """Timed runs of one batch size. Times in milliseconds; cv = standard deviation / mean.

    ``median_low_ms`` and ``median_high_ms`` bound the median's 95 % confidence interval
    (``median_interval``; None in records measured before intervals were).
    ``thread_cpu_ms`` is the calling thread's CPU time per run (mean over the timed runs).
    For single-threaded CPU platforms it is the latency without the time spent waiting for
    a core, so it stays steady on a shared machine where wall-clock medians do not; work
    done on other threads or on a GPU is not in it.
    """

    batch_size: int
    repeats: int
    median_ms: float
    p95_ms: float
    mean_ms: float
    min_ms: float
    cv: float
    throughput_rows_per_s: float
    thread_cpu_ms: float
    energy_j_per_batch: float | None
    median_low_ms: float | None = None
    median_high_ms: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def interval(self) -> tuple[float, float] | None:
        """The median's confidence interval in ms, or None where it was not measured."""
        if self.median_low_ms is None or self.median_high_ms is None:
            return None
        return self.median_low_ms, self.median_high_ms


class Rapl:
    """The CPU package energy counters of Linux's powercap interface (Intel, and AMD since 5.8)."""

    def __init__(self, domains: list[Path]):
        self.domains = domains
        self.ranges = [int((d / "max_energy_range_uj").read_text()) for d in domains]

    @classmethod
    def open(cls) -> tuple[Rapl | None, str | None]:
        """The counters, or None and the reason they cannot be read here."""
        domains = sorted(p for p in RAPL_ROOT.glob("intel-rapl:*") if p.name.count(":") == 1)
        if not domains:
            return None, f"no RAPL counters on this machine ({RAPL_ROOT}/intel-rapl:* absent)"
        try:
            rapl = cls(domains)
            rapl.read()
        except PermissionError:
            return None, f"RAPL counters in {RAPL_ROOT} are not readable by this user (root only since Linux 5.10)"
        except OSError as exc:
            return None, f"RAPL counters in {RAPL_ROOT} could not be read: {exc}"
        return rapl, None

    def read(self) -> list[int]:
        return [int((d / "energy_uj").read_text()) for d in self.domains]

    def joules_between(self, start: list[int], end: list[int]) -> float:
        """Energy over all packages between two readings, allowing each counter one wrap-around."""
        return sum(((e - s) % r if e < s else e - s) for s, e, r in zip(start, end, self.ranges)) / 1e6

    def describe(self) -> dict:
        return {
            "available": True,
            "source": "RAPL",
            "domains": [(d / "name").read_text().strip() for d in self.domains],
        }


def energy_status() -> tuple[Rapl | None, dict]:
    """The RAPL reader (or None) and how to record it: available with domains, or the reason not."""
    rapl, reason = Rapl.open()
    return rapl, rapl.describe() if rapl else {"available": False, "reason": reason}


def batch_of(X: np.ndarray, size: int) -> np.ndarray:
    """``size`` rows of X, repeating X's rows when it has fewer; contiguous, so slicing is not timed."""
    return np.ascontiguousarray(X[np.arange(size) % len(X)])


def time_together(
    predicts: list[Callable[[np.ndarray], object]],
    X: np.ndarray,
    batch_sizes: list[int],
    settings: TimingSettings,
    rapl: Rapl | None = None,
    on_round: Callable[[int], None] | None = None,
) -> list[list[LatencyStats] | Exception]:
    """Latency of each of ``predicts`` for each batch size, their rounds interleaved: round r of every
    predictor, in an order shuffled for each round (seeded), before round r + 1 of any. So each cell's
    rounds spread over the whole measurement and its interval takes in the machine's drift over that
    time, and cells compared were timed under the same conditions, none always right after another. A predictor that raises gets its exception in place of its stats (the others
    go on). ``on_round(r)`` is called after each round."""
    runs: list[list[_Runs] | Exception] = []
    for predict in predicts:
        try:
            runs.append(
                [_Runs(batch_of(X, size), _repeats(predict, batch_of(X, size), settings)) for size in batch_sizes]
            )
        except Exception as exc:  # one broken predictor must not end the timing of the others
            runs.append(exc)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection inside a timed run would be charged to the model
    try:
        order = np.random.default_rng(0)
        for round_ in range(settings.rounds):
            for n in order.permutation(len(predicts)) if round_ else range(len(predicts)):
                predict = predicts[n]
                if isinstance(runs[n], Exception):
                    continue
                try:
                    for batch_runs in runs[n]:
                        batch_runs.take(predict, round_, settings.rounds, rapl)
                except Exception as exc:
                    runs[n] = exc
            if on_round:
                on_round(round_ + 1)
    finally:
        if gc_was_enabled:
            gc.enable()
    return [cell if isinstance(cell, Exception) else [r.stats(rapl is not None) for r in cell] for cell in runs]


def _repeats(predict: Callable, batch: np.ndarray, settings: TimingSettings) -> int:
    """Warm up on ``batch``; the number of timed runs that fits the budget."""
    warmup = []
    started = time.perf_counter()
    while len(warmup) < settings.min_warmup or time.perf_counter() - started < settings.warmup_s:
        warmup.append(_timed(predict, batch))
    estimate = float(np.median(warmup))
    return min(settings.max_repeats, max(settings.min_repeats, math.ceil(settings.budget_s / max(estimate, 1e-9))))


class _Runs:
    """The timed runs of one batch size, taken a share per round."""

    def __init__(self, batch: np.ndarray, repeats: int):
        self.batch, self.times = batch, np.empty(repeats)
        self.done, self.cpu_s, self.energy_j = 0, 0.0, 0.0
        self.round_ends: list[int] = []

    def take(self, predict: Callable, round_: int, rounds: int, rapl: Rapl | None) -> None:
        until = len(self.times) * (round_ + 1) // rounds
        energy_start = rapl.read() if rapl else None
        cpu_start = time.thread_time()
        for i in range(self.done, until):
            self.times[i] = _timed(predict, self.batch)
        self.cpu_s += time.thread_time() - cpu_start
        if rapl:
            self.energy_j += rapl.joules_between(energy_start, rapl.read())
        self.done = until
        if until > (self.round_ends[-1] if self.round_ends else 0):
            self.round_ends.append(until)

    def stats(self, with_energy: bool) -> LatencyStats:
        times, repeats = self.times, len(self.times)
        median = float(np.median(times))
        mean = float(times.mean())
        low, high = median_interval(np.split(times, self.round_ends[:-1]))
        stats = LatencyStats(
            batch_size=len(self.batch),
            repeats=repeats,
            median_ms=median * 1e3,
            p95_ms=float(np.percentile(times, 95)) * 1e3,
            mean_ms=mean * 1e3,
            min_ms=float(times.min()) * 1e3,
            cv=float(times.std() / mean) if mean > 0 else 0.0,
            throughput_rows_per_s=len(self.batch) / median if median > 0 else math.inf,
            thread_cpu_ms=self.cpu_s / repeats * 1e3,
            energy_j_per_batch=self.energy_j / repeats if with_energy else None,
            median_low_ms=low * 1e3,
            median_high_ms=high * 1e3,
        )
        logger.debug(
            "batch %d: median %.4f ms [%.4f, %.4f] over %d runs (cv %.3f)",
            stats.batch_size, stats.median_ms, low * 1e3, high * 1e3, repeats, stats.cv,
        )  # fmt: skip
        return stats


def median_interval(rounds: list[np.ndarray], samples: int = BOOTSTRAP_SAMPLES) -> tuple[float, float]:
    """The 95 % percentile-bootstrap interval of the median of the runs in ``rounds`` (arrays of
    times), resampling whole rounds: a burst of other work slows the runs of one round together, so
    the rounds are the independent draws, not the runs. One round is cut into consecutive blocks.

    Seeded: the same times give the same interval. A round of many runs is stood for by its quantiles
    (``SUMMARY_POINTS`` of them; rounds hold equal counts of runs give or take one), which keeps the
    interval of 100,000 runs at 0.05 s instead of 2.3 s.
    """
    if len(rounds) < 2:
        rounds = [block for block in np.array_split(rounds[0], min(ROUNDS, len(rounds[0]))) if len(block)]
    points = min(SUMMARY_POINTS, min(len(r) for r in rounds))
    rounds = [np.quantile(r, np.linspace(0, 1, points)) if len(r) > points else r for r in rounds]
    picks = np.random.default_rng(0).integers(len(rounds), size=(samples, len(rounds)))
    medians = [np.median(np.concatenate([rounds[i] for i in pick])) for pick in picks]
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(medians, [tail, 1 - tail])
    return float(low), float(high)


def _timed(predict: Callable, batch: np.ndarray) -> float:
    start = time.perf_counter()
    predict(batch)
    return time.perf_counter() - start


def measure_memory(
    target: str,
    params: dict,
    candidate_meta: dict,
    payload: bytes,
    X: np.ndarray,
    threads: int,
    workdir: Path,
    timeout_s: float = 900,
) -> dict:
    """Peak memory of preparing ``payload`` on the adapter ``target`` and predicting X, in a new process.

    Returns ``peak_rss_bytes`` (the process's high-water mark), ``baseline_rss_bytes`` (its
    mark just before preparing: interpreter, numpy, the candidate and X loaded) and their
    difference ``prepare_predict_bytes``; ``gpu_peak_allocated_bytes`` where PyTorch used CUDA.
    Artifacts the adapter keeps in ``workdir`` (a compiled library) are reused, not rebuilt.
    """
    with tempfile.TemporaryDirectory(prefix="tunefleet-memory-") as folder:
        folder = Path(folder)
        spec = {
            "target": target,
            "params": params,
            "candidate": candidate_meta,
            "threads": threads,
            "workdir": str(workdir),
        }
        (folder / "spec.json").write_text(json.dumps(spec))
        (folder / "candidate.bin").write_bytes(payload)
        np.save(folder / "X.npy", X)
        command = [sys.executable, "-m", "tunefleet.bench.memory_probe", str(folder)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"memory probe of {target} ran past {timeout_s:.0f} s") from exc
        result_file = folder / "result.json"
        if done.returncode != 0 or not result_file.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise BenchError(f"memory probe of {target} failed (exit {done.returncode}): {tail}")
        result = json.loads(result_file.read_text())
    result["prepare_predict_bytes"] = result["peak_rss_bytes"] - result["baseline_rss_bytes"]
    result["method"] = "peak resident set (VmHWM) of a separate process"
    return result
