"""Abuse limits on everything anonymous or guessable, with Flask-Limiter (Redis in production, memory locally)."""
from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from typing import Any, Callable, cast

from flask import Flask, jsonify, render_template, request
from flask.typing import RouteCallable
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from redis.exceptions import RedisError
from werkzeug.middleware.proxy_fix import ProxyFix

from router.config import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "luukku"  # before every key in the shared store
# A hung store must cost a request no more than this (seconds), and is then skipped for BREAK_SECONDS.
STORE_TIMEOUT = 0.5
BREAK_SECONDS = 15.0


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


def _account() -> str:
    """The account being signed in to: the form's email, or (at the second factor) the one the password named."""
    from flask import session as http_session

    pending = http_session.get("pending")
    email = request.form.get("email") if "email" in request.form else \
        (pending.get("email") if isinstance(pending, dict) else None)
    return _digest(str(email or "").strip().lower())


def login_account() -> str:
    """Failures on one account from everywhere, passwords and second-factor codes alike: the wide ladder."""
    return "login-account:" + _account()


def login_account_address() -> str:
    """Failures on one account from one address: the tight ladder, so a guesser elsewhere never locks out the owner."""
    return f"login-pair:{_account()}:{address()}"


def api_caller() -> str:
    header = request.headers.get("Authorization", "")
    return "api:" + (_digest(header) if header else address())


def _failed(resp) -> bool:
    return resp.status_code in (401, 403)


# Checked by Flask-Limiter itself, staff sign-in here and the API below: (endpoint, setting with the limit, key,
# scope shared between the two steps of sign-in or None). Only failures count (401/403). Each setting is a ladder
# ("5 per 15 minutes;10 per hour;20 per day"): the more failures, the longer the wait (a progressive delay).
# With the shared store away these answer a 503 page: unlimited password guessing is worse than a pause.
LIMITS = [
    ("auth.login", "rate_limit_login", login_account_address, "login-pair"),
    ("auth.second_factor", "rate_limit_login", login_account_address, "login-pair"),
    ("auth.login", "rate_limit_login_account", login_account, "login-account"),
    ("auth.second_factor", "rate_limit_login_account", login_account, "login-account"),
    ("auth.login", "rate_limit_login_address", address, "login-address"),
    ("auth.second_factor", "rate_limit_login_address", address, "login-address"),
]

# What customers use: endpoint -> (only these methods, [(setting with "N per minute;M per day", key)]). Checked
# before the view runs (before any lock or database connection is taken) and, with the shared store away, let
# through: a lead or an answer is never refused for it.
CUSTOMER = {
    "chat.chat": (None, [("rate_limit_chat", chat_session), ("rate_limit_chat_address", address)]),
    "chat.thread": (None, [("rate_limit_chat_poll", address)]),
    "survey.answer": (("POST",), [("rate_limit_survey", address)]),
    "pages.sent_file": (None, [("rate_limit_file", address)]),
    "pages.accessibility_feedback": (("POST",), [("rate_limit_feedback", address)]),
    "referrals.consent": (("POST",), [("rate_limit_survey", address)]),
    "referrals.confirm": (("POST",), [("rate_limit_survey", address)]),
}


