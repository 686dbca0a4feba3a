"""``Space``: an ordered set of variables, read from any vocabulary, encoded, sampled, enumerated."""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from tunefleet.space.variable import GRID_LIMIT, MAX_VARIABLES, SpaceError, Variable
from tunefleet.space.vocabularies import parse_auptimizer_parameter, parse_hpogrid_variable, parse_variable


@dataclass(frozen=True)
class Space:
    """An immutable, ordered set of variables; points are dicts ``{name: value}``."""

    variables: tuple[Variable, ...]
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.variables:
            raise SpaceError("covars: the space has no variables")
        if len(self.variables) > MAX_VARIABLES:
            raise SpaceError(f"covars: the space has {len(self.variables)} variables, more than {MAX_VARIABLES}")
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
        return cls(tuple(parse_variable(name, spec) for name, spec in covars.items()))

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
        return cls(tuple(parse_hpogrid_variable(name, spec) for name, spec in search_space.items()))

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
        return cls(tuple(parse_auptimizer_parameter(i, spec, grid) for i, spec in enumerate(parameter_config)))

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
