"""When the router stops waiting for Rasa, the turn is replayed exactly once, on the real Rasa.

Rasa (Sanic) cancels a turn whose client went away, so usually the replay sends it again; if Rasa did finish the
turn (the race at the timeout's edge), the replay finds it in the shared tracker store and uses that answer.
"""
import pytest
import requests
from sqlalchemy import select

from router.inbound import conversation, replay
from router.inbound.rasa_client import RasaClient
from router.models import Message, utcnow

from ..live_stack import RASA_TOKEN

pytestmark = pytest.mark.stack
OPENING = "Hei, tarvitsen rahoitusta koneeseen"
ASK_NAME = "Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?"


def _gave_up(live):
    """A message the router stopped waiting for: kept, marked as waiting."""
    impatient = RasaClient(live.rasa_url, timeout=0.05, token=RASA_TOKEN)
    with live.sessions() as s:
        conv = conversation.start(s, channel="web")
        s.commit()
        [kept] = conversation.converse(s, impatient, conv, OPENING, settings=live.settings)
        message_id = s.scalar(select(Message.id).where(Message.conversation_id == conv.id, Message.direction == "in"))
        assert kept.text.startswith("Viestisi on tallessa")
        return conv.public_id, message_id


def _user_turns(live, public_id):
    tracker = requests.get(f"{live.rasa_url}/conversations/{public_id}/tracker", params={"token": RASA_TOKEN},
                           timeout=10).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def _answer_stored(live, message_id):
    with live.sessions() as s:
        answers = s.scalars(select(Message.text).where(Message.direction == "out").order_by(Message.id)).all()
        assert answers[-1] == ASK_NAME
        assert s.scalar(select(Message.awaiting_bot).where(Message.id == message_id)) is False


def test_a_turn_rasa_dropped_when_the_router_gave_up_is_replayed_once(live):
    patient = RasaClient(live.rasa_url, timeout=20, token=RASA_TOKEN)
    public_id, message_id = _gave_up(live)
    assert patient.answered(public_id, message_id) is None  # Rasa cancelled the turn with its client
    assert replay.replay(live.sessions, live.settings, patient, utcnow())["replayed"] == 1
    assert _user_turns(live, public_id) == [OPENING]
    _answer_stored(live, message_id)


def test_a_turn_rasa_finished_anyway_is_answered_from_its_tracker_not_sent_twice(live):
    patient = RasaClient(live.rasa_url, timeout=20, token=RASA_TOKEN)
    public_id, message_id = _gave_up(live)
    patient.send(public_id, OPENING, {"language": "fi", "channel": "web", "message_id": message_id})  # the race
    assert replay.replay(live.sessions, live.settings, patient, utcnow())["replayed"] == 1
    assert _user_turns(live, public_id) == [OPENING]  # once
    _answer_stored(live, message_id)


def test_a_handoff_the_action_server_could_not_deliver_is_made_by_the_router(live, monkeypatch):
    """The internal API fails (500): the action passes its request back with its answer; one case, confirmed."""
    from router.models import Case
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
