"""WCAG 2.1 AA in a real browser: axe-core (bundled with axe-playwright-python, nothing downloaded) finds no
violation on any public or staff page, the pages reflow at 320 px (and so at 200 % zoom of a 640 px window),
and the widget and the staff case page work with the keyboard alone."""
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from router.casework.survey import link
from router.staff import users
from router.storage.models import Case, Survey

from .test_staff_day import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.stack]
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now, one readable line each."""
    found = Axe().run(page, options=WCAG_AA).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in found]


def report(problems: dict) -> str:
    return "\n".join(f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items())


WIDER = """(() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
      out.push(e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' "' + (e.textContent || '').trim().slice(0, 30) + '"');
  }
  return out.slice(0, 5);
})()"""


def too_wide(page, width: int) -> list[str]:
    """What does not fit this width (WCAG 1.4.10 reflow): nothing, when the page needs no horizontal scrolling."""
    page.set_viewport_size({"width": width, "height": 800})
    if page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"):
        return []
    return page.evaluate(WIDER) or ["the page scrolls sideways"]


def checked(page, url: str, problems: dict) -> None:
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(url)
    found = violations(page)
    wide = too_wide(page, 320)
    if wide:
        found.append(f"does not fit 320 px: {wide}")
    if found:
        problems[url] = found


@pytest.fixture
def staffed_case(live):
    """An admin, a specialist and one case with a resolved survey, the way customers make them."""
    with live.sessions() as s:
        users.create(s, email="aino.admin@example.org", name="Aino Admin", password=PASSWORD, role="admin")
        users.create(s, email="maija.esimerkki@example.org", name="Maija Esimerkki", password=PASSWORD,
                     specialist_key="maija")
        s.commit()
    live.conversation("Hei, haluaisin perustaa kahvilan", "Kalle Kokeilija", "kalle@example.org", "Kokeilu Oy",
                      "/affirm")
    with live.sessions() as s:
        from router.casework import actions as casework

        case = s.scalars(select(Case).order_by(Case.id.desc())).first()
        ref = case.ref
        casework.resolve(s, live.settings, case, None, case.created_at + timedelta(hours=1))
        s.commit()
        survey_id = s.scalar(select(Survey.id))
    return ref, link(live.settings, survey_id)


def test_public_pages_have_no_wcag_aa_violations(live, page, staffed_case):
    _, survey_url = staffed_case
    problems: dict = {}
    # The home page with the widget in use: a question from the bot with its buttons on screen.
    page.goto(live.router_url + "/?lang=fi")
    expect(page.locator("#chat-send")).to_be_enabled()  # the widget's script has run
    page.fill("#chat-input", "Hei, haluaisin perustaa kahvilan")
    page.press("#chat-input", "Enter")
    expect(page.locator(".msg-bot p").last).to_have_text("Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?")
    found = violations(page)
    if found:
        problems["/ with the chat open"] = found
    for path in ("/?lang=sv", "/privacy?lang=fi", "/privacy?lang=en", "/accessibility?lang=sv",
                 "/impact?lang=fi", "/contacts?lang=en", "/staff/login"):
        checked(page, live.router_url + path, problems)
    checked(page, survey_url, problems)
    # The survey page after answering, and the impact page's error page.
    page.get_by_label("4").check()
    page.get_by_role("button", name="Lähetä").click()
    expect(page.get_by_role("status")).to_be_visible()
    if violations(page):
        problems["survey, answered"] = violations(page)
    checked(page, live.router_url + "/impact?from=2026-13", problems)
    # A warm referral's two link pages: the customer's consent and the partner's confirmation.
    for url in referral_links(live):
        checked(page, url, problems)
    assert not problems, report(problems)


def referral_links(live) -> list[str]:
    """Two new web cases referred to a partner: one waits for the customer's consent (their page), the other was
    agreed on the phone and waits for the partner (the partner's page)."""
    from router.casework import referral

    links = []
    for consent, purpose in ((None, referral.CONSENT), ("puhelimessa", referral.CONFIRM)):
        live.conversation("Hei, haluaisin perustaa kahvilan", "Kalle Kokeilija", "kalle@example.org", "Kokeilu Oy",
                          "/affirm")
        with live.sessions() as s:
            case = s.scalars(select(Case).order_by(Case.id.desc())).first()
            made = referral.refer(s, live.settings, case, None, "uusyrityskeskus", case.created_at, consent=consent)
            links.append(referral.link(live.settings, made, purpose))
            s.commit()
    base = live.settings.public_base_url.rstrip("/")
    return [url.replace(base, live.router_url) for url in links]


def test_the_second_factor_page_has_no_wcag_aa_violations(live, page):
    with live.sessions() as s:
        user = users.create(s, email="toni.totp@example.org", name="Toni Totp", password=PASSWORD, role="admin")
        users.enable_totp(user)
        s.commit()
    page.goto(live.router_url + "/staff/login")
    page.get_by_label("Sähköposti").fill("toni.totp@example.org")
    page.get_by_label("Salasana").fill(PASSWORD)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    page.wait_for_url("**/staff/second-factor")
    assert violations(page) == [] and too_wide(page, 320) == []


def test_staff_pages_have_no_wcag_aa_violations(live, page, staffed_case):
    ref, _ = staffed_case
    sign_in(page, live, "aino.admin@example.org")
    problems: dict = {}
    for path in ("/staff/", "/staff/?list=resolved", f"/staff/cases/{ref}", "/staff/search?q=kahvila",
                 "/staff/admin/directory", "/staff/admin/specialists/maija", "/staff/admin/canned",
                 "/staff/admin/faq", "/staff/admin/notices", "/staff/admin/privacy", "/staff/admin/audit",
                 "/staff/admin/deliveries", "/staff/admin/impact", "/staff/activities", "/staff/pipeline",
                 "/staff/campaigns", "/staff/targets", "/staff/report/board?month=2026-10&lang=sv"):
        checked(page, live.router_url + path, problems)
    # An open case: every action's form, the referral form and the customer record's merge form.
    live.conversation("Hei, haluaisin perustaa kahvilan", "Kalle Kokeilija", "kalle@example.org", "Kokeilu Oy",
                      "/affirm")
    with live.sessions() as s:
        open_ref = s.scalars(select(Case).order_by(Case.id.desc())).first().ref
    checked(page, live.router_url + f"/staff/cases/{open_ref}", problems)
    expect(page.locator("#refer-form")).to_be_visible()
    expect(page.locator("#merge-form")).to_be_visible()
    # The data request page with a person found.
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(live.router_url + "/staff/admin/privacy")
    page.get_by_label("Sähköposti").fill("kalle@example.org")
    page.get_by_role("button", name="Hae").click()
    expect(page.get_by_role("heading", name="Löytyi")).to_be_visible()
    if violations(page):
        problems["/staff/admin/privacy (found)"] = violations(page)
    assert not problems, report(problems)


def test_the_widget_and_the_case_page_with_the_keyboard_alone(live, page, staffed_case):
    live.conversation("Tarvitsemme rahoitusta uuteen koneeseen", "Kaisa Kokeilija", "kaisa@example.org", "-",
                      "/affirm")
    with live.sessions() as s:
        ref = s.scalars(select(Case).where(Case.status == "open").order_by(Case.id.desc())).first().ref
    page.goto(live.router_url + "/?lang=fi")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Siirry sisältöön")  # in the page's language
    expect(page.locator("#chat-send")).to_be_enabled()  # the widget's script has run
    page.locator("#chat-input").focus()
    page.keyboard.type("Hei, haluaisin perustaa kahvilan")
    page.keyboard.press("Enter")
    bot = page.locator(".msg-bot p")
    expect(bot.last).to_have_text("Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?")
    # Focus is visible wherever it lands (an outline or a box shadow, never nothing).
    outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                            " return s.outlineStyle !== 'none' && s.outlineWidth !== '0px' || s.boxShadow !== 'none'; })()")
    assert outline, "the focused chat field shows no focus indicator"

    sign_in(page, live, "aino.admin@example.org")  # the case is a funding specialist's; an admin may act on it
    page.goto(live.router_url + f"/staff/cases/{ref}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(ref)
    # Every control of the case page can be reached with Tab, and each says what it is.
    names = []
    for _ in range(60):
        page.keyboard.press("Tab")
        names.append(page.evaluate("(() => { const e = document.activeElement; return e.tagName + ':' +"
                                   " (e.getAttribute('aria-label') || e.labels?.[0]?.textContent ||"
                                   " e.textContent || e.value || '').trim().slice(0, 40); })()"))
    assert any(n.startswith("TEXTAREA:") for n in names) and any(n.startswith("BUTTON:") for n in names), names
    assert all(n.split(":", 1)[1] for n in names if n.split(":", 1)[0] in ("BUTTON", "A", "TEXTAREA", "SELECT"))
