"""Inbound SMS through signed Twilio webhooks (the bot is scripted here; the end-to-end test uses the real one)."""
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from router.inbound import replay
from router.storage.models import Message, OptOut, OutboxMessage

# The sender's turn is a lock on PostgreSQL: the webhook runs on both databases.
pytestmark = pytest.mark.both_databases

CUSTOMER = "+358401234567"


def messages(resp):
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    root = ET.fromstring(resp.data)
    assert root.tag == "Response"
    return [m.text for m in root.findall("Message")]


def count(sessions, model):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_text_gets_the_bot_s_reply_as_twiml_and_is_stored_once(twilio, rasa, sessions):
    resp = twilio.sms(CUSTOMER, "tarvitsen rahoitusta", sid="SM1")
    assert messages(resp) == ["Mikä on nimesi?"]
    sender, text, metadata = rasa.sent[0]
    # The same metadata as the web chat's: the turn's request id reaches the action server on every channel.
    assert text == "tarvitsen rahoitusta" and metadata == {"language": "fi", "channel": "sms",
                                                           "request_id": resp.headers["X-Request-Id"],
                                                           "message_id": metadata["message_id"]}
    assert CUSTOMER not in sender  # Rasa's conversation id is random, never the number
    assert messages(twilio.sms(CUSTOMER, "tarvitsen rahoitusta", sid="SM1")) == []  # Twilio's retry
    assert len(rasa.sent) == 1
    assert count(sessions, Message) == 2


def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(twilio, phone_app, sessions):
    params = {"MessageSid": "SM9", "From": CUSTOMER, "Body": "hei"}
    assert twilio.signed("/twilio/sms", params, forge=True).status_code == 403
    assert phone_app.test_client().post("/twilio/sms", data=params).status_code == 403
    assert count(sessions, Message) == 0


def test_texts_in_one_day_continue_one_conversation(twilio, rasa, clock):
    twilio.sms(CUSTOMER, "hei")
    twilio.sms(CUSTOMER, "rahoitus")
    clock.now += timedelta(days=2)
    twilio.sms(CUSTOMER, "taas")
    senders = [s for s, _, _ in rasa.sent]
    assert senders[0] == senders[1] != senders[2]


def test_buttons_become_a_numbered_choice_and_a_number_answers_it(twilio, rasa):
    rasa.replies = [{"text": "Sopiiko tämä?", "buttons": [{"title": "Kyllä", "payload": "/affirm"},
                                                          {"title": "Ei", "payload": "/deny"}]}]
    [reply] = messages(twilio.sms(CUSTOMER, "Matti"))
    assert reply == "Sopiiko tämä?\nVastaa numerolla: 1 Kyllä, 2 Ei"
    twilio.sms(CUSTOMER, "2")
    assert rasa.sent[-1][1] == "/deny"
    twilio.sms(CUSTOMER, "7")  # not a choice: goes to the bot as text
    assert rasa.sent[-1][1] == "7"


def test_stop_start_and_help_in_three_languages(twilio, rasa, sessions):
    [stopped] = messages(twilio.sms(CUSTOMER, "LOPETA"))
    assert "ALOITA" in stopped
    with sessions() as s:
        assert s.get(OptOut, CUSTOMER) is not None
    messages(twilio.sms(CUSTOMER, "stop"))  # twice is fine
    [started] = messages(twilio.sms(CUSTOMER, "Aloita"))
    assert "taas" in started
    with sessions() as s:
        assert s.get(OptOut, CUSTOMER) is None
    [help_sv] = messages(twilio.sms("+358409999999", "HJÄLP"))
    assert "+358 40 000 0000" in help_sv and "SLUTA" in help_sv
    [stop_en] = messages(twilio.sms("+358408888888", "STOP"))
    assert stop_en.startswith("Luukku:")
    assert rasa.sent == []  # keywords never reach the bot


def test_a_media_only_message_gets_a_safe_answer(twilio, rasa):
    [reply] = messages(twilio.sms(CUSTOMER, "", NumMedia="1", MediaUrl0="https://example.org/x.jpg"))
    assert reply.startswith("Kirjoita asiasi tekstinä")
    assert rasa.sent == []


def test_a_slow_bot_gets_an_empty_twiml_at_once_and_the_reply_goes_through_the_outbox(twilio, rasa, sessions,
                                                                                      phone_app, clock):
    rasa.late = True  # Rasa takes the text and answers after the SMS budget
    assert messages(twilio.sms(CUSTOMER, "hei", sid="SMslow")) == []  # nothing now, not even "the bot is away"
    with sessions() as s:
        [waiting] = s.scalars(select(Message).where(Message.awaiting_bot.is_(True))).all()
    settings = phone_app.extensions["luukku"]["settings"]
    # The worker's replay finds Rasa's answer in its tracker and sends it; the text is not sent to Rasa again.
    assert replay.replay(sessions, settings, rasa, clock.now) == {"replayed": 1, "handed_over": 0}
    assert len(rasa.sent) == 1
    with sessions() as s:
        row = s.scalar(select(OutboxMessage))
        assert not s.get(Message, waiting.id).awaiting_bot
    assert (row.kind, row.recipient, row.body, row.idempotency_key) == ("sms", CUSTOMER, "Mikä on nimesi?",
                                                                      f"replay:{waiting.id}")


def test_a_late_text_is_not_sent_to_the_bot_again_while_the_bot_may_still_answer_it(twilio, rasa, sessions,
                                                                                    phone_app, clock):
    rasa.late, rasa.forgetful = True, True  # took it, and its answer is nowhere (Rasa died meanwhile)
    twilio.sms(CUSTOMER, "hei", sid="SMlost")
    settings = phone_app.extensions["luukku"]["settings"]
    assert replay.replay(sessions, settings, rasa, clock.now + timedelta(seconds=10)) == {"replayed": 0,
                                                                                       "handed_over": 0}
    assert len(rasa.sent) == 1  # within the grace: Rasa may still be on it
    rasa.late = False
    assert replay.replay(sessions, settings, rasa, clock.now + replay.LATE_GRACE) == {"replayed": 1,
                                                                                   "handed_over": 0}
    assert [text for _, text, _ in rasa.sent] == ["hei", "hei"]
    with sessions() as s:
        assert s.scalar(select(OutboxMessage.body)) == "Mikä on nimesi?"


def test_rasa_down_still_answers_by_sms(twilio, rasa):
    rasa.down = True
    [reply] = messages(twilio.sms(CUSTOMER, "tarvitsen rahoitusta"))
    assert "Matti Esimerkki" in reply


def test_status_callbacks_only_move_forward(twilio, sessions):
    with sessions() as s:
        s.add(OutboxMessage(idempotency_key="k", kind="sms", recipient=CUSTOMER, body="x", status="sent",
                            provider_id="SMout"))
        s.commit()
    for status in ("sent", "delivered", "sending", "queued"):
        assert twilio.signed("/twilio/status", {"MessageSid": "SMout", "MessageStatus": status}).status_code == 204
    with sessions() as s:
        assert s.scalar(select(OutboxMessage.delivery_status)) == "delivered"
    assert twilio.signed("/twilio/status", {"MessageSid": "SMout", "MessageStatus": "bogus"}).status_code == 400
