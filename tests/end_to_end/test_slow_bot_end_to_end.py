"""When the router stops waiting for Rasa, the turn is replayed exactly once, on the real Rasa.

A small proxy between the router and Rasa makes the timing certain: it either never passes the message on (Rasa
never saw it: the replay sends it) or passes it on and answers too late (Rasa finished the turn: the replay finds
it in the shared tracker store and uses that answer, the bot never gets the message twice).
"""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import select

from router.inbound import pipeline, replay
from router.inbound.rasa_client import RasaClient
from router.storage.models import Conversation, Message, utcnow
from router.web.chat import PROFILE

from ..live_stack import RASA_TOKEN

pytestmark = pytest.mark.stack
OPENING = "Hei, tarvitsen rahoitusta koneeseen"
ASK_NAME = "Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?"


def _slow_proxy(rasa_url: str, forward: bool) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if forward:  # Rasa takes the turn to the end, whatever happens to our caller
                requests.post(rasa_url + self.path, data=body, headers={"Content-Type": "application/json"},
                              timeout=30)
            time.sleep(1.0)  # the caller gave up long ago
            self.send_response(504)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _gave_up(live, forward: bool):
    """A message the router stopped waiting for: kept, marked as waiting."""
    proxy = _slow_proxy(live.rasa_url, forward)
    try:
        impatient = RasaClient(f"http://127.0.0.1:{proxy.server_address[1]}", timeout=0.3, token=RASA_TOKEN)
        with live.sessions() as s:
            outcome = pipeline.handle(s, pipeline.Context(live.settings, impatient), PROFILE,
                                      pipeline.InboundMessage(OPENING), utcnow())
            [kept] = outcome.replies
            assert outcome.status == "waiting" and kept.text.startswith("Viestisi on tallessa")
            public_id = outcome.conversation
            message_id = s.scalar(select(Message.id).join(Conversation).where(Conversation.public_id == public_id,
                                                                             Message.direction == "in"))
        time.sleep(1.2)  # the proxy is done (and, forwarding, Rasa has finished the turn)
        return public_id, message_id
    finally:
        proxy.shutdown()
        proxy.server_close()


def _user_turns(live, public_id):
    tracker = requests.get(f"{live.rasa_url}/conversations/{public_id}/tracker", params={"token": RASA_TOKEN},
                           timeout=10).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def _answer_stored(live, message_id):
    with live.sessions() as s:
        answers = s.scalars(select(Message.text).where(Message.direction == "out").order_by(Message.id)).all()
        assert answers[-1] == ASK_NAME
        assert s.scalar(select(Message.awaiting_bot).where(Message.id == message_id)) is False


def test_a_turn_rasa_never_saw_is_replayed_once(live):
    patient = RasaClient(live.rasa_url, timeout=20, token=RASA_TOKEN)
    public_id, message_id = _gave_up(live, forward=False)
    assert patient.answered(public_id, message_id) is None
    # Not sent again while Rasa may still be working on it; after the grace, sent once.
    assert replay.replay(live.sessions, live.settings, patient, utcnow())["replayed"] == 0
    assert replay.replay(live.sessions, live.settings, patient, utcnow() + replay.LATE_GRACE)["replayed"] == 1
    assert _user_turns(live, public_id) == [OPENING]
    _answer_stored(live, message_id)


def test_a_turn_rasa_finished_after_the_router_gave_up_is_answered_from_its_tracker(live):
    patient = RasaClient(live.rasa_url, timeout=20, token=RASA_TOKEN)
    public_id, message_id = _gave_up(live, forward=True)
    assert patient.answered(public_id, message_id)  # Rasa has the turn, with the router's message id
    assert replay.replay(live.sessions, live.settings, patient, utcnow())["replayed"] == 1
    assert _user_turns(live, public_id) == [OPENING]  # once: not sent to the bot again
    _answer_stored(live, message_id)


def test_a_handoff_the_action_server_could_not_deliver_is_made_by_the_router(live, monkeypatch):
    """The internal API fails (500): the action passes its request back with its answer; one case, confirmed."""
    from router.storage.models import Case
    from router.web import internal

    def broken(*args, **kwargs):
        raise RuntimeError("the internal API is down")

    monkeypatch.setattr(internal, "from_bot", broken)
    session, turns = live.conversation(OPENING, "Testi Asiakas", "asiakas@example.org", "-", "/affirm")
    [done] = turns[-1]
    assert done["text"].startswith("Matti Esimerkki, ") and "on yhteydessä sinuun" in done["text"]
    monkeypatch.undo()
    with live.sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert (case.topic, case.customer_name, case.customer_email) == ("funding", "Testi Asiakas",
                                                                         "asiakas@example.org")
