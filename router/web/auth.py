"""Staff sign-in: password (+ optional TOTP) or the city's OpenID Connect provider; sessions live on the server."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlparse

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as http_session
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import delete

from router import sanitize
from router.config import Settings
from router.staff import audit, users
from router.storage.models import StaffSession, User
from router.texts import LANGUAGES
from router.web import clock, db, settings

bp = Blueprint("auth", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None
PENDING_SECONDS = 300  # time to type the second factor after the password


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@login_manager.user_loader
def load_user(user_id: str):
    """The user behind this cookie, only while its server-side session lives (signed out, idle or old: nobody)."""
    token = http_session.get("sid")
    if not user_id.isdigit() or not isinstance(token, str):
        return None
    session = db()
    row = session.get(StaffSession, _digest(token))
    user = session.get(User, int(user_id))
    if row is None or user is None or not user.active or row.user_id != user.id:
        return None
    now, s = clock(), settings()
    if now - row.created_at > timedelta(hours=s.session_hours) or \
            now - row.last_seen_at > timedelta(minutes=s.session_idle_minutes):
        session.delete(row)
        return None
    if now - row.last_seen_at > timedelta(seconds=60):  # one write a minute is enough for the idle timeout
        row.last_seen_at = now
    return user


def role_required(*roles: str):
    """Only these roles (after sign-in)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def checked(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return checked
    return decorator


def _oidc():
    return current_app.extensions.get("luukku_oidc")


def init_app(app: Flask, settings: Settings) -> None:
    login_manager.init_app(app)
    if settings.oidc_issuer and settings.oidc_client_id:
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth(app)
        oauth.register("city", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
                       server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
                       client_kwargs={"scope": "openid email profile"})
        app.extensions["luukku_oidc"] = oauth.city


def _safe_next(target: str) -> str:
    # Only local paths: never an open redirect to another site, never a control character (CR/LF) in a header.
    if not target.startswith("/") or target.startswith("//") or "\\" in target or sanitize.has_control(target) \
            or urlparse(target).netloc:
        return url_for("staff.my_cases")
    return target


def _complete(user: User, target: str):
    """Start a fresh session: the old cookie's contents (and its CSRF token) are dropped, a new server row made."""
    keep_lang = http_session.get("lang")
    http_session.clear()
    token = secrets.token_urlsafe(32)
    now = clock()
    session = db()
    session.add(StaffSession(id=_digest(token), user_id=user.id, created_at=now, last_seen_at=now))
    audit.record(session, "sign_in", user=user, now=now)
    http_session["sid"] = token
    http_session["lang"] = keep_lang or user.language
    login_user(user, remember=False)
    return redirect(_safe_next(target))


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        email = sanitize.clean(request.form.get("email", ""), 254).strip().lower()
        user = users.authenticate(db(), email, sanitize.clean(request.form.get("password", ""), 1000))
        if user and user.totp_secret:
            return _ask_second_factor(user, request.args.get("next", ""))
        if user:
            return _complete(user, request.args.get("next", ""))
        error = _("staff.login_failed")
    return render_template("staff/login.html", error=error, oidc=_oidc()), 401 if error else 200


def _ask_second_factor(user: User, target: str):
    # The email goes with it: wrong codes count on the account's own failures (router/web/limits.py).
    http_session["pending"] = {"user": user.id, "email": user.email, "at": clock().timestamp(), "next": target}
    return redirect(url_for("auth.second_factor"))


@bp.route("/second-factor", methods=["GET", "POST"])
def second_factor():
    pending = http_session.get("pending")
    if not isinstance(pending, dict) or clock().timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        http_session.pop("pending", None)
        return redirect(url_for("auth.login"))
    user = db().get(User, int(pending["user"]))
    if user is None or not user.active:
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        if users.totp_ok(user, request.form.get("code", ""), clock()):
            return _complete(user, str(pending.get("next", "")))
        error = _("staff.code_failed")
    return render_template("staff/second_factor.html", error=error), 401 if error else 200


@bp.get("/login/oidc")
def oidc_start():
    client = _oidc()
    if client is None:
        abort(404)
    return client.authorize_redirect(settings().public_base_url.rstrip("/") + url_for("auth.oidc_callback"))


@bp.get("/login/oidc/callback")
def oidc_callback():
    """The provider vouches for an email; only an existing, active staff account of that email is let in."""
    client = _oidc()
    if client is None:
        abort(404)
    try:
        token = client.authorize_access_token()
    except Exception:  # noqa: BLE001 - a refused, replayed or forged answer is simply not a sign-in
        return render_template("staff/login.html", error=_("staff.login_failed"), oidc=client), 401
    claims = token.get("userinfo") or {}
    issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    session = db()
    user = users.by_oidc_identity(session, issuer, subject)
    if user is None and claims.get("email_verified") is True:
        # Not bound yet: only through the one-time link an admin made for this account, and only for its email.
        user = users.bind_oidc(session, str(http_session.pop("oidc_link", "") or ""), str(claims.get("email", "")),
                               issuer, subject, clock())
        if user is not None:
            audit.record(session, "user_oidc_bound", user=user, now=clock())
    if user is None:
        return render_template("staff/login.html", error=_("staff.login_failed"), oidc=client), 401
    if user.role == "admin" and not _mfa(claims):
        # An admin still gives the second factor unless the provider says it asked for one.
        if not user.totp_secret:
            return render_template("staff/login.html", error=_("staff.login_needs_mfa"), oidc=client), 401
        return _ask_second_factor(user, "")
    return _complete(user, "")


def _mfa(claims: dict) -> bool:
    """Whether the provider asserts a multi-factor sign-in (RFC 8176 `amr` values)."""
    amr = claims.get("amr")
    return isinstance(amr, list) and bool({"mfa", "otp", "hwk", "swk", "sc"} & {str(v) for v in amr})


@bp.get("/login/oidc/link/<token>")
def oidc_link(token: str):
    """An admin-made link: the next sign-in with the provider binds its account to this staff account."""
    if _oidc() is None:
        abort(404)
    http_session["oidc_link"] = token[:100]
    return redirect(url_for("auth.oidc_start"))


@bp.post("/logout")
@login_required
def logout():
    token = http_session.get("sid")
    if isinstance(token, str):
        session = db()
        session.execute(delete(StaffSession).where(StaffSession.id == _digest(token)))
        audit.record(session, "sign_out", user=current_user, now=clock())
    logout_user()
    http_session.clear()
    flash(_("staff.logged_out"))
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    """Staff pages in fi, sv or en from now on: kept in the session and, once signed in, on the user."""
    if code in LANGUAGES:
        http_session["lang"] = code
        if current_user.is_authenticated:
            db().get_one(User, current_user.id).language = code
    target = request.referrer or url_for("staff.my_cases")
    return redirect(target if urlparse(target).netloc in ("", request.host) else url_for("staff.my_cases"))
