"""OAuth2 password flow: access and refresh tokens (refresh tokens are good for one exchange)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from interfaces.routes.common import Services, current_user, services
from tunefleet import users
from tunefleet.errors import AuthError
from tunefleet.users import User

router = APIRouter(prefix="/auth", tags=["auth"])


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(max_length=4096)


@router.post("/token")
def token(request: Request, form: OAuth2PasswordRequestForm = Depends(), svc: Services = Depends(services)) -> dict:
    """Exchange an email (as ``username``) and password for an access and a refresh token. Failures
    are throttled per account and per client address (429 with Retry-After)."""
    keys = (
        f"account:{form.username.strip().lower()[:320]}",
        f"address:{request.client.host if request.client else ''}",
    )
    svc.throttle.check(*keys)
    try:
        user = users.authenticate(svc.db, form.username, form.password)
    except AuthError:
        svc.throttle.failed(*keys)
        raise
    return users.issue(svc.db, user, svc.signing_key)


@router.post("/refresh")
def refresh(request: RefreshRequest, svc: Services = Depends(services)) -> dict:
    """A new pair for a refresh token; each refresh token works once (a reused one revokes its family)."""
    return users.refresh(svc.db, request.refresh_token, svc.signing_key)


@router.get("/me")
def me(user: User = Depends(current_user)) -> dict:
    return users.view(user)
