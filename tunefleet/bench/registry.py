"""Benchmark tests by "module:Class" + params, benchmark configs, and the plan of cells.

A benchmark test is a platform adapter, a subclass of ``tunefleet.bench.platforms.Platform``:
the built-in registry names one entry per platform and device. Importing a module runs its
code, so a test from any other ``module:Class`` is only taken when it is on the allow-list
the caller passes (``allowed_tests``: the operator's setting, never the user's input); one
that is not is refused before anything is imported. A config lists entries, optimisations,
batch sizes and hardware tags; ``plan`` crosses entries × optimisations and keeps the
runnable cells, giving every other cell the reason it is skipped.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields

from tunefleet.bench.errors import BenchError
from tunefleet.bench.measure import TimingSettings
from tunefleet.bench.metrics import METRICS, metric_name
from tunefleet.bench.models import ModelInfo
from tunefleet.bench.optimisations import OptimisationSpec, applies, candidate_format
from tunefleet.bench.platforms import Platform
from tunefleet.validation import is_finite, is_int

HARDWARE = ("cpu", "gpu")
DEFAULT_BATCH_SIZES = (1, 16, 64, 256, 10_000)
# What one benchmark run may ask for (a request's config is bounded before anything runs).
MAX_ENTRIES, MAX_BATCH_SIZES, MAX_BATCH, MAX_THREADS = 50, 20, 1_000_000, 256
DEFAULT_OPTIMISATIONS = ("none", "float32", "float16", "int8", "prune")


@dataclass(frozen=True)
class Entry:
    """A registered benchmark test: its name in results, its class, its constructor params."""

    name: str
    test: str
    params: dict = field(default_factory=dict)

    def platform(self) -> Platform:
        return load_platform(self.test, self.params)

    def to_dict(self) -> dict:
        return {"name": self.name, "test": self.test, "params": dict(self.params)}


def load_platform(test: str, params: dict) -> Platform:
    """Import ``module:Class``, check it is a Platform subclass, and only then build it with ``params``.

    Entries reach this once ``checked_entry`` has let them through (the memory probe's child
    process gets the test of such an entry).
    """
    module_name, _, class_name = test.partition(":")
    if not module_name or not class_name:
        raise BenchError(f"a benchmark test is named 'module:Class', not {test!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BenchError(f"cannot import module {module_name!r} of benchmark test {test!r}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise BenchError(f"module {module_name!r} has no class {class_name!r}")
    if not issubclass(cls, Platform):
        raise BenchError(f"{test} is not a subclass of tunefleet.bench.platforms.Platform, as a benchmark test must be")
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise BenchError(f"benchmark test {test!r} rejects params {params}: {exc}") from exc


_PLATFORMS = "tunefleet.bench.platforms"
BUILTIN = (
    Entry("sklearn", f"{_PLATFORMS}:SklearnPlatform"),
    Entry("onnxruntime", f"{_PLATFORMS}:OnnxRuntimePlatform", {"device": "cpu"}),
    Entry("onnxruntime-cuda", f"{_PLATFORMS}:OnnxRuntimePlatform", {"device": "cuda"}),
    Entry("treelite", f"{_PLATFORMS}:TreelitePlatform"),
    Entry("treelite-gtil", f"{_PLATFORMS}:TreeliteGtilPlatform"),
    Entry("torch", f"{_PLATFORMS}:TorchTreePlatform", {"device": "cpu"}),
    Entry("torch-cuda", f"{_PLATFORMS}:TorchTreePlatform", {"device": "cuda"}),
    Entry("nvforest", f"{_PLATFORMS}:NvForestPlatform", {"device": "gpu"}),
    Entry("nvforest-cpu", f"{_PLATFORMS}:NvForestPlatform", {"device": "cpu"}),
)
BUILTIN_TESTS = frozenset(entry.test for entry in BUILTIN)


def checked_entry(entry: Entry, allowed_tests: Collection[str] = ()) -> Entry:
    """``entry``, its class imported and built, when its test is built in or on ``allowed_tests``.

    Configs stored by earlier runs list built-in entries by their test, so they stay readable.
    A test on neither list is refused before its module is imported (importing runs its code).
    """
    if isinstance(allowed_tests, str):  # "a:B" in "a:B,c:D" would match a part of the string
        raise TypeError("allowed_tests is a collection of 'module:Class' names, not a string")
    if not isinstance(entry.test, str):
        raise BenchError(f"a benchmark test is named 'module:Class', not {entry.test!r}")
    if entry.test not in BUILTIN_TESTS and entry.test not in allowed_tests:
        raise BenchError(
            f"benchmark test {entry.name!r} ({entry.test}) is not a built-in platform, and only the operator's "
            "allow-list of benchmark tests may add platforms"
        )
    entry.platform()
    return entry


class Registry:
    """Named benchmark tests: the built-in ones plus those registered from allowed modules."""

    def __init__(self, entries: tuple[Entry, ...] = BUILTIN):
        self._entries = {entry.name: entry for entry in entries}

    def register(self, name: str, test: str, params: dict | None = None, allowed_tests: Collection[str] = ()) -> Entry:
        """Add ``module:Class`` (built in or on ``allowed_tests``) under ``name``; the class is imported
        and built now, so errors show here."""
        if name in self._entries:
            raise BenchError(f"a benchmark test named {name!r} is already registered")
        entry = checked_entry(Entry(name, test, dict(params or {})), allowed_tests)
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> Entry:
        if name not in self._entries:
            raise BenchError(f"unknown benchmark test {name!r} (registered: {', '.join(self._entries)})")
        return self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)


@dataclass(frozen=True)
class BenchmarkConfig:
    """What to benchmark: tests, optimisations, batch sizes, hardware tags and measurement settings."""

    entries: tuple[Entry, ...]
    optimisations: tuple[OptimisationSpec, ...]
    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    hardware: tuple[str, ...] = HARDWARE
    threads: int = 1
    timing: TimingSettings = TimingSettings()
    memory: bool = True
    accuracy_budget: float = 0.01
    drift_metric: str | None = None  # one of metrics.USUAL for the model's task; None: accuracy or MSE

    @classmethod
    def from_dict(
        cls, data: dict, registry: Registry | None = None, allowed_tests: Collection[str] = ()
    ) -> BenchmarkConfig:
        """Parse and check a config; absent keys take the defaults (every built-in test and optimisation).

        ``entries`` items are registered names or ``{"name", "test": "module:Class", "params"}``
        whose test is built in or on ``allowed_tests`` (the operator's allow-list; by default
        none, so built-ins only); ``optimisations`` items are names or ``{"name", "params"}``;
        ``timing`` takes the fields of TimingSettings.
        """
        registry = registry or Registry()
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise BenchError(
                f"unknown benchmark config key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
            )
        entries = tuple(_entry(item, registry, allowed_tests) for item in data.get("entries", registry.names()))
        optimisations = tuple(OptimisationSpec.parse(item) for item in data.get("optimisations", DEFAULT_OPTIMISATIONS))
        _unique("benchmark test", [e.name for e in entries])
        _unique("optimisation", [o.label for o in optimisations])
        timing = data.get("timing", {})
        if not isinstance(timing, dict) or set(timing) - {f.name for f in fields(TimingSettings)}:
            raise BenchError(f"timing takes {', '.join(f.name for f in fields(TimingSettings))}, not {timing!r}")
        config = cls(
            entries=entries,
            optimisations=optimisations,
            batch_sizes=tuple(data.get("batch_sizes", DEFAULT_BATCH_SIZES)),
            hardware=tuple(data.get("hardware", HARDWARE)),
            threads=data.get("threads", 1),
            timing=TimingSettings(**timing),
            memory=data.get("memory", True),
            accuracy_budget=data.get("accuracy_budget", 0.01),
            drift_metric=data.get("drift_metric"),
        )
        config.check()
        return config

    def check(self) -> None:
        if not self.entries or not self.optimisations:
            raise BenchError("a benchmark config needs at least one test and one optimisation")
        if len(self.entries) > MAX_ENTRIES or len(self.optimisations) > MAX_ENTRIES:
            raise BenchError(f"a benchmark config lists at most {MAX_ENTRIES} tests and {MAX_ENTRIES} optimisations")
        if not self.batch_sizes or not all(is_int(b, low=1) for b in self.batch_sizes):
            raise BenchError(f"batch_sizes must be positive integers, not {list(self.batch_sizes)[:20]}")
        if max(self.batch_sizes) > MAX_BATCH:
            raise BenchError(f"batch_sizes must be at most {MAX_BATCH}, not {max(self.batch_sizes)}")
        if len(self.batch_sizes) > MAX_BATCH_SIZES:
            raise BenchError(f"a benchmark config lists at most {MAX_BATCH_SIZES} batch sizes")
        _unique("batch size", list(self.batch_sizes))
        bad = [h for h in self.hardware if h not in HARDWARE]
        if bad or not self.hardware:
            raise BenchError(f"hardware tags must be among {', '.join(HARDWARE)}, not {list(self.hardware)}")
        if not is_int(self.threads, low=1):
            raise BenchError(f"threads must be a positive integer, not {self.threads!r}")
        if self.threads > MAX_THREADS:
            raise BenchError(f"threads must be at most {MAX_THREADS}, not {self.threads}")
        if not isinstance(self.memory, bool):
            raise BenchError(f"memory must be true or false, not {self.memory!r}")
        if not is_finite(self.accuracy_budget) or self.accuracy_budget < 0:
            raise BenchError(f"accuracy_budget must be a number >= 0, not {self.accuracy_budget!r}")
        if self.drift_metric is not None and self.drift_metric not in METRICS:
            raise BenchError(
                f"drift_metric must be one of {', '.join(METRICS)} (for the model's task), not {self.drift_metric!r}"
            )

    def check_task(self, task: str) -> None:
        """The config fits a model of ``task``: its drift metric is one of the task's."""
        try:
            metric_name(task, self.drift_metric)
        except ValueError as exc:
            raise BenchError(str(exc)) from exc

    def to_dict(self) -> dict:
        return {
            "entries": [e.to_dict() for e in self.entries],
            "optimisations": [o.to_dict() for o in self.optimisations],
            "batch_sizes": list(self.batch_sizes),
            "hardware": list(self.hardware),
            "threads": self.threads,
            "timing": asdict(self.timing),
            "memory": self.memory,
            "accuracy_budget": self.accuracy_budget,
            "drift_metric": self.drift_metric,
        }


