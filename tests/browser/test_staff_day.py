"""A specialist's day on a phone-sized browser, and the customer's feedback, against the real stack."""
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from router.casework.survey import link
from router.staff import users
from router.storage.models import Case, Survey, utcnow
from router.worker import Worker

pytestmark = [pytest.mark.browser, pytest.mark.stack]
REPORTS = Path(__file__).resolve().parents[2] / "reports"
PASSWORD = "a long test password"


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fi-FI", is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def accounts(live):
    with live.sessions() as s:
        for key, name, role in (("maija", "Maija Esimerkki", "specialist"), ("matti", "Matti Esimerkki", "specialist")):
            users.create(s, email=f"{key}.esimerkki@example.org", name=name, password=PASSWORD, role=role,
                         specialist_key=key)
        s.commit()


def sign_in(page, live, email):
    page.goto(live.router_url + "/staff/login")
    page.get_by_label("Sähköposti").fill(email)
    page.get_by_label("Salasana").fill(PASSWORD)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    expect(page.get_by_role("heading", name="Omat asiat")).to_be_visible()


def chat_case(live, opening, contact):
    live.conversation(opening, "Kalle Kokeilija", contact, "Kokeilu Oy", "/affirm")
    with live.sessions() as s:
        return s.scalars(select(Case).order_by(Case.id.desc())).first().ref


def test_a_specialist_takes_up_messages_reassigns_and_resolves_from_a_phone(live, accounts, phone_page):
    page = phone_page
    ref = chat_case(live, "haluaisin perustaa parturiliikkeen", "+358 40 0000 777")
    sign_in(page, live, "maija.esimerkki@example.org")
    page.get_by_role("link", name=ref).click()
    expect(page.locator("#status")).to_have_text("Avoin")
    page.get_by_role("button", name="Ota työn alle").click()
    expect(page.locator("#status")).to_have_text("Työn alla")
    expect(page.locator("#promise")).to_have_text("Otettu työn alle ajoissa")
    page.get_by_label("Viesti asiakkaalle").fill("Hei Kalle, soitan sinulle huomenna aamupäivällä.")
    page.get_by_role("button", name="Lähetä").click()
    expect(page.locator(".transcript")).to_contain_text("soitan sinulle huomenna")
    page.get_by_label("Tulos").select_option("company_founded")
    page.get_by_role("button", name="Ratkaise").click()
    expect(page.locator("#status")).to_have_text("Ratkaistu")
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / "staff-case-phone.png"), full_page=True)

    other = chat_case(live, "haluaisin perustaa verkkokaupan", "kalle@example.org")
    page.goto(live.router_url + f"/staff/cases/{other}")
    page.locator("#reassign-topic").select_option("funding")
    page.get_by_role("button", name="Siirrä").click()
    expect(page.locator(".flash")).to_have_text("Tehty.")
    with live.sessions() as s:
        moved = s.scalar(select(Case).where(Case.ref == other))
        assert (moved.topic, moved.specialist.key) == ("funding", "matti")
        done = s.scalar(select(Case).where(Case.ref == ref))
        assert (done.status, done.outcome, done.taken_up_in_time) == ("resolved", "company_founded", True)
    live.worker.deliver()
    texts = [m["Body"] for m in live.twilio_api.received if m["To"] == "+358400000777"]
    assert any("aloittanut" in t for t in texts) and not any("soitan sinulle huomenna" in t for t in texts)
    # A web chat customer gets the message in the widget; as this one has left, it follows by SMS a little later.
    Worker(live.settings, live.sessions, senders=live.worker.senders,
           clock=lambda: utcnow() + timedelta(minutes=live.settings.chat_seen_minutes + 1)).deliver()
    texts = [m["Body"] for m in live.twilio_api.received if m["To"] == "+358400000777"]
    assert any("soitan sinulle huomenna" in t for t in texts)


