"""What an experiment measures: its objectives (one or several, each minimised or maximised) and
its outcome constraints (``latency_ms <= 5``), and what follows from them for told values —
feasibility, the best point, the Pareto front and its hypervolume (exact, or above a size
estimated: ``Outcomes.exact_hypervolume``).

An experiment that declares nothing has the seed's one objective, ``Response``. Constraints
may name an objective or another metric, which every tell then carries too (Ax's outcome
constraints); a point is feasible when every constraint holds. The hypervolume is measured
from the objectives' declared reference values, or, where none is declared, from the worst
feasible value seen minus a tenth of the range (Ax's inferred reference point), in the
objectives' own units.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tunefleet import validation
from tunefleet.errors import InvalidInput

RESPONSE = "Response"
MAX_OBJECTIVES, MAX_CONSTRAINTS = 8, 16
DIRECTIONS = ("maximize", "minimize")
SCALES = ("linear", "log")
REFERENCE_MARGIN = 0.1
EXACT_HYPERVOLUME_SIZE, HYPERVOLUME_SAMPLES, MIN_HYPERVOLUME_SAMPLES = 256, 2**16, 2**12
# |value| above this is refused: products of 8 such ranges stay finite, and so do the GP's standardised sums.
MAX_MAGNITUDE = 1e30
CONSTRAINT = re.compile(r"\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.\-]{0,199})\s*(?P<op><=|>=)\s*(?P<bound>\S+)\s*")


class OutcomeError(InvalidInput):
    """Objectives, constraints or told values that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Objective:
    name: str
    maximize: bool
    reference: float | None = None  # the hypervolume's reference value; None: inferred from the data
    # "log": modelled and measured as log10 of the (positive) value — a latency that spans 0.01 to 10 ms
    # is a ratio scale: on a linear one the GP and the hypervolume see only the slowest points' range
    scale: str = "linear"

    @property
    def direction(self) -> str:
        return "maximize" if self.maximize else "minimize"


@dataclass(frozen=True)
class Constraint:
    metric: str
    upper: bool  # metric <= bound (True) or metric >= bound (False)
    bound: float

    def __str__(self) -> str:
        return f"{self.metric} {'<=' if self.upper else '>='} {_exact_text(self.bound)}"

    def slack(self, value: float) -> float:
        """How far inside the bound ``value`` is (negative: violated)."""
        return self.bound - value if self.upper else value - self.bound


