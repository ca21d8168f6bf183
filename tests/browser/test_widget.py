"""A visitor uses the chat widget on the agency's page, in a real browser, against the real stack."""
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from router.storage.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.stack]
REPORTS = Path(__file__).resolve().parents[2] / "reports"


def say(page, text):
    expect(page.locator("#chat-send")).to_be_enabled()  # the widget's script has run
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def test_a_visitor_chats_from_the_page_to_a_named_specialist(live, page):
    page.goto(live.router_url + "/?lang=fi")
    expect(page.locator("h1")).to_have_text("Yksi luukku yrittäjälle")
    say(page, "Hei, haluaisin perustaa kahvilan")
    bot = page.locator(".msg-bot p")
    expect(bot.last).to_have_text("Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?")
    say(page, "Maija Meikäläinen")
    expect(bot).to_have_count(2)
    say(page, "maija.m@example.org")
    expect(bot).to_have_count(3)
    page.get_by_role("button", name="Ei vielä yritystä").click()
    page.get_by_role("button", name="Kyllä").click()
    expect(bot.last).to_contain_text("Maija Esimerkki, yritysneuvoja, on yhteydessä sinuun viimeistään")
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / "chat-widget.png"), full_page=True)
    with live.sessions() as s:
        assert s.scalar(select(Case.customer_name)) == "Maija Meikäläinen"


def test_markup_in_a_message_is_shown_as_text_and_never_run(live, page):
    page.goto(live.router_url + "/")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    say(page, "<img src=x onerror=alert(1)><script>alert(2)</script>")
    expect(page.locator(".msg-me p").last).to_have_text("<img src=x onerror=alert(1)><script>alert(2)</script>")
    expect(page.locator(".msg-bot p")).to_have_count(1)
    assert dialogs == []
    assert page.locator(".chat-log img").count() == 0


def test_the_thread_survives_a_reload_and_the_specialist_s_reply_appears(live, page):
    import requests

    from router.staff import users

    page.goto(live.router_url + "/?lang=fi")
    bot = page.locator(".msg-bot p")
    say(page, "Hei, haluaisin perustaa kahvilan")
    expect(bot.last).to_have_text("Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?")
    for text, count in (("Kaisa Kokeilija", 2), ("kaisa.k@example.org", 3), ("-", 4)):
        say(page, text)
        expect(bot).to_have_count(count)
    page.get_by_role("button", name="Kyllä").click()
    expect(bot.last).to_contain_text("Maija Esimerkki, yritysneuvoja, on yhteydessä sinuun viimeistään")
    page.reload()  # the same thread, drawn from the server; answered buttons stay answered
    expect(page.locator(".msg-me p")).to_have_count(5)
    expect(bot.last).to_contain_text("Maija Esimerkki, yritysneuvoja")
    expect(page.get_by_role("button", name="Kyllä")).to_be_disabled()
    with live.sessions() as s:
        user = users.create(s, email="maija.esimerkki@example.org", name="Maija Esimerkki",
                            password="correct horse battery", specialist_key="maija")
        token = users.issue_token(s, user)
        s.commit()
        ref = s.scalar(select(Case.ref))
    requests.post(f"{live.router_url}/api/v1/cases/{ref}/messages", timeout=10,
                  headers={"Authorization": f"Bearer {token}"}, json={"text": "Hei Kaisa, soitan huomenna."})
    staff = page.locator(".msg-staff")
    expect(staff.locator("p")).to_have_text("Hei Kaisa, soitan huomenna.", timeout=15000)  # polled in
    expect(staff.locator(".msg-name")).to_have_text("Maija Esimerkki")
    page.screenshot(path=str(REPORTS / "chat-thread.png"), full_page=True)


def test_the_page_and_the_bot_speak_the_language_the_visitor_chose(live, page):
    page.goto(live.router_url + "/?lang=fi")
    page.get_by_role("link", name="På svenska").click()
    assert page.locator("html").get_attribute("lang") == "sv"
    expect(page.locator("h1")).to_have_text("En lucka för företagare")
    expect(page.get_by_role("button", name="Skicka")).to_be_visible()
    say(page, "Hei")  # a Finnish-looking greeting: the page's Swedish, the visitor's choice, wins
    expect(page.locator(".msg-bot p").last).to_have_text(
        "Hej! Jag är Luukkus assistent. Berätta med egna ord vad ditt företag behöver, så hittar jag rätt expert åt dig.")


def test_the_thread_stays_in_its_tab_and_ends_when_the_visitor_says_so(live, page):
    """Issue 29, finding 6: the thread's only credential sat in localStorage for 30 days, so a second tab, or the
    next person at a shared library computer, read the whole thread; there was no "end conversation"."""
    page.goto(live.router_url + "/?lang=fi")
    say(page, "Hei, haluaisin perustaa kahvilan")
    expect(page.locator(".msg-bot p")).to_have_count(1)
    assert page.evaluate("localStorage.length") == 0  # nothing outlives the tab
    assert page.evaluate("sessionStorage.getItem('luukku-session')")
    other = page.context.new_page()  # the next person opens the page in the same browser
    other.goto(live.router_url + "/?lang=fi")
    other.wait_for_load_state("networkidle")
    expect(other.locator(".msg")).to_have_count(0)
    other.close()
    page.get_by_role("button", name="Lopeta keskustelu").click()
    expect(page.locator(".msg-bot p")).to_have_text(
        ["Keskustelu on lopetettu tässä selaimessa. Uusi viesti aloittaa uuden keskustelun."])
    assert page.evaluate("sessionStorage.getItem('luukku-session')") is None
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".msg")).to_have_count(0)


def test_a_503_is_said_in_the_visitor_s_language_and_the_message_sent_again_by_itself(live, page):
    """Issue 29, finding 21: with the database away the widget showed an English developer sentence to Finnish and
    Swedish customers, and did not retry by itself."""
    import json

    from router import texts

    calls = []

    def flaky(route):
        calls.append(route.request.post_data_json)
        if len(calls) == 1:  # what the router answers when it could not store the message
            route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body=json.dumps({"error": texts.say("chat_not_stored", "sv"), "retry": True}))
        else:
            route.continue_()

    page.route("**/api/chat", flaky)
    page.goto(live.router_url + "/?lang=sv")
    say(page, "Hej, jag behöver finansiering")
    bot = page.locator(".msg-bot p")
    expect(bot.first).to_have_text(texts.say("chat_not_stored", "sv"))
    expect(bot).to_have_count(2, timeout=15000)  # sent again after Retry-After, and answered
    assert len(calls) == 2 and calls[0] == calls[1]
    expect(page.locator(".msg-me p")).to_have_count(1)  # one message on the screen, not two


def test_enter_before_the_widget_s_script_runs_never_puts_the_text_in_the_address(live, browser):
    """The send button is disabled until chat.js has run: the form never submits natively, so what a customer typed
    never lands in the address bar, the history or an access log (a race the browser tests once hit)."""
    context = browser.new_context(locale="fi-FI", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live.router_url + "/?lang=fi")
        expect(page.locator("#chat-send")).to_be_disabled()
        page.fill("#chat-input", "Minun numeroni on 040 123 4567")
        page.press("#chat-input", "Enter")
        assert "040" not in page.url and "text=" not in page.url
    finally:
        context.close()
