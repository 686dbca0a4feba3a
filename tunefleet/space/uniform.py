"""The kinds drawn uniformly: continuous (``cont`` / ``uniform``), integer (``int`` /
``uniformint``) and categorical (``cat`` / ``categorical``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import ClassVar

import numpy as np

from tunefleet.space.variable import (
    MAX_OPTIONS,
    Fields,
    SpaceError,
    Variable,
    article,
    check_grid_count,
    checked_guess,
)
from tunefleet.validation import is_finite, is_real


@dataclass(frozen=True)
class _Numeric(Variable):
    low: float
    high: float

    params: ClassVar[tuple[str, ...]] = ("low", "high")

    def _cast(self, value):
        raise NotImplementedError

    @classmethod
    def read(cls, fields: Fields) -> _Numeric:
        low, high = fields.bounds(integer=cls is Integer)
        unchecked = cls(fields.name, None, low, high)
        low, high = unchecked._cast(low), unchecked._cast(high)
        guess = fields.values.get("guess")
        if guess is None:
            guess = unchecked._cast(round((low + high) / 2) if cls is Integer else (low + high) / 2)
        return cls(fields.name, checked_guess(unchecked, guess), low, high)

    @property
    def is_fixed(self) -> bool:
        return self.span == 0

    def check(self, value):
        if not is_real(value):
            raise SpaceError(f"{self.name}: {value!r} is not a number")
        if not is_finite(value):
            raise SpaceError(f"{self.name}: {value!r} is not finite")
        if not self.low <= value <= self.high:
            raise SpaceError(f"{self.name}: {value!r} is outside [{self.low}, {self.high}]")
        return self._cast(value)

    def nearest(self, value):
        if not is_finite(value):
            raise SpaceError(f"{self.name}: {value!r} is not a finite number")
        return self._clipped(value)

    @property
    def span(self) -> float:
        return self.high - self.low

    def encode(self, value) -> list[float]:
        return [(value - self.low) / self.span if self.span > 0 else 0.0]

    def decode(self, coords: np.ndarray):
        return self._clipped(self.low + float(coords[0]) * self.span)

    def _clipped(self, value: float):
        return self._cast(min(max(value, self.low), self.high))


@dataclass(frozen=True)
class Continuous(_Numeric):
    vtype: ClassVar[str] = "cont"
    method: ClassVar[str] = "uniform"

    def _cast(self, value) -> float:
        return float(value)

    def from_unit(self, u: float) -> float:
        return self._clipped(self.low + u * self.span)


@dataclass(frozen=True)
class Integer(_Numeric):
    vtype: ClassVar[str] = "int"
    method: ClassVar[str] = "uniformint"

    def check(self, value) -> int:
        if is_finite(value) and value != int(value):
            raise SpaceError(f"{self.name}: {value!r} is not an integer")
        return super().check(value)

    def _cast(self, value) -> int:
        return int(round(value))

    @property
    def steps(self) -> int:
        """Steps of the lattice its encoded coordinate lives on (the BO engine rounds to it)."""
        return self.span

    def from_unit(self, u: float) -> int:
        """Each integer of [min, max] gets an equal share of [0, 1)."""
        return self._clipped(self.low + math.floor(u * (self.span + 1)))

    def grid_values(self) -> list[int]:
        check_grid_count(self.name, self.span + 1)
        return list(range(self.low, self.high + 1))


@dataclass(frozen=True)
class Categorical(Variable):
    options: tuple
    grid_search: bool = False

    vtype: ClassVar[str] = "cat"
    method: ClassVar[str] = "categorical"
    params: ClassVar[tuple[str, ...]] = ("options", "grid_search")

    @classmethod
    def read(cls, fields: Fields) -> Categorical:
        name, options = fields.name, fields.values.get("options")
        if not isinstance(options, list) or not options:
            raise fields.error(
                f"{article(fields.kind)} {fields.kind} variable needs a non-empty list of {fields.label('options')}"
            )
        if len(options) > MAX_OPTIONS:
            raise fields.error(f"{fields.label('options')}: {len(options)} are more than {MAX_OPTIONS}")
        for option in options:
            if not isinstance(option, (str, bool, Real)) or (is_real(option) and not is_finite(option)):
                raise fields.error(
                    f"{fields.label('options')} must be strings, finite numbers or booleans, got {option!r}"
                )
        grid_search = fields.values.get("grid_search")
        grid_search = False if grid_search is None else grid_search
        if grid_search not in (True, False) or not isinstance(grid_search, (bool, int)):
            raise fields.error(f"grid_search must be true or false (or 1 or 0), got {grid_search!r}")
        unchecked = cls(name, None, tuple(options))
        for i, option in enumerate(options):
            if unchecked.position(option) != i:
                raise fields.error(f"duplicate option {option!r}")
        guess = fields.values.get("guess")
        guess = checked_guess(unchecked, options[0] if guess is None else guess)
        return cls(name, guess, tuple(options), bool(grid_search))

    def position(self, value) -> int | None:
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

    @property
    def is_grid(self) -> bool:
        return self.grid_search

    @property
    def is_fixed(self) -> bool:
        return len(self.options) == 1

    def check(self, value):
        index = self.position(value)
        if index is None:
            raise SpaceError(f"{self.name}: {value!r} is not one of the options {list(self.options)}")
        return self.options[index]

    def encode(self, value) -> list[float]:
        index = self.position(value)
        return [1.0 if i == index else 0.0 for i in range(self.width)]

    def decode(self, coords: np.ndarray):
        return self.options[int(np.argmax(coords))]

    def from_unit(self, u: float):
        return self.options[min(int(u * self.width), self.width - 1)]

    def grid_values(self) -> list:
        return list(self.options)

    def _param(self, key: str):
        return list(self.options) if key == "options" else self.grid_search

    def _emit(self, key: str) -> bool:
        return key != "grid_search" or self.grid_search  # written only when set
