"""Structured logs: one JSON object per line (structlog), with the request id that follows a turn through the
router, Rasa's metadata, the action server's calls back and the worker.

Log lines carry ids (request, conversation number, case reference, outbox row), never a customer's words,
name, address or number: the databases hold those, the logs do not.
"""
from __future__ import annotations

import logging
import re
from typing import Any, MutableMapping, Optional

import structlog

REQUEST_ID = "X-Request-Id"
SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def setup(level: str = "INFO", fmt: str = "json", process: str = "router") -> None:
    """Route every stdlib logger through structlog's formatter: JSON lines (or plain text for a terminal)."""
    def add_process(_logger: object, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("process", process)
        return event

    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars, add_process, structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name, structlog.processors.TimeStamper(fmt="iso", utc=True)]
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.processors.format_exc_info],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer])
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    handler.set_name("luukku")
    root = logging.getLogger()
    # Replace only our own handler (an app made twice, tests): other handlers (pytest's capture) stay.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "luukku"] + [handler]
    root.setLevel(level)
    # Libraries whose INFO lines carry personal data: the twilio client logs each request's URL and form (a phone
    # number in To=), and its retries again; only their warnings and errors are kept.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.configure(processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
                        logger_factory=structlog.stdlib.LoggerFactory(), cache_logger_on_first_use=True)


QUIET_LIBRARIES = ("twilio", "twilio.http_client", "urllib3.connectionpool")


def request_id() -> Optional[str]:
    """The current request's id (None outside a request)."""
    return structlog.contextvars.get_contextvars().get("request_id")


def bind(**values: object) -> None:
    structlog.contextvars.bind_contextvars(**values)
