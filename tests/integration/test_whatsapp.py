"""WhatsApp through Twilio, end to end in the router: signed webhooks (the real twilio library's validator), the
one inbound path, and answers through the outbox and the real twilio REST client to a local stand-in of Twilio's
Messages API, with WhatsApp's 24-hour rule."""
import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from router import config
from router.app import create_internal_app
from router.casework import actions, survey
from router.channels import whatsapp
from router.delivery.outbox import deliver_due
from router.delivery.twilio_sms import TwilioSmsSender
from router.storage.models import Case, CaseEvent, Conversation, Message, OptOut, OutboxMessage, Survey

from ..conftest import PUBLIC, TWILIO_TOKEN, StaffClient
from ..helpers import CONSENT_QUESTION
from ..twilio_standin import TwilioStandIn

CUSTOMER = "+358401234567"
ADDRESS = "whatsapp:+358401234567"
TEMPLATES = {"twilio_whatsapp_template_confirmation": "HXconfirmation0000000000000000000",
             "twilio_whatsapp_template_reply": "HXreply000000000000000000000000000",
             "twilio_whatsapp_template_survey": "HXsurvey00000000000000000000000000"}


@pytest.fixture
def standin():
    with TwilioStandIn() as server:
        yield server


@pytest.fixture
def phone_settings() -> dict:
    """The phone app with a WhatsApp sender and its templates (tests/conftest.py: phone_app)."""
    return {"twilio_whatsapp_number": "+358400000000", **TEMPLATES}


@pytest.fixture
def settings(standin, phone_settings):
    """The worker's settings: the same account, its REST calls to the stand-in."""
    return config.load({"twilio_account_sid": "ACtest", "twilio_auth_token": TWILIO_TOKEN,
                        "twilio_number": "+358400000000", "twilio_api_base_url": standin.base_url,
                        "public_base_url": PUBLIC, **phone_settings})


def staff_reply(phone_app, staff, ref: str, text: str) -> None:
    """Matti answers on the case page, as a specialist does."""
    resp = StaffClient(phone_app, staff["matti"]).post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/message",
                                                         {"text": text})
    assert resp.status_code == 302


@pytest.fixture
def internal(database_url, sessions, rasa):
    app = create_internal_app({"database_url": database_url, "internal_api_token": "test-token",
                               "public_base_url": PUBLIC}, rasa=rasa)
    yield app.test_client()
    app.extensions["luukku"]["engine"].dispose()


def said(resp) -> list[str]:
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    root = ET.fromstring(resp.data)
    assert root.tag == "Response"
    return [m.text for m in root.findall("Message")]


def deliver(sessions, settings, standin, now) -> list[dict]:
    """The worker's delivery step with the real twilio client; what the stand-in received this time."""
    before = len(standin.received)
    deliver_due(sessions, {"whatsapp": TwilioSmsSender(settings, whatsapp=True)}, now,
                shapers={"whatsapp": whatsapp.shaper(settings)})
    return standin.received[before:]


def handed_off(twilio, rasa, internal, clock) -> str:
    """A first contact through to a case: the bot asks for consent, the customer answers "1", the action server
    asks for the handoff (the number is the one WhatsApp proved)."""
    rasa.replies = [CONSENT_QUESTION]
    assert said(twilio.whatsapp(CUSTOMER, "Tarvitsen rahoitusta koneeseen")) == [
        "Sopiiko tämä?\nVastaa numerolla: 1 Kyllä, 2 Ei"]
    rasa.replies = [{"text": "Kiitos!"}]
    said(twilio.whatsapp(CUSTOMER, "1"))
    sender, text, metadata = rasa.sent[-1]
    assert (text, metadata["channel"]) == ("/affirm", "whatsapp") and CUSTOMER not in sender
    resp = internal.post("/internal/handoffs", headers={"Authorization": "Bearer test-token"}, json={
        "conversation": sender, "idempotency_key": f"{sender}:1", "topic": "funding", "language": "fi",
        "customer_name": "Testi Asiakas", "consent": True})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["text"]


def test_a_first_contact_reaches_a_named_specialist_with_a_date(twilio, rasa, internal, sessions, clock):
    text = handed_off(twilio, rasa, internal, clock)
    assert text.startswith("Matti Esimerkki, ") and "viimeistään" in text
    with sessions() as s:
        case = s.scalar(select(Case))
        conv = s.get(Conversation, case.conversation_id)
        rows = s.scalars(select(OutboxMessage)).all()
    assert (case.channel, case.customer_phone, conv.address) == ("whatsapp", CUSTOMER, ADDRESS)
    # The specialist hears of it; the customer's confirmation is the bot's answer on the thread, not a second one.
    assert [(r.kind, r.recipient) for r in rows] == [("email", "matti.esimerkki@example.org")]


def test_a_follow_up_goes_onto_the_case_and_the_bot_is_not_asked(twilio, rasa, internal, sessions, clock):
    handed_off(twilio, rasa, internal, clock)
    asked = len(rasa.sent)
    clock.now += timedelta(days=2)  # a new conversation of the day, still the same open case
    [ack] = said(twilio.whatsapp(CUSTOMER, "Kone maksaa noin 20 000 euroa"))
    assert "Matti Esimerkki" in ack and len(rasa.sent) == asked
    with sessions() as s:
        [event] = s.scalars(select(CaseEvent).where(CaseEvent.kind == "customer_message")).all()
        assert event.text == "Kone maksaa noin 20 000 euroa"
        assert s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("%follow-up%"))) is not None


