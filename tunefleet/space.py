"""The search-space schema every tunefleet flow uses.

A space is an ordered set of named variables in the seed's covariate vocabulary::

    {"n_estimators": {"vtype": "int", "guess": 100, "min": 10, "max": 500},
     "min_samples_split": {"vtype": "cont", "guess": 0.3, "min": 0.0, "max": 1.0},
     "color": {"vtype": "cat", "guess": "red", "options": ["red", "green", "blue"]}}

``guess`` is optional (the middle of the range, or the first option). Options keep the
order they were given in, so an encoding means the same thing in every process.

Each kind of variable is a class that knows how to parse, check, encode and sample its
values; the space only composes them. Sampling goes through ``from_unit`` (a uniform
number in [0, 1) → a value, i.e. an inverse CDF), so the sweep vocabulary (loguniform,
quniform, normal, ...) can be added as a per-variable distribution, or as new
``vtype`` classes registered in ``VARIABLE_KINDS``, without changing this schema.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from numbers import Real
from typing import Any, ClassVar

import numpy as np

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class SpaceError(ValueError):
    """A space, or a point of one, is invalid; the message names the variable."""


def is_number(value) -> bool:
    """A real number, booleans excluded (True is not 1 here)."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class Variable:
    """One named dimension of a space."""

    name: str
    guess: Any

    vtype: ClassVar[str]
    fields: ClassVar[frozenset[str]]  # the keys its dict form may hold

    @property
    def width(self) -> int:
        """Coordinates this variable takes in the unit-cube encoding."""
        return 1

    def check(self, value):
        """``value`` as this variable's type, or a SpaceError naming the variable."""
        raise NotImplementedError

    def encode(self, value) -> list[float]:
        raise NotImplementedError

    def decode(self, coords: np.ndarray):
        """The value nearest to encoded coordinates (clipped, rounded, argmax)."""
        raise NotImplementedError

    def from_unit(self, u: float):
        """The value at quantile ``u`` ∈ [0, 1) of this variable's sampling distribution."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class _Numeric(Variable):
    low: float
    high: float

    fields: ClassVar[frozenset[str]] = frozenset({"vtype", "guess", "min", "max"})

    def _cast(self, value):
        raise NotImplementedError

    @classmethod
    def parse(cls, name: str, spec: dict) -> _Numeric:
        for key in ("min", "max"):
            if key not in spec or spec[key] is None:
                raise SpaceError(f"{name}: {key} is required for vtype {cls.vtype}")
            bound = spec[key]
            if not is_number(bound) or not math.isfinite(bound):
                raise SpaceError(f"{name}: {key} must be a finite number, got {bound!r}")
            if cls.vtype == "int" and bound != int(bound):
                raise SpaceError(f"{name}: {key} of an int variable must be an integer, got {bound!r}")
        low, high = spec["min"], spec["max"]
        if low > high:
            raise SpaceError(f"{name}: min ({low}) is greater than max ({high})")
        unchecked = cls(name, None, low, high)
        low, high = unchecked._cast(low), unchecked._cast(high)
        guess = spec.get("guess")
        if guess is None:
            guess = unchecked._cast(round((low + high) / 2) if cls.vtype == "int" else (low + high) / 2)
        return cls(name, _checked_guess(unchecked, guess), low, high)

    def check(self, value):
        if not is_number(value):
            raise SpaceError(f"{self.name}: {value!r} is not a number")
        if not math.isfinite(value):
            raise SpaceError(f"{self.name}: {value!r} is not finite")
        if not self.low <= value <= self.high:
            raise SpaceError(f"{self.name}: {value!r} is outside [{self.low}, {self.high}]")
        return self._cast(value)

    @property
    def span(self) -> float:
        return self.high - self.low

    def encode(self, value) -> list[float]:
        return [(value - self.low) / self.span if self.span > 0 else 0.0]

    def decode(self, coords: np.ndarray):
        return self._clipped(self.low + float(coords[0]) * self.span)

    def _clipped(self, value: float):
        return self._cast(min(max(value, self.low), self.high))

    def to_dict(self) -> dict:
        return {"vtype": self.vtype, "guess": self.guess, "min": self.low, "max": self.high}


@dataclass(frozen=True)
class Continuous(_Numeric):
    vtype: ClassVar[str] = "cont"

    def _cast(self, value) -> float:
        return float(value)

    def from_unit(self, u: float) -> float:
        return self._clipped(self.low + u * self.span)


@dataclass(frozen=True)
class Integer(_Numeric):
    vtype: ClassVar[str] = "int"

    def check(self, value) -> int:
        if is_number(value) and math.isfinite(value) and value != int(value):
            raise SpaceError(f"{self.name}: {value!r} is not an integer")
        return super().check(value)

    def _cast(self, value) -> int:
        return int(round(value))

    def from_unit(self, u: float) -> int:
        """Each integer of [min, max] gets an equal share of [0, 1)."""
        return self._clipped(self.low + math.floor(u * (self.span + 1)))


@dataclass(frozen=True)
class Categorical(Variable):
    options: tuple

    vtype: ClassVar[str] = "cat"
    fields: ClassVar[frozenset[str]] = frozenset({"vtype", "guess", "options"})

    @classmethod
    def parse(cls, name: str, spec: dict) -> Categorical:
        options = spec.get("options")
        if not isinstance(options, list) or not options:
            raise SpaceError(f"{name}: a cat variable needs a non-empty list of options")
        for option in options:
            if not isinstance(option, (str, bool, Real)) or (is_number(option) and not math.isfinite(option)):
                raise SpaceError(f"{name}: options must be strings, finite numbers or booleans, got {option!r}")
        unchecked = cls(name, None, tuple(options))
        for i, option in enumerate(options):
            if unchecked._index(option) != i:
                raise SpaceError(f"{name}: duplicate option {option!r}")
        guess = spec.get("guess")
        return cls(name, _checked_guess(unchecked, options[0] if guess is None else guess), tuple(options))

    def _index(self, value) -> int | None:
        """Position of ``value`` among the options; True is not 1 and "1" is not 1."""
        for i, option in enumerate(self.options):
            same_kind = isinstance(option, str) == isinstance(value, str) and isinstance(
                option, (bool, np.bool_)
            ) == isinstance(value, (bool, np.bool_))
            if same_kind and option == value:
                return i
        return None

    @property
    def width(self) -> int:
        return len(self.options)

    def check(self, value):
        index = self._index(value)
        if index is None:
            raise SpaceError(f"{self.name}: {value!r} is not one of the options {list(self.options)}")
        return self.options[index]

    def encode(self, value) -> list[float]:
        index = self._index(value)
        return [1.0 if i == index else 0.0 for i in range(self.width)]

    def decode(self, coords: np.ndarray):
        return self.options[int(np.argmax(coords))]

    def from_unit(self, u: float):
        return self.options[min(int(u * self.width), self.width - 1)]

    def to_dict(self) -> dict:
        return {"vtype": self.vtype, "guess": self.guess, "options": list(self.options)}


VARIABLE_KINDS: dict[str, type[Variable]] = {kind.vtype: kind for kind in (Integer, Continuous, Categorical)}


def _checked_guess(variable: Variable, guess):
    try:
        return variable.check(guess)
    except SpaceError as exc:
        reason = str(exc).split(": ", 1)[1]
        raise SpaceError(f"{variable.name}: guess is invalid: {reason}") from exc


def _parse_variable(name, spec) -> Variable:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpaceError(f"{name!r}: a variable name must start with a letter or _ and hold only letters, digits, _ . -")
    if not isinstance(spec, dict):
        raise SpaceError(f"{name}: must be an object with vtype, guess and min/max or options")
    kind = VARIABLE_KINDS.get(spec.get("vtype"))
    if kind is None:
        raise SpaceError(f"{name}: unknown vtype {spec.get('vtype')!r}; use one of {', '.join(VARIABLE_KINDS)}")
    unexpected = sorted(set(spec) - kind.fields)
    if unexpected:
        raise SpaceError(f"{name}: unexpected field(s) {', '.join(unexpected)} for vtype {kind.vtype}")
    return kind.parse(name, spec)


@dataclass(frozen=True)
class Space:
    """An immutable, ordered set of variables; points are dicts ``{name: value}``."""

    variables: tuple[Variable, ...]

    def __post_init__(self):
        if not self.variables:
            raise SpaceError("covars: the space has no variables")

    @classmethod
    def from_covars(cls, covars: dict) -> Space:
        """Parse and validate the covariate schema (the inverse of ``to_dict``)."""
        if not isinstance(covars, dict):
            raise SpaceError(f"covars must be an object {{name: {{vtype, guess, min, max, options}}}}, got {covars!r}")
        return cls(tuple(_parse_variable(name, spec) for name, spec in covars.items()))

    def to_dict(self) -> dict:
        return {v.name: v.to_dict() for v in self.variables}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    @property
    def dim(self) -> int:
        """Width of the unit-cube encoding."""
        return sum(v.width for v in self.variables)

    def guess(self) -> dict:
        return {v.name: v.guess for v in self.variables}

    def validate_point(self, point: dict) -> dict:
        """A told point with every variable present, known, of its type and in range; ints as int."""
        if not isinstance(point, dict):
            raise SpaceError(f"a point must be an object {{variable: value}}, got {point!r}")
        unknown = [str(name) for name in point if name not in self.names]
        if unknown:
            raise SpaceError(f"{', '.join(unknown)}: not a variable of this space ({', '.join(self.names)})")
        missing = [name for name in self.names if name not in point]
        if missing:
            raise SpaceError(f"{', '.join(missing)}: missing from the point")
        return {v.name: v.check(point[v.name]) for v in self.variables}

    # the unit-cube encoding -------------------------------------------------------
    def encode(self, points: list[dict]) -> np.ndarray:
        """(n, dim) rows in [0, 1]: numbers scaled from [min, max], categories one-hot."""
        rows = [[c for v in self.variables for c in v.encode(point[v.name])] for point in points]
        return np.array(rows, dtype=float).reshape(len(points), self.dim)

    def decode(self, X: np.ndarray) -> list[dict]:
        """Points from encoded rows: integers rounded, categories by their largest coordinate."""
        starts = self.column_starts()
        return [
            {v.name: v.decode(row[start : start + v.width]) for v, start in zip(self.variables, starts)}
            for row in np.atleast_2d(X)
        ]

    def column_starts(self) -> list[int]:
        """First encoded column of each variable."""
        return [int(s) for s in np.cumsum([0] + [v.width for v in self.variables])[:-1]]

    # sampling ---------------------------------------------------------------------
    def sobol(self, n: int, seed: int, skip: int = 0) -> list[dict]:
        """Points ``skip`` .. ``skip + n - 1`` of a scrambled Sobol sequence (one dimension per variable)."""
        from scipy.stats import qmc  # scipy.stats costs ~1 s to import: only when sampling

        engine = qmc.Sobol(d=len(self.variables), scramble=True, seed=seed)
        if skip:
            engine.fast_forward(skip)
        with warnings.catch_warnings():  # a prefix of the sequence is what is wanted, any length
            warnings.filterwarnings("ignore", message="The balance properties of Sobol", category=UserWarning)
            return self._from_unit(engine.random(n))

    def random(self, n: int, seed: int | np.random.Generator | None = None) -> list[dict]:
        """``n`` independent points drawn from each variable's distribution (uniform for now)."""
        return self._from_unit(np.random.default_rng(seed).random((n, len(self.variables))))

    def _from_unit(self, U: np.ndarray) -> list[dict]:
        return [{v.name: v.from_unit(float(u)) for v, u in zip(self.variables, row)} for row in U]
