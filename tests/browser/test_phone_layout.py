"""At 390 px in Finnish, Swedish and English: no number breaks across lines, no page scrolls sideways, chart labels
stay at least 12 px; and a specialist works a whole day in Swedish on a phone."""
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from router.impact import rollups as impact
from router.staff import users
from router.storage.models import Activity, Case, Lead

from ..impact_data import seed

pytestmark = [pytest.mark.browser, pytest.mark.stack]
REPORTS = Path(__file__).resolve().parents[2] / "reports"
PASSWORD = "a long test password"
PHONE = {"width": 390, "height": 844}

# Every number on the page (digits with their grouping, decimal mark, % or €) lies on one line; the page is never
# wider than the screen (a wide table or chart scrolls in its own region); SVG text is drawn at 12 px or more.
LAYOUT = r"""(width) => {
  const broken = [];
  const number = /[-+€]?\d[\d\u00a0\u202f.,:]*\d(?:\u00a0?[%€])?|\d(?:\u00a0?[%€])/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest('svg, script, style, .visually-hidden, .skip, option')) continue;
    if (parent.getClientRects().length === 0) continue;  // not displayed
    for (const m of node.data.matchAll(number)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  const small = [...document.querySelectorAll('svg text')].filter(t => {
    const scale = t.ownerSVGElement.getScreenCTM().a;
    return parseFloat(getComputedStyle(t).fontSize) * scale < 12;
  }).map(t => t.textContent);
  // Against the phone's width, not innerWidth: a mobile browser zooms out to a page wider than the screen.
  return {overflow: document.documentElement.scrollWidth - width, broken, small};
}"""


def assert_fits(page, where):
    found = page.evaluate(LAYOUT, PHONE["width"])
    assert found["overflow"] <= 0, (where, "scrolls sideways by", found["overflow"])
    assert found["broken"] == [], (where, "numbers broken across lines", found["broken"])
    assert found["small"] == [], (where, "chart text under 12 px", found["small"])


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="sv-FI")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def known(live):
    with live.sessions() as s:
        seed(s)
        s.add(Lead(company="Tehdas Oy", jobs=1200, investment_eur=45_000_000, stage="negotiating"))
        impact.refresh(s, ["2026-10", "2026-11"], "Europe/Helsinki")
        users.create(s, email="aino.admin@example.org", name="Aino Admin", password=PASSWORD, role="admin")
        s.commit()
    return live


def sign_in(page, live, email):
    page.goto(live.router_url + "/staff/login")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_public_pages_fit_a_phone_in_every_language(known, phone, lang):
    for path in (f"/impact?lang={lang}&from=2026-10&to=2026-11", f"/contacts?lang={lang}", f"/?lang={lang}"):
        phone.goto(known.router_url + path)
        expect(phone.locator("html")).to_have_attribute("lang", lang)
        assert_fits(phone, path)
    phone.goto(known.router_url + f"/contacts?lang={lang}")
    expect(phone.locator(".people")).to_contain_text({"fi": "suomi", "sv": "finska", "en": "Finnish"}[lang])


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_board_report_and_the_staff_pages_fit_a_phone_in_every_language(known, phone, lang):
    sign_in(phone, known, "aino.admin@example.org")  # the browser asks for Swedish: the sign-in page is in Swedish
    phone.goto(known.router_url + f"/staff/lang/{lang}")
    with known.sessions() as s:
        ref = s.scalars(select(Case.ref).order_by(Case.id)).first()
    for path in ("/staff/report/board?month=2026-10", "/staff/", "/staff/?list=resolved", f"/staff/cases/{ref}",
                 "/staff/targets?year=2026", "/staff/campaigns", "/staff/pipeline", "/staff/activities",
                 "/staff/admin/impact", "/staff/admin/directory"):
        phone.goto(known.router_url + path)
        expect(phone.locator("html")).to_have_attribute("lang", lang)
        assert_fits(phone, path)
    phone.goto(known.router_url + "/staff/report/board?month=2026-10")
    expect(phone.locator("#r-trend tbody tr")).to_have_count(12)
    REPORTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(REPORTS / f"board-report-phone-{lang}.png"), full_page=True)


