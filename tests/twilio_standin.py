"""A local stand-in of Twilio's Messages API, for the real twilio REST client in tests."""
from __future__ import annotations

import threading
import time
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
        self.drop_answers = 0
        self.list_calls = 0
        self.delay = 0.0  # seconds between accepting a message and answering (a worker can be killed meanwhile)
        self.failing_until = 0.0  # time.monotonic() until which every send is refused (429/500 in turn)
        self.failing_count = 0
        app = Flask("twilio-standin")

        @app.post("/2010-04-01/Accounts/<account>/Messages.json")
        def create_message(account: str):
            with self.lock:
                if time.monotonic() < self.failing_until:  # an outage: 429 and 500 in turn
                    self.failing_count += 1
                    status, code = ((429, 20429), (500, 20500))[self.failing_count % 2]
                    return jsonify(code=code, message=f"stand-in outage {code}", status=status), status
                if self.failures:
                    status, code = self.failures.popleft()
                    return jsonify(code=code, message=f"stand-in error {code}", status=status,
                                   more_info=f"https://www.twilio.com/docs/errors/{code}"), status
                form = request.form.to_dict()
                self.received.append({**form, "_account": account, "_auth": request.authorization.username
                                      if request.authorization else ""})
            sid = "SM" + uuid.uuid4().hex
            with self.lock:
                self.received[-1]["_sid"] = sid
            if self.delay:
                time.sleep(self.delay)
            with self.lock:
                if self.drop_answers:  # accepted, but the answer is lost on its way back (a crash, a timeout)
                    self.drop_answers -= 1
                    return jsonify(code=20500, message="stand-in lost the answer", status=500), 500
            return jsonify(sid=sid, account_sid=account, to=form.get("To"), from_=form.get("From"),
                           body=form.get("Body"), status="queued", num_segments="1"), 201

        @app.get("/2010-04-01/Accounts/<account>/Messages.json")
        def list_messages(account: str):
            """The message log, filtered by To and From the way Twilio's API filters it."""
            to, sender = request.args.get("To"), request.args.get("From")
            with self.lock:
                rows = [m for m in self.received if m.get("_sid") and (not to or m.get("To") == to)
                        and (not sender or m.get("From") == sender)]
            self.list_calls += 1
            return jsonify(messages=[{"sid": m["_sid"], "account_sid": account, "to": m.get("To"),
                                      "from": m.get("From"), "body": m.get("Body"), "status": "sent"}
                                     for m in reversed(rows)],
                           next_page_uri=None, page=0, page_size=len(rows),
                           uri=f"/2010-04-01/Accounts/{account}/Messages.json")

        self.server = create_server(app, host="127.0.0.1", port=self.port, threads=4)

    def fail_next(self, status: int, code: int, times: int = 1) -> None:
        with self.lock:
            self.failures.extend([(status, code)] * times)

    def __enter__(self) -> "TwilioStandIn":
        threading.Thread(target=self.server.run, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()
