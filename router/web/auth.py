"""Staff sign-in with Flask-Login; roles decide what a user sees."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlparse

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session as http_session, url_for)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from .. import users
from ..models import User
from . import db
from .i18n import t

bp = Blueprint("auth", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None


@login_manager.user_loader
def load_user(user_id: str):
    user = db().get(User, int(user_id)) if user_id.isdigit() else None
    return user if user and user.active else None


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        throttle = current_app.extensions["luukku"]["login_throttle"]
        if throttle.blocked(email):
            return render_template("staff/login.html", error=t("login_throttled")), 429
        user = users.authenticate(db(), email, request.form.get("password", ""))
        if user is None:
            throttle.failed(email)
        else:
            throttle.succeeded(email)
        if user:
            login_user(user, remember=False)
            http_session["lang"] = http_session.get("lang") or user.language
            target = request.args.get("next", "")
            # Only local paths: never an open redirect to another site.
            if not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
                target = url_for("staff.my_cases")
            return redirect(target)
        error = t("login_failed")
    return render_template("staff/login.html", error=error), 401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(t("logged_out"))
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in ("fi", "en"):
        http_session["lang"] = code
    target = request.referrer or url_for("staff.my_cases")
    return redirect(target if urlparse(target).netloc in ("", request.host) else url_for("staff.my_cases"))
