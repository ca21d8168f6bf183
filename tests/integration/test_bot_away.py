"""Rasa away: the conversation waits instead of forgetting, is replayed in order, or reaches a person."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from router import config
from router.inbound import replay
from router.storage.models import Case, Message, OutboxMessage, utcnow

from ..conftest import PUBLIC

# About the database's own behaviour: runs on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases


def settings(**extra):
    return config.load({"public_base_url": PUBLIC, **extra})


def test_messages_wait_while_rasa_is_away_and_are_replayed_in_order_when_it_is_back(client, rasa, sessions):
    first = client.post("/api/chat", json={"session": None, "text": "Hei, tarvitsen rahoitusta"}).get_json()
    session = first["session"]
    rasa.down = True
    kept = client.post("/api/chat", json={"session": session, "text": "Testi Asiakas"}).get_json()
    client.post("/api/chat", json={"session": session, "text": "testi@example.org"})
    assert "Viestisi on tallessa" in kept["replies"][0]["text"]  # told it is kept (and who helps meanwhile)
    with sessions() as s:
        assert s.scalars(select(Message.text).where(Message.awaiting_bot.is_(True)).order_by(Message.id)).all() == \
            ["Testi Asiakas", "testi@example.org"]
    sent_before = len(rasa.sent)
    assert replay.replay(sessions, settings(), rasa, utcnow()) == {"replayed": 0, "handed_over": 0}  # still away
    rasa.down = False
    assert replay.replay(sessions, settings(), rasa, utcnow())["replayed"] == 2
    assert [t for _, t, _ in rasa.sent[sent_before:]] == ["Testi Asiakas", "testi@example.org"]  # in order
    thread = client.get(f"/api/chat/{session}").get_json()["messages"]
    # the answers appear in the widget's thread, the pass's as one message, in order
    assert [m["author"] for m in thread] == ["customer", "bot", "customer", "bot", "customer", "bot"]
    assert "tallessa" in thread[3]["text"]  # told once that it is kept, not again for the second message
    assert thread[-1]["text"] == "Mikä on nimesi?\n\nMikä on nimesi?"
    assert replay.replay(sessions, settings(), rasa, utcnow())["replayed"] == 0  # nothing twice


def test_while_one_message_waits_a_later_one_waits_behind_it(client, rasa, sessions):
    session = client.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
    rasa.down = True
    client.post("/api/chat", json={"session": session, "text": "eka"})
    rasa.down = False  # Rasa is back, but the earlier message has not been replayed yet
    client.post("/api/chat", json={"session": session, "text": "toka"})
    assert [t for _, t, _ in rasa.sent] == ["Hei"]  # the bot never sees "toka" before "eka"
    replay.replay(sessions, settings(), rasa, utcnow())
    assert [t for _, t, _ in rasa.sent] == ["Hei", "eka", "toka"]


def test_if_rasa_stays_away_a_person_gets_the_conversation(twilio, rasa, sessions, clock):
    rasa.down = True
    twilio.sms("+358401234567", "Tarvitsen lainaa pakettiautoon")
    assert replay.replay(sessions, settings(), rasa, clock.now + timedelta(minutes=5))["handed_over"] == 0
    assert replay.replay(sessions, settings(), rasa, clock.now + timedelta(minutes=11))["handed_over"] == 1
    with sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert (case.topic, case.customer_phone, case.channel) == ("funding", "+358401234567", "sms")
        assert "pakettiautoon" in case.summary
        [told] = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "+358401234567")).all()
        assert case.ref in told.body and "Matti Esimerkki" in told.body
        assert s.scalar(select(Message.id).where(Message.awaiting_bot.is_(True))) is None
    assert replay.replay(sessions, settings(), rasa, clock.now + timedelta(minutes=20))["handed_over"] == 0


def test_an_sms_that_waited_is_answered_by_sms_when_rasa_is_back(twilio, rasa, sessions, clock):
    rasa.down = True
    twilio.sms("+358401234567", "moi, tarttisin lainaa")
    rasa.down = False
    replay.replay(sessions, settings(), rasa, clock.now)
    with sessions() as s:
        [answer] = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("replay:%"))).all()
    assert (answer.recipient, answer.body) == ("+358401234567", "Mikä on nimesi?")


def test_a_slow_or_absent_bot_says_it_once_with_a_whole_number_and_later_answers_come_as_one_text(
        twilio, rasa, sessions, clock):
    """Each of three texts while Rasa is away used to get the holding text ("10.0 minuutin"), and the replay sent
    one text per answer; now the first hears it once, the others nothing, and the answers come as one text."""
    import xml.etree.ElementTree as ET

    def texts(resp):
        return [m.text for m in ET.fromstring(resp.data).findall("Message")]

    rasa.down = True
    first = texts(twilio.sms("+358401234567", "moi, tarttisin lainaa"))
    assert len(first) == 1 and "10 minuutin" in first[0] and "10.0" not in first[0]
    assert texts(twilio.sms("+358401234567", "Timo Testaaja")) == []
    assert texts(twilio.sms("+358401234567", "Kuljetus Oy")) == []
    rasa.down = False
    answers = iter([[{"text": "Mikä on nimesi?"}], [{"text": "Yrityksesi nimi?"}],
                    [{"text": "Saako tietosi välittää?", "buttons": [{"title": "Kyllä", "payload": "/affirm"},
                                                                       {"title": "Ei", "payload": "/deny"}]}]])
    rasa.send = lambda sender, text, metadata, timeout=None: next(answers)
    assert replay.replay(sessions, settings(), rasa, clock.now)["replayed"] == 3
    with sessions() as s:
        [text] = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("replay:%"))).all()
        # the widget-less channel gets them in order, one text; only the last answer's choices are numbered
        assert text.body == ("Mikä on nimesi?\n\nYrityksesi nimi?\n\nSaako tietosi välittää?\n"
                             "Vastaa numerolla: 1 Kyllä, 2 Ei")


def test_the_web_chat_hears_the_holding_message_once_while_the_bot_is_away(client, rasa, sessions):
    session = client.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
    rasa.down = True
    said = [client.post("/api/chat", json={"session": session, "text": text}).get_json()["replies"]
            for text in ("tarvitsen rahoitusta", "koneeseen", "onko ketään?")]
    assert [len(r) for r in said] == [1, 0, 0]
    assert "10 minuutin" in said[0][0]["text"]
