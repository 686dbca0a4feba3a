"""What every route needs: the process's services and the authenticated user."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from tunefleet import auth, users
from tunefleet.db import Database, RecordNotFound
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


def services(request: Request) -> Services:
    return request.app.state.services


# auto_error=False: a missing token is reported by current_user as a JSON 401 like any other.
bearer = OAuth2PasswordBearer(tokenUrl="auth/token", auto_error=False)


def current_user(token: str | None = Depends(bearer), svc: Services = Depends(services)) -> User:
    if not token:
        raise auth.AuthError("not authenticated: send 'Authorization: Bearer <access_token>'")
    user_id = auth.user_id_from(token, svc.signing_key)
    try:
        user = users.get(svc.db, user_id)
    except RecordNotFound as exc:
        raise auth.AuthError("token is not valid") from exc
    if not user.active:
        raise auth.AuthError("user is disabled")
    return user
