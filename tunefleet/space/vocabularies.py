"""The three vocabularies a space is written in: the BO covariates, hpogrid's search space and
Auptimizer's ``parameter_config``; each parser reads one variable into its kind."""

from __future__ import annotations

import math

from tunefleet.space.kinds import METHODS, VARIABLE_KINDS
from tunefleet.space.uniform import Categorical, Continuous, Integer
from tunefleet.space.variable import COVARS_LABELS, HPOGRID_LABELS, Fields, SpaceError, Variable, check_grid_count
from tunefleet.validation import VARIABLE_NAME, is_finite, is_int, is_name


def _check_name(name) -> None:
    if not is_name(name, VARIABLE_NAME):
        raise SpaceError(
            f"{name!r}: a variable name must start with a letter or _ and hold only letters, digits, _ . -"
        )


def parse_variable(name, spec) -> Variable:
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
    values = {p: spec.get(COVARS_LABELS.get(p, p)) for p in (*kind.params, "guess")}
    return kind.read(Fields(name, values, COVARS_LABELS, kind.vtype, "vtype"))


def parse_hpogrid_variable(name, spec) -> Variable:
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
    values = {p: dimension.get(HPOGRID_LABELS.get(p, p)) for p in kind.params}
    return kind.read(Fields(name, values, HPOGRID_LABELS, method, "method"))


_AUPTIMIZER_FIELDS = frozenset({"name", "range", "type", "interval", "n"})


def parse_auptimizer_parameter(index: int, spec, grid: bool) -> Variable:
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
        fields = Fields(name, {"options": values, "grid_search": grid}, labels, "choice", "type")
        return Categorical.read(fields)
    if not isinstance(values, list) or len(values) != 2:
        raise SpaceError(f"{name}: range of a {vtype} parameter must be [min, max], got {values!r}")
    fields = Fields(name, {"low": values[0], "high": values[1]}, {"low": "range[0]", "high": "range[1]"}, vtype, "type")
    low, high = fields.bounds(integer=vtype == "int")
    interval = _auptimizer_interval(name, spec, vtype, low, high)
    if not grid:
        kind = Integer if vtype == "int" else Continuous
        return kind.read(fields)
    # Auptimizer's sequence proposer: min, min + interval, ... up to max
    count = math.floor((high - low) / interval + 1e-9) + 1
    check_grid_count(name, count)
    if vtype == "int":
        options = list(range(int(low), int(high) + 1, int(interval)))
    else:
        options = [float(f"{low + k * interval:.15g}") for k in range(count)]
    return Categorical(name, options[0], tuple(options), grid_search=True)


def _auptimizer_interval(name: str, spec: dict, vtype: str, low, high) -> float:
    """Auptimizer's grid step: ``interval``, else (max - min) / (n - 1), else 1."""
    interval, n = spec.get("interval"), spec.get("n")
    if interval is not None:
        if not is_finite(interval) or interval <= 0:
            raise SpaceError(f"{name}: interval must be a number greater than 0, got {interval!r}")
        if vtype == "int" and interval != int(interval):
            raise SpaceError(f"{name}: interval of an int parameter must be an integer, got {interval!r}")
        return interval
    if n is not None:
        if not is_int(n, low=2):
            raise SpaceError(f"{name}: n must be an integer of at least 2, got {n!r}")
        step = (high - low) / (n - 1)
        if vtype == "int":
            step = math.floor(step)
        if step <= 0:
            raise SpaceError(f"{name}: n={n} values do not fit in [{low}, {high}] with a step greater than 0")
        return step
    return 1
