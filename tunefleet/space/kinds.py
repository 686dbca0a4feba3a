"""Every kind of variable, declared once.

A new kind is a ``Variable`` subclass added to ``KINDS``; each external library's converter
in ``tunefleet.sweep.search`` then needs an entry for it, and
``tests/core/test_space_converters.py`` fails until every converter has one.
"""

from __future__ import annotations

from tunefleet.space.distributions import LogNormal, LogUniform, Normal, QLogNormal, QLogUniform, QNormal, QUniform
from tunefleet.space.uniform import Categorical, Continuous, Integer
from tunefleet.space.variable import Variable

KINDS: tuple[type[Variable], ...] = (
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
"""Every kind, in the order of hpogrid's documentation."""

METHODS: dict[str, type[Variable]] = {kind.method: kind for kind in KINDS}
"""hpogrid's ``method`` of each kind."""

_SEED_KINDS = (Integer, Continuous, Categorical)  # the BO seed's own three vtypes lead its list
VARIABLE_KINDS: dict[str, type[Variable]] = {
    kind.vtype: kind for kind in (*_SEED_KINDS, *(kind for kind in KINDS if kind not in _SEED_KINDS))
}
"""The covariate ``vtype`` of each kind."""
