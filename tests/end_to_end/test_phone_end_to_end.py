"""The one phone number with the trained model: an SMS conversation and calls, Twilio signing included."""
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from sqlalchemy import select

from router.storage.models import Case, Message

from ..helpers import without_office_notice

pytestmark = pytest.mark.stack
CUSTOMER = "+358401234567"


def sms_texts(resp):
    assert resp.status_code == 200
    return without_office_notice([m.text for m in ET.fromstring(resp.content).findall("Message")])


def test_a_finnish_sms_conversation_ends_with_a_case_and_one_confirming_sms(live):
    t = live.twilio
    assert sms_texts(t.sms(CUSTOMER, "moi, tarttisin lainaa uuteen pakettiautoon")) == [
        "Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?"]
    [ask_company] = sms_texts(t.sms(CUSTOMER, "Timo Testaaja"))  # the number is already known: no contact question
    assert ask_company.startswith("Mikä on yrityksesi nimi?")
    [consent] = sms_texts(t.sms(CUSTOMER, "Kuljetus Testaaja Oy"))
    assert consent.endswith("Vastaa numerolla: 1 Kyllä, 2 Ei, 3 Väärä aihe")
    assert consent.startswith("Asiasi: Rahoitus") and len(consent) <= 2 * 153  # the SMS wording: two segments
    [done] = sms_texts(t.sms(CUSTOMER, "1", sid="SMfinal"))
    assert done.startswith("Matti Esimerkki, rahoitusasiantuntija, on yhteydessä sinuun viimeistään")
    assert sms_texts(t.sms(CUSTOMER, "1", sid="SMfinal")) == []  # Twilio retried: no second reply
    with live.sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert (case.channel, case.topic, case.customer_phone, case.customer_name) == (
            "sms", "funding", CUSTOMER, "Timo Testaaja")
        assert s.scalars(select(Message).where(Message.provider_id == "SMfinal")).all().__len__() == 1
    assert case.ref in done  # the answer on the thread is the confirmation
    live.worker.deliver()
    assert live.twilio_api.received == []  # and there is no second one
    assert len(live.smtp.to("matti.esimerkki@example.org")) == 1


def test_a_forged_sms_stores_nothing(live):
    params = {"MessageSid": "SMforged", "From": CUSTOMER, "Body": "hei"}
    assert live.twilio.signed("/twilio/sms", params, forge=True).status_code == 403
    with live.sessions() as s:
        assert s.scalars(select(Message)).all() == []


def call_root(resp):
    assert resp.status_code == 200
    return ET.fromstring(resp.content)


def test_a_caller_is_put_through_and_a_missed_call_becomes_a_callback(live):
    live.clock_now = datetime(2026, 11, 30, 8, 0)  # Monday 10:00 in Helsinki
    t = live.twilio
    t.call("/twilio/voice", "CAe2e")
    root = call_root(t.call("/twilio/voice/gather?lang=fi&stage=start", "CAe2e",
                            SpeechResult="mä tarttisin apua työntekijöiden palkkaamisessa"))
    assert "Liisa Kuvitteellinen" in root.find("Say").text
    assert root.find("Dial/Number").text == "+358400000104"
    root = call_root(t.call("/twilio/voice/dial-status?lang=fi", "CAe2e", DialCallStatus="busy"))
    assert root.find("Say").text.startswith("Liisa Kuvitteellinen, rekrytointiasiantuntija, soittaa sinulle takaisin "
                                            "viimeistään ke 2.12.2026")
    live.worker.deliver()
    assert sorted(m["To"] for m in live.twilio_api.received) == ["+358400000104", "+358401110000"]
    assert len(live.smtp.to("liisa.kuvitteellinen@example.org")) == 1


def test_english_by_keypad_after_hours(live):
    live.clock_now = datetime(2026, 11, 28, 12, 0)  # Saturday
    t = live.twilio
    t.call("/twilio/voice", "CAen")
    assert call_root(t.call("/twilio/voice/gather?lang=fi&stage=start", "CAen", Digits="9")).find(
        "Gather").get("language") == "en-US"
    root = call_root(t.call("/twilio/voice/gather?lang=en&stage=topic", "CAen",
                            SpeechResult="we would like to export our products to Norway"))
    assert root.find("Dial") is None
    assert root.find("Say").text.startswith("Erik Exempel, internationalisation specialist, will call you back by "
                                            "Tue 1 Dec 2026")