def _entry(item: str | dict, registry: Registry, allowed_tests: Collection[str]) -> Entry:
    if isinstance(item, str):
        return registry.get(item)
    if isinstance(item, dict) and set(item) <= {"name", "test", "params"} and {"name", "test"} <= set(item):
        return checked_entry(Entry(item["name"], item["test"], dict(item.get("params") or {})), allowed_tests)
    raise BenchError(
        f"a benchmark test is a registered name or {{'name', 'test': 'module:Class', 'params'}}, not {item!r}"
    )


def _unique(what: str, values: list) -> None:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise BenchError(f"{what} listed twice: {', '.join(repeated)}")


@dataclass(frozen=True)
class Cell:
    """One runnable measurement: a test × an optimisation on a hardware tag (all batch sizes)."""

    entry: Entry
    optimisation: OptimisationSpec
    hardware: str

    @property
    def key(self) -> str:
        return f"{self.entry.name}/{self.optimisation.label}/{self.hardware}"

    def to_dict(self) -> dict:
        return {"entry": self.entry.to_dict(), "optimisation": self.optimisation.to_dict(), "hardware": self.hardware}

    @classmethod
    def from_dict(cls, data: dict) -> Cell:
        return cls(Entry(**data["entry"]), OptimisationSpec(**data["optimisation"]), data["hardware"])


