"""Abuse limits on everything anonymous or guessable, with Flask-Limiter (Redis in production, memory locally)."""
from __future__ import annotations

import hashlib
import logging

from flask import Flask, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix

from router.config import Settings


def _digest(value: str) -> str:
    # Keys in the shared store (and the limiter's log lines) never hold an address, email or token in clear text.
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


def address() -> str:
    """The client's address as a key (behind PROXY_COUNT trusted proxies, ProxyFix has put the real one here)."""
    return "addr:" + _digest(request.remote_addr or "unknown")


def chat_session() -> str:
    """One key per chat session; a new chat counts against its address."""
    body = request.get_json(silent=True)
    session = body.get("session") if isinstance(body, dict) else None
    return f"chat-session:{_digest(session)}" if isinstance(session, str) else f"chat-new:{address()}"


def login_account() -> str:
    return "login-account:" + _digest(str(request.form.get("email", "")).strip().lower())


def api_caller() -> str:
    header = request.headers.get("Authorization", "")
    return "api:" + (_digest(header) if header else address())


def _failed(resp) -> bool:
    return resp.status_code in (401, 403)


# (endpoint, setting with the limit, key, only these methods, count only failures)
LIMITS = [
    ("chat.chat", "rate_limit_chat", chat_session, None, False),
    ("chat.chat", "rate_limit_chat_address", address, None, False),
    ("chat.thread", "rate_limit_chat_poll", address, None, False),
    ("auth.login", "rate_limit_login", login_account, ["POST"], True),
    ("auth.login", "rate_limit_login_address", address, ["POST"], True),
    ("auth.second_factor", "rate_limit_login", address, ["POST"], True),
    ("survey.answer", "rate_limit_survey", address, ["POST"], False),
]


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Attach one limiter to this app (after its blueprints are registered) and wrap the limited views."""
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)  # its INFO lines name the limited key
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count,  # type: ignore[method-assign]
                                x_host=settings.proxy_count)
    limiter = Limiter(key_func=address, app=app, storage_uri=settings.ratelimit_storage_uri, headers_enabled=False,
                      strategy="moving-window", key_prefix="luukku")
    for endpoint, setting, key, methods, failures_only in LIMITS:
        if endpoint not in app.view_functions:
            continue
        value = getattr(settings, setting)
        wrapped = limiter.limit(value, key_func=key, methods=methods,
                                deduct_when=_failed if failures_only else None)(app.view_functions[endpoint])
        app.view_functions[endpoint] = wrapped
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api_v1.") and endpoint != "api_v1.openapi":
            app.view_functions[endpoint] = limiter.limit(settings.rate_limit_api, key_func=api_caller)(view)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        if request.path.startswith("/staff/login") or request.path.startswith("/staff/second-factor"):
            from router.web.i18n import t

            return render_template("staff/login.html", error=t("login_throttled"), oidc=None), 429
        retry = {"Retry-After": "60"}
        if request.path.startswith("/api/"):
            return jsonify(error="too many requests; wait a moment and try again"), 429, retry
        return "Liian monta pyyntöä. / Too many requests.", 429, {**retry, "Content-Type": "text/plain; charset=utf-8"}

    app.extensions["luukku"]["limiter"] = limiter
    return limiter
