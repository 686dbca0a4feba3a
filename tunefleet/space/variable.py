"""The contract every kind of variable fulfils, and how a vocabulary's fields are read.

A kind (``tunefleet.space.kinds.KINDS``) is a ``Variable`` subclass: it reads its fields
(``read``), checks and snaps values (``check``, ``nearest``), encodes them in the unit cube
for the BO engine (``encode`` / ``decode``), samples them (``from_unit``: the inverse CDF)
and writes itself back in each vocabulary (``to_dict``, ``to_hpogrid``). How an external
library sees a kind is that library's converter's business (``tunefleet.sweep.search``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np

from tunefleet.errors import InvalidInput
from tunefleet.validation import is_finite

NORMAL_TAIL = 6.0
"""Normal kinds are sampled and decoded within mu ± NORMAL_TAIL sigma (u clipped to Φ(±6))."""
STANDARD_NORMAL = NormalDist()
U_TAIL = STANDARD_NORMAL.cdf(-NORMAL_TAIL)

MAX_VARIABLES = 1000
"""The most variables a space holds (a GP over more would not learn anything)."""
MAX_OPTIONS = 10_000
"""The most options of a categorical variable."""

GRID_LIMIT = 100_000
"""The most values ``grid_values`` lists, and the most points ``grid_points`` makes."""

REQUIRED = object()


class SpaceError(InvalidInput):
    """A space, or a point of one, is invalid; the message names the variable."""


def article(word: str) -> str:
    return "an" if word[:1] in "aeio" else "a"  # "a uniformint"


def multiple(k: int, q: float) -> float:
    """``k * q`` without the binary noise of the product (3 * 0.1 → 0.3)."""
    return float(f"{k * q:.15g}")


# -- reading a variable's fields ------------------------------------------------------------
# Fields have canonical names (low, high, options, grid_search, mu, sigma, base, q, guess);
# each vocabulary writes some of them differently, and messages use the names as written.
COVARS_LABELS = {"low": "min", "high": "max"}
HPOGRID_LABELS = {"options": "categories"}


@dataclass
class Fields:
    """One variable's fields under their canonical names, and how its vocabulary spells them."""

    name: str
    values: dict
    labels: dict
    kind: str  # "int", "uniformint", ...
    vocabulary: str  # "vtype" or "method"

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def error(self, message: str) -> SpaceError:
        return SpaceError(f"{self.name}: {message}")

    def number(self, key: str, default=REQUIRED, *, integer: bool = False, positive: bool = False):
        value = self.values.get(key)
        if value is None:
            if default is REQUIRED:
                raise self.error(f"{self.label(key)} is required for {self.vocabulary} {self.kind}")
            return default
        if not is_finite(value):
            raise self.error(f"{self.label(key)} must be a finite number, got {value!r}")
        if integer and value != int(value):
            raise self.error(
                f"{self.label(key)} of {article(self.kind)} {self.kind} variable must be an integer, got {value!r}"
            )
        if positive and value <= 0:
            raise self.error(f"{self.label(key)} must be greater than 0, got {value!r}")
        return value

    def bounds(self, *, integer: bool = False) -> tuple:
        low = self.number("low", integer=integer)
        high = self.number("high", integer=integer)
        if low > high:
            raise self.error(f"{self.label('low')} ({low}) is greater than {self.label('high')} ({high})")
        return low, high


# -- variables ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variable:
    """One named dimension of a space."""

    name: str
    guess: Any

    vtype: ClassVar[str]  # its name in the covariate schema
    method: ClassVar[str]  # its name in hpogrid's vocabulary
    params: ClassVar[tuple[str, ...]]  # its fields besides vtype and guess, canonical names

    @classmethod
    def covars_fields(cls) -> frozenset[str]:
        """The keys its covariate dict may hold."""
        return frozenset({"vtype", "guess", *(COVARS_LABELS.get(p, p) for p in cls.params)})

    @classmethod
    def hpogrid_fields(cls) -> tuple[str, ...]:
        """The keys its hpogrid ``dimension`` may hold."""
        return tuple(HPOGRID_LABELS.get(p, p) for p in cls.params)

    @classmethod
    def read(cls, fields: Fields) -> Variable:
        raise NotImplementedError

    @property
    def width(self) -> int:
        """Coordinates this variable takes in the unit-cube encoding."""
        return 1

    @property
    def is_grid(self) -> bool:
        """Whether grid search expands this variable (a categorical with grid_search)."""
        return False

    @property
    def is_fixed(self) -> bool:
        """Whether the variable can take one value only."""
        return False

    def check(self, value):
        """``value`` as this variable's type, or a SpaceError naming the variable."""
        raise NotImplementedError

    def nearest(self, value):
        """The valid value nearest to a number (clipped, rounded); a SpaceError if it is not one."""
        return self.check(value)

    def encode(self, value) -> list[float]:
        raise NotImplementedError

    def decode(self, coords: np.ndarray):
        """The value nearest to encoded coordinates (clipped, rounded, argmax)."""
        raise NotImplementedError

    def from_unit(self, u: float):
        """The value at quantile ``u`` ∈ [0, 1] of this variable's sampling distribution."""
        raise NotImplementedError

    def grid_values(self) -> list:
        """Every value, in order, for kinds with finitely many (categorical, uniformint, quniform,
        qloguniform); a SpaceError for the others. Whether a grid search expands the variable is
        ``is_grid``, not this."""
        raise SpaceError(
            f"{self.name}: a {self.method} variable has infinitely many values, so it cannot be enumerated; "
            "grid search expands categorical variables with grid_search and samples the others at each grid point"
        )

    def to_dict(self) -> dict:
        """The covariate form (``Space.from_covars`` reads it back)."""
        out = {"vtype": self.vtype, "guess": self.guess}
        out.update({COVARS_LABELS.get(p, p): self._param(p) for p in self.params if self._emit(p)})
        return out

    def to_hpogrid(self) -> dict:
        """hpogrid's form ``{"method": ..., "dimension": {...}}`` (no guess: hpogrid has none)."""
        return {
            "method": self.method,
            "dimension": {HPOGRID_LABELS.get(p, p): self._param(p) for p in self.params if self._emit(p)},
        }

    def _param(self, key: str):
        return getattr(self, key)

    def _emit(self, key: str) -> bool:
        return True


def grid_index(scaled: float, round_fn) -> int:
    """``scaled`` rounded inwards to an integer, or to the integer it is within float noise of."""
    nearest = round(scaled)
    return int(nearest) if math.isclose(scaled, nearest, rel_tol=1e-9, abs_tol=1e-9) else int(round_fn(scaled))


def check_grid_count(name: str, count: int) -> None:
    if count > GRID_LIMIT:
        raise SpaceError(f"{name}: {count} values are more than a grid can list ({GRID_LIMIT})")


def checked_guess(variable: Variable, guess):
    try:
        return variable.check(guess)
    except SpaceError as exc:
        reason = str(exc).split(": ", 1)[1]
        raise SpaceError(f"{variable.name}: guess is invalid: {reason}") from exc
