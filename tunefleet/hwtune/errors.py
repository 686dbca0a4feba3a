"""The hardware-aware tuning's error: one kind, ``InvalidInput``, whose message names the field and the fix."""

from tunefleet.errors import InvalidInput


class HwTuneError(InvalidInput):
    """A hardware-aware tuning that cannot run as asked; the message names the field and the fix."""
