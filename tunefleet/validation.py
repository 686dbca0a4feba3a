"""The one copy of each check of a value, used wherever tunefleet reads input.

Booleans are never numbers here (``True`` is not 1), numpy scalars are numbers like the
Python ones, and bounds are inclusive. The predicates answer; callers raise the error of
their capability with a message that names the field (the messages are theirs: they say
what the field means).
"""

from __future__ import annotations

import math
import re
from numbers import Integral, Real

import numpy as np

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
"""A record's name (configs, projects, uploaded models): 1-100 letters, digits, ``_ . -``, starting
with a letter or digit."""

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}")
"""A search-space variable: a Python-like name that may hold ``.`` and ``-`` (it becomes a
keyword argument or a config key), up to 200 characters."""

MAX_ID = 2**63 - 1
"""The largest record id (PostgreSQL's BIGINT; SQLite's INTEGER): ids are 1 .. MAX_ID."""

POOL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,99}")
"""A work pool (hardware tag): letters, digits, ``_`` and ``-``."""


def is_real(value) -> bool:
    """A real number: int, float or a numpy number; booleans are not."""
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def is_finite(value) -> bool:
    """A real number that is neither infinite nor NaN (nor an int too large for a float)."""
    try:
        return is_real(value) and math.isfinite(value)
    except OverflowError:
        return False


def is_int(value, low: int | None = None, high: int | None = None) -> bool:
    """An integer (int or numpy integer, not a bool) in [low, high] (either bound may be left open)."""
    if not isinstance(value, Integral) or isinstance(value, (bool, np.bool_)):
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def is_name(value, pattern: re.Pattern = NAME) -> bool:
    """A string that ``pattern`` (default: a record's name) matches whole: no trailing newline slips through."""
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def is_id(value) -> bool:
    """A record id: an integer in [1, MAX_ID] (larger ones overflow the databases' integers)."""
    return is_int(value, 1, MAX_ID)


def as_id(value) -> int | None:
    """``value`` (an int, or a string of ASCII digits: "²" is a digit to ``str.isdigit``, not here) as a
    record id, or None when it is not one."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= 19):
            return None
        value = int(value)
    return value if is_id(value) else None