@dataclass(frozen=True)
class SkippedCell:
    platform: str
    optimisation: str
    hardware: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    cells: tuple[Cell, ...]
    skipped: tuple[SkippedCell, ...]

    def optimisations(self) -> list[OptimisationSpec]:
        """The candidates the runnable cells need, each once, in config order."""
        return list({cell.optimisation.label: cell.optimisation for cell in self.cells}.values())

    def to_dict(self) -> dict:
        return {"cells": [c.to_dict() for c in self.cells], "skipped": [s.to_dict() for s in self.skipped]}


def plan(config: BenchmarkConfig, info: ModelInfo, hardware_tags: list[str], probe_machine: bool = True) -> Plan:
    """Runnable cells and skipped cells (with reasons) for a model on the given hardware tags.

    ``hardware_tags`` are the kinds of hardware that can run cells (work pools with workers,
    or this machine). With ``probe_machine``, each adapter also checks this machine
    (libraries, compiler, CUDA): do that where the cells will run.
    """
    unknown = [tag for tag in hardware_tags if tag not in HARDWARE]
    if unknown:
        raise BenchError(f"hardware tags must be among {', '.join(HARDWARE)}, not {unknown}")
    cells, skipped = [], []
    for entry in config.entries:
        platform = entry.platform()
        machine_reason = platform.unavailable() if probe_machine and platform.hardware in hardware_tags else None
        for spec in config.optimisations:
            reason = _skip_reason(entry, platform, spec, info, config, hardware_tags, machine_reason)
            if reason:
                skipped.append(SkippedCell(entry.name, spec.label, platform.hardware, reason))
            else:
                cells.append(Cell(entry, spec, platform.hardware))
    return Plan(tuple(cells), tuple(skipped))


def _skip_reason(
    entry: Entry,
    platform: Platform,
    spec: OptimisationSpec,
    info: ModelInfo,
    config: BenchmarkConfig,
    hardware_tags: list[str],
    machine_reason: str | None,
) -> str | None:
    """The first reason the cell cannot run: hardware, model, optimisation, format, this machine."""
    name, hardware = entry.name, platform.hardware
    if hardware not in config.hardware:
        return f"{name} runs on {hardware}; the config asks for {', '.join(config.hardware)} only"
    if hardware not in hardware_tags:
        return f"{name} needs {hardware} hardware (available: {', '.join(hardware_tags) or 'none'})"
    reason = platform.supports(info, hardware)
    if reason:
        return f"{name}: {reason}"
    reason = applies(spec, info)
    if reason:
        return reason
    reason = platform.takes_format(candidate_format(spec, info))
    if reason:
        return f"{name} {reason} (the {spec.label} candidate)"
    return f"{name}: {machine_reason}" if machine_reason else None
