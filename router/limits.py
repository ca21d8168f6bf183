"""Abuse limits on everything anonymous or guessable, with Flask-Limiter (Redis in production, memory locally)."""
from __future__ import annotations

import functools
import hashlib
import logging
import time
from typing import Callable

from flask import Flask, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage
from redis.exceptions import NoScriptError, RedisError
from werkzeug.middleware.proxy_fix import ProxyFix

from router.config import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "luukku"  # before every key in the shared store


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


# (endpoint, setting with the limit, key, only these methods, count only failures); the chat turn's own limits
# are in CHAT_TURN, checked together in one round trip.
LIMITS = [
    ("chat.thread", "rate_limit_chat_poll", address, None, False),
    ("auth.login", "rate_limit_login", login_account, ["POST"], True),
    ("auth.login", "rate_limit_login_address", address, ["POST"], True),
    ("auth.second_factor", "rate_limit_login", address, ["POST"], True),
    ("survey.answer", "rate_limit_survey", address, ["POST"], False),
]


# Every chat turn: per session and per address, each "N per minute;M per day" (moving windows).
CHAT_TURN = [("rate_limit_chat", chat_session), ("rate_limit_chat_address", address)]


class TurnLimits:
    """The chat turn's windows checked in one round trip to the shared store instead of one per window.

    A web chat turn is the one hot anonymous route: Flask-Limiter hits its four windows one after another, four
    round trips to Redis on every turn. Here the same windows (same keys, the library's own moving-window script)
    are sent as one pipeline. Each window counts the turn if it has room, as the library does; the turn is refused
    if any window is full. Other stores (memory:// locally) take the library's calls one by one.
    """

    SCOPE = "chat.chat"  # the endpoint, as Flask-Limiter scopes a view's limits: the keys stay what they were

    def __init__(self, limiter: Limiter, settings: Settings, prefix: str) -> None:
        self.limiter, self.prefix = limiter, prefix
        self.windows: list[tuple[RateLimitItem, Callable[[], str]]] = [
            (item, key) for setting, key in CHAT_TURN for item in parse_many(getattr(settings, setting))]

    def allowed(self) -> bool:
        """True if every window has room for this turn (and counts it); False if one is full."""
        keyed = [(item, key()) for item, key in self.windows]
        storage = self.limiter.storage
        try:
            if isinstance(storage, RedisStorage):
                return self._pipelined(storage, [(i, i.key_for(self.prefix, k, self.SCOPE)) for i, k in keyed])
            return all(self.limiter.limiter.hit(item, self.prefix, key, self.SCOPE) for item, key in keyed)
        except RedisError as exc:
            # A limiter outage must not turn customers away: the turn goes on, and the log says why.
            log.warning("rate limit store unavailable (%s); chat turn allowed", type(exc).__name__)
            return True

    @staticmethod
    def _pipelined(storage: RedisStorage, keyed: list[tuple[RateLimitItem, str]]) -> bool:
        script = storage.lua_acquire_moving_window
        now = time.time()
        pipe = storage.get_connection().pipeline(transaction=False)
        for item, key in keyed:
            pipe.evalsha(script.sha, 1, storage.prefixed_key(key), now, item.amount, item.get_expiry(), 1)
        results = pipe.execute(raise_on_error=False)
        if any(isinstance(r, NoScriptError) for r in results):
            # The store has not seen the script yet (a new or flushed Redis): the library's calls load it.
            return all([storage.acquire_entry(key, item.amount, item.get_expiry()) for item, key in keyed])
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise failed[0]
        return all(bool(r) for r in results)


def _limit_turns(view, turns: TurnLimits):
    @functools.wraps(view)
    def limited(*args, **kwargs):
        if not turns.allowed():
            return _refused()
        return view(*args, **kwargs)

    return limited


def _refused():
    """The API's 429: JSON, and when to try again."""
    return jsonify(error="too many requests; wait a moment and try again"), 429, {"Retry-After": "60"}


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Attach one limiter to this app (after its blueprints are registered) and wrap the limited views."""
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)  # its INFO lines name the limited key
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count,  # type: ignore[method-assign]
                                x_host=settings.proxy_count)
    limiter = Limiter(key_func=address, app=app, storage_uri=settings.ratelimit_storage_uri, headers_enabled=False,
                      strategy="moving-window", key_prefix=KEY_PREFIX)
    for endpoint, setting, key, methods, failures_only in LIMITS:
        if endpoint not in app.view_functions:
            continue
        value = getattr(settings, setting)
        wrapped = limiter.limit(value, key_func=key, methods=methods,
                                deduct_when=_failed if failures_only else None)(app.view_functions[endpoint])
        app.view_functions[endpoint] = wrapped
    if "chat.chat" in app.view_functions:
        turns = TurnLimits(limiter, settings, prefix=KEY_PREFIX)
        app.view_functions["chat.chat"] = _limit_turns(app.view_functions["chat.chat"], turns)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api_v1.") and endpoint != "api_v1.openapi":
            app.view_functions[endpoint] = limiter.limit(settings.rate_limit_api, key_func=api_caller)(view)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        if request.path.startswith("/staff/login") or request.path.startswith("/staff/second-factor"):
            from router.web.i18n import t

            return render_template("staff/login.html", error=t("login_throttled"), oidc=None), 429
        if request.path.startswith("/api/"):
            return _refused()
        return "Liian monta pyyntöä. / Too many requests.", 429, {"Retry-After": "60",
                                                                    "Content-Type": "text/plain; charset=utf-8"}

    app.extensions["luukku"]["limiter"] = limiter
    return limiter
