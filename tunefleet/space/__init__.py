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
declared once in ``KINDS`` (``kinds.py``), under its covariate ``vtype`` in ``VARIABLE_KINDS`` and
its hpogrid ``method`` in ``METHODS``:

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

How each external library (Ray Tune's domains, Optuna, hyperopt, ConfigSpace) sees a kind is
that library's converter, one module each in ``tunefleet.sweep.search``.

The package follows these sections: ``variable`` (the contract of a kind, reading fields),
``uniform`` and ``distributions`` (the kinds), ``kinds`` (every kind, declared once),
``vocabularies`` (the three parsers), ``space`` (``Space``).
"""

from tunefleet.space.distributions import LogNormal, LogUniform, Normal, QLogNormal, QLogUniform, QNormal, QUniform
from tunefleet.space.kinds import KINDS, METHODS, VARIABLE_KINDS
from tunefleet.space.space import Space
from tunefleet.space.uniform import Categorical, Continuous, Integer
from tunefleet.space.variable import GRID_LIMIT, MAX_OPTIONS, MAX_VARIABLES, NORMAL_TAIL, SpaceError, Variable

__all__ = [
    "GRID_LIMIT",
    "KINDS",
    "MAX_OPTIONS",
    "MAX_VARIABLES",
    "METHODS",
    "NORMAL_TAIL",
    "VARIABLE_KINDS",
    "Categorical",
    "Continuous",
    "Integer",
    "LogNormal",
    "LogUniform",
    "Normal",
    "QLogNormal",
    "QLogUniform",
    "QNormal",
    "QUniform",
    "Space",
    "SpaceError",
    "Variable",
]