@dataclass(frozen=True)
class Outcomes:
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()

    @classmethod
    def single(cls, maximize: bool = True) -> Outcomes:
        """The seed's experiment: one objective named ``Response``, no constraints."""
        return cls((Objective(RESPONSE, bool(maximize)),))

    @classmethod
    def parse(cls, responses: Mapping | None, constraints: Sequence[str] | None, maximize: bool = True) -> Outcomes:
        """From an experiment's ``responses`` ({name: {direction, reference}}; None: ``Response``,
        maximised as ``maximize`` says) and ``constraints`` (["latency_ms <= 5", ...])."""
        objectives = cls.single(maximize).objectives if responses is None else _objectives(responses)
        if constraints is not None and not isinstance(constraints, (list, tuple)):
            raise OutcomeError(f"constraints must be a list like ['latency_ms <= 5'], got {constraints!r}")
        if len(constraints or ()) > MAX_CONSTRAINTS:
            raise OutcomeError(f"at most {MAX_CONSTRAINTS} constraints, got {len(constraints)}")
        parsed = tuple(_constraint(text) for text in constraints or ())
        logged = {o.name for o in objectives if o.scale == "log"}
        for constraint in parsed:
            if constraint.metric in logged and constraint.bound <= 0:
                raise OutcomeError(f"constraint {str(constraint)!r}: {constraint.metric} is on a log scale, > 0")
        return cls(objectives, parsed)

    # shape ---------------------------------------------------------------------------
    @property
    def plain(self) -> bool:
        """One objective and no constraint: the best point is the best response."""
        return len(self.objectives) == 1 and not self.constraints

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every value a tell carries: the objectives, then the metrics only constraints name."""
        names = [o.name for o in self.objectives]
        return (*names, *dict.fromkeys(c.metric for c in self.constraints if c.metric not in names))

    def responses(self) -> dict:
        """The ``responses`` declaration these outcomes were parsed from (what is stored)."""
        return {
            o.name: {
                "direction": o.direction,
                **({} if o.reference is None else {"reference": o.reference}),
                **({} if o.scale == "linear" else {"scale": o.scale}),
            }
            for o in self.objectives
        }

    def constraint_texts(self) -> list[str]:
        return [str(c) for c in self.constraints]

    # told values ---------------------------------------------------------------------
    def values(self, told, where: str) -> dict[str, float]:
        """Told values as {metric: float}: a number (one metric only) or an object with every metric
        of ``metrics`` and nothing else; errors begin with ``where`` ("response_tell row 3")."""
        if not isinstance(told, Mapping):
            if len(self.metrics) > 1:
                raise OutcomeError(f"{where}: give every metric by name ({', '.join(self.metrics)}), got {told!r}")
            told = {self.metrics[0]: told}
        unknown = sorted(str(name) for name in set(told) - set(self.metrics))
        missing = [name for name in self.metrics if name not in told]
        if unknown or missing:
            raise OutcomeError(
                f"{where}: expected the metrics {', '.join(self.metrics)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(unknown[:5])}" if unknown else "")
            )
        for name in self.metrics:
            if not validation.is_real(told[name]):
                raise OutcomeError(f"{where}: {name} = {told[name]!r} is not a number")
            if not validation.is_finite(told[name]):
                raise OutcomeError(f"{where}: {name} = {told[name]!r} is not finite")
            if abs(told[name]) > MAX_MAGNITUDE:
                raise OutcomeError(f"{where}: {name} = {told[name]!r} is beyond ±{MAX_MAGNITUDE:g}; rescale it")
            if name in self._logged and told[name] <= 0:
                raise OutcomeError(f"{where}: {name} = {told[name]!r} must be > 0: its scale is log")
        return {name: float(told[name]) for name in self.metrics}

    @property
    def _logged(self) -> set[str]:
        return {o.name for o in self.objectives if o.scale == "log"}

    def modelled(self, name: str, value: float) -> float:
        """``value`` of metric ``name`` on the scale the GP models and the hypervolume measures it."""
        return math.log10(value) if name in self._logged else value

    def feasible(self, values: Mapping[str, float]) -> bool:
        return all(c.slack(values[c.metric]) >= 0 for c in self.constraints)

    def signed(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """The objectives of ``rows`` as an (n, objectives) array in which larger is better."""
        signs = np.array([1.0 if o.maximize else -1.0 for o in self.objectives])
        return (
            np.array([[row[o.name] for o in self.objectives] for row in rows], dtype=float).reshape(
                len(rows), len(self.objectives)
            )
            * signs
        )

    def best(self, rows: Sequence[Mapping[str, float]]) -> int | None:
        """The index of the best feasible row of a one-objective experiment (the first on ties)."""
        feasible = [i for i, row in enumerate(rows) if self.feasible(row)]
        if not feasible:
            return None
        scores = self.signed([rows[i] for i in feasible])[:, 0]
        return feasible[int(np.argmax(scores))]

    def pareto(self, rows: Sequence[Mapping[str, float]]) -> list[int]:
        """The indices of the feasible rows no other feasible row dominates, in told order (the first
        of equal rows only). With one objective: the best row."""
        if len(self.objectives) == 1:
            best = self.best(rows)
            return [] if best is None else [best]
        feasible = [i for i, row in enumerate(rows) if self.feasible(row)]
        keep = _non_dominated(self.signed([rows[i] for i in feasible]))
        return [i for i, kept in zip(feasible, keep) if kept]

    def reference_point(self, rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
        """Each objective's reference value, in its own units: declared, or the Pareto front's worst
        value (the nadir; of every row if none is feasible) moved a tenth of the front's range further
        (of the nadir's size if flat, else 1), as Ax infers it: points behind the front do not move it."""
        told = [rows[i] for i in self.pareto(rows)] or list(rows)
        reference = {}
        for objective in self.objectives:
            if objective.reference is not None:
                reference[objective.name] = objective.reference
                continue
            logged = objective.scale == "log"  # the margin is taken on the modelled scale, so stays > 0
            values = np.array([self.modelled(objective.name, row[objective.name]) for row in told], dtype=float)
            worst = (values.min() if objective.maximize else values.max()) if len(values) else 0.0
            margin = REFERENCE_MARGIN * (float(np.ptp(values)) or abs(float(worst)) or 1.0) if len(values) else 0.0
            value = float(worst - margin if objective.maximize else worst + margin)
            reference[objective.name] = 10.0**value if logged else value
        return reference

    def hypervolume(self, rows: Sequence[Mapping[str, float]], reference: Mapping[str, float]) -> float:
        """The volume the feasible rows dominate above ``reference`` (objectives' units, multiplied)."""
        return self.measure(rows, reference)[0]

    def measure(self, rows: Sequence[Mapping[str, float]], reference: Mapping[str, float]) -> tuple[float, bool]:
        """The hypervolume of ``rows`` (log-scale objectives measured in log10 units) and whether it is
        exact (``exact_hypervolume``) or a seeded Monte-Carlo estimate."""
        front = [{o.name: self.modelled(o.name, row[o.name]) for o in self.objectives} for row in rows]
        front = [front[i] for i in self.pareto(rows)]
        signs = np.array([1.0 if o.maximize else -1.0 for o in self.objectives])
        origin = np.array([self.modelled(o.name, reference[o.name]) for o in self.objectives]) * signs
        points = self.signed(front) - origin
        points = points[np.all(points > 0, axis=1)]
        if len(points) == 0:
            return 0.0, True
        if len(self.objectives) <= 2:
            return _swept_area(points), True
        if not self.exact_hypervolume(len(points)):
            return _estimated_volume(points), False
        # BoTorch's box decomposition (torch: imported where a volume is measured): an exact recursion
        # in numpy matched it to 1e-12 but took 77 s for 30 points in 8 objectives, against 0.6 s.
        import torch
        from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning

        Y = torch.as_tensor(points, dtype=torch.double)
        partitioning = DominatedPartitioning(ref_point=torch.zeros(Y.shape[1], dtype=torch.double), Y=Y)
        return float(partitioning.compute_hypervolume()), True

    def exact_hypervolume(self, front_size: int) -> bool:
        """Whether the hypervolume of a front this size is computed exactly: always in one or two
        objectives; in more while front points × objectives <= 256 (the box decomposition's cost
        grows exponentially: 50 points in 8 objectives took 2.3 s, 2,000 in 3 took 2 s)."""
        return len(self.objectives) <= 2 or front_size * len(self.objectives) <= EXACT_HYPERVOLUME_SIZE


def _swept_area(points: np.ndarray) -> float:
    """The area two-objective points (all > 0) dominate from the origin: slabs along the first objective."""
    points = points[np.argsort(-points[:, 0], kind="stable")]
    if points.shape[1] == 1:
        return float(points[0, 0])
    highest = np.maximum.accumulate(points[:, 1])
    widths = points[:, 0] - np.append(points[1:, 0], 0.0)
    return float(np.sum(widths * highest))


def _estimated_volume(points: np.ndarray) -> float:
    """The volume points (all > 0) dominate from the origin, by the share of seeded uniform samples
    of their bounding box that some point dominates (relative error about 1 / sqrt(those samples):
    under 1% for 40 points in 5 objectives, 0.1 s)."""
    box = points.max(axis=0)
    # fewer samples for larger fronts, so one estimate costs at most ~2^26 comparisons (about a second)
    count = int(np.clip(2**26 // points.size, MIN_HYPERVOLUME_SAMPLES, HYPERVOLUME_SAMPLES))
    samples = np.random.default_rng(0).random((count, points.shape[1])) * box
    dominated = 0
    for chunk in np.array_split(samples, max(1, count * len(points) // 2**22)):
        dominated += int(np.sum(np.any(np.all(chunk[:, None, :] <= points[None, :, :], axis=2), axis=1)))
    return float(np.prod(box) * dominated / count)


def _non_dominated(points: np.ndarray) -> np.ndarray:
    """A mask of the rows no other row dominates (larger is better; the first of equal rows).

    Rows are visited in descending lexicographic order, in which a dominating row (or an equal one
    told earlier) always comes first, and each is compared with the front found so far only: the
    pairwise test took 11.4 s for 20,000 rows in two objectives, this one 0.1 s."""
    keep = np.zeros(len(points), dtype=bool)
    front, size = np.empty_like(points), 0
    for k in np.lexsort((np.arange(len(points)), *(-points[:, j] for j in reversed(range(points.shape[1]))))):
        if not np.any(np.all(front[:size] >= points[k], axis=1)):
            keep[k] = True
            front[size], size = points[k], size + 1
    return keep


def _exact_text(number: float) -> str:
    """A bound as text that parses back to the same float ("5", "0.91234567", "1234567")."""
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _objectives(responses) -> tuple[Objective, ...]:
    if not isinstance(responses, Mapping) or not responses:
        raise OutcomeError(
            "responses must be an object like {'accuracy': {'direction': 'maximize'}}, "
            f"with 1 to {MAX_OBJECTIVES} objectives, got {responses!r}"
        )
    if len(responses) > MAX_OBJECTIVES:
        raise OutcomeError(f"at most {MAX_OBJECTIVES} objectives, got {len(responses)}")
    objectives = []
    for name, declared in responses.items():
        if not validation.is_name(name, validation.VARIABLE_NAME):
            raise OutcomeError(f"response name {str(name)[:50]!r} must be a letter or _ then letters, digits, _ . -")
        if isinstance(declared, str):
            declared = {"direction": declared}
        if not isinstance(declared, Mapping) or set(declared) - {"direction", "reference", "scale"}:
            raise OutcomeError(
                f"responses[{name!r}] must be {{'direction': 'maximize'|'minimize', 'reference': x, 'scale': 'log'}}"
            )
        direction = declared.get("direction")
        if direction not in DIRECTIONS:
            raise OutcomeError(f"responses[{name!r}].direction must be 'maximize' or 'minimize', got {direction!r}")
        reference = declared.get("reference")
        if reference is not None and not (validation.is_finite(reference) and abs(reference) <= MAX_MAGNITUDE):
            raise OutcomeError(
                f"responses[{name!r}].reference must be a number within ±{MAX_MAGNITUDE:g}, got {reference!r}"
            )
        scale = declared.get("scale", "linear")
        if scale not in SCALES:
            raise OutcomeError(f"responses[{name!r}].scale must be 'linear' or 'log', got {scale!r}")
        if scale == "log" and reference is not None and reference <= 0:
            raise OutcomeError(f"responses[{name!r}].reference must be > 0 on a log scale, got {reference!r}")
        objectives.append(
            Objective(name, direction == "maximize", None if reference is None else float(reference), scale)
        )
    return tuple(objectives)


def _constraint(text) -> Constraint:
    match = CONSTRAINT.fullmatch(text) if isinstance(text, str) and len(text) <= 300 else None
    if match is None:
        raise OutcomeError(f"constraint {str(text)[:100]!r} must look like 'metric <= number' or 'metric >= number'")
    try:
        bound = float(match["bound"])
    except ValueError:
        bound = float("nan")
    if not validation.is_finite(bound) or abs(bound) > MAX_MAGNITUDE:
        raise OutcomeError(
            f"constraint {text!r}: the bound {match['bound']!r} is not a number within ±{MAX_MAGNITUDE:g}"
        )
    return Constraint(match["metric"], match["op"] == "<=", bound)
