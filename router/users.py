"""Staff accounts: hashed passwords (werkzeug's scrypt), per-user API tokens stored only as hashes."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import lru_cache
from typing import Optional

import pyotp

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from router.models import Specialist, User

ROLES = ("specialist", "lead", "admin")


class UserError(ValueError):
    """The account cannot be made as asked."""


def create(session: Session, *, email: str, name: str, password: str, role: str = "specialist",
           specialist_key: Optional[str] = None, language: str = "fi", team: str = "") -> User:
    if role not in ROLES:
        raise UserError(f"role must be one of {ROLES}")
    if len(password) < 10:
        raise UserError("a password needs at least 10 characters")
    if session.scalar(select(User).where(func.lower(User.email) == email.lower())):
        raise UserError(f"{email} already has an account")
    specialist = None
    if specialist_key:
        specialist = session.scalar(select(Specialist).where(Specialist.key == specialist_key))
        if specialist is None:
            raise UserError(f"no specialist {specialist_key} in the directory")
    user = User(email=email.lower(), name=name, password_hash=generate_password_hash(password), role=role,
                specialist=specialist, language=language, team=team)
    session.add(user)
    session.flush()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(session: Session, email: str, password: str) -> Optional[User]:
    """The active user with this email and password, or None; an unknown account costs the same one hash check."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_dummy_hash(), password)  # the same work either way, so timing tells nothing
        return None
    return user if check_password_hash(user.password_hash, password) else None


def by_email(session: Session, email: str) -> Optional[User]:
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    return user if user and user.active else None


def enable_totp(user: User) -> str:
    """Turn the second factor on; the provisioning URI for an authenticator app (shown once)."""
    user.totp_secret = pyotp.random_base32()
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name="Luukku")


def totp_ok(user: User, code: str, at: Optional[datetime] = None) -> bool:
    """A current (or the previous/next 30-second) code of the user's authenticator."""
    if not user.totp_secret:
        return True
    code = "".join(ch for ch in str(code) if ch.isascii() and ch.isdigit())
    return len(code) == 6 and pyotp.TOTP(user.totp_secret).verify(code, for_time=at, valid_window=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User) -> str:
    """A new API token for the user (the old one stops working); shown once, stored as a hash."""
    token = "lk_" + secrets.token_urlsafe(32)
    user.api_token_hash = _hash(token)
    return token


def by_token(session: Session, token: str) -> Optional[User]:
    if not token:
        return None
    user = session.scalar(select(User).where(User.api_token_hash == _hash(token)))
    return user if user and user.active else None