class Breaker:
    """The shared store noticed down once, then skipped for `seconds` instead of costing every request its timeout."""

    def __init__(self, seconds: float = BREAK_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._until = 0.0
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        return self.clock() < self._until

    def trip(self, exc: Exception) -> None:
        with self._lock:
            if not self.open:
                log.warning("rate limit store unavailable (%s); skipped for %.0f s", type(exc).__name__, self.seconds)
            self._until = self.clock() + self.seconds


class Windows:
    """One view's rate-limit windows (the same keys and strategy Flask-Limiter uses), through the library's API."""

    def __init__(self, limiter: Limiter, settings: Settings, endpoint: str,
                 limits: list[tuple[str, Callable[[], str]]], breaker: Breaker) -> None:
        # The endpoint is the scope Flask-Limiter gives a view's limits: the keys stay what they were.
        self.limiter, self.scope, self.breaker = limiter, endpoint, breaker
        self.windows: list[tuple[RateLimitItem, Callable[[], str]]] = [
            (item, key) for setting, key in limits for item in parse_many(getattr(settings, setting))]

    def allowed(self) -> bool:
        """Count this request in every window that has room; whether all had room. True while the store is away."""
        if self.breaker.open:
            return True
        keyed = [(item, key()) for item, key in self.windows]
        try:
            # A list, not a generator: every window counts the request, as Flask-Limiter's own check does.
            return all([self.limiter.limiter.hit(item, KEY_PREFIX, key, self.scope) for item, key in keyed])
        except (RedisError, StorageError) as exc:
            self.breaker.trip(exc)
            return True


def _limited(view, windows: Windows, methods: tuple[str, ...] | None):
    @functools.wraps(view)
    def limited(*args, **kwargs):
        if methods is not None and request.method not in methods:
            return view(*args, **kwargs)
        return view(*args, **kwargs) if windows.allowed() else too_many()

    return limited


def too_many():
    """The 429 for the path asked: the sign-in page again, JSON on the API, else a line of text."""
    from flask_babel import gettext as _

    if request.path.startswith("/staff/login") or request.path.startswith("/staff/second-factor"):
        return render_template("staff/login.html", error=_("staff.login_throttled"), oidc=None), 429
    if request.path.startswith("/api/"):
        return jsonify(error="too many requests; wait a moment and try again"), 429, {"Retry-After": "60"}
    # A customer's page (the survey answer): its language is not known here, so all three.
    return ("Liian monta pyyntöä, odota hetki. / För många förfrågningar, vänta en stund. / Too many requests, "
            "please wait a moment."), 429, {"Retry-After": "60", "Content-Type": "text/plain; charset=utf-8"}


def unavailable():
    """Sign-in while the shared store is away: a deliberate page in the user's language, not a 500 or a hang."""
    from flask_babel import gettext as _

    page = render_template("staff/login.html", error=_("staff.login_unavailable"), oidc=None)
    return page, 503, {"Retry-After": "30"}


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Attach one limiter to this app (after its blueprints are registered) and wrap the limited views."""
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)  # its INFO lines name the limited key
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count,  # type: ignore[method-assign]
                                x_host=settings.proxy_count)
    breaker = Breaker()

    @app.before_request
    def _store_away():
        # Before Flask-Limiter's own check (registered first): while the breaker is open, sign-in answers at once
        # instead of waiting for the store again.
        if request.method == "POST" and request.endpoint in ("auth.login", "auth.second_factor") and breaker.open:
            return unavailable()
        return None

    options: dict[str, Any] = {}
    if settings.ratelimit_storage_uri.startswith(("redis://", "rediss://")):
        # A hung Redis answers nothing: each call gives up after STORE_TIMEOUT instead of waiting for the kernel.
        options = {"socket_timeout": STORE_TIMEOUT, "socket_connect_timeout": STORE_TIMEOUT}
    limiter = Limiter(key_func=address, app=app, storage_uri=settings.ratelimit_storage_uri,
                      storage_options=options, headers_enabled=False, strategy="moving-window",
                      key_prefix=KEY_PREFIX)
    for endpoint, setting, key, scope in LIMITS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = cast(RouteCallable, limiter.shared_limit(
                getattr(settings, setting), scope=scope, key_func=key, methods=["POST"],
                deduct_when=_failed)(app.view_functions[endpoint]))

    @limiter.request_filter
    def _own_windows() -> bool:
        # Flask-Limiter has no limit on these (their windows are checked by `Windows`).
        return request.endpoint in CUSTOMER

    for endpoint, (methods, limits) in CUSTOMER.items():
        if endpoint in app.view_functions:
            windows = Windows(limiter, settings, endpoint, limits, breaker)
            app.view_functions[endpoint] = _limited(app.view_functions[endpoint], windows, methods)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api_v1.") and endpoint != "api_v1.openapi":
            app.view_functions[endpoint] = cast(RouteCallable,
                                                limiter.limit(settings.rate_limit_api, key_func=api_caller)(view))

    @app.errorhandler(RateLimitExceeded)
    def _exceeded(exc: RateLimitExceeded):
        return too_many()

    @app.errorhandler(RedisError)
    @app.errorhandler(StorageError)
    def _store_error(exc: Exception):
        # Only Flask-Limiter's own checks (sign-in, the API) get here: customers' windows never raise.
        breaker.trip(exc)
        if request.path.startswith("/api/"):
            return jsonify(error="unavailable for a moment; try again shortly"), 503, {"Retry-After": "30"}
        return unavailable()

    app.extensions["luukku"]["limiter"] = limiter
    app.extensions["luukku"]["limit_breaker"] = breaker
    return limiter
