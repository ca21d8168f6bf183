"""The impact page and the contacts page in a real browser, in three languages, against a known data set."""
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from router.impact import rollups as impact
from router.storage.models import Call, Case, Conversation, Specialist, Survey

from ..impact_data import seed

pytestmark = [pytest.mark.browser, pytest.mark.stack]
REPORTS = Path(__file__).resolve().parents[2] / "reports"


@pytest.fixture
def known(live):
    with live.sessions() as s:
        seed(s)
        impact.refresh(s, ["2026-10", "2026-11"], "Europe/Helsinki")
        s.commit()
    return live


@pytest.mark.parametrize("lang, heading, contacts_label", [
    ("fi", "Vaikuttavuus", "Yhteydenottoa"), ("sv", "Genomslag", "Kontakter"), ("en", "Impact", "Contacts")])
def test_the_impact_page_shows_the_database_s_figures(known, page, lang, heading, contacts_label):
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(known.router_url + f"/impact?lang={lang}&from=2026-10&to=2026-11")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    with known.sessions() as s:
        contacts = s.scalar(select(func.count()).select_from(Conversation).where(Conversation.channel != "voice")) + \
            s.scalar(select(func.count()).select_from(Call))
        cases = s.scalar(select(func.count()).select_from(Case))
        in_time = s.scalar(select(func.count()).select_from(Case).where(Case.taken_up_in_time.is_(True)))
        taken = s.scalar(select(func.count()).select_from(Case).where(Case.taken_up_at.is_not(None)))
        average = s.scalar(select(func.avg(Survey.score)))
    # Rounded to the nearest 5, so that no hidden count can be worked out from the totals.
    expect(page.locator("#kpi-contacts")).to_have_text(str(5 * ((contacts + 2) // 5)))
    expect(page.locator("#kpi-cases")).to_have_text(str(5 * ((cases + 2) // 5)))
    # Babel's percent: "71 %" with a no-break space in Finnish and Swedish, "71%" in English.
    percent = f"{round(100 * in_time / taken)}" + ("%" if lang == "en" else "\u00a0%")
    expect(page.locator("#kpi-in-time")).to_have_text(percent)
    shown = f"{float(average):.1f}"
    expect(page.locator("#kpi-satisfaction")).to_have_text(shown if lang == "en" else shown.replace(".", ","))
    expect(page.locator(".kpi").first).to_contain_text(contacts_label)
    # Every chart is an image with a name, followed by its data table.
    for chart in ("chart-contacts", "chart-topics", "chart-promise", "chart-scores", "chart-outcomes"):
        svg = page.locator(f"#{chart}")
        expect(svg).to_have_attribute("role", "img")
        assert svg.locator("title").text_content().strip()
    email_cell = page.locator("#table-contacts tbody tr").first.locator("td").nth(impact.CHANNELS.index("email"))
    expect(email_cell).to_have_text("< 5")  # three emails in October
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / f"impact-{lang}.png"), full_page=True)


def test_the_impact_page_works_with_the_keyboard_and_without_javascript(known, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(known.router_url + "/impact?lang=en&from=2026-10&to=2026-11")
    expect(page.locator("#kpi-contacts")).to_have_text("35")  # 33, rounded
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")  # in the page's language (?lang=en)
    context.close()


@pytest.mark.parametrize("lang, title", [("fi", "Yhteystiedot"), ("sv", "Kontaktuppgifter"), ("en", "Contacts")])
def test_the_contacts_page_lists_the_directory(known, page, lang, title):
    page.goto(known.router_url + f"/contacts?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    with known.sessions() as s:
        people = s.scalars(select(Specialist).where(Specialist.active.is_(True))).all()
        for person in people:
            card = page.locator(f"#person-{person.key}")
            expect(card.locator("h3")).to_have_text(person.name)
            expect(card.locator(".role")).to_have_text(person.title(lang))
    expect(page.locator("#service-email")).to_have_text(known.settings.service_email)
    page.screenshot(path=str(REPORTS / f"contacts-{lang}.png"), full_page=True)
