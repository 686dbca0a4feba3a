"""What every route needs: the process's services and who the request acts as.

Every route but signing in needs a signed-in user (``signed_in``); the ridge routes may also
serve the anonymous caller when the operator opted in (``TUNEFLEET_ANONYMOUS=ridge``:
``ridge_caller``). A disabled user's tokens stop working at once: each request reads the user.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field

from tunefleet import auth, users
from tunefleet.db import Caller, Database, RecordNotFound
from tunefleet.errors import AuthError
from tunefleet.settings import Settings
from tunefleet.storage import ArtifactStore
from tunefleet.users import User


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    store: ArtifactStore
    launcher: object
    signing_key: str
    throttle: users.SignInThrottle
    anonymous: Caller | None  # the anonymous caller, where the operator opened the ridge routes to it


class ErrorBody(BaseModel):
    """Every error the API answers."""

    error: str = Field(description="what is wrong, naming the field, the value or the setting, and the fix")


ERROR_RESPONSES = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "the body is not valid JSON, or not of the declared form"),
        (401, "no token, a bad or expired one, or a disabled user (also: failed sign-in)"),
        (403, "a signed-in user who may not do this"),
        (404, "no such record, or another user's"),
        (409, "the request contradicts what is stored (a duplicate name, a record in another state)"),
        (413, "a body, upload, dataset or table over its limit (the message names the setting)"),
        (422, "an invalid field, value or file (the message names it)"),
        (429, "too many failed sign-ins: retry after the Retry-After header's seconds"),
        (503, "a flow run could not be created (Prefect or a deployment out of reach)"),
    )
}
"""The error answers every route may give, as the OpenAPI schema declares them (in place of
FastAPI's ``{"detail": ...}``, which this API never sends)."""


def services(request: Request) -> Services:
    return request.app.state.services


# auto_error=False: a missing token is reported by current_user as a JSON 401 like any other.
bearer = OAuth2PasswordBearer(tokenUrl="auth/token", auto_error=False)

NOT_AUTHENTICATED = "not authenticated: send 'Authorization: Bearer <access_token>' (POST /auth/token to get one)"


def current_user(token: str | None = Depends(bearer), svc: Services = Depends(services)) -> User:
    if not token:
        raise AuthError(NOT_AUTHENTICATED)
    user_id = auth.user_id_from(token, svc.signing_key)
    try:
        user = users.get(svc.db, user_id)
    except RecordNotFound as exc:
        raise AuthError("token is not valid") from exc
    if not user.active:
        raise AuthError("user is disabled")
    return user


def signed_in(user: User = Depends(current_user)) -> Caller:
    return users.caller_of(user)


def ridge_caller(token: str | None = Depends(bearer), svc: Services = Depends(services)) -> Caller:
    """A signed-in user, or (no token sent, and the operator allows it) the anonymous caller."""
    if token or svc.anonymous is None:
        return users.caller_of(current_user(token, svc))
    return svc.anonymous
