"""Companies by business ID: the trade register's open data (a stand-in in its documented shape) fills in the
company on the activity form and the API; an unknown ID or a dead registry still saves, and says so."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from router.storage.models import Activity

from ..conftest import auth
from ..helpers import app_worker
from ..registry_standin import RegistryStandIn, company

KNOWN, UNKNOWN = "1234567-1", "7654321-2"


@pytest.fixture
def registry():
    made = RegistryStandIn({KNOWN: company(KNOWN, "Esimerkkileipomo Oy", former="Leipä Testinen Ky")})
    yield made
    made.close()


@pytest.fixture
def phone_settings(registry) -> dict:
    return {"company_registry_url": registry.url, "company_registry_days": 30.0}


def test_the_api_fills_the_company_from_the_register_and_keeps_the_answer(phone_app, tokens, registry, clock):
    api = phone_app.test_client()
    body = {"kind": "company_visit", "date": "2026-11-27", "business_id": KNOWN}
    made = api.post("/api/v1/activities", json=body, headers=auth(tokens["maija"]))
    assert made.status_code == 201
    answer = made.get_json()
    assert answer["company"] == "Esimerkkileipomo Oy"  # the current name, not the former one
    assert answer["registry"] == {"status": "found", "company": {
        "business_id": KNOWN, "name": "Esimerkkileipomo Oy", "form": "Osakeyhtiö",
        "line_of_business": "Näkkileivän ja keksien valmistus", "address": "Esimerkkikatu 5, 00100 HELSINKI",
        "registered_on": "2015-01-01"}}
    api.post("/api/v1/activities", json=body, headers=auth(tokens["maija"]))
    assert registry.asked == [KNOWN]  # the second time from what was kept
    clock.now += timedelta(days=31)
    api.post("/api/v1/activities", json=body, headers=auth(tokens["maija"]))
    assert registry.asked == [KNOWN, KNOWN]  # asked again once it is old
    typed = api.post("/api/v1/activities", json={**body, "company": "Leipomo (kirjoitettu)"},
                     headers=auth(tokens["maija"])).get_json()
    assert typed["company"] == "Leipomo (kirjoitettu)" and "registry" not in typed  # what staff typed stands


def test_an_unknown_id_or_a_dead_register_still_saves_and_says_so(phone_app, tokens, registry, sessions, signed_in):
    api = phone_app.test_client()
    unknown = api.post("/api/v1/activities", json={"kind": "phone_call", "date": "2026-11-27",
                                                   "business_id": UNKNOWN}, headers=auth(tokens["maija"]))
    assert unknown.status_code == 201 and unknown.get_json()["registry"] == {"status": "unknown"}
    registry.down = True
    down = api.post("/api/v1/activities", json={"kind": "phone_call", "date": "2026-11-27",
                                                "business_id": "1357913-8"}, headers=auth(tokens["maija"]))
    assert down.status_code == 201 and down.get_json()["registry"] == {"status": "unreachable"}
    # The activity form: saved, with a clear word
    maija = signed_in("maija")
    resp = maija.post_form("/staff/activities", "/staff/activities",
                           {"kind": "company_visit", "date": "2026-11-27", "business_id": "1357913-8"})
    assert resp.status_code == 302
    page = maija.get("/staff/activities").get_data(as_text=True)
    assert "kaupparekisteri ei vastannut" in page
    registry.down = False
    maija.post_form("/staff/activities", "/staff/activities",
                    {"kind": "company_visit", "date": "2026-11-27", "business_id": KNOWN})
    page = maija.get("/staff/activities").get_data(as_text=True)
    assert "Kaupparekisterin mukaan: Esimerkkileipomo Oy, Osakeyhtiö" in page
    with sessions() as s:
        rows = s.scalars(select(Activity).order_by(Activity.id)).all()
    assert [(a.business_id, a.company) for a in rows] == [
        (UNKNOWN, ""), ("1357913-8", ""), ("1357913-8", ""), (KNOWN, "Esimerkkileipomo Oy")]


def test_a_lead_gets_its_name_and_line_of_business_from_the_register(signed_in, sessions, registry):
    from router.storage.models import Lead

    maija = signed_in("maija")
    maija.post_form("/staff/pipeline", "/staff/pipeline", {"business_id": KNOWN, "jobs": "12"})
    registry.down = True
    maija.post_form("/staff/pipeline", "/staff/pipeline", {"business_id": "1357913-8"})
    page = maija.get("/staff/pipeline").get_data(as_text=True)
    assert "kaupparekisteri ei vastannut" in page  # and why nothing was saved: no name
    with sessions() as s:
        rows = s.scalars(select(Lead)).all()
    assert [(lead.company, lead.sector, lead.business_id) for lead in rows] == [
        ("Esimerkkileipomo Oy", "Näkkileivän ja keksien valmistus", KNOWN)]


def _case_with_company(sessions, clock, company_text: str) -> str:
    """A case as the bot's form hands it over, the customer having typed `company_text` as their company."""
    from router import config as config_mod
    from router.casework.handoff import HandoffRequest, hand_off
    from router.inbound import conversation

    with sessions() as s:
        conv = conversation.start(s, channel="web", now=clock.now)
        made = hand_off(s, config_mod.load({}), HandoffRequest(
            idempotency_key=f"t:{conv.public_id}", topic="funding", language="fi", channel="web",
            conversation_id=conv.id, customer_name="Testi Asiakas", email="testi@example.org", company=company_text,
            summary="Rahoitusta uuteen uuniin"), clock.now)
        s.commit()
        return made.case.ref


