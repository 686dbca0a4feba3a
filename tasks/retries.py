"""The one retry policy of tunefleet's tasks.

Records and artifacts live on other machines: a task that touches them retries what a restarting
database or a dropped connection makes fail. Bad input fails the same way every time, so it is
never retried: a ``TunefleetError`` of any kind but ``Unavailable``, or a ``ValueError`` /
``LookupError`` from a library (a record's data that a library refuses).
"""

from __future__ import annotations

from tunefleet.errors import TunefleetError, Unavailable


def retry_unless_bad_input(task, task_run, state) -> bool:
    """Prefect's ``retry_condition_fn``: retry only what may succeed next time."""
    try:
        state.result()
    except Unavailable:
        return True
    except (TunefleetError, ValueError, LookupError):
        return False
    except Exception:
        return True
    return True


RECORDS = dict(retries=3, retry_delay_seconds=[1, 4, 10], retry_condition_fn=retry_unless_bad_input)
"""For tasks that read or write records (a few seconds of a restarting PostgreSQL are covered)."""

DATA = dict(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_unless_bad_input)
"""For tasks that load data or models from the store (fewer, shorter retries: they cost more)."""
