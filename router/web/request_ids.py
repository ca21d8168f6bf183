"""Each request's id: the caller's X-Request-Id if it is a plain token, else a new one; echoed back and logged with
the route's pattern, status and time."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Optional

import structlog
from flask import Flask, Response, g, request

from router.logs import REQUEST_ID, SAFE_ID, request_id


def init_app(app: Flask) -> None:
    """Each request gets an id, bound for its log lines and the bot's metadata (router/logs.py)."""
    access = logging.getLogger("router.request")

    @app.before_request
    def _start() -> None:
        given = request.headers.get(REQUEST_ID, "")
        rid = given if SAFE_ID.match(given) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(resp: Response) -> Response:
        rid = request_id()
        if rid:
            resp.headers[REQUEST_ID] = rid
        # The route's pattern, not the path: a path can hold a session id or a case reference.
        access.info(
            "%s %s %s %.0f ms", request.method, request.url_rule.rule if request.url_rule else "-",
            resp.status_code, (time.perf_counter() - g.get("started", time.perf_counter())) * 1000)
        return resp

    @app.teardown_request
    def _clear(_exc: Optional[BaseException]) -> None:
        structlog.contextvars.unbind_contextvars("request_id")