def test_a_business_id_a_customer_gives_is_looked_up_by_the_worker_and_shown_on_the_case(
        phone_app, registry, sessions, clock, signed_in):
    from router.storage.models import Case

    only_id = _case_with_company(sessions, clock, f" {KNOWN} ")
    named = _case_with_company(sessions, clock, f"Oma nimi Oy, {UNKNOWN}")
    no_id = _case_with_company(sessions, clock, "Leipomo 123")
    worker = app_worker(phone_app, clock)
    registry.down = True
    assert worker.look_up_companies() == 2
    with sessions() as s:  # a register that does not answer changes nothing, and is asked again later
        assert s.scalar(select(Case.company).where(Case.ref == only_id)).strip() == KNOWN
    matti = signed_in("matti")
    assert "ei ole vielä haettu" in matti.get(f"/staff/cases/{only_id}").get_data(as_text=True)
    registry.down = False
    assert worker.look_up_companies() == 0  # once a minute
    clock.now += timedelta(minutes=1)
    assert worker.look_up_companies() == 2
    with sessions() as s:
        cases = {c.ref: c for c in s.scalars(select(Case))}
        assert (cases[only_id].company, cases[only_id].business_id) == ("Esimerkkileipomo Oy", KNOWN)
        assert (cases[named].company, cases[named].business_id) == (f"Oma nimi Oy, {UNKNOWN}", UNKNOWN)
        assert cases[no_id].business_id is None
    page = matti.get(f"/staff/cases/{only_id}").get_data(as_text=True)
    assert "Kaupparekisterissä: Esimerkkileipomo Oy · Osakeyhtiö · Näkkileivän ja keksien valmistus" in page
    assert "ei tunne tätä Y-tunnusta" in matti.get(f"/staff/cases/{named}").get_data(as_text=True)
    assert registry.asked.count(KNOWN) == 2  # once refused by the dead register, once answered
    detail = phone_app.test_client().get(f"/api/v1/cases/{only_id}", headers=_matti_token(sessions)).get_json()
    assert detail["customer"]["business_id"] == KNOWN and detail["customer"]["company"] == "Esimerkkileipomo Oy"


def _matti_token(sessions) -> dict:
    from router.staff import users
    from router.storage.models import User

    with sessions() as s:
        token = users.issue_token(s, s.scalar(select(User).where(User.email == "matti.esimerkki@example.org")))
        s.commit()
    return auth(token)
