"""The board's plan in a real browser: a specialist logs a company visit on a phone, the widget carries a campaign
link's code into the conversation, and the impact page (targets, campaigns, activities) fits a phone in three
languages."""
import time
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from router.impact import rollups
from router.plan import target
from router.storage.models import Activity, Campaign, Case, Conversation, utcnow

from ..impact_data import seed
from .test_staff_day import REPORTS, accounts, phone_page, sign_in  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.stack]


def test_a_specialist_logs_a_company_visit_on_a_phone_in_under_a_minute(live, phone_page, accounts):  # noqa: F811
    page = phone_page
    sign_in(page, live, "maija.esimerkki@example.org")
    started = time.monotonic()
    page.get_by_role("link", name="Kohtaamiset").click()
    page.get_by_label("Laji").select_option("company_visit")
    page.get_by_label("Yritys", exact=True).fill("Esimerkki Oy")
    page.get_by_label("Y-tunnus").fill("1234567-1")
    page.get_by_label("Aihe").select_option("funding")
    page.get_by_label("Muistiinpano").fill("Laajennus ensi vuonna")
    page.get_by_role("button", name="Kirjaa kohtaaminen").click()
    expect(page.get_by_role("status")).to_have_text("Tehty.")
    expect(page.locator("#activity-list li").first).to_contain_text("Yrityskäynnit: Esimerkki Oy (1234567-1)")
    assert time.monotonic() - started < 60
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # A wrong check digit is said on the page, and nothing is stored.
    page.get_by_label("Yritys", exact=True).fill("Toinen Oy")
    page.get_by_label("Y-tunnus").fill("1234567-2")
    page.get_by_role("button", name="Kirjaa kohtaaminen").click()
    expect(page.locator(".flash.error")).to_contain_text("Y-tunnus: muoto on 1234567-8")  # the field by its label
    with live.sessions() as s:
        [visit] = s.scalars(select(Activity)).all()
        assert (visit.kind, visit.business_id, visit.topic, visit.source, visit.day) == (
            "company_visit", "1234567-1", "funding", "ui", rollups_day(live))
    # The company needs funding: the visit becomes a case for the funding specialist.
    page.locator("#activity-list li").first.locator("summary").click()
    page.get_by_label("Mitä yritys tarvitsee").fill("Rahoitusta uuteen tuotantolinjaan")
    page.locator("#activity-list li").first.get_by_role("button", name="Tee asia").click()
    expect(page.get_by_role("status")).to_contain_text("Matti Esimerkki")  # the funding specialist has it now
    expect(page.locator("#activity-list li").first).to_contain_text("(Matti Esimerkki)")
    with live.sessions() as s:
        case = s.get(Case, s.scalar(select(Activity.case_id)))
        assert (case.topic, case.specialist.key, case.company, case.channel) == ("funding", "matti", "Esimerkki Oy",
                                                                                 "activity")
        assert case.summary == "Rahoitusta uuteen tuotantolinjaan" and case.due_at > case.created_at
    (REPORTS / "tmp").mkdir(parents=True, exist_ok=True)  # looked at, not committed
    page.screenshot(path=str(REPORTS / "tmp" / "activity-phone.png"), full_page=True)


def rollups_day(live) -> date:
    from router.casework.promise import local_date

    return local_date(utcnow(), live.settings.timezone)


def test_the_widget_carries_the_campaign_link_into_the_conversation(live, page):
    today = rollups_day(live)
    with live.sessions() as s:
        s.add(Campaign(code="SYKSY26", name="Syksyn kampanja", starts=date(today.year, 1, 1),
                       ends=date(today.year, 12, 31)))
        s.commit()
    page.goto(live.router_url + "/?lang=fi&c=SYKSY26")
    expect(page.locator("#chat-send")).to_be_enabled()  # the widget's script has run
    page.fill("#chat-input", "Hei, haluaisin perustaa kahvilan")
    page.press("#chat-input", "Enter")
    expect(page.locator(".msg-bot").last).to_be_visible()
    page.fill("#chat-input", "Kalle Kokeilija")
    page.press("#chat-input", "Enter")
    expect(page.locator(".msg-bot")).to_have_count(2)
    with live.sessions() as s:
        assert list(s.scalars(select(Conversation.campaign))) == ["SYKSY26"]


@pytest.fixture
def planned(live):
    with live.sessions() as s:
        seed(s)
        s.add(Campaign(code="SYKSY26", name="Syksyn yritystonttikampanja kaikille kanaville", starts=date(2026, 10, 1),
                       ends=date(2026, 11, 30), cost_cents=250_000))
        for i in range(6):
            s.add(Activity(kind="company_visit", day=date(2026, 10, 5 + i), company=f"Yritys {i} Oy", note="",
                           source="api"))
        for measure, value in (("encounters", 120), ("contacts", 400), ("promise_kept_share", 0.9),
                               ("satisfaction", 4.2), ("companies_located", 3), ("jobs", 50)):
            target.set_target(s, measure, 2026, value)
        s.commit()
        rollups.refresh(s, ["2026-10", "2026-11"], "Europe/Helsinki")
        s.commit()
    return live


@pytest.mark.parametrize("lang, targets_heading", [("fi", "Tavoitteet ja toteuma"), ("sv", "Mål och utfall"),
                                                   ("en", "Targets and actuals")])
def test_the_impact_page_fits_a_phone_in_each_language(planned, browser, lang, targets_heading):
    for width in (390, 320):
        context = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=True)
        page = context.new_page()
        page.goto(planned.router_url + f"/impact?lang={lang}&from=2026-01&to=2026-11")
        expect(page.locator("#h-targets")).to_have_text(targets_heading)
        expect(page.locator("#table-targets tbody tr")).to_have_count(6)
        expect(page.locator("#table-campaigns")).to_be_visible()
        expect(page.locator("#kpi-activities")).to_have_text("6")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (lang, width)
        # Wide tables scroll inside their own box, never the page.
        assert page.evaluate("[...document.querySelectorAll('.table-scroll')].every("
                             "b => b.getBoundingClientRect().right <= window.innerWidth + 1)")
        if width == 390:
            (REPORTS / "tmp").mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(REPORTS / "tmp" / f"impact-phone-{lang}.png"), full_page=True)
        context.close()
