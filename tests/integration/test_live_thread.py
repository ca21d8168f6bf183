"""After the handoff: follow-ups go to the case, staff replies reach the customer's thread (the bot is scripted)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from router.staff import users
from router.storage.models import Case, CaseEvent, Message, OutboxMessage, Survey, User

from ..helpers import CONSENT_QUESTION, consent_given

AUTH = {"Authorization": "Bearer test-token"}
CUSTOMER = "+358401234567"


def twiml_texts(resp):
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    return [m.text for m in ET.fromstring(resp.data).findall("Message")]


@pytest.fixture
def chat(phone_app):
    return phone_app.test_client()


@pytest.fixture
def internal_phone(database_url, sessions, rasa, clock):
    from router.app import create_internal_app

    app = create_internal_app({"database_url": database_url, "internal_api_token": "test-token",
                               "public_base_url": "https://luukku.example.org"}, rasa=rasa, clock=clock)
    yield app.test_client()
    app.extensions["luukku"]["engine"].dispose()


def handed_off(chat, internal_phone, rasa, text="Hei, haluaisin perustaa kahvilan", **extra):
    session = chat.post("/api/chat", json={"session": None, "text": text}).get_json()["session"]
    consent_given(chat.post, rasa, session, extra.get("contact", "testi.asiakas@example.org"))
    body = {"conversation": session, "idempotency_key": f"{session}:1", "topic": "founding", "language": "fi",
            "customer_name": "Testi Asiakas", "contact": "testi.asiakas@example.org", **extra}
    assert internal_phone.post("/internal/handoffs", json=body, headers=AUTH).status_code == 200
    rasa.ranking = [{"name": "founding", "confidence": 0.8}]  # what the follow-ups will read as
    return session


@pytest.fixture
def token(sessions, staff):
    with sessions() as s:
        made = users.issue_token(s, s.scalar(select(User).where(User.email == staff["maija"])))
        s.commit()
    return {"Authorization": f"Bearer {made}"}


def test_a_follow_up_in_the_chat_goes_to_the_case_not_to_the_intake(chat, internal_phone, rasa, sessions, clock):
    session = handed_off(chat, internal_phone, rasa)
    bot_turns = len(rasa.sent)
    first = chat.post("/api/chat", json={"session": session, "text": "Hei, milloin Maija soittaa?"}).get_json()
    assert [r["text"] for r in first["replies"]] == [
        f"Viestisi on liitetty asiaasi {_ref(sessions)}, ja asiasi hoitajalle (Maija Esimerkki) on ilmoitettu "
        "siitä."]
    second = chat.post("/api/chat", json={"session": session, "text": "Ja vielä: meitä on kaksi."}).get_json()
    assert second["replies"] == []  # acknowledged once per case
    assert len(rasa.sent) == bot_turns  # the bot never saw either message
    with sessions() as s:
        events = s.scalars(select(CaseEvent.text).where(CaseEvent.kind == "customer_message")).all()
        assert events == ["Hei, milloin Maija soittaa?", "Ja vielä: meitä on kaksi."]
        [note] = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("%:follow-up:%"))).all()
        assert note.recipient == "maija.esimerkki@example.org" and note.next_attempt_at > clock.now
        assert "milloin Maija soittaa" in note.body and "meitä on kaksi" in note.body  # one email for both
        assert "testi.asiakas@example.org" in note.body and "Testi Asiakas" in note.subject
        assert s.scalar(select(func.count(Case.id))) == 1


def _ref(sessions):
    with sessions() as s:
        return s.scalar(select(Case.ref))


def test_a_clearly_new_matter_opens_a_second_case_only_after_confirming(chat, internal_phone, rasa, sessions):
    session = handed_off(chat, internal_phone, rasa)
    rasa.ranking = [{"name": "funding", "confidence": 0.9}]
    asked = chat.post("/api/chat", json={"session": session, "text": "Tarvitsemme myös lainaa koneisiin"}).get_json()
    [question] = asked["replies"]
    assert "uutta asiaa (Rahoitus)" in question["text"]
    assert [b["payload"] for b in question["buttons"]] == ["/new_matter", "/same_matter"]
    bot_turns = len(rasa.sent)
    chat.post("/api/chat", json={"session": session, "text": "/new_matter"})
    assert rasa.sent[bot_turns][1] == "Tarvitsemme myös lainaa koneisiin"  # the bot takes the new matter


def test_no_to_the_new_matter_question_puts_the_message_on_the_case(chat, internal_phone, rasa, sessions):
    session = handed_off(chat, internal_phone, rasa)
    rasa.ranking = [{"name": "funding", "confidence": 0.9}]
    chat.post("/api/chat", json={"session": session, "text": "Entä rahoitus?"})
    bot_turns = len(rasa.sent)
    replies = chat.post("/api/chat", json={"session": session, "text": "/same_matter"}).get_json()["replies"]
    assert "Maija Esimerkki" in replies[0]["text"] and len(rasa.sent) == bot_turns
    with sessions() as s:
        assert s.scalars(select(CaseEvent.text).where(CaseEvent.kind == "customer_message")).all() == ["Entä rahoitus?"]


def test_a_staff_reply_appears_in_the_widget_thread_and_the_copy_waits_until_unseen(
        chat, internal_phone, rasa, sessions, token, clock, phone_app):
    session = handed_off(chat, internal_phone, rasa)
    ref = _ref(sessions)
    api = phone_app.test_client()
    sent = api.post(f"/api/v1/cases/{ref}/messages", json={"text": "Hei! Soitan huomenna kello 10."}, headers=token)
    assert sent.status_code == 201 and sent.get_json()["sent_on"] == "email"
    thread = chat.get(f"/api/chat/{session}").get_json()
    assert thread["session"] == session
    authors = [(m["author"], m["name"], m["text"]) for m in thread["messages"]][-2:]
    assert authors == [("bot", None, "Maija Esimerkki liittyi keskusteluun."),
                       ("staff", "Maija Esimerkki", "Hei! Soitan huomenna kello 10.")]
    last = thread["messages"][-1]["id"]
    assert chat.get(f"/api/chat/{session}?after={last}").get_json()["messages"] == []
    from router.delivery.outbox import deliver_due
    from router.delivery.senders import RecordingSender

    email = RecordingSender()
    deliver_due(phone_app.extensions["luukku"]["sessions"], {"email": email, "sms": RecordingSender()},
                clock.now + timedelta(minutes=6))
    assert not [o for o in email.sent if "Soitan huomenna" in o.body]  # seen in the widget: no copy
    with sessions() as s:
        assert s.scalar(select(OutboxMessage.status).where(OutboxMessage.idempotency_key.like("%staff-message%"))) \
            == "cancelled"


def test_a_customer_who_left_gets_the_staff_reply_by_email(chat, internal_phone, rasa, sessions, token, clock,
                                                          phone_app):
    handed_off(chat, internal_phone, rasa)
    ref = _ref(sessions)
    phone_app.test_client().post(f"/api/v1/cases/{ref}/messages", json={"text": "Tarvitsen liitteen."}, headers=token)
    from router.delivery.outbox import deliver_due
    from router.delivery.senders import RecordingSender

    email = RecordingSender()
    deliver_due(phone_app.extensions["luukku"]["sessions"], {"email": email, "sms": RecordingSender()}, clock.now)
    assert not [o for o in email.sent if "Tarvitsen liitteen" in o.body]  # not before CHAT_SEEN_MINUTES
    deliver_due(phone_app.extensions["luukku"]["sessions"], {"email": email, "sms": RecordingSender()},
                clock.now + timedelta(minutes=6))
    [copy] = [o for o in email.sent if "Tarvitsen liitteen" in o.body]
    assert copy.recipient == "testi.asiakas@example.org"


def test_the_thread_api_refuses_bad_input_and_unknown_sessions(chat):
    assert chat.get("/api/chat/nope").status_code == 404
    session = chat.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
    assert chat.get(f"/api/chat/{session}?after=abc").status_code == 400
    assert chat.get(f"/api/chat/{session}?after=1&x=2").status_code == 400
    assert [m["author"] for m in chat.get(f"/api/chat/{session}").get_json()["messages"]] == ["customer", "bot"]


def test_an_idle_chat_expires(chat, clock):
    session = chat.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
    clock.now += timedelta(days=31)
    assert chat.get(f"/api/chat/{session}").status_code == 404
    assert chat.post("/api/chat", json={"session": session, "text": "Hei taas"}).status_code == 404


# --- SMS ---------------------------------------------------------------------------------------------------------
def test_an_sms_follow_up_after_the_handoff_reaches_the_case(twilio, rasa, sessions, internal_phone, clock):
    twiml_texts(twilio.sms(CUSTOMER, "Tarvitsen rahoitusta"))
    rasa.replies, before = [CONSENT_QUESTION], rasa.replies
    twiml_texts(twilio.sms(CUSTOMER, "Teksti Asiakas"))
    rasa.replies = before
    twiml_texts(twilio.sms(CUSTOMER, "Kyllä"))
    with sessions() as s:
        conv_id = s.scalar(select(Message.conversation_id))
        from router.storage.models import Conversation

        public = s.get(Conversation, conv_id).public_id
    body = {"conversation": public, "idempotency_key": f"{public}:1", "topic": "funding", "language": "fi",
            "customer_name": "Teksti Asiakas"}
    assert internal_phone.post("/internal/handoffs", json=body, headers=AUTH).status_code == 200
    with sessions() as s:  # the bot's answer on the thread is the confirmation: no second one by SMS
        assert s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "sms")) == 0
    bot_turns = len(rasa.sent)
    clock.now += timedelta(days=3)  # a new conversation by the 24-hour rule, still the same open case
    reply = twiml_texts(twilio.sms(CUSTOMER, "Hei, milloin Matti soittaa?"))
    assert len(reply) == 1 and "Matti Esimerkki" in reply[0]
    assert len(rasa.sent) == bot_turns
    with sessions() as s:
        assert s.scalar(select(CaseEvent.text).where(CaseEvent.kind == "customer_message")) == \
            "Hei, milloin Matti soittaa?"


def test_only_a_score_answers_a_survey_and_a_new_request_is_not_a_comment(twilio, rasa, sessions, make_case, clock):
    ref = make_case(topic="funding", phone=CUSTOMER, channel="sms", text="laina")
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        case.status, case.resolved_at = "resolved", clock.now
        s.add(Survey(case_id=case.id, channel="sms", recipient=CUSTOMER, specialist_id=case.specialist_id,
                     topic="funding", scheduled_at=clock.now, sent_at=clock.now))
        s.commit()
    twiml_texts(twilio.sms(CUSTOMER, "Tarvitsen myös apua rekrytointiin"))
    with sessions() as s:
        assert s.scalar(select(Survey.answered_at)) is None  # a new request, handed to the bot
    assert rasa.sent[-1][1] == "Tarvitsen myös apua rekrytointiin"
    twiml_texts(twilio.sms(CUSTOMER, "4 kiitos!"))
    with sessions() as s:
        assert (s.scalar(select(Survey.score)), s.scalar(select(Survey.comment))) == (4, "kiitos!")


def test_a_specialist_who_chose_sms_hears_of_follow_ups_by_sms_in_one_batch(chat, internal_phone, rasa, sessions):
    from router.storage.models import Specialist

    with sessions() as s:
        s.scalar(select(Specialist).where(Specialist.key == "maija")).notify_by = "sms"
        s.commit()
    session = handed_off(chat, internal_phone, rasa)
    chat.post("/api/chat", json={"session": session, "text": "Onko aika sovittu?"})
    chat.post("/api/chat", json={"session": session, "text": "Sopii myös perjantai."})
    with sessions() as s:
        [notice] = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("%:follow-up:%"))).all()
    assert (notice.kind, notice.recipient) == ("sms", "+358400000101")
    assert "Onko aika sovittu?" in notice.body and "Sopii myös perjantai." in notice.body
