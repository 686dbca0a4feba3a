"""The search-space schema every tunefleet flow uses.

A space is an ordered set of named variables. Three vocabularies describe one:

- the BO covariate schema (``Space.from_covars`` / ``to_dict``)::

    {"n_estimators": {"vtype": "int", "guess": 100, "min": 10, "max": 500},
     "min_samples_split": {"vtype": "cont", "guess": 0.3, "min": 0.0, "max": 1.0},
     "color": {"vtype": "cat", "guess": "red", "options": ["red", "green", "blue"]},
     "lr": {"vtype": "loguniform", "min": 1e-5, "max": 1e-2, "base": 10}}

- hpogrid's sweep vocabulary (``Space.from_hpogrid`` / ``to_hpogrid``)::

    {"lr": {"method": "loguniform", "dimension": {"low": 1e-5, "high": 1e-2, "base": 10}},
     "batchsize": {"method": "categorical", "dimension": {"categories": [32, 64], "grid_search": 1}}}

- Auptimizer's ``parameter_config`` (``Space.from_auptimizer``)::

    [{"name": "x", "range": [-5, 5], "type": "float"}, {"name": "c", "range": ["a", "b"], "type": "choice"}]

Every kind of variable is a class that parses, checks, encodes and samples its values,
registered under its covariate ``vtype`` in ``VARIABLE_KINDS`` and under its hpogrid
``method`` in ``METHODS``:

=========== =========== ==================================================================
vtype       method      values
=========== =========== ==================================================================
cat         categorical one of the options (``grid_search``: every option, once per sample)
cont        uniform     uniform in [min, max]
int         uniformint  an integer uniform in [min, max], both ends included
quniform    quniform    round(uniform(min, max) / q) * q, bounds rounded inwards to multiples of q
loguniform  loguniform  log-uniform in [min, max] (the bounds are values, not logarithms;
                        ``base`` does not change the distribution and is kept for the record)
qloguniform qloguniform round(loguniform(min, max) / q) * q, bounds rounded inwards
normal      normal      normal(mu, sigma)
qnormal     qnormal     round(normal(mu, sigma) / q) * q
lognormal   lognormal   base ** normal(mu, sigma) (``base`` defaults to e, as in hyperopt)
qlognormal  qlognormal  round(base ** normal(mu, sigma) / q) * q
=========== =========== ==================================================================

In the covariate schema the new kinds keep min / max for bounds and hpogrid's names for the
rest (mu, sigma, base, q); categorical variables may carry ``"grid_search": true``.

Quantised kinds give floats (as Ray Tune and hyperopt do), rounded to the digits of the
multiple so that 3 * 0.1 is 0.3.

Sampling goes through ``from_unit`` (a uniform number in [0, 1] → a value: the inverse CDF),
so random, Sobol and the BO engine's unit cube work for every kind. The BO engine sees each
numeric variable as one coordinate in [0, 1]: the quantile of its value under the variable's
distribution. For bounded kinds that is the position in [min, max] (in log space for the
log kinds); for the unbounded normal kinds it is the normal CDF, so the cube's faces are
mu ± 6 sigma (``NORMAL_TAIL``) and a uniform search over the cube is the variable's prior.
Decoding rounds every quantised kind to its multiples; inside the GP only ``int`` columns are
rounded (bayesopt's SnapToFeasible), the others are continuous coordinates there (``steps``
says where a coordinate is an evenly spaced lattice: int and quniform).

``to_tune()`` gives each variable's Ray Tune domain; Ray Tune has no log-normal, so lognormal
and qlognormal are a Ray ``Float`` domain with a sampler of this module's, which Ray's random /
grid search runs but Ray's own converters for other searchers do not know (tunefleet.search
hands those searchers the space in their own terms instead).
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from numbers import Real
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

NORMAL_TAIL = 6.0
"""Normal kinds are sampled and decoded within mu ± NORMAL_TAIL sigma (u clipped to Φ(±6))."""
_STANDARD_NORMAL = NormalDist()
_U_TAIL = _STANDARD_NORMAL.cdf(-NORMAL_TAIL)

GRID_LIMIT = 100_000
"""The most values ``grid_values`` lists, and the most points ``grid_points`` makes."""

_REQUIRED = object()


class SpaceError(ValueError):
    """A space, or a point of one, is invalid; the message names the variable."""


def is_number(value) -> bool:
    """A real number, booleans excluded (True is not 1 here)."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _article(word: str) -> str:
    return "an" if word[:1] in "aeio" else "a"  # "a uniformint"


