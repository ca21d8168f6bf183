"""The Flask app factory: nothing runs at import."""
from __future__ import annotations

import logging
from typing import Any, Mapping, Optional

from flask import Flask, Response, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

from router import config as config_mod
from router import logs, sanitize
from router.channels.voice import VoiceChannel
from router.inbound import language
from router.inbound.rasa_client import RasaClient
from router.storage.db import make_engine, make_sessionmaker
from router.storage.models import utcnow
from router.web import request_ids

log = logging.getLogger(__name__)

# No inline script or style anywhere: the pages need nothing but their own files.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
MACHINE_PATHS = ("/api/", "/internal/", "/twilio/")


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a document nested absurdly deep is a bad request, not a RecursionError."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return sanitize.loads(s)


def _security_headers(app: Flask, settings: config_mod.Settings) -> None:
    https = settings.public_base_url.startswith("https://")

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if https:
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Staff pages, and a chat thread (whose id is its only credential): never kept by a browser or a cache.
        if request.path.startswith(("/staff", "/api/chat")):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp


# The query parameters each published JSON operation takes: anything else is a client's mistake, said as a 400.
QUERY_PARAMETERS = {"api_v1.list_cases": {"status", "limit"}, "api_v1.audit_trail": {"case", "limit"},
                    "api_v1.list_activities": {"limit"}, "api_v1.list_partners": {"topic", "language"},
                    "impact.impact_api": {"from", "to", "group", "format", "table"}, "chat.thread": {"after"}}


def _strict_queries(app: Flask) -> None:
    @app.before_request
    def _unknown_query():
        # A method the route does not take answers its 405 (with Allow), whatever the query says.
        if request.path.startswith("/api/") and request.args and request.routing_exception is None:
            unknown = sorted(set(request.args) - QUERY_PARAMETERS.get(request.endpoint or "", set()))
            if unknown:
                return jsonify(error=f"unknown query parameter: {', '.join(unknown)[:100]}"), 400
        return None


def _discard() -> None:
    session = g.get("db")
    if session is not None:
        session.rollback()


def _unit_of_work(app: Flask) -> None:
    """A request is one unit of work: what its view changed is committed once, when the view has answered (before
    the answer leaves), and discarded when it failed or aborted. Views and services never commit; the exceptions
    are listed in docs/architecture.md ("Where commits happen")."""

    @app.after_request
    def _commit(resp: Response) -> Response:
        session = g.get("db")
        if session is not None:
            session.commit()
        return resp


def _json_errors(app: Flask) -> None:
    """Machines get JSON (Twilio an empty TwiML), people a plain page; never a stack trace, never HTML to an API."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        _discard()  # an abort() ends the request's unit of work without its changes
        if request.path.startswith(MACHINE_PATHS) and not request.path.startswith("/twilio/"):
            # The exception's own headers stay (a 405's Allow, a 429's Retry-After); only the body becomes JSON.
            headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
            return jsonify(error=exc.description or exc.name), exc.code, headers
        return exc

    @app.before_request
    def _control_characters():
        # A NUL (or another control character) names nothing the service has: in the path a 404, in the query a
        # 400, before any query, instead of the database refusing the statement.
        if sanitize.has_control(request.path):
            status, what = 404, "no such address"
        elif sanitize.has_control(*request.args.keys(), *request.args.values()):
            status, what = 400, "a query parameter holds a control character"
        else:
            return None
        if request.path.startswith(MACHINE_PATHS) and not request.path.startswith("/twilio/"):
            return jsonify(error=what), status
        return Response("Virheellinen osoite. / Bad address.", status=status, mimetype="text/plain")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # The route's pattern, never the path: a path can hold a session id or a case reference.
        log.exception("unhandled error on %s %s", request.method,
                      request.url_rule.rule if request.url_rule is not None else "(no route)")
        _discard()
        if request.path.startswith("/twilio/"):
            return Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', status=500, mimetype="text/xml")
        if request.path.startswith(MACHINE_PATHS):
            return jsonify(error="the service could not handle this request; what was stored is kept"), 500
        return Response("Palvelussa tapahtui virhe. / Something went wrong.", status=500, mimetype="text/plain")


def _base(settings: config_mod.Settings, rasa, clock) -> Flask:
    config_mod.require_safe(settings, "the router")
    logs.setup(settings.log_level, settings.log_format, "router")
    app = Flask(__name__)
    app.json = SafeJSONProvider(app)
    secure = settings.production or settings.public_base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=1_000_000,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="__Host-luukku" if secure else "luukku",
        REMEMBER_COOKIE_SECURE=secure,
        JSON_SORT_KEYS=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-side limited) session
    )
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_timeout, token=settings.rasa_token)
    app.extensions["luukku"] = {
        "settings": settings, "engine": engine, "sessions": sessions, "rasa": rasa, "clock": clock or utcnow,
    }

    @app.teardown_appcontext
    def _close_session(_exc: Optional[BaseException]) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    _security_headers(app, settings)
    _unit_of_work(app)
    _json_errors(app)
    request_ids.init_app(app)
    return app


UPLOADS = frozenset({"staff.message", "api_v1.api_message"})


def create_app(config: Optional[Mapping[str, Any]] = None, *, rasa=None, clock=None) -> Flask:
    """The public router web app; `config` overrides settings (tests), `rasa` and `clock` replace the real ones."""
    settings = config_mod.load(config)
    app = _base(settings, rasa, clock)
    extensions = app.extensions["luukku"]
    extensions["voice"] = VoiceChannel(settings, extensions["rasa"])

    from router.web import (
        admin,
        api_v1,
        auth,
        chat,
        dev,
        health,
        i18n,
        impact_admin,
        impact_page,
        limits,
        pages,
        plan,
        privacy_admin,
        referral_pages,
        staff,
        survey_page,
        twilio,
    )

    @app.before_request
    def _room_for_files():
        # Before the CSRF check reads the form: a message with files may be larger than any other request.
        if request.endpoint in UPLOADS:
            request.max_content_length = settings.attachment_max_total_bytes + 1_000_000

    csrf = CSRFProtect(app)
    # Machine-to-machine routes authenticate otherwise (signatures, tokens) and carry no browser session.
    for module in (chat, twilio, api_v1):
        csrf.exempt(module.bp)
    auth.init_app(app, settings)
    i18n.init_app(app, settings.timezone)
    for module in (health, chat, pages, dev, twilio, auth, staff, admin, survey_page, referral_pages, api_v1,
                   impact_page, impact_admin, privacy_admin, plan):
        app.register_blueprint(module.bp)
    limits.init_app(app, settings)
    _strict_queries(app)
    language.warm()  # in each web process, so no customer's message waits for the models to load
    return app


def create_internal_app(config: Optional[Mapping[str, Any]] = None, *, rasa=None, clock=None) -> Flask:
    """The internal API for the action server, served on its own private listener and threads."""
    settings = config_mod.load(config)
    app = _base(settings, rasa, clock)
    from router.web import health, internal

    app.register_blueprint(health.bp)
    app.register_blueprint(health.ops)
    app.register_blueprint(internal.bp)
    return app
