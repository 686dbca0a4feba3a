"""Users of the HTTP API: their records, creation by an operator, and password sign-in.

There is no sign-up: an operator creates users (``tunefleet user create``). Passwords are
hashed with scrypt (``tunefleet.auth``); a failed sign-in costs the same time whether or
not the email is registered.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from functools import cache

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select

from tunefleet import auth
from tunefleet.db import Database
from tunefleet.db.columns import timestamp_column, utcnow
from tunefleet.errors import AuthError, Conflict, InvalidInput

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class User(SQLModel, table=True):
    __tablename__ = "users"
    __record_name__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    password_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


@cache
def _dummy_hash() -> str:
    """Checking a password against this costs as much as against a real user's hash, so
    the answer time does not tell whether an email is registered."""
    return auth.hash_password(secrets.token_urlsafe(16))


def get(db: Database, user_id: int) -> User:
    return db.get(User, user_id)


def by_email(db: Database, email: str) -> User | None:
    with db.session() as session:
        return session.exec(select(User).where(User.email == email.strip().lower())).first()


def create(db: Database, email: str, password: str) -> User:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidInput(f"{email!r} is not an email address")
    user = User(email=email, password_hash=auth.hash_password(password))
    try:
        return db.add(user)
    except IntegrityError as exc:
        raise Conflict(f"a user with email {email} already exists") from exc


def authenticate(db: Database, email: str, password: str) -> User:
    user = by_email(db, email)
    if not auth.verify_password(password, user.password_hash if user else _dummy_hash()) or user is None:
        raise AuthError("incorrect email or password")
    if not user.active:
        raise AuthError("user is disabled")
    return user
