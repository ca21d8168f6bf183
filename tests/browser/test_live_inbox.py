"""The specialist's open case page follows the customer live, and a subscribed browser gets a push, on the real
stack (trained model, action server, a real browser; a local stand-in of the browser maker's push service)."""
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from router.storage.models import Case, PushSubscription

from ..push_standin import PushService
from .test_staff_day import accounts, sign_in  # noqa: F401 - fixtures and steps shared with the day's test

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.close()


def test_the_open_case_page_shows_a_follow_up_within_5_s_and_the_browser_gets_a_push(live, accounts,  # noqa: F811
                                                                                     page, push_service):
    session, _ = live.conversation("haluaisin perustaa kahvilan", "Kalle Kokeilija", "kalle@example.org",
                                   "Kokeilu Oy", "/affirm")
    with live.sessions() as s:
        ref = s.scalars(select(Case).order_by(Case.id.desc())).first().ref
    sign_in(page, live, "maija.esimerkki@example.org")
    # The offer to turn notifications on is shown, and the service worker installs with the staff pages as scope.
    expect(page.locator("#push-on")).to_be_visible()
    scope = page.evaluate("""url => navigator.serviceWorker.register(url, {scope: '/staff/'})
        .then(() => navigator.serviceWorker.ready).then(r => r.scope)""", "/staff/sw.js")
    assert scope == live.router_url + "/staff/"
    # Headless Chromium has no push service of its own to subscribe through: the page posts the stand-in's
    # subscription exactly as the button posts PushSubscription.toJSON().
    laptop = push_service.browser("maija-laptop")
    status = page.evaluate("""sub => fetch(document.body.dataset.pushUrl, {method: 'POST', credentials: 'same-origin',
          headers: {'Content-Type': 'application/json',
                    'X-CSRFToken': document.querySelector('meta[name="csrf-token"]').content},
          body: JSON.stringify(sub)}).then(r => r.status)""", laptop.subscription())
    assert status == 201
    with live.sessions() as s:
        assert s.scalar(select(PushSubscription.endpoint)) == laptop.endpoint

    page.goto(f"{live.router_url}/staff/cases/{ref}")
    expect(page.locator("#transcript")).to_contain_text("haluaisin perustaa kahvilan")
    written = time.monotonic()
    reply = live.chat("Ehtisittekö soittaa jo tänään iltapäivällä?", session)
    assert "on ilmoitettu" in reply["replies"][0]["text"]
    expect(page.locator("#transcript")).to_contain_text("Ehtisittekö soittaa jo tänään", timeout=5000)
    shown_after = time.monotonic() - written
    assert shown_after < 5.0
    expect(page.locator("#events")).to_contain_text("Ehtisittekö soittaa")

    live.worker.deliver()
    [(path, _, body)] = push_service.wait_for(1)
    told = laptop.read(body)
    assert push_service.refused == [] and told["tag"] == ref and told["url"].endswith(f"/staff/cases/{ref}")

    # The page was in view when the message came: it reports the message seen, so no email about it will follow.
    deadline = time.monotonic() + 5
    while _unread(live, ref) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert _unread(live, ref) == 0


def _unread(live, ref: str) -> int:
    from router.casework import inbox

    with live.sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        return inbox.unread(s, [case])[case.id]