def test_a_retried_webhook_is_stored_once_and_a_forged_one_not_at_all(twilio, rasa, sessions):
    assert said(twilio.whatsapp(CUSTOMER, "hei", sid="SMwa1")) == ["Mikä on nimesi?"]
    assert said(twilio.whatsapp(CUSTOMER, "hei", sid="SMwa1")) == []
    assert twilio.signed("/twilio/whatsapp", {"MessageSid": "SMwa2", "From": ADDRESS, "Body": "hei"},
                     forge=True).status_code == 403
    # An SMS sender posted to the WhatsApp webhook is not a WhatsApp message.
    assert twilio.signed("/twilio/whatsapp", {"MessageSid": "SMwa3", "From": CUSTOMER, "Body": "hei"}).status_code == 400
    with sessions() as s:
        assert [m.provider_id for m in s.scalars(select(Message).where(Message.direction == "in"))] == ["SMwa1"]
    assert len(rasa.sent) == 1


def test_the_staff_reply_is_free_text_within_24_hours_and_the_template_after(twilio, phone_app, rasa, internal, sessions,
                                                                            clock, settings, standin, staff):
    handed_off(twilio, rasa, internal, clock)
    with sessions() as s:
        case = s.scalar(select(Case))
    staff_reply(phone_app, staff, case.ref, "Soitan huomenna kymmeneltä.")
    [sent] = deliver(sessions, settings, standin, clock.now)
    assert (sent["From"], sent["To"], sent["Body"]) == ("whatsapp:+358400000000", ADDRESS,
                                                        "Luukku, Matti Esimerkki: Soitan huomenna kymmeneltä.")
    assert "ContentSid" not in sent
    clock.now += timedelta(hours=25)  # the customer has not written since: only a template may go
    staff_reply(phone_app, staff, case.ref, "Sopiiko torstai?")
    [sent] = deliver(sessions, settings, standin, clock.now)
    assert sent["ContentSid"] == TEMPLATES["twilio_whatsapp_template_reply"] and "Body" not in sent
    assert json.loads(sent["ContentVariables"]) == {"1": "Matti Esimerkki", "2": case.ref, "3": "Sopiiko torstai?"}
    # The transcript keeps both as the specialist wrote them.
    with sessions() as s:
        assert [m.text for m in s.scalars(select(Message).where(Message.author == "staff"))] == [
            "Soitan huomenna kymmeneltä.", "Sopiiko torstai?"]


def test_outside_24_hours_a_message_without_an_approved_template_is_not_sent(twilio, rasa, internal, sessions, clock,
                                                                           standin):
    handed_off(twilio, rasa, internal, clock)
    bare = config.load({"twilio_account_sid": "ACtest", "twilio_auth_token": TWILIO_TOKEN,
                        "twilio_whatsapp_number": "+358400000000", "twilio_api_base_url": standin.base_url,
                        "public_base_url": PUBLIC})  # no template SIDs configured
    later = clock.now + timedelta(hours=25)
    with sessions() as s:
        actions.message_customer(s, bare, s.scalar(select(Case)), None, "Hei!", later)
        s.commit()
    assert deliver(sessions, bare, standin, later) == []
    with sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "whatsapp"))
    assert row.status == "dead" and "24-hour window" in row.last_error


def test_the_survey_goes_as_a_template_and_a_score_answers_it(twilio, rasa, internal, sessions, clock, settings,
                                                              standin, staff):
    handed_off(twilio, rasa, internal, clock)
    with sessions() as s:
        case = s.scalar(select(Case))
        actions.resolve(s, settings, case, None, clock.now)
        s.commit()
        planned = s.scalar(select(Survey))
        assert (planned.channel, planned.recipient) == ("whatsapp", ADDRESS)
    when = clock.now + timedelta(days=2)  # the survey's time has come, and the customer last wrote two days ago
    assert planned.scheduled_at <= when
    with sessions() as s:
        assert survey.send_due(s, settings, when) == 1
    [sent] = deliver(sessions, settings, standin, when)
    assert sent["ContentSid"] == TEMPLATES["twilio_whatsapp_template_survey"]
    assert json.loads(sent["ContentVariables"]) == {"1": "Luukku", "2": case.ref}
    clock.now = when + timedelta(hours=1)
    [thanks] = said(twilio.whatsapp(CUSTOMER, "5 kiitos nopeasta avusta"))
    assert thanks == "Luukku: Kiitos palautteestasi!"
    with sessions() as s:
        answered = s.scalar(select(Survey))
        assert (answered.score, answered.comment) == (5, "kiitos nopeasta avusta")


def test_stop_ends_whatsapp_messages_and_start_allows_them_again(twilio, phone_app, rasa, internal, sessions, clock,
                                                                 settings, standin, staff):
    handed_off(twilio, rasa, internal, clock)
    asked = len(rasa.sent)
    [stopped] = said(twilio.whatsapp(CUSTOMER, "STOP"))
    assert "ALOITA" in stopped or "START" in stopped
    with sessions() as s:
        assert s.get(OptOut, ADDRESS) is not None
        assert s.get(OptOut, CUSTOMER) is None  # texts by SMS are the customer's own choice
        ref = s.scalar(select(Case.ref))
    staff_reply(phone_app, staff, ref, "Hei?")
    assert deliver(sessions, settings, standin, clock.now) == []
    with sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "whatsapp"))
        assert (row.status, row.last_error) == ("dead", "opted out")
    said(twilio.whatsapp(CUSTOMER, "START"))
    with sessions() as s:
        assert s.get(OptOut, ADDRESS) is None
    assert len(rasa.sent) == asked  # keywords never reach the bot
