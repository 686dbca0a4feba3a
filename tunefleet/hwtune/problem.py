"""What a hardware-aware tuning is asked to do, checked whole before anything is trained.

``HwProblem.parse`` takes the request's fields (the flow's parameters, the CLI's options, the
HTTP body) and refuses, naming the field, the value and the fix: an estimator that is not on
the allow-list, hyperparameters it does not have, an unknown platform or optimisation, a
platform that runs on other hardware than the target, objectives or constraints on metrics
the evaluation does not measure, a metric of the other task. What needs the data (a platform
that cannot take the estimator, a machine that lacks the platform) is checked by
``training.check_serving`` once the data is read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tunefleet import validation
from tunefleet.bench.errors import BenchError
from tunefleet.bench.measure import TimingSettings
from tunefleet.bench.metrics import ERRORS, USUAL, metric_name
from tunefleet.bench.optimisations import OptimisationSpec
from tunefleet.bench.registry import HARDWARE, MAX_BATCH, Registry
from tunefleet.bo.outcomes import Outcomes
from tunefleet.hwtune.errors import HwTuneError
from tunefleet.hwtune.estimators import Estimator, estimator
from tunefleet.space import Space

SERVING = "serving"  # the search variable holding the serving choice
LATENCY, SIZE, DRIFT = "latency_ms", "size_bytes", "drift"
LOG_SCALE = {LATENCY: {"scale": "log"}, SIZE: {"scale": "log"}}
MAX_SERVING, MAX_TARGET = 30, 200
VALIDATION_FRACTION = (0.05, 0.5)
# One short timing per candidate: 3 interleaved rounds of 0.2 s (the benchmark's default is 5 of
# 1 s). Measured on the cpu pool here: a 100-tree forest's batch-1 medians across repeats of the same
# cell agree within a few per cent, well inside the differences between platforms the search sees.
TIMING = {"budget_s": 0.2, "warmup_s": 0.05, "rounds": 3}


@dataclass(frozen=True)
class HwProblem:
    """A checked problem: the estimator, the data, the space, the serving choices, the target and
    the outcomes. ``to_dict`` / ``from_dict`` store it (the ``HwTuning`` record's ``problem``)."""

    estimator: str
    data_uri: str
    target: str
    covars: dict
    serving: tuple[str, ...]
    fixed: dict = field(default_factory=dict)
    batch_size: int = 1
    hardware: str = "cpu"
    metric: str | None = None
    objectives: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    validation_fraction: float = 0.25
    timing: dict = field(default_factory=lambda: dict(TIMING))

    @classmethod
    def parse(cls, **fields) -> HwProblem:
        unknown = sorted(set(fields) - set(cls.__dataclass_fields__))
        if unknown:
            raise HwTuneError(f"unknown field(s) {', '.join(unknown)} (known: {', '.join(cls.__dataclass_fields__)})")
        fields = {k: v for k, v in fields.items() if v is not None or k == "metric"}
        for name in ("serving", "objectives", "constraints"):
            if name in fields:
                fields[name] = _strings(name, fields[name])
        problem = cls(**fields)
        problem.check()
        return problem

    # what the fields are ------------------------------------------------------------------------
    @property
    def model(self) -> Estimator:
        return estimator(self.estimator)

    @property
    def task(self) -> str:
        return self.model.task

    @property
    def metric_name(self) -> str:
        """The validation metric: the one named, else accuracy (classification) or MSE (regression)."""
        return metric_name(self.task, self.metric)

    @property
    def objective_names(self) -> tuple[str, ...]:
        return self.objectives or (self.metric_name, LATENCY)

    def measured(self) -> tuple[str, ...]:
        """Every value an evaluation reports: the metric, latency, size and drift."""
        return (self.metric_name, LATENCY, SIZE, DRIFT)

    def responses(self) -> dict:
        """The experiment's objectives: the metric maximised (minimised for an error), latency and size
        minimised on a log scale (they span decades across platforms and model sizes)."""
        maximized = {self.metric_name} - set(ERRORS)
        return {
            name: {"direction": "maximize" if name in maximized else "minimize", **LOG_SCALE.get(name, {})}
            for name in self.objective_names
        }

    def outcomes(self) -> Outcomes:
        return Outcomes.parse(self.responses(), list(self.constraints))

    def space(self) -> Space:
        """The hyperparameters and the serving choice, as one search space."""
        guess = self.serving[0]
        return Space.from_covars(
            {**self.covars, SERVING: {"vtype": "cat", "guess": guess, "options": list(self.serving)}}
        )

    def choices(self) -> dict[str, tuple[str, OptimisationSpec]]:
        """Each serving choice by its text: (benchmark test name, optimisation)."""
        return {text: _choice(text) for text in self.serving}

    def benchmark_config(self, serving: str) -> dict:
        """The one-cell benchmark config that measures a candidate served as ``serving``."""
        platform, spec = self.choices()[serving]
        return {
            "entries": [platform],
            "optimisations": [spec.to_dict()],
            "batch_sizes": [self.batch_size],
            "hardware": [self.hardware],
            "timing": dict(self.timing),
            "memory": False,
            "drift_metric": self.metric_name,
        }

    def to_dict(self) -> dict:
        return {**asdict(self), "serving": list(self.serving), "objectives": list(self.objectives),
                "constraints": list(self.constraints)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> HwProblem:
        return cls.parse(**data)

    # the checks, in the order a user fixes them ------------------------------------------------------
    def check(self) -> None:
        model = self.model  # an estimator off the allow-list is refused here
        if not isinstance(self.data_uri, str) or not self.data_uri:
            raise HwTuneError("data_uri names the training data: a CSV in the artifact store or under a data root")
        if not isinstance(self.target, str) or not 0 < len(self.target) <= MAX_TARGET:
            raise HwTuneError(f"target must be the name of the data's target column (1-{MAX_TARGET} characters)")
        space = Space.from_covars(self.covars)
        if not space.variables:
            raise HwTuneError("covars: give at least one hyperparameter to tune")
        if SERVING in space.names:
            raise HwTuneError(
                f"covars: {SERVING!r} is the serving choice's variable; name the hyperparameter otherwise"
            )
        model.check_params(space.names, "covars")
        if not isinstance(self.fixed, dict):
            raise HwTuneError(f"fixed must be an object {{hyperparameter: value}}, not {self.fixed!r}")
        model.check_params(list(self.fixed), "fixed", values=self.fixed)
        both = sorted(set(self.fixed) & set(space.names))
        if both:
            raise HwTuneError(f"{', '.join(both)}: both tuned (covars) and fixed; keep one")
        model.check_bounds(space)
        self._check_serving()
        if not validation.is_int(self.batch_size, 1, MAX_BATCH):
            raise HwTuneError(f"batch_size must be an integer from 1 to {MAX_BATCH}, not {self.batch_size!r}")
        if self.hardware not in HARDWARE:
            raise HwTuneError(f"hardware must be one of {', '.join(HARDWARE)}, not {self.hardware!r}")
        if self.metric is not None and self.metric not in USUAL[self.task]:
            raise HwTuneError(
                f"metric {self.metric!r} does not fit {self.estimator}, a {self.task} model: "
                f"choose one of {', '.join(USUAL[self.task])}"
            )
        self._check_outcomes()
        lowest, highest = VALIDATION_FRACTION
        if not validation.is_finite(self.validation_fraction) or not lowest <= self.validation_fraction <= highest:
            raise HwTuneError(
                f"validation_fraction must be from {lowest} to {highest}, not {self.validation_fraction!r}"
            )
        if not isinstance(self.timing, dict):
            raise HwTuneError(f"timing is an object of the benchmark's timing settings, not {str(self.timing)[:100]}")
        try:
            TimingSettings(**self.timing)
        except (TypeError, BenchError) as exc:
            raise HwTuneError(f"timing: {exc}") from None

    def _check_serving(self) -> None:
        if not 0 < len(self.serving) <= MAX_SERVING:
            raise HwTuneError(f"serving lists 1 to {MAX_SERVING} choices like 'treelite+none', not {len(self.serving)}")
        if len(set(self.serving)) != len(self.serving):
            raise HwTuneError(f"serving lists a choice twice: {', '.join(self.serving)}")
        registry = Registry()
        for text, (name, _) in self.choices().items():
            runs_on = registry.get(name).platform().hardware
            if runs_on != self.hardware:
                here = [n for n in registry.names() if registry.get(n).platform().hardware == self.hardware]
                raise HwTuneError(
                    f"serving {text!r}: {name} runs on {runs_on}, the target hardware is {self.hardware} "
                    f"(its platforms: {', '.join(here)})"
                )

    def _check_outcomes(self) -> None:
        measured = self.measured()
        for name in self.objectives:
            if name not in (self.metric_name, LATENCY, SIZE):
                raise HwTuneError(
                    f"objective {name!r} is not measured: choose among {self.metric_name}, {LATENCY}, {SIZE}"
                )
        if len(set(self.objective_names)) != len(self.objective_names):
            raise HwTuneError(f"objectives list a metric twice: {', '.join(self.objective_names)}")
        outcomes = self.outcomes()
        for constraint in outcomes.constraints:
            if constraint.metric not in measured:
                raise HwTuneError(
                    f"constraint {str(constraint)!r} is on {constraint.metric!r}, which no evaluation measures "
                    f"(measured: {', '.join(measured)})"
                )


def _choice(text: str) -> tuple[str, OptimisationSpec]:
    platform, plus, optimisation = text.partition("+")
    registry = Registry()
    if not plus or not platform or not optimisation:
        raise HwTuneError(f"serving choice {text!r} is written platform+optimisation, like 'treelite+none'")
    if platform not in registry.names():
        raise HwTuneError(f"serving {text!r}: unknown platform {platform!r} (known: {', '.join(registry.names())})")
    try:
        return platform, OptimisationSpec.parse(optimisation)
    except BenchError as exc:
        raise HwTuneError(f"serving {text!r}: {exc}") from None


def _strings(name: str, value) -> tuple[str, ...]:
    """A list of texts, or one comma-separated text (the CLI's form)."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and len(v) <= 200 for v in value):
        raise HwTuneError(f"{name} must be a list of texts (each at most 200 characters), not {str(value)[:200]}")
    if len(value) > MAX_SERVING:
        raise HwTuneError(f"{name} lists at most {MAX_SERVING} items, not {len(value)}")
    return tuple(value)
