"""A local stand-in of Twilio's Messages API, for the real twilio REST client in tests."""
from __future__ import annotations

import threading
import uuid
from collections import deque

from flask import Flask, jsonify, request
from waitress.server import create_server

from .helpers import free_port


class TwilioStandIn:
    """Records every message it is asked to send; `fail_next` queues error answers (status, code)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.received: list[dict[str, str]] = []
        self.failures: deque[tuple[int, int]] = deque()
        self.lock = threading.Lock()
        app = Flask("twilio-standin")

        @app.post("/2010-04-01/Accounts/<account>/Messages.json")
        def create_message(account: str):
            with self.lock:
                if self.failures:
                    status, code = self.failures.popleft()
                    return jsonify(code=code, message=f"stand-in error {code}", status=status,
                                   more_info=f"https://www.twilio.com/docs/errors/{code}"), status
                form = request.form.to_dict()
                self.received.append({**form, "_account": account, "_auth": request.authorization.username
                                      if request.authorization else ""})
            sid = "SM" + uuid.uuid4().hex
            return jsonify(sid=sid, account_sid=account, to=form.get("To"), from_=form.get("From"),
                           body=form.get("Body"), status="queued", num_segments="1"), 201

        self.server = create_server(app, host="127.0.0.1", port=self.port, threads=4)

    def fail_next(self, status: int, code: int, times: int = 1) -> None:
        with self.lock:
            self.failures.extend([(status, code)] * times)

    def __enter__(self) -> "TwilioStandIn":
        threading.Thread(target=self.server.run, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()
