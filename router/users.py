"""Staff accounts: hashed passwords (werkzeug's scrypt), per-user API tokens stored only as hashes."""
from __future__ import annotations

import hashlib
import secrets
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import Specialist, User

ROLES = ("specialist", "lead", "admin")


class UserError(ValueError):
    """The account cannot be made as asked."""


def create(session: Session, *, email: str, name: str, password: str, role: str = "specialist",
           specialist_key: Optional[str] = None, language: str = "fi") -> User:
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
                specialist=specialist, language=language)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> Optional[User]:
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active:
        check_password_hash(generate_password_hash("timing"), password)  # same work either way
        return None
    return user if check_password_hash(user.password_hash, password) else None


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
