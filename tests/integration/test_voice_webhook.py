"""Calls through signed Twilio webhooks: answered, no answer, after hours, the keypad menu, the fallback URL."""
import xml.etree.ElementTree as ET
from datetime import datetime

from sqlalchemy import select

from router.storage.models import Call, Case, OutboxMessage

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
    assert gather.get("actionOnEmptyResult") == "true"  # silence comes back to us: another prompt, then a person
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


def test_the_fallback_url_answers_safely_and_the_promised_callback_is_a_case(twilio, sessions):
    root = twiml(twilio.call("/twilio/voice/fallback", "CA7", ErrorCode="11200"))
    assert root.find("Say").get("language") == "fi-FI" and root.find("Hangup") is not None
    with sessions() as s:
        assert s.scalar(select(Call.outcome).where(Call.call_sid == "CA7")) == "callback"
        [case] = s.scalars(select(Case)).all()
        assert (case.kind, case.topic, case.customer_phone) == ("callback", "general", CALLER)


def test_voice_routes_refuse_unsigned_requests(phone_app):
    client = phone_app.test_client()
    for path in ("/twilio/voice", "/twilio/voice/gather", "/twilio/voice/dial-status", "/twilio/voice/fallback",
                 "/twilio/voice/status", "/twilio/status"):
        assert client.post(path, data={"CallSid": "CA8"}).status_code == 403


def test_silence_gets_one_more_prompt_and_then_a_named_callback(twilio, sessions, clock):
    clock.now = datetime(2026, 12, 4, 18, 0)  # after hours: a callback rather than a transfer
    twilio.call("/twilio/voice", "CS1")
    again = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CS1"))
    assert again.find("Gather").get("action") == "/twilio/voice/gather?lang=fi&stage=topic&try=1"
    assert "En kuullut vastaustasi" in again.find("Gather/Say").text
    done = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=topic&try=1", "CS1"))
    assert "soittaa sinulle takaisin" in done.find("Say").text
    with sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert (case.topic, case.kind, case.customer_phone) == ("general", "callback", CALLER)


def test_an_invalid_key_repeats_the_menu_and_then_the_service_desk_takes_it(twilio, rasa, sessions):
    rasa.ranking = [{"name": "plots", "confidence": 0.2}]
    twilio.call("/twilio/voice", "CS2")
    twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CS2", SpeechResult="no tota")
    again = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=menu", "CS2", Digits="9"))
    assert again.find("Gather").get("action") == "/twilio/voice/gather?lang=fi&stage=menu&try=1"
    desk = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=menu&try=1", "CS2", Digits="#"))
    assert "Paula Palvelu" in desk.find("Say").text  # the service desk, by name (in working hours: put through)
    assert desk.find("Dial/Number").text == "+358400000100"


def test_zero_reaches_the_service_desk_from_any_prompt(twilio):
    twilio.call("/twilio/voice", "CS3")
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CS3", Digits="0"))
    assert root.find("Dial/Number").text == "+358400000100"


def test_a_call_abandoned_after_speaking_becomes_a_named_callback_and_a_silent_one_is_kept(twilio, sessions, rasa):
    rasa.ranking = [{"name": "plots", "confidence": 0.2}]
    twilio.call("/twilio/voice", "CS4")
    twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CS4", SpeechResult="meillä olis semmonen juttu")
    assert twilio.call("/twilio/voice/status", "CS4", CallStatus="completed").status_code == 204
    twilio.call("/twilio/voice/status", "CS4", CallStatus="completed")  # retried: still one case
    twilio.call("/twilio/voice", "CS5", caller="+358401110001")
    twilio.call("/twilio/voice/status", "CS5", caller="+358401110001", CallStatus="completed")
    with sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert (case.kind, case.summary) == ("callback", "meillä olis semmonen juttu")
        assert s.scalar(select(Call.outcome).where(Call.call_sid == "CS5")) == "abandoned"


def test_the_reference_is_spoken_character_by_character(twilio, sessions, clock):
    clock.now = datetime(2026, 12, 4, 18, 0)
    twilio.call("/twilio/voice", "CS6")
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CS6", SpeechResult="rahoitus"))
    with sessions() as s:
        ref = s.scalar(select(Case.ref))
    spelled = ", ".join(ch for ch in ref if ch.isalnum())
    assert f"Asiasi viite on {spelled}." in root.find("Say").text


def test_a_caller_with_an_open_case_hears_its_person_and_can_be_put_through_or_leave_a_message(
        twilio, sessions, make_case, clock):
    ref = make_case(topic="funding", phone=CALLER, channel="sms", text="laina")
    root = twiml(twilio.call("/twilio/voice", "CS7"))
    spoken = root.find("Gather/Say").text
    assert "Matti Esimerkki" in spoken and ", ".join(ch for ch in ref if ch.isalnum()) in spoken
    put = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=case", "CS7", Digits="1"))
    assert put.find("Dial/Number").text == "+358400000103"
    twilio.call("/twilio/voice", "CS8")
    ask = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=case", "CS8", Digits="2"))
    assert ask.find("Gather").get("action") == "/twilio/voice/gather?lang=fi&stage=message"
    done = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=message", "CS8",
                             SpeechResult="soittakaa minulle iltapäivällä"))
    assert "Viestisi on välitetty" in done.find("Say").text
    from router.storage.models import CaseEvent

    with sessions() as s:
        assert s.scalar(select(CaseEvent.text).where(CaseEvent.kind == "customer_message")) == \
            "soittakaa minulle iltapäivällä"
        assert len(s.scalars(select(Case)).all()) == 1


def test_a_hidden_number_is_told_how_to_reach_us(twilio, sessions, clock):
    clock.now = datetime(2026, 12, 4, 18, 0)
    twilio.call("/twilio/voice", "CS9", caller="")
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CS9", caller="", SpeechResult="rahoitus"))
    assert "luukku@example.org" in root.find("Say").text
