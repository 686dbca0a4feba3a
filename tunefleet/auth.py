"""Users' passwords and the JWT access / refresh tokens of the HTTP API.

Passwords are hashed with scrypt (memory-hard, in the standard library). Tokens are
HS256 JWTs signed with ``TUNEFLEET_JWT_SECRET``; on the embedded defaults, where no
secret is configured, a random key is created once in ``TUNEFLEET_HOME`` (mode 0600).
Access tokens are short-lived; a refresh token only buys a new pair.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt

from tunefleet.db.columns import utcnow
from tunefleet.errors import AuthError, InvalidInput

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
_SCRYPT = {"n": 2**15, "r": 8, "p": 1, "maxmem": 64 * 2**20}
_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters")
    if len(password) > 1024:
        raise InvalidInput("a password may have at most 1024 characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt${n}${r}${p}${salt}${digest}".format(
        **_SCRYPT, salt=base64.b64encode(salt).decode(), digest=base64.b64encode(digest).decode()
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), maxmem=_SCRYPT["maxmem"]
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def signing_key(settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = Path(settings.home) / "jwt.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True)
class Issued:
    """A token pair as the API answers it, and the refresh token's id and family (to record)."""

    tokens: dict
    refresh_jti: str
    family: str
    refresh_expires: datetime


def issue_tokens(user_id: int, key: str, family: str | None = None) -> Issued:
    """An access and a refresh token for ``user_id``; the refresh token belongs to ``family`` (a new one
    at sign-in, the same one when a refresh token is exchanged)."""
    now = utcnow()
    family = family or secrets.token_hex(16)
    refresh_jti = secrets.token_hex(16)

    def token(kind: str, ttl: timedelta, jti: str, **extra) -> str:
        claims = {"sub": str(user_id), "type": kind, "iat": now, "exp": now + ttl, "jti": jti, **extra}
        return jwt.encode(claims, key, algorithm=_ALGORITHM)

    tokens = {
        "access_token": token("access_token", ACCESS_TTL, secrets.token_hex(8)),
        "refresh_token": token("refresh_token", REFRESH_TTL, refresh_jti, fam=family),
        "token_type": "bearer",
        "expires_in": int(ACCESS_TTL.total_seconds()),
    }
    return Issued(tokens, refresh_jti, family, now + REFRESH_TTL)


def claims_of(token: str, key: str, kind: str = "access_token") -> dict:
    """The claims of a valid, unexpired token of ``kind``; ``sub`` as an int (the user's id)."""
    try:
        claims = jwt.decode(token, key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "type"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("token is not valid") from exc
    if claims["type"] != kind:
        raise AuthError(f"a {claims['type']} cannot be used here; send a {kind}")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.isascii() or not subject.isdigit() or not 0 < int(subject) < 2**63:
        raise AuthError("token is not valid")
    return {**claims, "sub": int(subject)}


def user_id_from(token: str, key: str, kind: str = "access_token") -> int:
    """The user a valid, unexpired token of ``kind`` was issued to."""
    return claims_of(token, key, kind)["sub"]