def test_a_specialist_s_day_in_swedish_on_a_phone(known, phone):
    page = phone
    known.conversation("Hej, jag vill grunda ett kafé vid torget och behöver råd om tillstånd", "Kalle Kund",
                       "kalle@example.org", "Kafé Torget Ab", "/affirm")
    with known.sessions() as s:
        case = s.scalars(select(Case).order_by(Case.id.desc())).first()
        ref, language = case.ref, case.language
        # The specialist the directory gave it works in Swedish.
        users.create(s, email="sara.specialist@example.org", name=case.specialist.name, password=PASSWORD,
                     specialist_key=case.specialist.key, language="sv")
        s.commit()
    assert language == "sv"
    sign_in(page, known, "sara.specialist@example.org")
    expect(page.get_by_role("heading", name="Mina ärenden")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    assert_fits(page, "my cases")
    page.get_by_role("link", name=ref).click()
    expect(page.locator("#status")).to_have_text("Öppet")
    # The actions are one tap away, however long the transcript.
    page.get_by_role("link", name="Åtgärder").click()
    expect(page.get_by_role("button", name="Påbörja")).to_be_in_viewport()
    page.get_by_role("button", name="Påbörja").click()
    expect(page.locator("#status")).to_have_text("Påbörjat")
    expect(page.locator("#promise")).to_have_text("Påbörjat i tid")
    page.get_by_label("Meddelande till kunden").fill("Hej Kalle, jag ringer dig i morgon förmiddag.")
    page.get_by_role("button", name="Skicka").click()
    expect(page.locator(".transcript")).to_contain_text("jag ringer dig i morgon")
    page.get_by_label("Anteckning").fill("Tillståndsfrågor: kontrollera livsmedelsanmälan.")
    page.get_by_role("button", name="Lägg till anteckning").click()
    expect(page.locator(".flash")).to_have_text("Klart.")
    assert_fits(page, "case page")
    # An encounter of the day, with a business ID written wrong first: the form says so in Swedish.
    page.goto(known.router_url + "/staff/activities")
    page.get_by_label("Typ", exact=True).select_option("company_visit")
    page.get_by_label("Företag", exact=True).fill("Kafé Torget Ab")
    page.get_by_label("FO-nummer").fill("1234567-2")
    page.get_by_role("button", name="Registrera ett möte").click()
    expect(page.locator(".flash.error")).to_contain_text("FO-nummer: formen är 1234567-8")
    page.get_by_label("Företag", exact=True).fill("Kafé Torget Ab")
    page.get_by_label("FO-nummer").fill("")
    page.get_by_label("Deltagare").fill("2")
    page.get_by_role("button", name="Registrera ett möte").click()
    expect(page.locator(".flash")).to_have_text("Klart.")
    assert_fits(page, "activities")
    page.goto(known.router_url + "/staff/pipeline")
    page.get_by_label("Företag", exact=True).fill("Kafé Torget Ab")
    page.get_by_label("Arbetsplatser").fill("4")
    page.get_by_label("Investering (€)").fill("120 000")
    page.get_by_role("button", name="Nytt lead").click()
    expect(page.locator("#stage-lead")).to_contain_text("120\u00a0000\u00a0€")
    assert_fits(page, "pipeline")
    page.goto(known.router_url + f"/staff/cases/{ref}")
    page.get_by_label("Resultat").select_option("company_founded")
    page.get_by_role("button", name="Avsluta").click()
    expect(page.locator("#status")).to_have_text("Avslutat")
    page.screenshot(path=str(REPORTS / "staff-day-swedish-phone.png"), full_page=True)
    with known.sessions() as s:
        done = s.scalar(select(Case).where(Case.ref == ref))
        assert (done.status, done.outcome, done.taken_up_in_time) == ("resolved", "company_founded", True)
        assert s.scalar(select(Activity.company)) == "Kafé Torget Ab"
        assert s.scalar(select(Lead.investment_eur).where(Lead.company == "Kafé Torget Ab")) == 120_000
