"""What can go wrong with a trainable: before any trial (it cannot be loaded or run as configured),
and in a trial (it raised, or reported something that is not a result)."""

from __future__ import annotations

from tunefleet.errors import InvalidInput, TunefleetError


class TrainableError(InvalidInput):
    """The trainable cannot be loaded or cannot run as configured; raised before any trial starts."""


class ScriptNotFound(TrainableError):
    """The training script is not where model_config and scripts_path say; the message names the paths."""


class ModelNotFound(TrainableError):
    """The script does not define the function or class model_config names; the message names both."""


class TrialError(TunefleetError, RuntimeError):
    """A trial failed. ``traceback`` holds the trainable's traceback text when it raised."""

    def __init__(self, message: str, traceback: str | None = None):
        super().__init__(message)
        self.traceback = traceback

    def __reduce__(self):
        return (type(self), (self.args[0], self.traceback))


class MetricNotReported(TrialError):
    """A result lacks the sweep's metric (or the trainable reported nothing); the message names
    the metric and the keys it did report."""


class InvalidResult(TrialError):
    """A result is not a dict of metrics, a number or [main, extra, ...] as multi_res_labels says."""
