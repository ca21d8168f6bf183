"""Events out: a receiver started here gets every event of a case's life once (by id), signed by the Standard
Webhooks scheme and checked with its reference library, also after an outage of the receiver."""
from __future__ import annotations

import json
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from router.storage.models import OutboxMessage, Survey

from ..conftest import auth
from ..helpers import app_worker, serve, stop


class Receiver:
    """A CRM's webhook endpoint: verifies each delivery, keeps it, and can be down (503) for a while."""

    def __init__(self) -> None:
        self.secret = ""
        self.down = 0  # answer this many requests with 503
        self.received: list[dict] = []
        self.refused: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.down > 0:
                    receiver.down -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                try:
                    event = Webhook(receiver.secret).verify(body, dict(self.headers))
                except Exception as exc:  # noqa: BLE001 - any failure is a refusal
                    receiver.refused.append(str(exc))
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.received.append({"id": self.headers["webhook-id"], **event})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server, origin = serve(Handler)
        self.url = f"{origin}/luukku-events"


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    stop(made.server)


def _deliver(phone_app, clock):
    return app_worker(phone_app, clock).deliver()


def test_only_admins_register_receivers_and_the_secret_is_shown_once(phone_app, tokens, receiver):
    api = phone_app.test_client()
    body = {"url": receiver.url, "events": ["case.created"]}
    assert api.post("/api/v1/webhooks", json=body, headers=auth(tokens["maija"])).status_code == 403
    bad = api.post("/api/v1/webhooks", json={**body, "events": ["case.exploded"]}, headers=auth(tokens["admin"]))
    assert bad.status_code == 400
    made = api.post("/api/v1/webhooks", json=body, headers=auth(tokens["admin"]))
    assert made.status_code == 201 and made.get_json()["secret"].startswith("whsec_")
    [listed] = api.get("/api/v1/webhooks", headers=auth(tokens["admin"])).get_json()["webhooks"]
    assert listed["url"] == receiver.url and "secret" not in listed


def test_every_event_of_a_case_s_life_arrives_once_signed_after_an_outage(
        phone_app, tokens, receiver, make_case, clock, sessions, rasa):
    api = phone_app.test_client()
    everything = ["case.created", "case.taken_up", "message.created", "case.reassigned", "case.resolved",
                  "survey.answered", "activity.created", "lead.stage_changed"]
    made = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": everything},
                    headers=auth(tokens["admin"])).get_json()
    receiver.secret = made["secret"]
    receiver.down = 3  # the CRM is down for the first deliveries

    ref = make_case(email="asiakas@example.org")
    maija = auth(tokens["maija"])
    assert api.post(f"/api/v1/cases/{ref}/take-up", headers=maija).status_code == 200
    with sessions() as s:
        from router.storage.models import Case

        public_id = s.scalar(select(Case).where(Case.ref == ref)).conversation.public_id
    rasa.ranking = [{"name": "founding", "confidence": 0.8}]
    api.post("/api/chat", json={"session": public_id, "text": "Tuon liiketoimintasuunnitelman mukanani"})
    assert api.post(f"/api/v1/cases/{ref}/messages", json={"text": "Hyvä, nähdään!"}, headers=maija).status_code == 201
    assert api.post(f"/api/v1/cases/{ref}/reassign", json={"specialist": "matti"}, headers=maija).status_code == 200
    matti = auth(tokens["matti"])
    assert api.post(f"/api/v1/cases/{ref}/resolve", json={"outcome": "advice_given"}, headers=matti).status_code == 200
    with sessions() as s:
        from router import config as config_mod
        from router.casework import survey

        row = s.scalar(select(Survey))
        survey.record(s, config_mod.load({}), row, 5, "Kiitos, selkeää apua", clock.now)
        s.commit()

    for _ in range(6):  # the outage: each failed delivery waits its backoff, then goes again
        _deliver(phone_app, clock)
        clock.now += timedelta(minutes=2)
    _deliver(phone_app, clock)  # once more: nothing twice

    assert receiver.refused == []
    types = [e["type"] for e in receiver.received]
    assert sorted(types) == sorted(["case.created", "case.taken_up", "message.created", "message.created",
                                    "case.reassigned", "case.resolved", "survey.answered"])
    ids = [e["id"] for e in receiver.received]
    assert len(ids) == len(set(ids))  # once each, by id
    by_type = {e["type"]: e for e in receiver.received}
    assert by_type["case.created"]["data"]["case"] == ref
    assert by_type["case.reassigned"]["data"]["specialist"] == "matti"
    assert by_type["case.resolved"]["data"]["outcome"] == "advice_given"
    assert by_type["survey.answered"]["data"]["score"] == 5
    # Ids and facts, not the customer's words: this receiver did not ask for them.
    sent = json.dumps(receiver.received, ensure_ascii=False)
    for words in ("liiketoimintasuunnitelman", "Kiitos, selkeää", "asiakas@example.org", "Testi Asiakas"):
        assert words not in sent
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).all()
        assert {r.status for r in rows} == {"sent"} and max(r.attempts for r in rows) > 1


def test_a_receiver_that_asked_for_the_words_gets_them_and_a_dead_one_is_visible_to_admins(
        phone_app, tokens, receiver, make_case, clock, sessions, signed_in):
    api = phone_app.test_client()
    made = api.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["case.created"], "with_words": True},
                    headers=auth(tokens["admin"])).get_json()
    receiver.secret = made["secret"]
    make_case(text="Haluaisin perustaa kahvilan torin laidalle")
    _deliver(phone_app, clock)
    [event] = receiver.received
    assert event["data"]["summary"] == "Haluaisin perustaa kahvilan torin laidalle"

    stop(receiver.server)  # the receiver is gone for good
    make_case(text="Toinen asia")
    for _ in range(14):
        _deliver(phone_app, clock)
        clock.now += timedelta(hours=1)
    with sessions() as s:
        dead = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook",
                                                     OutboxMessage.status == "dead")).all()
    assert len(dead) == 1
    page = signed_in("admin").get("/staff/admin/deliveries").get_data(as_text=True)
    assert "webhook" in page and "case.created" in page


def test_an_admin_adds_a_receiver_in_the_staff_ui_and_turns_it_off(signed_in, sessions, receiver, make_case, clock,
                                                                   phone_app):
    admin = signed_in("admin")
    resp = admin.post_form("/staff/admin/webhooks", "/staff/admin/webhooks",
                           {"url": receiver.url, "events": ["case.created", "case.resolved"]})
    assert resp.status_code == 302
    from router.storage.models import WebhookEndpoint

    with sessions() as s:
        secret = s.scalar(select(WebhookEndpoint.secret))
    page = admin.get("/staff/admin/webhooks").get_data(as_text=True)
    assert receiver.url in page and "case.created, case.resolved" in page and secret in page  # shown once
    assert secret not in admin.get("/staff/admin/webhooks").get_data(as_text=True)
    assert signed_in("lead").get("/staff/admin/webhooks").status_code == 403
    with sessions() as s:
        endpoint = s.scalar(select(WebhookEndpoint))
        receiver.secret = endpoint.secret
    admin.post_form("/staff/admin/webhooks", f"/staff/admin/webhooks/{endpoint.id}/off", {})
    make_case()
    _deliver(phone_app, clock)
    assert receiver.received == []  # turned off: nothing queued for it
