"""Website chat to a named specialist, through the trained model, the action server and real SMTP."""
import json
import os
import subprocess
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from router.casework.promise import due_at, format_day, local_date
from router.storage.models import Case

from ..live_stack import RASA_TOKEN, ROOT

pytestmark = pytest.mark.stack


def expected_day(language: str) -> str:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return format_day(local_date(due_at(now)), language)


def the_case(live) -> Case:
    with live.sessions() as s:
        [case] = s.scalars(select(Case)).all()
        s.expunge(case)
        return case


def texts(turn):
    return [r["text"] for r in turn]


def test_finnish_chat_ends_with_maija_and_her_email_arrives(live):
    session, turns = live.conversation("Hei, haluaisin perustaa kahvilan Ouluun", "Maija Meikäläinen",
                                       "maija.meikalainen@example.org", "Kahvila Esimerkki", "/affirm")
    assert texts(turns[0]) == ["Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?"]
    assert [b["payload"] for b in turns[3][0]["buttons"]] == ["/affirm", "/deny", "/change_topic"]
    case = the_case(live)
    assert texts(turns[4]) == [f"Maija Esimerkki, yritysneuvoja, on yhteydessä sinuun viimeistään "
                               f"{expected_day('fi')}. Asiasi viite on {case.ref}."]
    assert (case.topic, case.language, case.customer_name, case.company) == (
        "founding", "fi", "Maija Meikäläinen", "Kahvila Esimerkki")
    assert live.worker.deliver() == 2
    [to_specialist] = live.smtp.to("maija.esimerkki@example.org")
    body = to_specialist.get_content()
    assert case.ref in to_specialist["Subject"]
    assert "Hei, haluaisin perustaa kahvilan Ouluun" in body           # the request
    assert "Avustaja: Ohjaan sinut oikealle asiantuntijalle" in body    # the transcript, authors as the case page names them
    assert f"{live.router_url}/staff/cases/{case.ref}" in body          # the link
    [to_customer] = live.smtp.to("maija.meikalainen@example.org")
    assert "Maija Esimerkki" in to_customer.get_content()
    assert session not in body  # the conversation id is not the customer's business


def test_english_chat_ends_with_the_funding_specialist(live):
    _, turns = live.conversation("Hello, we need funding for a new production machine", "John Example",
                                 "+358 40 0000 555", "Example Ltd", "yes")
    case = the_case(live)
    assert texts(turns[0]) == ["I will connect you with the right specialist. What is your name?"]
    assert texts(turns[4]) == [f"Matti Esimerkki, funding specialist, will contact you by {expected_day('en')}"
                               f" at the latest. Your reference is {case.ref}."]
    assert (case.topic, case.customer_phone) == ("funding", "+358400000555")
    live.worker.deliver()
    assert [m["To"] for m in live.twilio_api.received] == ["+358400000555"]
    assert len(live.smtp.to("matti.esimerkki@example.org")) == 1


def test_swedish_chat_ends_with_the_internationalisation_specialist(live):
    _, turns = live.conversation("Hej, vi vill börja exportera till Norge", "Anna Exempel", "anna@example.org",
                                 "-", "ja")
    case = the_case(live)
    assert texts(turns[4]) == [f"Erik Exempel, internationaliseringsexpert, kontaktar dig senast "
                               f"{expected_day('sv')}. Ditt ärendes referens är {case.ref}."]
    assert case.company is None


def test_an_invalid_contact_is_asked_again(live):
    _, turns = live.conversation("tarvitsen rahoitusta", "Matti Meikäläinen", "en kerro")
    assert texts(turns[2]) == ["Tämä ei näytä sähköpostiosoitteelta eikä puhelinnumerolta.",
                               "Miten asiantuntija tavoittaa sinut? Kirjoita sähköpostiosoitteesi tai puhelinnumerosi."]


def test_no_consent_no_case(live):
    _, turns = live.conversation("tarvitsen toimitilan", "Olli Asiakas", "olli@example.org", "-", "/deny")
    assert texts(turns[4]) == [
        "Selvä. Asiaasi ei välitetty eteenpäin, ja kirjoittamasi nimi ja yhteystiedot on poistettu tästä keskustelusta.",
        "Palveluneuvonta auttaa myös suoraan: puhelin +358 40 000 0000, sähköposti luukku@example.org."]
    with live.sessions() as s:
        assert s.scalars(select(Case)).all() == []


def test_router_classify_uses_the_live_model_and_falls_back_when_it_is_gone(live):
    lines = "\n".join(json.dumps({"text": t}) for t in ["haluan perustaa yrityksen", "we need a warehouse plot"])
    env = {**os.environ, "RASA_URL": live.rasa_url, "RASA_TOKEN": RASA_TOKEN, "DATABASE_URL": live.database_url}
    out = subprocess.run([str(ROOT / "bin" / "router"), "classify"], input=lines + "\nnot json\n", env=env,
                         capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    first, second, bad = (json.loads(line) for line in out)
    assert (first["topic"], first["language"], first["source"]) == ("founding", "fi", "rasa")
    assert (second["topic"], second["language"], second["source"]) == ("plots", "en", "rasa")
    assert 0.0 < first["confidence"] <= 1.0
    assert "error" in bad
    env["RASA_URL"] = "http://127.0.0.1:9"
    down = subprocess.run([str(ROOT / "bin" / "router"), "classify"], input=lines, env=env, capture_output=True,
                          text=True, timeout=60, check=True).stdout.splitlines()
    assert [json.loads(line)["source"] for line in down] == ["fallback", "fallback"]
    assert json.loads(down[0])["topic"] == "founding"
