"""After the handoff, on the real stack: the specialist and the customer keep talking on the customer's channel."""
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from router.staff import users
from router.storage.models import Case, CaseEvent, utcnow

from ..helpers import without_office_notice

pytestmark = pytest.mark.stack
CUSTOMER = "+358401234567"


def sms_texts(resp):
    assert resp.status_code == 200
    return without_office_notice([m.text for m in ET.fromstring(resp.content).findall("Message")])


def token_for(live, email="matti.esimerkki@example.org", key="matti", name="Matti Esimerkki"):
    with live.sessions() as s:
        user = users.create(s, email=email, name=name, password="correct horse battery",
                            specialist_key=key)
        token = users.issue_token(s, user)
        s.commit()
    return {"Authorization": f"Bearer {token}"}


def deliver_later(live, minutes=6):
    """Run the worker as it would run a few minutes from now (follow-up notices are batched)."""
    live.worker.clock = lambda: utcnow() + timedelta(minutes=minutes)
    try:
        live.worker.deliver()
    finally:
        live.worker.clock = utcnow


def test_sms_customer_and_specialist_talk_after_the_handoff(live):
    t = live.twilio
    sms_texts(t.sms(CUSTOMER, "moi, tarttisin lainaa uuteen pakettiautoon"))
    sms_texts(t.sms(CUSTOMER, "Timo Testaaja"))
    sms_texts(t.sms(CUSTOMER, "Kuljetus Testaaja Oy"))
    [done] = sms_texts(t.sms(CUSTOMER, "1"))
    assert done.startswith("Matti Esimerkki")
    with live.sessions() as s:
        ref = s.scalar(select(Case.ref))
    headers = token_for(live)
    sent = requests.post(f"{live.router_url}/api/v1/cases/{ref}/messages", headers=headers, timeout=10,
                         json={"text": "Hei Timo, soitan huomenna aamupäivällä."})
    assert sent.status_code == 201 and sent.json()["sent_on"] == "sms"
    live.worker.deliver()
    [to_phone] = [m for m in live.twilio_api.received if "soitan huomenna" in m["Body"]]
    assert to_phone["To"] == CUSTOMER
    # The customer answers by SMS: it lands on the case, the specialist hears of it, the bot asks nothing.
    answer = sms_texts(t.sms(CUSTOMER, "Sopii hyvin, olen tavattavissa koko päivän."))
    assert len(answer) == 1 and "Matti Esimerkki" in answer[0] and "nimesi" not in answer[0]
    with live.sessions() as s:
        assert s.scalar(select(CaseEvent.text).where(CaseEvent.kind == "customer_message")) == \
            "Sopii hyvin, olen tavattavissa koko päivän."
    deliver_later(live)
    notices = [m for m in live.smtp.to("matti.esimerkki@example.org") if "tavattavissa" in m.get_content()]
    assert len(notices) == 1 and ref in notices[0]["Subject"]


def test_web_chat_customer_sees_the_specialist_s_reply_in_the_thread(live):
    session, turns = live.conversation("Hei, haluaisin perustaa kahvilan", "Kaisa Kokeilija",
                                       "kaisa.k@example.org", "-", "/affirm")
    assert "Maija Esimerkki" in turns[-1][0]["text"]
    with live.sessions() as s:
        ref = s.scalar(select(Case.ref))
    headers = token_for(live, "maija.esimerkki@example.org", "maija", "Maija Esimerkki")
    assert requests.post(f"{live.router_url}/api/v1/cases/{ref}/messages", headers=headers, timeout=10,
                         json={"text": "Hei Kaisa! Onko teillä jo liiketoimintasuunnitelma?"}).status_code == 201
    thread = requests.get(f"{live.router_url}/api/chat/{session}", timeout=10).json()
    staff = [m for m in thread["messages"] if m["author"] == "staff"]
    assert [(m["name"], m["text"]) for m in staff] == [
        ("Maija Esimerkki", "Hei Kaisa! Onko teillä jo liiketoimintasuunnitelma?")]
    reply = live.chat("Kyllä on, lähetän sen sähköpostilla.", session)
    assert [r["text"] for r in reply["replies"]][0].startswith("Viestisi on liitetty asiaasi")
    with live.sessions() as s:
        assert len(s.scalars(select(Case)).all()) == 1


def call_root(resp):
    assert resp.status_code == 200
    return ET.fromstring(resp.content)


def test_no_call_ends_without_a_case_or_a_transfer(live):
    from datetime import datetime

    from router.storage.models import Call

    live.clock_now = datetime(2026, 12, 4, 18, 0)  # Friday evening: callbacks rather than transfers
    t = live.twilio
    # silence twice
    t.call("/twilio/voice", "CAsilent", caller="+358401110001")
    call_root(t.call("/twilio/voice/gather?lang=fi&stage=start", "CAsilent", caller="+358401110001"))
    root = call_root(t.call("/twilio/voice/gather?lang=fi&stage=topic&try=1", "CAsilent", caller="+358401110001"))
    assert "soittaa sinulle takaisin" in root.find("Say").text
    # 0 for the service desk
    t.call("/twilio/voice", "CAzero", caller="+358401110002")
    root = call_root(t.call("/twilio/voice/gather?lang=fi&stage=start", "CAzero", caller="+358401110002", Digits="0"))
    assert "soittaa sinulle takaisin" in root.find("Say").text  # the service desk's person, by name
    # hung up after speaking
    t.call("/twilio/voice", "CAgone", caller="+358401110003")
    t.call("/twilio/voice/gather?lang=fi&stage=start", "CAgone", caller="+358401110003",
           SpeechResult="tarvitsisin tonttia varastolle")
    t.call("/twilio/voice/status", "CAgone", caller="+358401110003", CallStatus="completed")
    # the fallback URL
    t.call("/twilio/voice/fallback", "CAfail", caller="+358401110004", ErrorCode="11200")
    with live.sessions() as s:
        outcomes = {c.call_sid: c.outcome for c in s.scalars(select(Call))}
        cases = {c.customer_phone: c for c in s.scalars(select(Case))}
        names = {phone: c.specialist.name for phone, c in cases.items()}
    assert outcomes == {"CAsilent": "callback", "CAzero": "callback", "CAgone": "callback", "CAfail": "callback"}
    assert set(cases) == {"+358401110001", "+358401110002", "+358401110003", "+358401110004"}
    assert cases["+358401110003"].topic == "plots"  # what they said before hanging up decided the person
    assert cases["+358401110002"].topic == "general"
    # the caller with an open case hears it first and leaves a message for the person
    live.clock_now = datetime(2026, 12, 7, 8, 0)  # Monday morning
    root = call_root(t.call("/twilio/voice", "CAback", caller="+358401110003"))
    assert names["+358401110003"] in root.find("Gather/Say").text
    call_root(t.call("/twilio/voice/gather?lang=fi&stage=case", "CAback", caller="+358401110003", Digits="2"))
    done = call_root(t.call("/twilio/voice/gather?lang=fi&stage=message", "CAback", caller="+358401110003",
                            SpeechResult="soittakaa mieluiten aamupäivällä"))
    assert "Viestisi on välitetty" in done.find("Say").text
    with live.sessions() as s:
        assert s.scalar(select(CaseEvent.text).where(CaseEvent.kind == "customer_message")) == \
            "soittakaa mieluiten aamupäivällä"
