"""Calls through signed Twilio webhooks: answered, no answer, after hours, the keypad menu, the fallback URL."""
import xml.etree.ElementTree as ET
from datetime import datetime

from sqlalchemy import select

from router.models import Call, Case, OutboxMessage

CALLER = "+358401110000"


def twiml(resp):
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    root = ET.fromstring(resp.data)
    assert root.tag == "Response"
    return root


def test_the_greeting_is_finnish_with_swedish_and_english_prompts_and_listens_for_speech(twilio, sessions):
    root = twiml(twilio.call("/twilio/voice", "CA1"))
    gather = root.find("Gather")
    assert gather.get("input") == "speech dtmf" and gather.get("language") == "fi-FI"
    assert gather.get("action") == "/twilio/voice/gather?lang=fi&stage=start"
    assert [s.get("language") for s in gather.findall("Say")] == ["fi-FI", "sv-SE", "en-US"]
    assert root.find("Hangup") is not None  # silence ends politely
    twilio.call("/twilio/voice", "CA1")  # Twilio's retry
    with sessions() as s:
        assert len(s.scalars(select(Call)).all()) == 1


def test_a_confident_request_is_put_through_to_the_named_specialist(twilio, sessions):
    twilio.call("/twilio/voice", "CA2")
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CA2",
                             SpeechResult="tarvitsen rahoitusta uuteen koneeseen", Confidence="0.9"))
    say = root.find("Say")
    assert say.get("language") == "fi-FI" and "Matti Esimerkki, rahoitusasiantuntija" in say.text
    dial = root.find("Dial")
    assert dial.find("Number").text == "+358400000103"
    assert dial.get("callerId") == "+358400000000" and dial.get("timeout") == "20"
    assert dial.get("action") == "/twilio/voice/dial-status?lang=fi"
    done = twiml(twilio.call("/twilio/voice/dial-status?lang=fi", "CA2", DialCallStatus="completed"))
    assert done.find("Hangup") is not None
    with sessions() as s:
        call = s.scalar(select(Call))
        assert (call.topic, call.outcome, call.speech) == ("funding", "connected", "tarvitsen rahoitusta uuteen koneeseen")
        assert s.scalars(select(Case)).all() == []


def test_no_answer_becomes_a_callback_with_the_same_named_person_and_a_date(twilio, sessions):
    twilio.call("/twilio/voice", "CA3")
    twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CA3", SpeechResult="rahoitusta tarvitaan")
    root = twiml(twilio.call("/twilio/voice/dial-status?lang=fi", "CA3", DialCallStatus="no-answer"))
    text = root.find("Say").text
    assert text.startswith("Matti Esimerkki, rahoitusasiantuntija, soittaa sinulle takaisin viimeistään ke 2.12.2026")
    twilio.call("/twilio/voice/dial-status?lang=fi", "CA3", DialCallStatus="no-answer")  # retried: one case
    with sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert (case.kind, case.channel, case.customer_phone, case.specialist.key) == ("callback", "voice", CALLER, "matti")
        out = sorted((o.kind, o.recipient) for o in s.scalars(select(OutboxMessage)))
    assert out == [("email", "matti.esimerkki@example.org"), ("sms", "+358400000103"), ("sms", CALLER)]


def test_after_hours_the_caller_gets_a_callback_promise_instead_of_a_dial(twilio, clock, sessions):
    clock.now = datetime(2026, 12, 4, 18, 0)  # Friday 20:00 in Helsinki
    twilio.call("/twilio/voice", "CA4")
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CA4", SpeechResult="rahoitus"))
    assert root.find("Dial") is None
    # Independence Day (Sun 6.12.) does not move it: Mon 7.12. and Tue 8.12. are the two working days.
    assert "viimeistään ti 8.12.2026" in root.find("Say").text


def test_swedish_by_keypad_then_speech(twilio):
    twilio.call("/twilio/voice", "CA5")
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CA5", Digits="8"))
    gather = root.find("Gather")
    assert gather.get("language") == "sv-SE" and gather.get("action") == "/twilio/voice/gather?lang=sv&stage=topic"
    root = twiml(twilio.call("/twilio/voice/gather?lang=sv&stage=topic", "CA5", SpeechResult="vi behöver finansiering"))
    assert root.find("Say").get("language") == "sv-SE" and "finansieringsexpert" in root.find("Say").text


def test_unsure_speech_gets_the_keypad_menu_and_a_digit_chooses(twilio, rasa):
    rasa.ranking = [{"name": "plots", "confidence": 0.3}, {"name": "funding", "confidence": 0.25}]
    twilio.call("/twilio/voice", "CA6")
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CA6", SpeechResult="no tota"))
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf" and gather.get("action") == "/twilio/voice/gather?lang=fi&stage=menu"
    items = [s.text for s in gather.findall("Say")][1:]
    assert items[0] == "Yrityksen perustaminen, paina 1." and items[-1] == "Muu asia, paina 6."
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=menu", "CA6", Digits="5"))
    assert "Olli Oletus" in root.find("Say").text and root.find("Dial/Number").text == "+358400000106"


def test_the_fallback_url_answers_safely_and_records_the_call(twilio, sessions):
    root = twiml(twilio.call("/twilio/voice/fallback", "CA7", ErrorCode="11200"))
    assert root.find("Say").get("language") == "fi-FI" and root.find("Hangup") is not None
    with sessions() as s:
        assert s.scalar(select(Call.outcome).where(Call.call_sid == "CA7")) == "fallback"


def test_voice_routes_refuse_unsigned_requests(phone_app):
    client = phone_app.test_client()
    for path in ("/twilio/voice", "/twilio/voice/gather", "/twilio/voice/dial-status", "/twilio/voice/fallback",
                 "/twilio/status"):
        assert client.post(path, data={"CallSid": "CA8"}).status_code == 403
