"""Errors of the benchmark core: each message says exactly what is wrong with the input."""

from __future__ import annotations

from tunefleet.errors import InvalidInput


class BenchError(InvalidInput):
    """Input the benchmark cannot use as given."""


class ModelError(BenchError):
    """The model bytes are not a fitted scikit-learn estimator of the declared task."""


class DataError(BenchError):
    """The validation data does not fit the model (columns, labels, values)."""


class NotApplicable(BenchError):
    """An optimisation or platform does not apply to this model; the message is the reason."""
