"""Abuse limits on everything anonymous or guessable, with Flask-Limiter (Redis in production, memory locally)."""
from __future__ import annotations

import functools
import hashlib
import logging
import time
from typing import Callable

from flask import Flask, g, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage
from redis.exceptions import NoScriptError, RedisError, ResponseError
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


# Checked by Flask-Limiter itself, staff sign-in here and the API below: (endpoint, setting with the limit, key,
# only these methods, count only failures).
# With the shared store away these are refused: unlimited password guessing is worse than a pause.
LIMITS = [
    ("auth.login", "rate_limit_login", login_account, ["POST"], True),
    ("auth.login", "rate_limit_login_address", address, ["POST"], True),
    ("auth.second_factor", "rate_limit_login", address, ["POST"], True),
]

# What customers use: endpoint -> (only these methods, [(setting with "N per minute;M per day", key)], whether the
# view asks for the answer itself with `settle`). Checked in one round trip and, with the shared store away, let
# through (a lead or an answer is never refused for it). The chat turn reads the answer after taking its
# conversation's lock, so the two round trips overlap.
CUSTOMER = {
    "chat.chat": (None, [("rate_limit_chat", chat_session), ("rate_limit_chat_address", address)], True),
    "chat.thread": (None, [("rate_limit_chat_poll", address)], False),
    "survey.answer": (("POST",), [("rate_limit_survey", address)], False),
}


class Windows:
    """One view's rate-limit windows checked in one round trip to the shared store instead of one per window.

    A web chat turn is the hot anonymous route: Flask-Limiter hits its four windows (a conversation's and an
    address's, a minute and a day) one after another, four round trips to Redis on every turn. Here the same
    windows (same keys, the library's own moving-window script) go as one pipeline. Each window counts the request
    if it has room, as the library does; the request is refused if any window is full. Other stores (memory://
    locally) take the library's calls one by one.
    """

    def __init__(self, limiter: Limiter, settings: Settings, endpoint: str,
                 limits: list[tuple[str, Callable[[], str]]]) -> None:
        # The endpoint is the scope Flask-Limiter gives a view's limits: the keys stay what they were.
        self.limiter, self.scope = limiter, endpoint
        self.windows: list[tuple[RateLimitItem, Callable[[], str]]] = [
            (item, key) for setting, key in limits for item in parse_many(getattr(settings, setting))]

    def start(self) -> Callable[[], bool]:
        """Count this request in every window that has room; the returned call answers whether all had room.

        The check is sent now and its answer read when called, so a view can work meanwhile.

        The chat turn takes its conversation's lock in PostgreSQL while Redis counts: two round trips at once.
        """
        keyed = [(item, key()) for item, key in self.windows]
        storage = self.limiter.storage
        if not isinstance(storage, RedisStorage):  # memory:// (one process): nothing to wait for
            answer = all(self.limiter.limiter.hit(item, KEY_PREFIX, key, self.scope) for item, key in keyed)
            return lambda: answer
        keyed_full = [(i, i.key_for(KEY_PREFIX, k, self.scope)) for i, k in keyed]
        pool, conn = storage.get_connection().connection_pool, None
        try:
            conn = pool.get_connection()
            script, now = storage.lua_acquire_moving_window, time.time()
            conn.send_packed_command(conn.pack_commands([
                ("EVALSHA", script.sha, 1, storage.prefixed_key(key), now, item.amount, item.get_expiry(), 1)
                for item, key in keyed_full]))
        except RedisError as exc:
            if conn is not None:
                conn.disconnect()
                pool.release(conn)
            return functools.partial(self._outage, exc)
        answered: list[bool] = []

        def answer() -> bool:
            if not answered:
                try:
                    answered.append(self._read(storage, pool, conn, keyed_full))
                except RedisError as exc:
                    answered.append(self._outage(exc))
            return answered[0]

        return answer

    def _outage(self, exc: RedisError) -> bool:
        """A limiter outage must not turn customers away: the request goes on, and the log says why."""
        log.warning("rate limit store unavailable (%s); %s allowed", type(exc).__name__, self.scope)
        return True

    @staticmethod
    def _read(storage: RedisStorage, pool, conn, keyed: list[tuple[RateLimitItem, str]]) -> bool:
        """The scripts' answers, as a pipeline reads them; the connection goes back to the pool either way."""
        results: list = []
        try:
            for _ in keyed:
                try:
                    results.append(conn.read_response())
                except ResponseError as exc:
                    results.append(exc)
        except BaseException:
            conn.disconnect()  # answers may still be on their way: never hand it to the next request
            raise
        finally:
            pool.release(conn)
        if any(isinstance(r, NoScriptError) for r in results):
            # The store has not seen the script yet (a new or flushed Redis): the library's calls load it.
            return all([storage.acquire_entry(key, item.amount, item.get_expiry()) for item, key in keyed])
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise failed[0]
        return all(bool(r) for r in results)


def _limited(view, windows: Windows, methods: tuple[str, ...] | None, settled_by_view: bool):
    @functools.wraps(view)
    def limited(*args, **kwargs):
        if methods is not None and request.method not in methods:
            return view(*args, **kwargs)
        answer = windows.start()
        if not settled_by_view:
            return view(*args, **kwargs) if answer() else too_many()
        g.rate_limit = answer
        try:
            return view(*args, **kwargs)
        finally:
            if g.pop("rate_limit", None) is not None:  # the view refused the request before asking
                answer()  # read, so that the store's connection goes back clean

    return limited


def settle() -> bool:
    """This request's rate-limit answer, for a view that asks for it itself (`CUSTOMER`); True: allowed."""
    answer = g.pop("rate_limit", None)
    return answer() if answer is not None else True


def too_many():
    """The 429 for the path asked: the sign-in page again, JSON on the API, else a line of text."""
    if request.path.startswith("/staff/login") or request.path.startswith("/staff/second-factor"):
        from router.web.i18n import t

        return render_template("staff/login.html", error=t("login_throttled"), oidc=None), 429
    if request.path.startswith("/api/"):
        return jsonify(error="too many requests; wait a moment and try again"), 429, {"Retry-After": "60"}
    return "Liian monta pyyntöä. / Too many requests.", 429, {"Retry-After": "60",
                                                                "Content-Type": "text/plain; charset=utf-8"}


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

    @limiter.request_filter
    def _own_windows() -> bool:
        # Flask-Limiter has no limit on these (their windows are checked above): its per-request look through
        # the app's limits is skipped, a sixth of the hooks' CPU on every chat turn.
        return request.endpoint in CUSTOMER

    for endpoint, (methods, limits, settled_by_view) in CUSTOMER.items():
        if endpoint in app.view_functions:
            windows = Windows(limiter, settings, endpoint, limits)
            app.view_functions[endpoint] = _limited(app.view_functions[endpoint], windows, methods, settled_by_view)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api_v1.") and endpoint != "api_v1.openapi":
            app.view_functions[endpoint] = limiter.limit(settings.rate_limit_api, key_func=api_caller)(view)

    @app.errorhandler(RateLimitExceeded)
    def _exceeded(exc: RateLimitExceeded):
        return too_many()

    app.extensions["luukku"]["limiter"] = limiter
    return limiter
