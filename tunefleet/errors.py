"""The one root of tunefleet's errors, and the kinds every interface maps.

Every error tunefleet raises on purpose is a ``TunefleetError`` of one kind; its message
names the field, the value and the fix. The CLI catches the root (``error: ...``, exit 1),
the HTTP API answers each kind with its status, and tasks retry only what may succeed
next time (``tasks.retries``):

============== ============ ===== ===========================================================
kind           also a       HTTP  what it means
============== ============ ===== ===========================================================
InvalidInput   ValueError   422   the request, config, data or code reference cannot be used
NotFound       LookupError  404   no such record (another user's is reported the same way)
Conflict       -            409   the request contradicts what is stored (a duplicate, a state)
Unavailable    -            503   a service tunefleet needs did not answer; retrying may help
AuthError      -            401   credentials or a token were not accepted
Forbidden      -            403   the caller is known but may not do this (an admin's action)
TooLarge       -            413   a request, upload or dataset over its limit (the settings name it)
TooManyRequests -           429   slow down: ``retry_after`` seconds (sign-in throttling)
============== ============ ===== ===========================================================

Each capability's errors subclass a kind (``SpaceError(InvalidInput)``,
``RecordNotFound(NotFound)``, ...), so code catches what it can handle and interfaces
need no list of classes.
"""

from __future__ import annotations


class TunefleetError(Exception):
    """An error tunefleet raises on purpose; the message says what is wrong and how to fix it."""


class InvalidInput(TunefleetError, ValueError):
    """Input that cannot be used as given: the same input fails the same way every time."""


class NotFound(TunefleetError, LookupError):
    """No such record, artifact or name."""


class Conflict(TunefleetError):
    """The request contradicts what is stored: a duplicate, or a record in the wrong state."""


class Unavailable(TunefleetError):
    """A service tunefleet relies on (Prefect, a deployment's work pool, ...) did not answer."""


class AuthError(TunefleetError):
    """Credentials or a token were not accepted; the message says why, without telling which user exists."""


class Forbidden(TunefleetError):
    """The caller is signed in but may not do this (it needs the admin role, or the operator's CLI)."""


class TooLarge(TunefleetError):
    """A request body, upload or dataset is larger than its limit; the message names the setting."""


class TooManyRequests(TunefleetError):
    """Too many attempts too fast; ``retry_after`` says after how many seconds to try again."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def caused_by_interrupt(error: BaseException | None) -> bool:
    """Whether ``error`` is a KeyboardInterrupt, or was raised while one was being handled (Prefect's
    engine raises ``ValueError('Task run is not set')`` when Ctrl-C lands while it creates a task run)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