def test_full_scenario_chat_take_up_resolve_survey_sms_answer(live, accounts, page):
    """Web chat → handoff → take up → resolve → survey SMS → the customer replies "5" → stored."""
    ref = chat_case(live, "tarvitsen rahoitusta uuteen pakettiautoon", "+358 40 0000 888")
    sign_in(page, live, "matti.esimerkki@example.org")
    page.goto(live.router_url + f"/staff/cases/{ref}")
    page.get_by_role("button", name="Ota työn alle").click()
    page.get_by_role("button", name="Ratkaise").click()
    expect(page.locator("#status")).to_have_text("Ratkaistu")
    with live.sessions() as s:
        planned = s.scalar(select(Survey.scheduled_at))
    later = Worker(live.settings, live.sessions, senders=live.worker.senders, clock=lambda: planned)
    later.tick()
    [question] = [m for m in live.twilio_api.received if m["Body"].startswith("Luukku: Kuinka tyytyväinen")]
    assert question["To"] == "+358400000888"
    live.clock_now = planned + timedelta(minutes=5)
    live.twilio.sms("+358400000888", "5")
    with live.sessions() as s:
        answered = s.scalar(select(Survey))
        assert (answered.score, answered.case.ref) == (5, ref)


def test_the_customer_answers_the_survey_page(live, accounts, page):
    ref = chat_case(live, "etsimme toimitilaa leipomolle", "leipuri@example.org")
    with live.sessions() as s:
        from router.casework import actions as casework

        case = s.scalar(select(Case).where(Case.ref == ref))
        casework.resolve(s, live.settings, case, None, case.created_at + timedelta(hours=1))
        s.commit()
        survey_id = s.scalar(select(Survey.id))
    page.goto(link(live.settings, survey_id))
    expect(page.get_by_role("heading", name="Kuinka tyytyväinen olit palveluumme?")).to_be_visible()
    page.get_by_label("4").check()
    page.get_by_label("Kommentti (vapaaehtoinen)").fill("Nopea vastaus, kiitos")
    page.get_by_role("button", name="Lähetä").click()
    expect(page.get_by_role("status")).to_have_text("Kiitos palautteestasi!")
    page.screenshot(path=str(REPORTS / "survey-page.png"))
    with live.sessions() as s:
        assert (s.scalar(select(Survey.score)), s.scalar(select(Survey.comment))) == (4, "Nopea vastaus, kiitos")


def test_a_specialist_searches_lists_downloads_and_replies_with_a_canned_text_from_a_phone(live, accounts,
                                                                                          phone_page):
    from router.storage.models import Attachment, CannedReply, Message

    page = phone_page
    ref = chat_case(live, "haluaisin perustaa kukkakaupan", "kalle@example.org")
    with live.sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        message_id = s.scalar(select(Message.id).where(Message.conversation_id == case.conversation_id))
        s.add(Attachment(case_id=case.id, message_id=message_id, filename="liiketoimintasuunnitelma.txt",
                         content_type="text/plain", size=12, data=b"suunnitelma\n"))
        s.add(CannedReply(title="Tapaaminen", language="fi", text="Hei {customer}, tavataanko? Terveisin {name}"))
        s.commit()
    sign_in(page, live, "maija.esimerkki@example.org")
    page.get_by_label("Hae").fill("kukkakaupan")
    page.get_by_role("button", name="Hae").click()
    expect(page.get_by_role("heading", name="Hakutulokset")).to_be_visible()
    page.get_by_role("link", name=ref).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="liiketoimintasuunnitelma.txt").click()
    assert download.value.suggested_filename == "liiketoimintasuunnitelma.txt"
    assert Path(download.value.path()).read_bytes() == b"suunnitelma\n"
    page.get_by_label("Valmis vastaus").select_option(label="Tapaaminen")
    page.get_by_role("button", name="Käytä").click()
    expect(page.get_by_label("Viesti asiakkaalle")).to_have_value(
        "Hei Kalle Kokeilija, tavataanko? Terveisin Maija Esimerkki")
    page.get_by_role("button", name="Lähetä").click()
    expect(page.locator(".transcript")).to_contain_text("tavataanko?")
    page.get_by_role("button", name="Ratkaise").click()
    expect(page.locator("#status")).to_have_text("Ratkaistu")
    page.goto(live.router_url + "/staff/?list=resolved")
    expect(page.get_by_role("link", name=ref)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(REPORTS / "staff-resolved-phone.png"), full_page=True)
