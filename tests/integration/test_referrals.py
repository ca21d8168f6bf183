"""Warm referrals: the customer's consent, the partner's email (a real SMTP server) and confirmation link, the first
specialist responsible until then (reminders and the breach by the promise's rule), and what the figures count."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from router.casework import referral
from router.storage.models import Case, CaseEvent, OutboxMessage, Referral

from ..conftest import auth, csrf_from
from ..helpers import app_worker

PARTNER = "neuvonta@uusyrityskeskus.example.org"
CUSTOMER = "aada.asiakas@example.org"
MAIJA = "maija.esimerkki@example.org"



@pytest.fixture
def phone_settings(smtp) -> dict:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"}


def _deliver(phone_app, clock) -> int:
    return app_worker(phone_app, clock).deliver()


def _text(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()


def _link(text: str, kind: str) -> str:
    found = re.search(rf"https?://\S+(/referrals/{kind}/[A-Za-z0-9_.-]+)", text)
    assert found, text
    return found.group(1)


def _answer(phone_app, path: str, **form):
    visitor = phone_app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200
    return page.get_data(as_text=True), visitor.post(path, data={**form, "csrf_token": csrf_from(
        page.get_data(as_text=True))})


def test_asked_consent_reaches_the_partner_whose_link_confirms_and_everyone_is_told(
        make_case, phone_app, tokens, clock, smtp, sessions):
    ref = make_case(topic="founding", channel="email", email=CUSTOMER, name="Aada Asiakas",
                    text="Haluaisin perustaa toiminimen ja tarvitsen apua liiketoimintasuunnitelmaan")
    api = phone_app.test_client()
    # The city's CRM follows the referral (its receiver is not up here: the events wait in the outbox).
    assert api.post("/api/v1/webhooks", headers=auth(tokens["admin"]), json={
        "url": "http://127.0.0.1:9/luukku", "events": ["referral.changed"]}).status_code == 201
    partners = api.get("/api/v1/partners?topic=founding&language=fi", headers=auth(tokens["maija"])).get_json()
    assert partners["partners"][0]["key"] == "uusyrityskeskus"
    assert {p["kind"] for p in partners["partners"]} >= {"enterprise_agency", "employment_services"}

    made = api.post(f"/api/v1/cases/{ref}/referrals", headers=auth(tokens["maija"]),
                    json={"partner": "uusyrityskeskus"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["status"], body["case"], body["partner"]["key"], body["responsible"]) == (
        "asked", ref, "uusyrityskeskus", "maija")
    _deliver(phone_app, clock)
    # Nothing goes to the partner before the customer agrees; the customer is asked, by the specialist.
    assert smtp.to(PARTNER) == []
    [ask] = [m for m in smtp.to(CUSTOMER) if "/referrals/consent/" in _text(m)]
    assert "Esimerkin Uusyrityskeskus" in _text(ask) and "Maija Esimerkki" in _text(ask)
    consent = _link(_text(ask), "consent")

    page, agreed = _answer(phone_app, consent, answer="yes")
    assert "Saako asiasi välittää eteenpäin?" in page and "Maija Esimerkki" in page
    assert agreed.status_code == 200 and "Asiasi on välitetty" in agreed.get_data(as_text=True)
    clock.now += timedelta(minutes=5)
    _deliver(phone_app, clock)

    [to_partner] = smtp.to(PARTNER)
    text = _text(to_partner)
    assert ref in str(to_partner["Subject"]) and "ke 2.12.2026" in str(to_partner["Subject"])
    assert "Aada Asiakas" in text and CUSTOMER in text and "liiketoimintasuunnitelmaan" in text
    assert to_partner["Reply-To"] == MAIJA  # a question about the case reaches the person still responsible
    [told] = [m for m in smtp.to(CUSTOMER) if "jatkaa asiaasi" in _text(m)]
    assert "Esimerkin Uusyrityskeskus" in _text(told) and "ke 2.12.2026" in _text(told)
    assert "Maija Esimerkki vastaa asiastasi" in _text(told)

    confirm = _link(text, "confirm")
    opened = phone_app.test_client().get(confirm)  # a mail scanner opening the link confirms nothing
    assert opened.status_code == 200
    with sessions() as s:
        assert s.scalar(select(Referral.status)) == "sent"
        assert s.scalar(select(Case.status).where(Case.ref == ref)) == "taken_up"
    _page, confirmed = _answer(phone_app, confirm)
    assert "vahvistus on kirjattu" in confirmed.get_data(as_text=True)
    _deliver(phone_app, clock)
    with sessions() as s:
        row = s.scalar(select(Referral))
        assert (row.status, row.confirmed_in_time, row.consent) == ("confirmed", True, "link")
        case = s.scalar(select(Case).where(Case.ref == ref))
        assert (case.status, case.outcome, case.taken_up_in_time) == ("resolved", "referred_elsewhere", True)
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    assert [k for k in kinds if k.startswith("referral")] == ["referral_asked", "referral_consent", "referral_sent",
                                                             "referral_confirmed"]
    assert any("on vahvistanut ottaneensa asiasi" in _text(m) for m in smtp.to(CUSTOMER))
    subjects = [str(m["Subject"]) for m in smtp.to(MAIJA)]
    assert any(ref in s and "vahvisti ohjauksen" in s for s in subjects), subjects
    with sessions() as s:
        sent = [json.loads(b) for b in s.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == "webhook")
                                                 .order_by(OutboxMessage.id))]
    assert [(e["type"], e["data"]["status"], e["data"]["partner_kind"]) for e in sent] == [
        ("referral.changed", status, "enterprise_agency") for status in ("asked", "sent", "confirmed")]
    assert sent[-1]["data"]["confirmed_in_time"] is True and "Aada" not in json.dumps(sent)
    # The link works once; again, it says so.
    again = phone_app.test_client().get(confirm).get_data(as_text=True)
    assert "jo vahvistettu" in again

    # The board counts it exactly; the public page as every count, small ones hidden.
    from router import config as config_mod
    from router.impact import rollups
    from router.plan import report

    with sessions() as s:
        rollups.refresh(s, ["2026-11"], "Europe/Helsinki", clock.now)
        s.commit()
        data = report.build(s, config_mod.load({}), "2026-11", clock.now)
    assert (data["referrals"]["sent"], data["referrals"]["confirmed"], data["referrals"]["confirmed_in_time"]) == (
        "1", "1", "1")
    assert ["Ohjaukset kumppaneille", "1 ohjattu, 1 vahvistettu (1 ajoissa)"] in report.rows(data, "fi")["promise"]
    public = phone_app.test_client().get("/api/impact?from=2026-11&to=2026-11").get_json()["referrals"]
    assert public["by_partner_kind"]["enterprise_agency"]["sent"] == public["sent"] == "< 5"
    page = phone_app.test_client().get("/impact?from=2026-11&to=2026-11").get_data(as_text=True)
    assert 'id="table-referrals"' in page and "Uusyrityskeskukset" in page


def test_consent_given_on_the_case_page_sends_at_once_and_the_partner_is_reminded_then_overdue(
        make_case, signed_in, phone_app, clock, smtp, sessions):
    ref = make_case(topic="founding", channel="sms", phone="+358401234567", name="Pekka Puhelin")
    maija = signed_in("maija")
    page = maija.get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert 'id="refer-form"' in page and "Esimerkin Uusyrityskeskus (uusyrityskeskus)" in page
    # "Already agreed" without saying how is refused; nothing is sent.
    refused = maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/refer",
                              {"partner": "uusyrityskeskus", "agreed": "1", "consent": ""})
    assert refused.status_code == 302
    with sessions() as s:
        assert s.scalar(select(func.count(Referral.id))) == 0
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/refer",
                    {"partner": "uusyrityskeskus", "agreed": "1", "consent": "puhelimessa 30.11."})
    _deliver(phone_app, clock)
    assert len(smtp.to(PARTNER)) == 1
    with sessions() as s:
        told = s.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == "+358401234567")).all()
        row = s.scalar(select(Referral))
        assert (row.status, row.consent) == ("sent", "puhelimessa 30.11.")
    assert any("Esimerkin Uusyrityskeskus jatkaa asiaasi" in b for b in told)
    page = maija.get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert "lähetetty, odottaa vahvistusta" in page and 'id="refer-form"' not in page

    worker = app_worker(phone_app, clock)
    clock.now = datetime(2026, 12, 1, 12, 0)  # the day before: nothing yet
    assert worker.keep_referrals() == {"remind": 0, "escalate": 0}
    clock.now = datetime(2026, 12, 2, 6, 30)  # the due morning, 08:30 in Helsinki
    assert worker.keep_referrals() == {"remind": 1, "escalate": 0}
    assert worker.keep_referrals() == {"remind": 0, "escalate": 0}
    _deliver(phone_app, clock)
    assert "Muistutus" in str(smtp.to(PARTNER)[-1]["Subject"])
    clock.now = datetime(2026, 12, 2, 14, 30)  # past 16:00 in Helsinki
    assert worker.keep_referrals() == {"remind": 0, "escalate": 1}
    _deliver(phone_app, clock)
    [breach] = [m for m in smtp.to(MAIJA) if "ei ole vahvistanut" in str(m["Subject"])]
    assert PARTNER in _text(breach) and "edelleen sinun vastuullasi" in _text(breach)
    _page, late = _answer(phone_app, _link(_text(smtp.to(PARTNER)[0]), "confirm"))
    with sessions() as s:
        assert s.scalar(select(Referral.confirmed_in_time)) is False


def test_declined_consent_keeps_the_case_and_tells_the_specialist(make_case, phone_app, tokens, clock, smtp,
                                                                  sessions):
    ref = make_case(topic="funding", channel="email", email=CUSTOMER, specialist="matti")
    api = phone_app.test_client()
    assert api.post(f"/api/v1/cases/{ref}/referrals", headers=auth(tokens["matti"]),
                    json={"partner": "business-finland"}).status_code == 201
    # One referral waits at a time.
    assert api.post(f"/api/v1/cases/{ref}/referrals", headers=auth(tokens["matti"]),
                    json={"partner": "ely"}).status_code == 409
    _deliver(phone_app, clock)
    consent = _link(_text([m for m in smtp.to(CUSTOMER) if "/referrals/" in _text(m)][0]), "consent")
    # A consent link is not a confirmation link (each is signed for its own purpose).
    assert phone_app.test_client().get(consent.replace("/consent/", "/confirm/")).status_code == 404
    _page, said_no = _answer(phone_app, consent, answer="no")
    assert "Tietojasi ei välitetä" in said_no.get_data(as_text=True)
    assert "jo vastannut" in phone_app.test_client().get(consent).get_data(as_text=True)
    _deliver(phone_app, clock)
    assert smtp.to("asiakaspalvelu@businessfinland.example.org") == []
    assert any("ei antanut lupaa" in str(m["Subject"]) for m in smtp.to("matti.esimerkki@example.org"))
    with sessions() as s:
        assert s.scalar(select(Case.status).where(Case.ref == ref)) == "taken_up"
        assert s.scalar(select(Referral.status)) == "declined"


def test_refused_referrals_change_nothing(make_case, phone_app, tokens, sessions):
    ref = make_case(topic="founding", channel="web", name="Nimetön")  # a web chat customer who left no contact
    api = phone_app.test_client()
    unknown = api.post(f"/api/v1/cases/{ref}/referrals", headers=auth(tokens["maija"]), json={"partner": "nobody"})
    assert unknown.status_code == 409 and "GET /api/v1/partners" in unknown.get_json()["error"]
    assert api.post(f"/api/v1/cases/{ref}/referrals", headers=auth(tokens["maija"]),
                    json={"partner": "uusyrityskeskus", "extra": 1}).status_code == 400
    assert api.post(f"/api/v1/cases/{ref}/referrals", headers=auth(tokens["matti"]),
                    json={"partner": "uusyrityskeskus"}).status_code == 404  # not his case: as if absent
    assert api.post("/api/v1/cases/LK-NOSUCH/referrals", headers=auth(tokens["maija"]),
                    json={"partner": "uusyrityskeskus"}).status_code == 404
    with sessions() as s:
        assert s.scalar(select(func.count(Referral.id))) == 0
        assert s.scalar(select(Case.status).where(Case.ref == ref)) == "open"


def test_a_web_customer_is_asked_in_the_widget_and_resolving_withdraws_the_referral(
        make_case, phone_app, tokens, clock, sessions):
    ref = make_case(topic="recruitment", channel="web", name="Webbi Asiakas", specialist="maija")
    api = phone_app.test_client()
    assert api.post(f"/api/v1/cases/{ref}/referrals", headers=auth(tokens["maija"]),
                    json={"partner": "tyollisyysalue"}).status_code == 201
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        public_id = case.conversation.public_id
    thread = phone_app.test_client().get(f"/api/chat/{public_id}").get_json()["messages"]
    [asked] = [m for m in thread if "/referrals/consent/" in m["text"]]
    assert asked["author"] == "staff" and "Esimerkin työllisyysalue" in asked["text"]
    consent = _link(asked["text"], "consent")
    _page, agreed = _answer(phone_app, consent, answer="yes")
    thread = phone_app.test_client().get(f"/api/chat/{public_id}").get_json()["messages"]
    assert any("Esimerkin työllisyysalue jatkaa asiaasi" in m["text"] for m in thread)
    assert api.post(f"/api/v1/cases/{ref}/resolve", headers=auth(tokens["maija"]), json={}).status_code == 200
    with sessions() as s:
        row = s.scalar(select(Referral))
        assert row.status == "withdrawn"
        confirm = _link(referral.link(phone_app.extensions["luukku"]["settings"], row, referral.CONFIRM), "confirm")
    assert "ei enää odoteta" in phone_app.test_client().get(confirm).get_data(as_text=True)



def test_an_erased_customer_s_waiting_referral_sends_nothing(make_case, phone_app, tokens, clock, smtp, sessions):
    from router.privacy import person

    ref = make_case(topic="founding", channel="email", email=CUSTOMER)
    assert phone_app.test_client().post(f"/api/v1/cases/{ref}/referrals", headers=auth(tokens["maija"]),
                                        json={"partner": "uusyrityskeskus"}).status_code == 201
    with sessions() as s:
        consent = _link(referral.link(phone_app.extensions["luukku"]["settings"], s.scalar(select(Referral)),
                                      referral.CONSENT), "consent")
        person.erase(s, phone_app.extensions["luukku"]["settings"], person.Subject.of(email=CUSTOMER), clock.now)
    assert "jo vastannut" in phone_app.test_client().get(consent).get_data(as_text=True)
    _deliver(phone_app, clock)
    assert smtp.to(PARTNER) == []
    with sessions() as s:
        assert s.scalar(select(Referral.status)) == "withdrawn"
