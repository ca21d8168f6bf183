"""A visitor uses the chat widget on the agency's page, in a real browser, against the real stack."""
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from router.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.stack]
REPORTS = Path(__file__).resolve().parents[2] / "reports"


def say(page, text):
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def test_a_visitor_chats_from_the_page_to_a_named_specialist(live, page):
    page.goto(live.router_url + "/")
    expect(page.locator("h1")).to_have_text("Yksi luukku yrittäjälle")
    say(page, "Hei, haluaisin perustaa kahvilan")
    bot = page.locator(".msg-bot p")
    expect(bot.last).to_have_text("Ohjaan sinut oikealle asiantuntijalle. Mikä on nimesi?")
    say(page, "Maija Meikäläinen")
    expect(bot).to_have_count(2)
    say(page, "maija.m@example.org")
    expect(bot).to_have_count(3)
    say(page, "-")
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
