"""The least a router can add to a turn, for `make bench-overhead`: Flask under the router's gunicorn settings,
forwarding the chat turn to Rasa, with no database, no Redis, no checks. Never deployed."""
from __future__ import annotations

import os
import uuid

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)
RASA = os.environ.get("RASA_URL", "http://127.0.0.1:5005").split(",")[0]
http = requests.Session()


@app.post("/api/chat")
def chat():
    body = request.get_json()
    sender = body.get("session") or uuid.uuid4().hex
    resp = http.post(RASA + "/webhooks/rest/webhook", timeout=30,
                     json={"sender": sender, "message": body["text"], "metadata": {"language": "fi"}})
    return jsonify(session=sender, replies=[{"text": r.get("text", "")} for r in resp.json()])


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
