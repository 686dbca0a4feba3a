"""Users of the HTTP API: their records and roles, who a request acts as, sign-in and refresh tokens.

There is no sign-up: an operator creates users (``tunefleet user create EMAIL --role admin|user``)
and may disable them (their tokens stop working at once: every request reads the user). Roles:
``user`` sees and acts on its own records only; ``admin`` sees every record and may use what the
operator allows admins (custom benchmark platforms of the allow-list).

Passwords are hashed with scrypt (``tunefleet.auth``); a failed sign-in costs the same time whether
or not the email is registered, at most ``HASHES_AT_ONCE`` hashes run at once (each takes 32 MiB),
and failures are throttled per account and per client address (``SignInThrottle``). A refresh token
is good for one exchange: a second use of it revokes its whole family (the tokens issued since
that sign-in), since only a stolen copy would be used twice.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from datetime import datetime
from functools import cache

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select

from tunefleet import auth
from tunefleet.db import Caller, Database, RecordNotFound
from tunefleet.db.columns import timestamp_column, utcnow
from tunefleet.errors import AuthError, Conflict, InvalidInput, TooManyRequests

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,63}")
ROLES = ("user", "admin")
ANONYMOUS_EMAIL = "anonymous@tunefleet.invalid"  # owns what anonymous callers create (the ridge opt-in)
HASHES_AT_ONCE = 4


class User(SQLModel, table=True):
    __tablename__ = "users"
    __record_name__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    password_hash: str
    active: bool = True
    role: str = Field(default="user", sa_column_kwargs={"server_default": "user"})
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class RefreshToken(SQLModel, table=True):
    """A refresh token issued: used once (``used_at``), or revoked with its family."""

    __tablename__ = "refresh_tokens"
    __record_name__ = "refresh token"

    jti: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    family: str = Field(index=True)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    revoked: bool = False


def caller_of(user: User) -> Caller:
    return Caller(user.id, admin=user.role == "admin")


def anonymous_caller(db: Database) -> Caller:
    """The anonymous caller: a user row that owns what anonymous requests create and never signs in."""
    user = by_email(db, ANONYMOUS_EMAIL)
    if user is None:
        try:
            user = db.add(User(email=ANONYMOUS_EMAIL, password_hash="!", active=False))
        except IntegrityError:  # another request created it first
            user = by_email(db, ANONYMOUS_EMAIL)
    return Caller(user.id, anonymous=True)


# -- records ------------------------------------------------------------------------------------------
def get(db: Database, user_id: int) -> User:
    return db.get(User, user_id)


def by_email(db: Database, email: str) -> User | None:
    with db.session() as session:
        return session.exec(select(User).where(User.email == email.strip().lower())).first()


def list(db: Database) -> list[User]:  # noqa: A001 (the verb)
    """Every user but the anonymous one, by id."""
    with db.session() as session:
        return session.exec(select(User).where(User.email != ANONYMOUS_EMAIL).order_by(User.id)).all()


def create(db: Database, email: str, password: str, role: str = "user") -> User:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email) or email == ANONYMOUS_EMAIL:
        raise InvalidInput(f"{email!r} is not an email address")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    user = User(email=email, password_hash=auth.hash_password(password), role=role)
    try:
        return db.add(user)
    except IntegrityError as exc:
        raise Conflict(f"a user with email {email} already exists") from exc


def set_active(db: Database, email: str, active: bool) -> User:
    """Enable or disable a user; a disabled user's tokens stop working at its next request."""
    user = by_email(db, email)
    if user is None or user.email == ANONYMOUS_EMAIL:
        raise RecordNotFound(f"there is no user {email}")
    with db.session() as session:
        session.exec(update(User).where(User.id == user.id).values(active=active))
        session.commit()
    return get(db, user.id)


def view(user: User) -> dict:
    return {"id": user.id, "email": user.email, "role": user.role, "active": user.active}


# -- signing in ---------------------------------------------------------------------------------------------
_HASHING = threading.BoundedSemaphore(HASHES_AT_ONCE)


@cache
def _dummy_hash() -> str:
    """Checking a password against this costs as much as against a real user's hash, so
    the answer time does not tell whether an email is registered."""
    return auth.hash_password(secrets.token_urlsafe(16))


def _verify(password: str, stored: str) -> bool:
    if not _HASHING.acquire(timeout=10):
        raise TooManyRequests("too many sign-ins at once; try again in a few seconds", retry_after=5)
    try:
        return auth.verify_password(password, stored)
    finally:
        _HASHING.release()


MAX_PASSWORD = 1024


def authenticate(db: Database, email: str, password: str) -> User:
    if len(email) > 320 or len(password) > MAX_PASSWORD:
        raise AuthError("incorrect email or password")
    user = by_email(db, email)
    if user is not None and user.email == ANONYMOUS_EMAIL:
        user = None
    if not _verify(password, user.password_hash if user else _dummy_hash()) or user is None:
        raise AuthError("incorrect email or password")
    if not user.active:
        raise AuthError("user is disabled")
    return user


def issue(db: Database, user: User, key: str, family: str | None = None) -> dict:
    """A new token pair for ``user``, its refresh token recorded."""
    issued = auth.issue_tokens(user.id, key, family)
    db.add(
        RefreshToken(jti=issued.refresh_jti, user_id=user.id, family=issued.family, expires_at=issued.refresh_expires)
    )
    return issued.tokens


def refresh(db: Database, refresh_token: str, key: str) -> dict:
    """A new pair for a refresh token used for the first time; a second use revokes its family."""
    claims = auth.claims_of(refresh_token, key, kind="refresh_token")
    if not isinstance(claims.get("jti"), str):
        raise AuthError("token is not valid")
    now = utcnow()
    with db.session() as session:
        used = session.exec(
            update(RefreshToken)
            .where(RefreshToken.jti == claims["jti"], RefreshToken.used_at.is_(None), ~RefreshToken.revoked)
            .values(used_at=now)
        )
        session.commit()
        if used.rowcount == 0:
            record = session.get(RefreshToken, claims["jti"])
            if record is not None:  # used before, or revoked: someone holds a copy
                session.exec(update(RefreshToken).where(RefreshToken.family == record.family).values(revoked=True))
                session.commit()
            raise AuthError("refresh token was already used or revoked; sign in again")
        record = session.get(RefreshToken, claims["jti"])
    try:
        user = get(db, claims["sub"])
    except RecordNotFound as exc:
        raise AuthError("token is not valid") from exc
    if not user.active:
        raise AuthError("user is disabled")
    return issue(db, user, key, record.family)


class SignInThrottle:
    """At most ``limit`` failed sign-ins per account and per client address in ``window`` seconds;
    then ``check`` raises TooManyRequests with the seconds until the oldest failure leaves the window."""

    def __init__(self, limit: int = 10, window: float = 300.0):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.limit:
                    wait = int(failures[0] + self.window - now) + 1
                    raise TooManyRequests(f"too many failed sign-ins; try again in {wait} s", retry_after=wait)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # a flood of addresses: forget the quiet ones
                self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > now - self.window}

    def _recent(self, key: str, now: float) -> deque:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
