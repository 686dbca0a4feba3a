"""The kinds drawn from a distribution: quantised, log-uniform and the normal family."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from tunefleet.space.variable import (
    NORMAL_TAIL,
    STANDARD_NORMAL,
    U_TAIL,
    Fields,
    SpaceError,
    Variable,
    check_grid_count,
    checked_guess,
    grid_index,
    multiple,
)
from tunefleet.validation import is_finite, is_real


@dataclass(frozen=True, kw_only=True)
class _Distribution(Variable):
    """A numeric kind drawn from a latent uniform or normal number, maybe exponentiated, maybe
    rounded to multiples of ``q``. Fields that a kind does not use stay None."""

    low: float | None = None
    high: float | None = None
    mu: float | None = None
    sigma: float | None = None
    base: float | None = None
    q: float | None = None

    latent: ClassVar[str]  # "uniform" or "normal"
    log: ClassVar[bool] = False
    default_base: ClassVar[float | None] = None

    @property
    def quantized(self) -> bool:
        return "q" in self.params

    @classmethod
    def read(cls, fields: Fields) -> _Distribution:
        kwargs = {}
        if cls.latent == "uniform":
            kwargs["low"], kwargs["high"] = fields.bounds()
            if cls.log and kwargs["low"] <= 0:
                raise fields.error(
                    f"{fields.label('low')} must be greater than 0 for {fields.vocabulary} {fields.kind} "
                    f"(its logarithm is taken), got {kwargs['low']!r}"
                )
        else:
            kwargs["mu"] = fields.number("mu")
            kwargs["sigma"] = fields.number("sigma", positive=True)
        if "base" in cls.params:
            base = kwargs["base"] = fields.number("base", cls.default_base)
            if base <= 1:
                raise fields.error(f"base must be greater than 1, got {base!r}")
        if "q" in cls.params:
            kwargs["q"] = fields.number("q", positive=True)
        unchecked = cls(name=fields.name, guess=None, **kwargs)
        unchecked._check_support()
        guess = fields.values.get("guess")
        if guess is None:
            guess = unchecked.from_unit(0.5)  # the median
        return cls(name=fields.name, guess=checked_guess(unchecked, guess), **kwargs)

    def _check_support(self) -> None:
        if self.latent == "uniform":
            if self.quantized and self.k_range[0] > self.k_range[1]:
                raise SpaceError(f"{self.name}: no multiple of q={self.q} lies in [{self.low}, {self.high}]")
            return
        for u in (0.0, 1.0):  # base ** (mu ± 6 sigma) must be a float
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    value = self._latent_to_value(self._latent_at(u))
                except OverflowError:
                    value = math.inf
            if not math.isfinite(value):
                raise SpaceError(
                    f"{self.name}: base ** (mu ± {NORMAL_TAIL:g} sigma) overflows a float; use smaller mu or sigma"
                )

    # the support -----------------------------------------------------------------------
    @cached_property
    def k_range(self) -> tuple[int, int]:
        """Indices of the first and last multiple of q in [low, high] (bounds rounded inwards)."""
        return grid_index(self.low / self.q, math.ceil), grid_index(self.high / self.q, math.floor)

    @cached_property
    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value the variable takes."""
        if self.latent == "uniform":
            if self.quantized:
                return multiple(self.k_range[0], self.q), multiple(self.k_range[1], self.q)
            return float(self.low), float(self.high)
        return (0.0 if self.log else -math.inf), math.inf

    @property
    def span(self) -> float:
        """Width of the value range (inf for the normal kinds); 0 for a fixed variable."""
        low, high = self.bounds
        return high - low

    @property
    def is_fixed(self) -> bool:
        return self.span == 0

    # latent number <-> value -------------------------------------------------------------
    @cached_property
    def _latent_bounds(self) -> tuple[float, float]:
        low, high = self.bounds
        return (math.log(low), math.log(high)) if self.log else (low, high)

    def _latent_at(self, u: float) -> float:
        if self.latent == "uniform":
            a, b = self._latent_bounds
            return a + u * (b - a)
        return self.mu + self.sigma * STANDARD_NORMAL.inv_cdf(min(max(u, U_TAIL), 1.0 - U_TAIL))

    def _latent_to_value(self, z: float) -> float:
        if not self.log:
            return z
        return math.exp(z) if self.latent == "uniform" else self.base**z

    def _snap(self, value: float) -> float:
        """Rounded to a multiple of q, then clipped to the bounds."""
        if self.quantized:
            value = multiple(round(value / self.q), self.q)
        low, high = self.bounds
        return float(min(max(value, low), high))

    def _quantile(self, value: float) -> float:
        if self.latent == "uniform":
            a, b = self._latent_bounds
            if b == a:
                return 0.0
            z = math.log(value) if self.log else value
            return (z - a) / (b - a)
        if self.log:
            if value <= 0:
                return 0.0
            z = math.log(value) / math.log(self.base)
        else:
            z = value
        return STANDARD_NORMAL.cdf((z - self.mu) / self.sigma)

    # the Variable interface ----------------------------------------------------------------
    def check(self, value) -> float:
        if not is_real(value):
            raise SpaceError(f"{self.name}: {value!r} is not a number")
        if not is_finite(value):
            raise SpaceError(f"{self.name}: {value!r} is not finite")
        x = float(value)
        if self.quantized:
            k = round(x / self.q)
            if not math.isclose(x / self.q, k, rel_tol=1e-9, abs_tol=1e-9):
                raise SpaceError(f"{self.name}: {value!r} is not a multiple of q={self.q}")
            x = multiple(k, self.q)
        low, high = self.bounds
        if self.latent == "normal" and self.log and not self.quantized and x <= 0:
            raise SpaceError(f"{self.name}: {value!r} is not greater than 0 (a {self.method} value is)")
        if not low <= x <= high:
            slack = 1e-9 * max(1.0, abs(low) if x < low else abs(high))
            if not (low - slack <= x <= high + slack):  # exp(log(high)) may exceed high by an ulp
                raise SpaceError(f"{self.name}: {value!r} is outside [{low}, {high}]")
            x = min(max(x, low), high)
        return x

    def nearest(self, value) -> float:
        if not is_finite(value):
            raise SpaceError(f"{self.name}: {value!r} is not a finite number")
        if self.log and value <= 0:
            return self.from_unit(0.0)
        return self._snap(float(value))

    @property
    def steps(self) -> int | None:
        """Steps of the lattice its encoded coordinate lives on, where it is one (quniform)."""
        if self.latent == "uniform" and self.quantized and not self.log:
            return self.k_range[1] - self.k_range[0]
        return None

    def encode(self, value) -> list[float]:
        return [min(max(self._quantile(float(value)), 0.0), 1.0)]

    def decode(self, coords: np.ndarray) -> float:
        return self.from_unit(float(coords[0]))

    def from_unit(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        return self._snap(self._latent_to_value(self._latent_at(u)))

    def grid_values(self) -> list[float]:
        if self.latent != "uniform" or not self.quantized:
            return super().grid_values()
        first, last = self.k_range
        check_grid_count(self.name, last - first + 1)
        return [multiple(k, self.q) for k in range(first, last + 1)]


class QUniform(_Distribution):
    vtype: ClassVar[str] = "quniform"
    method: ClassVar[str] = "quniform"
    params: ClassVar[tuple[str, ...]] = ("low", "high", "q")
    latent: ClassVar[str] = "uniform"


class LogUniform(_Distribution):
    vtype: ClassVar[str] = "loguniform"
    method: ClassVar[str] = "loguniform"
    params: ClassVar[tuple[str, ...]] = ("low", "high", "base")
    latent: ClassVar[str] = "uniform"
    log: ClassVar[bool] = True
    default_base: ClassVar[float] = 10  # hpogrid's default; the distribution does not depend on it


class QLogUniform(_Distribution):
    vtype: ClassVar[str] = "qloguniform"
    method: ClassVar[str] = "qloguniform"
    params: ClassVar[tuple[str, ...]] = ("low", "high", "base", "q")
    latent: ClassVar[str] = "uniform"
    log: ClassVar[bool] = True
    default_base: ClassVar[float] = 10


class Normal(_Distribution):
    vtype: ClassVar[str] = "normal"
    method: ClassVar[str] = "normal"
    params: ClassVar[tuple[str, ...]] = ("mu", "sigma")
    latent: ClassVar[str] = "normal"


class QNormal(_Distribution):
    vtype: ClassVar[str] = "qnormal"
    method: ClassVar[str] = "qnormal"
    params: ClassVar[tuple[str, ...]] = ("mu", "sigma", "q")
    latent: ClassVar[str] = "normal"


class LogNormal(_Distribution):
    vtype: ClassVar[str] = "lognormal"
    method: ClassVar[str] = "lognormal"
    params: ClassVar[tuple[str, ...]] = ("mu", "sigma", "base")
    latent: ClassVar[str] = "normal"
    log: ClassVar[bool] = True
    default_base: ClassVar[float] = math.e  # hyperopt's lognormal: exp(normal(mu, sigma))


class QLogNormal(_Distribution):
    vtype: ClassVar[str] = "qlognormal"
    method: ClassVar[str] = "qlognormal"
    params: ClassVar[tuple[str, ...]] = ("mu", "sigma", "base", "q")
    latent: ClassVar[str] = "normal"
    log: ClassVar[bool] = True
    default_base: ClassVar[float] = math.e
