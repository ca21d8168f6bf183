"""Out of hours: the widget, the first SMS and a call say the office is closed and when people are back; on the phone
a caller with an open case is never silently given another path, and never gets a second case for the same matter."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, time

from sqlalchemy import func, select

from router.casework import promise, routing
from router.storage.models import Call, Case, CaseEvent

CALLER = "+358401110000"
MONDAY_NIGHT = datetime(2026, 11, 30, 18, 0)  # 20:00 in Helsinki
FRIDAY_NIGHT = datetime(2026, 12, 4, 18, 0)  # 20:00; Sunday 6.12. is Independence Day, Monday is a working day


def twiml(resp):
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    return ET.fromstring(resp.data)


def test_the_next_opening_follows_the_promise_calendar():
    at = dict(opens=time(9), closes=time(16))
    assert promise.next_open(datetime(2026, 11, 30, 8, 0), **at) == datetime(2026, 11, 30, 8, 0)  # open: now
    assert promise.next_open(datetime(2026, 11, 30, 5, 0), **at) == datetime(2026, 11, 30, 7, 0)  # 7:00 → 9:00
    assert promise.next_open(MONDAY_NIGHT, **at) == datetime(2026, 12, 1, 7, 0)
    assert promise.next_open(FRIDAY_NIGHT, **at) == datetime(2026, 12, 7, 7, 0)
    assert promise.next_open(datetime(2026, 12, 23, 18, 0), **at) == datetime(2026, 12, 28, 7, 0)  # Christmas
    assert promise.next_open(MONDAY_NIGHT, closed_days=(date(2026, 12, 1),), **at) == datetime(2026, 12, 2, 7, 0)


def test_a_specialist_is_next_at_work_by_their_hours_and_absences():
    maija = routing.Candidate("maija", ("founding",), ("fi",), absences=((date(2026, 12, 1), date(2026, 12, 2)),),
                              working_hours={"mon": ["08:00", "16:00"], "tue": ["08:00", "16:00"],
                                             "wed": ["08:00", "16:00"], "thu": ["08:00", "16:00"]})
    def workday(day):
        return promise.is_working_day(day)

    assert routing.next_working(maija, datetime(2026, 11, 30, 10, 0), workday) == datetime(2026, 11, 30, 10, 0)
    assert routing.next_working(maija, datetime(2026, 11, 30, 20, 0), workday) == datetime(2026, 12, 3, 8, 0)
    assert routing.next_working(maija, datetime(2026, 12, 3, 17, 0), workday) == datetime(2026, 12, 7, 8, 0)
    nobody = routing.Candidate("x", ("general",), ("fi",))
    assert routing.next_working(nobody, datetime(2026, 11, 30, 20, 0), workday) is None


def test_the_first_sms_at_night_says_when_people_are_back_and_the_bot_still_answers(twilio, clock, rasa):
    clock.now = MONDAY_NIGHT
    texts = [m.text for m in twiml(twilio.sms("+358405550000", "moi, tarvitsen lainaa")).findall("Message")]
    assert texts[0] == ("Palvelu on nyt kiinni; olemme taas paikalla ti 1.12.2026 klo 9.00. Voit kertoa asiasi jo "
                        "nyt, niin se odottaa meitä.")
    assert texts[1:] == ["Mikä on nimesi?"]
    again = [m.text for m in twiml(twilio.sms("+358405550000", "Timo Testaaja")).findall("Message")]
    assert again == ["Mikä on nimesi?"]  # once per conversation
    clock.now = datetime(2026, 12, 1, 8, 0)  # Tuesday 10:00: open, and a new day's conversation hears nothing
    assert [m.text for m in twiml(twilio.sms("+358405559999", "hei")).findall("Message")] == ["Mikä on nimesi?"]


def test_the_widget_says_the_office_is_closed_in_the_page_language(phone_app, clock):
    page = phone_app.test_client()
    assert 'id="chat-closed"' not in page.get("/?lang=fi").get_data(as_text=True)  # Monday 10:00
    clock.now = FRIDAY_NIGHT
    html = page.get("/?lang=sv").get_data(as_text=True)
    assert "Tjänsten är stängd nu; vi är tillbaka mån 7.12.2026 kl. 9.00." in html
    assert "we are back Mon 7 Dec 2026 at 9:00" in page.get("/?lang=en").get_data(as_text=True)


def test_a_call_at_night_hears_that_the_office_is_closed_in_each_language(twilio, clock):
    clock.now = MONDAY_NIGHT
    says = [s.text for s in twiml(twilio.call("/twilio/voice", "CN1")).findall("Gather/Say")]
    assert says[0].startswith("Palvelu on nyt kiinni; olemme taas paikalla ti 1.12.2026 klo 9.00.")
    assert says[1].startswith("Tjänsten är stängd nu") and says[2].startswith("The office is closed now")


def test_put_me_through_outside_the_persons_hours_says_they_are_away_and_offers_message_or_callback(
        twilio, sessions, make_case, clock):
    ref = make_case(topic="funding", phone=CALLER, channel="sms", text="laina")
    clock.now = MONDAY_NIGHT
    twilio.call("/twilio/voice", "CA1")
    away = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=case", "CA1", Digits="1"))
    assert away.find("Dial") is None
    said = away.find("Gather/Say").text
    assert said.startswith("Matti Esimerkki ei ole nyt tavoitettavissa. Hän on taas paikalla ti 1.12.2026 klo 8.00.")
    assert "paina 3" in said and away.find("Gather").get("action") == "/twilio/voice/gather?lang=fi&stage=message"
    done = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=message", "CA1", Digits="3"))
    assert "soittaa sinulle takaisin" in done.find("Say").text
    with sessions() as s:
        assert s.scalar(select(func.count(Case.id))) == 1
        [event] = s.scalars(select(CaseEvent).where(CaseEvent.kind == "customer_message")).all()
        assert "soittoa takaisin" in event.text
        assert s.scalar(select(Call.outcome).where(Call.call_sid == "CA1")) == "callback"
        assert s.scalar(select(Case.ref)) == ref


def test_speech_about_the_open_case_goes_to_it_not_to_the_menu(twilio, sessions, make_case, rasa):
    make_case(topic="funding", phone=CALLER, channel="sms", text="laina")
    rasa.ranking = [{"name": "funding", "confidence": 0.4}]  # unclear, or the same matter: either way, this case
    twilio.call("/twilio/voice", "CA2")
    root = twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=case", "CA2",
                             SpeechResult="soitan siitä lainahakemuksesta, onko siinä jotain uutta"))
    assert root.find("Gather") is None and "Viestisi on välitetty" in root.find("Say").text
    with sessions() as s:
        assert s.scalar(select(CaseEvent.text).where(CaseEvent.kind == "customer_message")) == \
            "soitan siitä lainahakemuksesta, onko siinä jotain uutta"


def test_a_second_call_about_the_same_matter_joins_the_open_case(twilio, sessions, make_case, clock, rasa):
    make_case(topic="funding", phone=CALLER, channel="sms", text="laina")
    clock.now = MONDAY_NIGHT  # no one to put through: the ordinary path would make a callback case
    twilio.call("/twilio/voice", "CA3")
    rasa.ranking = [{"name": "funding", "confidence": 0.95}]
    # The caller asks for the menu's way (0 is the service desk; here a topic by speech at the start prompt)
    twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CA3", SpeechResult="rahoitusta yritykselle"))
    with sessions() as s:
        assert s.scalar(select(func.count(Case.id))) == 1
        assert "rahoitusta yritykselle" in s.scalars(select(CaseEvent.text)
                                                     .where(CaseEvent.kind == "customer_message")).all()
    rasa.ranking = [{"name": "recruitment", "confidence": 0.95}]
    twilio.call("/twilio/voice", "CA4")
    twiml(twilio.call("/twilio/voice/gather?lang=fi&stage=start", "CA4", SpeechResult="tarvitsen työntekijän"))
    with sessions() as s:
        assert s.scalar(select(func.count(Case.id))) == 2  # another matter is another case
