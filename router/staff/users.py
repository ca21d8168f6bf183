"""Staff accounts: hashed passwords (werkzeug's scrypt), per-user API tokens stored only as hashes."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Optional

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from router.storage.models import Specialist, User

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


def totp_step(user: User, code: str, at: datetime) -> Optional[int]:
    """The 30-second step whose code this is (the current, previous or next one), or None (pure)."""
    if not user.totp_secret:
        return None
    code = "".join(ch for ch in str(code) if ch.isascii() and ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(user.totp_secret)
    now_step = totp.timecode(at)
    for step in (now_step, now_step - 1, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_ok(user: User, code: str, at: datetime) -> bool:
    """A code of the user's authenticator, each 30-second step accepted once (a seen code is never replayed).

    The caller commits: the accepted step is kept on the user.
    """
    if not user.totp_secret:
        return True
    step = totp_step(user, code, at)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def oidc_link(user: User, now: datetime, hours: float = 72) -> str:
    """A one-time link token that binds the next OpenID Connect sign-in to this account (shown once)."""
    token = secrets.token_urlsafe(32)
    user.oidc_link_hash, user.oidc_link_expires_at = _hash(token), now + timedelta(hours=hours)
    return token


def by_oidc_identity(session: Session, issuer: str, subject: str) -> Optional[User]:
    """The active account bound to the provider's (issuer, subject), or None."""
    if not issuer or not subject:
        return None
    user = session.scalar(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject))
    return user if user and user.active else None


def bind_oidc(session: Session, token: str, email: str, issuer: str, subject: str, now: datetime) -> Optional[User]:
    """Bind (issuer, subject) to the account whose unexpired link this is, if the provider's verified email is the
    account's; the link is used up either way. None: nothing bound."""
    if not token or not issuer or not subject:
        return None
    user = session.scalar(select(User).where(User.oidc_link_hash == _hash(token)))
    if user is None:
        return None
    expired = user.oidc_link_expires_at is None or user.oidc_link_expires_at < now
    user.oidc_link_hash = user.oidc_link_expires_at = None
    if expired or not user.active or user.email.lower() != email.strip().lower():
        return None
    user.oidc_issuer, user.oidc_subject = issuer, subject
    return user


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
