"""OAuth2 password flow: access and refresh tokens for the experiment endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict

from interfaces.routes.common import Services, current_user, services
from tunefleet import auth, users
from tunefleet.users import User

router = APIRouter(prefix="/auth", tags=["auth"])


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str


@router.post("/token")
def token(form: OAuth2PasswordRequestForm = Depends(), svc: Services = Depends(services)) -> dict:
    """Exchange an email (as ``username``) and password for an access and a refresh token."""
    user = users.authenticate(svc.db, form.username, form.password)
    return auth.issue_tokens(user.id, svc.signing_key)


@router.post("/refresh")
def refresh(request: RefreshRequest, svc: Services = Depends(services)) -> dict:
    user_id = auth.user_id_from(request.refresh_token, svc.signing_key, kind="refresh_token")
    if not users.get(svc.db, user_id).active:
        raise auth.AuthError("user is disabled")
    return auth.issue_tokens(user_id, svc.signing_key)


@router.get("/me")
def me(user: User = Depends(current_user)) -> dict:
    return {"id": user.id, "email": user.email}