def _multiple(k: int, q: float) -> float:
    """``k * q`` without the binary noise of the product (3 * 0.1 → 0.3)."""
    return float(f"{k * q:.15g}")


# -- reading a variable's fields ------------------------------------------------------------
# Fields have canonical names (low, high, options, grid_search, mu, sigma, base, q, guess);
# each vocabulary writes some of them differently, and messages use the names as written.
_COVARS_LABELS = {"low": "min", "high": "max"}
_HPOGRID_LABELS = {"options": "categories"}


@dataclass
class _Fields:
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

    def number(self, key: str, default=_REQUIRED, *, integer: bool = False, positive: bool = False):
        value = self.values.get(key)
        if value is None:
            if default is _REQUIRED:
                raise self.error(f"{self.label(key)} is required for {self.vocabulary} {self.kind}")
            return default
        if not is_number(value) or not math.isfinite(value):
            raise self.error(f"{self.label(key)} must be a finite number, got {value!r}")
        if integer and value != int(value):
            raise self.error(
                f"{self.label(key)} of {_article(self.kind)} {self.kind} variable must be an integer, got {value!r}"
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
        return frozenset({"vtype", "guess", *(_COVARS_LABELS.get(p, p) for p in cls.params)})

    @classmethod
    def hpogrid_fields(cls) -> tuple[str, ...]:
        """The keys its hpogrid ``dimension`` may hold."""
        return tuple(_HPOGRID_LABELS.get(p, p) for p in cls.params)

    @classmethod
    def read(cls, fields: _Fields) -> Variable:
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

    def to_tune(self):
        """The equivalent Ray Tune search-space domain."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The covariate form (``Space.from_covars`` reads it back)."""
        out = {"vtype": self.vtype, "guess": self.guess}
        out.update({_COVARS_LABELS.get(p, p): self._param(p) for p in self.params if self._emit(p)})
        return out

    def to_hpogrid(self) -> dict:
        """hpogrid's form ``{"method": ..., "dimension": {...}}`` (no guess: hpogrid has none)."""
        return {
            "method": self.method,
            "dimension": {_HPOGRID_LABELS.get(p, p): self._param(p) for p in self.params if self._emit(p)},
        }

    def _param(self, key: str):
        return getattr(self, key)

    def _emit(self, key: str) -> bool:
        return True


@dataclass(frozen=True)
class _Numeric(Variable):
    low: float
    high: float

    params: ClassVar[tuple[str, ...]] = ("low", "high")

    def _cast(self, value):
        raise NotImplementedError

    @classmethod
    def read(cls, fields: _Fields) -> _Numeric:
        low, high = fields.bounds(integer=cls is Integer)
        unchecked = cls(fields.name, None, low, high)
        low, high = unchecked._cast(low), unchecked._cast(high)
        guess = fields.values.get("guess")
        if guess is None:
            guess = unchecked._cast(round((low + high) / 2) if cls is Integer else (low + high) / 2)
        return cls(fields.name, _checked_guess(unchecked, guess), low, high)

    @property
    def is_fixed(self) -> bool:
        return self.span == 0

    def check(self, value):
        if not is_number(value):
            raise SpaceError(f"{self.name}: {value!r} is not a number")
        if not math.isfinite(value):
            raise SpaceError(f"{self.name}: {value!r} is not finite")
        if not self.low <= value <= self.high:
            raise SpaceError(f"{self.name}: {value!r} is outside [{self.low}, {self.high}]")
        return self._cast(value)

    def nearest(self, value):
        if not is_number(value) or not math.isfinite(value):
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

    def to_tune(self):
        from ray import tune

        return tune.uniform(self.low, self.high)


@dataclass(frozen=True)
class Integer(_Numeric):
    vtype: ClassVar[str] = "int"
    method: ClassVar[str] = "uniformint"

    def check(self, value) -> int:
        if is_number(value) and math.isfinite(value) and value != int(value):
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
        _check_grid_count(self.name, self.span + 1)
        return list(range(self.low, self.high + 1))

    def to_tune(self):
        from ray import tune

        return tune.randint(self.low, self.high + 1)  # Ray's upper bound is exclusive


@dataclass(frozen=True)
class Categorical(Variable):
    options: tuple
    grid_search: bool = False

    vtype: ClassVar[str] = "cat"
    method: ClassVar[str] = "categorical"
    params: ClassVar[tuple[str, ...]] = ("options", "grid_search")

    @classmethod
    def read(cls, fields: _Fields) -> Categorical:
        name, options = fields.name, fields.values.get("options")
        if not isinstance(options, list) or not options:
            raise fields.error(
                f"{_article(fields.kind)} {fields.kind} variable needs a non-empty list of {fields.label('options')}"
            )
        for option in options:
            if not isinstance(option, (str, bool, Real)) or (is_number(option) and not math.isfinite(option)):
                raise fields.error(
                    f"{fields.label('options')} must be strings, finite numbers or booleans, got {option!r}"
                )
        grid_search = fields.values.get("grid_search")
        grid_search = False if grid_search is None else grid_search
        if grid_search not in (True, False) or not isinstance(grid_search, (bool, int)):
            raise fields.error(f"grid_search must be true or false (or 1 or 0), got {grid_search!r}")
        unchecked = cls(name, None, tuple(options))
        for i, option in enumerate(options):
            if unchecked._index(option) != i:
                raise fields.error(f"duplicate option {option!r}")
        guess = fields.values.get("guess")
        guess = _checked_guess(unchecked, options[0] if guess is None else guess)
        return cls(name, guess, tuple(options), bool(grid_search))

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

    @property
    def is_grid(self) -> bool:
        return self.grid_search

    @property
    def is_fixed(self) -> bool:
        return len(self.options) == 1

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

    def grid_values(self) -> list:
        return list(self.options)

    def to_tune(self):
        from ray import tune

        return tune.grid_search(list(self.options)) if self.grid_search else tune.choice(list(self.options))

    def _param(self, key: str):
        return list(self.options) if key == "options" else self.grid_search

    def _emit(self, key: str) -> bool:
        return key != "grid_search" or self.grid_search  # written only when set


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
    def read(cls, fields: _Fields) -> _Distribution:
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
        return cls(name=fields.name, guess=_checked_guess(unchecked, guess), **kwargs)

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
        return _grid_index(self.low / self.q, math.ceil), _grid_index(self.high / self.q, math.floor)

    @cached_property
    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value the variable takes."""
        if self.latent == "uniform":
            if self.quantized:
                return _multiple(self.k_range[0], self.q), _multiple(self.k_range[1], self.q)
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
        return self.mu + self.sigma * _STANDARD_NORMAL.inv_cdf(min(max(u, _U_TAIL), 1.0 - _U_TAIL))

    def _latent_to_value(self, z: float) -> float:
        if not self.log:
            return z
        return math.exp(z) if self.latent == "uniform" else self.base**z

    def _snap(self, value: float) -> float:
        """Rounded to a multiple of q, then clipped to the bounds."""
        if self.quantized:
            value = _multiple(round(value / self.q), self.q)
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
        return _STANDARD_NORMAL.cdf((z - self.mu) / self.sigma)

    # the Variable interface ----------------------------------------------------------------
    def check(self, value) -> float:
        if not is_number(value):
            raise SpaceError(f"{self.name}: {value!r} is not a number")
        if not math.isfinite(value):
            raise SpaceError(f"{self.name}: {value!r} is not finite")
        x = float(value)
        if self.quantized:
            k = round(x / self.q)
            if not math.isclose(x / self.q, k, rel_tol=1e-9, abs_tol=1e-9):
                raise SpaceError(f"{self.name}: {value!r} is not a multiple of q={self.q}")
            x = _multiple(k, self.q)
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
        if not is_number(value) or not math.isfinite(value):
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
        _check_grid_count(self.name, last - first + 1)
        return [_multiple(k, self.q) for k in range(first, last + 1)]

    def to_tune(self):
        from ray import tune

        low, high = self.bounds
        if self.method == "quniform":
            return tune.quniform(low, high, self.q)
        if self.method == "loguniform":
            return tune.loguniform(low, high)  # Ray's base argument is deprecated: it changes nothing
        if self.method == "qloguniform":
            return tune.qloguniform(low, high, self.q)
        if self.method == "normal":
            return tune.randn(self.mu, self.sigma)
        if self.method == "qnormal":
            return tune.qrandn(self.mu, self.sigma, self.q)
        # Ray Tune has no log-normal domain: a Float domain with a sampler of ours (see _LogNormalSampler)
        from ray.tune.search.sample import Float

        domain = Float(None, None)
        domain.set_sampler(_LogNormalSampler(self.mu, self.sigma, self.base))
        return domain.quantized(self.q) if self.quantized else domain


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


VARIABLE_KINDS: dict[str, type[Variable]] = {
    kind.vtype: kind
    for kind in (
        Integer,
        Continuous,
        Categorical,
        QUniform,
        LogUniform,
        QLogUniform,
        Normal,
        QNormal,
        LogNormal,
        QLogNormal,
    )
}
"""The covariate ``vtype`` of each kind."""

METHODS: dict[str, type[Variable]] = {
    kind.method: kind
    for kind in (
        Categorical,
        Continuous,
        Integer,
        QUniform,
        LogUniform,
        QLogUniform,
        Normal,
        QNormal,
        LogNormal,
        QLogNormal,
    )
}
"""hpogrid's ``method`` of each kind, in the order of hpogrid's documentation."""


class _LogNormalSampler:
    """A Ray Tune sampler (duck-typed: Ray calls ``sample``) of base ** normal(mu, sigma).

    Ray's own searchers do not know it; tunefleet's factories (tunefleet.search) give
    hyperopt, Optuna and BOHB the space in their own terms instead.
    """

    def __init__(self, mu: float, sigma: float, base: float):
        self.mu, self.sigma, self.base = mu, sigma, base

    def sample(self, domain, config=None, size: int = 1, random_state=None):
        rng = random_state if random_state is not None else np.random
        values = np.power(self.base, rng.normal(self.mu, self.sigma, size=size))
        return [float(v) for v in values] if size > 1 else float(values[0])

    def __str__(self) -> str:
        return "LogNormal"


def _grid_index(scaled: float, round_fn) -> int:
    """``scaled`` rounded inwards to an integer, or to the integer it is within float noise of."""
    nearest = round(scaled)
    return int(nearest) if math.isclose(scaled, nearest, rel_tol=1e-9, abs_tol=1e-9) else int(round_fn(scaled))


def _check_grid_count(name: str, count: int) -> None:
    if count > GRID_LIMIT:
        raise SpaceError(f"{name}: {count} values are more than a grid can list ({GRID_LIMIT})")


def _checked_guess(variable: Variable, guess):
    try:
        return variable.check(guess)
    except SpaceError as exc:
        reason = str(exc).split(": ", 1)[1]
        raise SpaceError(f"{variable.name}: guess is invalid: {reason}") from exc


def _check_name(name) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpaceError(
            f"{name!r}: a variable name must start with a letter or _ and hold only letters, digits, _ . -"
        )


def _parse_variable(name, spec) -> Variable:
    """One variable of the covariate schema."""
    _check_name(name)
    if not isinstance(spec, dict):
        raise SpaceError(f"{name}: must be an object with vtype, guess and min/max or options")
    kind = VARIABLE_KINDS.get(spec.get("vtype"))
    if kind is None:
        raise SpaceError(f"{name}: unknown vtype {spec.get('vtype')!r}; use one of {', '.join(VARIABLE_KINDS)}")
    unexpected = sorted(set(spec) - kind.covars_fields())
    if unexpected:
        raise SpaceError(f"{name}: unexpected field(s) {', '.join(unexpected)} for vtype {kind.vtype}")
    values = {p: spec.get(_COVARS_LABELS.get(p, p)) for p in (*kind.params, "guess")}
    return kind.read(_Fields(name, values, _COVARS_LABELS, kind.vtype, "vtype"))


def _parse_hpogrid_variable(name, spec) -> Variable:
    """One variable of hpogrid's vocabulary: ``{"method": ..., "dimension": {...}}``."""
    _check_name(name)
    if not isinstance(spec, dict):
        raise SpaceError(f'{name}: must be an object {{"method": ..., "dimension": {{...}}}}, got {spec!r}')
    unexpected = sorted(str(key) for key in set(spec) - {"method", "dimension"})
    if unexpected:
        raise SpaceError(f"{name}: unexpected field(s) {', '.join(unexpected)}; a variable has method and dimension")
    method = spec.get("method")
    kind = METHODS.get(method) if isinstance(method, str) else None
    if kind is None:
        what = "no method" if method is None else f"unknown method {method!r}"
        raise SpaceError(f"{name}: {what}; use one of {', '.join(METHODS)}")
    dimension = spec.get("dimension")
    if dimension is None:
        raise SpaceError(f"{name}: dimension is required for method {method} (with {', '.join(kind.hpogrid_fields())})")
    if not isinstance(dimension, dict):
        raise SpaceError(
            f"{name}: dimension must be an object with {', '.join(kind.hpogrid_fields())}, got {dimension!r}"
        )
    unexpected = sorted(str(key) for key in set(dimension) - set(kind.hpogrid_fields()))
    if unexpected:
        raise SpaceError(
            f"{name}: unexpected field(s) {', '.join(unexpected)} in the dimension of method {method} "
            f"(it takes {', '.join(kind.hpogrid_fields())})"
        )
    values = {p: dimension.get(_HPOGRID_LABELS.get(p, p)) for p in kind.params}
    return kind.read(_Fields(name, values, _HPOGRID_LABELS, method, "method"))


_AUPTIMIZER_FIELDS = frozenset({"name", "range", "type", "interval", "n"})


def _parse_auptimizer_parameter(index: int, spec, grid: bool) -> Variable:
    if not isinstance(spec, dict):
        raise SpaceError(f"parameter_config[{index}]: must be an object with name, range and type, got {spec!r}")
    name = spec.get("name")
    if name is None:
        raise SpaceError(f"parameter_config[{index}]: name is required")
    _check_name(name)
    unexpected = sorted(str(key) for key in set(spec) - _AUPTIMIZER_FIELDS)
    if unexpected:
        raise SpaceError(f"{name}: unexpected field(s) {', '.join(unexpected)}; use name, range, type (interval, n)")
    vtype, values = spec.get("type"), spec.get("range")
    if vtype not in ("float", "int", "choice"):
        raise SpaceError(f"{name}: unknown type {vtype!r}; use one of float, int, choice")
    if vtype == "choice":
        labels = {"options": "values in range"}
        fields = _Fields(name, {"options": values, "grid_search": grid}, labels, "choice", "type")
        return Categorical.read(fields)
    if not isinstance(values, list) or len(values) != 2:
        raise SpaceError(f"{name}: range of a {vtype} parameter must be [min, max], got {values!r}")
    fields = _Fields(
        name, {"low": values[0], "high": values[1]}, {"low": "range[0]", "high": "range[1]"}, vtype, "type"
    )
    low, high = fields.bounds(integer=vtype == "int")
    interval = _auptimizer_interval(name, spec, vtype, low, high)
    if not grid:
        kind = Integer if vtype == "int" else Continuous
        return kind.read(fields)
    # Auptimizer's sequence proposer: min, min + interval, ... up to max
    count = math.floor((high - low) / interval + 1e-9) + 1
    _check_grid_count(name, count)
    if vtype == "int":
        options = list(range(int(low), int(high) + 1, int(interval)))
    else:
        options = [float(f"{low + k * interval:.15g}") for k in range(count)]
    return Categorical(name, options[0], tuple(options), grid_search=True)


def _auptimizer_interval(name: str, spec: dict, vtype: str, low, high) -> float:
    """Auptimizer's grid step: ``interval``, else (max - min) / (n - 1), else 1."""
    interval, n = spec.get("interval"), spec.get("n")
    if interval is not None:
        if not is_number(interval) or not math.isfinite(interval) or interval <= 0:
            raise SpaceError(f"{name}: interval must be a number greater than 0, got {interval!r}")
        if vtype == "int" and interval != int(interval):
            raise SpaceError(f"{name}: interval of an int parameter must be an integer, got {interval!r}")
        return interval
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise SpaceError(f"{name}: n must be an integer of at least 2, got {n!r}")
        step = (high - low) / (n - 1)
        if vtype == "int":
            step = math.floor(step)
        if step <= 0:
            raise SpaceError(f"{name}: n={n} values do not fit in [{low}, {high}] with a step greater than 0")
        return step
    return 1


# -- the space ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Space:
    """An immutable, ordered set of variables; points are dicts ``{name: value}``."""

    variables: tuple[Variable, ...]
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.variables:
            raise SpaceError("covars: the space has no variables")
        by_name = {}
        for variable in self.variables:
            if variable.name in by_name:
                raise SpaceError(f"{variable.name}: defined twice")
            by_name[variable.name] = variable
        object.__setattr__(self, "_by_name", by_name)

    # the three vocabularies -----------------------------------------------------------------
    @classmethod
    def from_covars(cls, covars: dict) -> Space:
        """Parse and validate the covariate schema (the inverse of ``to_dict``)."""
        if not isinstance(covars, dict):
            raise SpaceError(f"covars must be an object {{name: {{vtype, guess, min, max, options}}}}, got {covars!r}")
        return cls(tuple(_parse_variable(name, spec) for name, spec in covars.items()))

    def to_dict(self) -> dict:
        """The covariate schema, guesses included: ``from_covars`` gives this space back."""
        return {v.name: v.to_dict() for v in self.variables}

    @classmethod
    def from_hpogrid(cls, search_space: dict) -> Space:
        """Parse and validate hpogrid's search space ``{name: {"method": ..., "dimension": {...}}}``.

        Guesses (the BO engine's first point) are the medians of the distributions and the
        first categories."""
        if not isinstance(search_space, dict):
            raise SpaceError(
                f'search space must be an object {{name: {{"method": ..., "dimension": {{...}}}}}}, got {search_space!r}'
            )
        if not search_space:
            raise SpaceError("search space: no variables")
        return cls(tuple(_parse_hpogrid_variable(name, spec) for name, spec in search_space.items()))

    def to_hpogrid(self) -> dict:
        """hpogrid's form; ``from_hpogrid`` gives this space back but for guesses (hpogrid has none)."""
        return {v.name: v.to_hpogrid() for v in self.variables}

    @classmethod
    def from_auptimizer(cls, parameter_config: list, grid: bool = False) -> Space:
        """Parse Auptimizer's ``parameter_config``: ``[{"name", "range", "type": float|int|choice}]``.

        ``float`` is uniform in ``range`` = [min, max], ``int`` uniform over the integers of
        [min, max] (both included, as Auptimizer draws them), ``choice`` one of ``range``.
        ``grid=True`` reads it as Auptimizer's ``sequence`` proposer does: every variable
        becomes a grid dimension (categorical with grid_search); numbers go from min to max
        by ``interval``, else by (max - min) / (``n`` - 1) (floored for int), else by 1.
        Without ``grid`` the ``interval`` and ``n`` fields are checked but play no part.
        """
        if not isinstance(parameter_config, list):
            raise SpaceError(f"parameter_config must be a list of {{name, range, type}}, got {parameter_config!r}")
        if not parameter_config:
            raise SpaceError("parameter_config: no parameters")
        return cls(tuple(_parse_auptimizer_parameter(i, spec, grid) for i, spec in enumerate(parameter_config)))

    @classmethod
    def parse(cls, spec) -> Space:
        """Any of the three vocabularies: a list is Auptimizer's, a variable with ``method`` or
        ``dimension`` hpogrid's, else the covariate schema."""
        if isinstance(spec, list):
            return cls.from_auptimizer(spec)
        if isinstance(spec, dict) and spec:
            hpogrid = [isinstance(v, dict) and ("method" in v or "dimension" in v) for v in spec.values()]
            if all(hpogrid):
                return cls.from_hpogrid(spec)
            if any(hpogrid):
                raise SpaceError("search space mixes hpogrid variables (method, dimension) with covariates (vtype)")
        return cls.from_covars(spec)

    def to_tune(self) -> dict:
        """Ray Tune's ``param_space``: one domain per variable (grid_search for grid variables)."""
        return {v.name: v.to_tune() for v in self.variables}

    # the variables --------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    def __getitem__(self, name: str) -> Variable:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{name}: not a variable of this space ({', '.join(self.names)})") from None

    @property
    def dim(self) -> int:
        """Width of the unit-cube encoding."""
        return sum(v.width for v in self.variables)

    @property
    def grid_variables(self) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if v.is_grid)

    def grid_size(self) -> int:
        """Points in one pass of the grid (1 when no variable is a grid dimension)."""
        return math.prod(len(v.grid_values()) for v in self.grid_variables)

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

    # the unit-cube encoding -------------------------------------------------------------------
    def encode(self, points: list[dict]) -> np.ndarray:
        """(n, dim) rows in [0, 1]: each number as its quantile (see the module's docstring), categories one-hot."""
        rows = [[c for v in self.variables for c in v.encode(point[v.name])] for point in points]
        return np.array(rows, dtype=float).reshape(len(points), self.dim)

    def decode(self, X: np.ndarray) -> list[dict]:
        """Points from encoded rows: numbers rounded to their lattice, categories by their largest coordinate."""
        starts = self.column_starts()
        return [
            {v.name: v.decode(row[start : start + v.width]) for v, start in zip(self.variables, starts)}
            for row in np.atleast_2d(X)
        ]

    def column_starts(self) -> list[int]:
        """First encoded column of each variable."""
        return [int(s) for s in np.cumsum([0] + [v.width for v in self.variables])[:-1]]

    # sampling -----------------------------------------------------------------------------------
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
        """``n`` independent points, each variable drawn from its own distribution."""
        return self._from_unit(np.random.default_rng(seed).random((n, len(self.variables))))

    def random_points(self, n: int, seed: int | np.random.Generator | None = None) -> list[dict]:
        """``random``: grid variables are drawn like any categorical (one of their values)."""
        return self.random(n, seed)

    def grid_points(self, seed: int | np.random.Generator | None = None) -> list[dict]:
        """One pass of a grid search, as Ray Tune's grid search runs it: the cartesian product
        of the grid variables' values (the first grid variable varies slowest), the other
        variables drawn at random, afresh for each grid point. A space without grid variables
        gives one random point."""
        grid = self.grid_variables
        size = self.grid_size()
        if size > GRID_LIMIT:
            raise SpaceError(f"{', '.join(v.name for v in grid)}: the grid has {size} points, more than {GRID_LIMIT}")
        others = [v for v in self.variables if not v.is_grid]
        rng = np.random.default_rng(seed)
        points = []
        for combination in itertools.product(*(v.grid_values() for v in grid)):
            values = dict(zip((v.name for v in grid), combination))
            values.update({v.name: v.from_unit(float(u)) for v, u in zip(others, rng.random(len(others)))})
            points.append({name: values[name] for name in self.names})
        return points

    def _from_unit(self, U: np.ndarray) -> list[dict]:
        return [{v.name: v.from_unit(float(u)) for v, u in zip(self.variables, row)} for row in U]
