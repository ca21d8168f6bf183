"""The specialist's live inbox: unread markers, the open page's updates, push to a subscribed browser, and the email
only when the message is still unseen after CHAT_SEEN_MINUTES."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from router.delivery import push
from router.storage.models import Case, OutboxMessage, PushSubscription

from ..conftest import auth
from ..push_standin import PushService

VAPID = push.new_private_key()


@pytest.fixture
def phone_settings() -> dict:
    return {"vapid_private_key": VAPID, "chat_seen_minutes": 5.0}


@pytest.fixture
def service():
    made = PushService()
    yield made
    made.close()


@pytest.fixture
def chat(phone_app):
    return phone_app.test_client()


def _conversation(sessions, ref: str) -> str:
    with sessions() as s:
        return s.scalar(select(Case).where(Case.ref == ref)).conversation.public_id


def _follow_up(chat, rasa, sessions, ref, text):
    rasa.ranking = [{"name": "founding", "confidence": 0.8}]
    resp = chat.post("/api/chat", json={"session": _conversation(sessions, ref), "text": text})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["replies"]


def _deliver(phone_app, clock, senders):
    from router.worker import Worker

    ext = phone_app.extensions["luukku"]
    worker = Worker(ext["settings"], ext["sessions"], senders=senders, clock=clock)
    return worker.deliver()


def test_unread_counts_until_the_assigned_specialist_opens_the_case(chat, rasa, sessions, make_case, signed_in,
                                                                     tokens, phone_app):
    ref = make_case()
    api = phone_app.test_client()
    assert api.get(f"/api/v1/cases/{ref}", headers=auth(tokens["maija"])).get_json()["unread"] == 0
    assert "asiaasi" in _follow_up(chat, rasa, sessions, ref, "Onko aika jo sovittu?")[0]["text"]
    _follow_up(chat, rasa, sessions, ref, "Sopii myös perjantai.")
    [listed] = api.get("/api/v1/cases", headers=auth(tokens["maija"])).get_json()["cases"]
    assert (listed["ref"], listed["unread"]) == (ref, 2)
    assert api.get(f"/api/v1/cases/{ref}", headers=auth(tokens["lead"])).get_json()["unread"] == 2

    lead = signed_in("lead")
    assert lead.get(f"/staff/cases/{ref}").status_code == 200  # a lead reading it leaves it unread for Maija
    maija = signed_in("maija")
    page = maija.get("/staff/").get_data(as_text=True)
    assert 'data-unread="2"' in page and "Uusia viestejä: 2" in page
    assert maija.get(f"/staff/cases/{ref}").status_code == 200
    assert api.get(f"/api/v1/cases/{ref}", headers=auth(tokens["maija"])).get_json()["unread"] == 0
    assert "data-unread" not in maija.get("/staff/").get_data(as_text=True)

    _follow_up(chat, rasa, sessions, ref, "Vielä yksi kysymys.")
    assert api.get(f"/api/v1/cases/{ref}", headers=auth(tokens["maija"])).get_json()["unread"] == 1


def test_the_open_case_page_gets_a_follow_up_and_marks_it_seen(chat, rasa, sessions, make_case, signed_in, tokens,
                                                               phone_app):
    ref = make_case()
    maija = signed_in("maija")
    html = maija.get(f"/staff/cases/{ref}").get_data(as_text=True)
    after_message = int(html.split('data-after-message="')[1].split('"')[0])
    after_event = int(html.split('data-after-event="')[1].split('"')[0])
    nothing = maija.get(f"/staff/cases/{ref}/updates?after_message={after_message}&after_event={after_event}")
    assert nothing.get_json()["messages"] == [] and nothing.get_json()["customer"] == 0

    _follow_up(chat, rasa, sessions, ref, "Voinko tuoda <b>kirjanpitäjän</b> mukaan?")
    news = maija.get(f"/staff/cases/{ref}/updates?after_message={after_message}&after_event={after_event}").get_json()
    assert news["customer"] == 1 and len(news["events"]) == 1
    texts = " ".join(news["messages"])
    assert "&lt;b&gt;kirjanpitäjän&lt;/b&gt;" in texts and "<b>" not in texts  # escaped like the page itself
    assert news["after_message"] > after_message and news["after_event"] > after_event

    token = maija.get(f"/staff/cases/{ref}").get_data(as_text=True).split('name="csrf-token" content="')[1]
    token = token.split('"')[0]
    refused = maija.client.post(f"/staff/cases/{ref}/seen", json={"event": news["after_event"]})
    assert refused.status_code == 400  # no CSRF token
    # The page load above marked it seen already; a stale page reporting an older event never unmarks it.
    seen = maija.client.post(f"/staff/cases/{ref}/seen", json={"event": after_event},
                             headers={"X-CSRFToken": token})
    assert seen.get_json() == {"unread": 0}
    _follow_up(chat, rasa, sessions, ref, "Ja toinen kysymys.")
    api = phone_app.test_client()
    assert api.get(f"/api/v1/cases/{ref}", headers=auth(tokens["maija"])).get_json()["unread"] == 1
    news = maija.get(f"/staff/cases/{ref}/updates?after_message=0&after_event=0").get_json()
    assert maija.client.post(f"/staff/cases/{ref}/seen", json={"event": news["after_event"]},
                             headers={"X-CSRFToken": token}).get_json() == {"unread": 0}
    # Another specialist may not read the case's updates at all.
    assert signed_in("matti").get(f"/staff/cases/{ref}/updates").status_code == 403


def test_a_subscribed_browser_gets_a_push_and_the_email_waits_for_the_case_page(
        chat, rasa, sessions, make_case, signed_in, phone_app, clock, service):
    from router.delivery.senders import RecordingSender

    ref = make_case()
    maija = signed_in("maija")
    page = maija.get("/staff/").get_data(as_text=True)
    key = page.split('data-push-key="')[1].split('"')[0]
    assert key == push.public_key(phone_app.extensions["luukku"]["settings"])
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    browser = service.browser("maija-laptop")
    made = maija.client.post("/staff/push", json=browser.subscription(), headers={"X-CSRFToken": token})
    assert made.status_code == 201
    bad = maija.client.post("/staff/push", json={"endpoint": browser.endpoint, "keys": {"p256dh": "x", "auth": "y"}},
                            headers={"X-CSRFToken": token})
    assert bad.status_code == 400

    _follow_up(chat, rasa, sessions, ref, "Hei, ehdinkö vielä tänään?")
    email = RecordingSender()
    senders = {"email": email, "sms": RecordingSender(), "push": push.WebPushSender(
        phone_app.extensions["luukku"]["settings"])}
    _deliver(phone_app, clock, senders)
    [(path, headers, body)] = service.wait_for(1)
    assert service.refused == [] and path == "/push/maija-laptop"
    told = browser.read(body)
    assert told["url"].endswith(f"/staff/cases/{ref}") and ref in told["title"]
    assert "ehdinkö" not in json.dumps(told)  # what the customer wrote never passes through the push service
    follow_ups = lambda: [m for m in email.sent if ":follow-up:" in m.idempotency_key]  # noqa: E731
    assert follow_ups() == []  # the email waits CHAT_SEEN_MINUTES

    maija.get(f"/staff/cases/{ref}")  # she opened the case from the notification
    clock.now += timedelta(minutes=6)
    _deliver(phone_app, clock, senders)
    assert follow_ups() == []
    with sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("%:follow-up:%")))
        assert (row.status, row.last_error) == ("cancelled", "seen on the case page")

    # Unseen for CHAT_SEEN_MINUTES: the email goes.
    _follow_up(chat, rasa, sessions, ref, "Tuletteko paikan päälle?")
    clock.now += timedelta(minutes=4)
    _deliver(phone_app, clock, senders)
    assert follow_ups() == []
    clock.now += timedelta(minutes=2)
    _deliver(phone_app, clock, senders)
    [sent] = follow_ups()
    assert sent.recipient == "maija.esimerkki@example.org" and "Tuletteko paikan päälle?" in sent.body
    assert len(service.wait_for(2)) == 2


def test_a_subscription_the_browser_left_is_forgotten(chat, rasa, sessions, make_case, signed_in, phone_app, clock,
                                                      service):
    from router.delivery.senders import RecordingSender

    ref = make_case()
    maija = signed_in("maija")
    token = maija.get("/staff/").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    browser = service.browser("old-phone")
    assert maija.client.post("/staff/push", json=browser.subscription(),
                             headers={"X-CSRFToken": token}).status_code == 201
    service.gone.add("/push/old-phone")
    _follow_up(chat, rasa, sessions, ref, "Hei taas")
    _deliver(phone_app, clock, {"email": RecordingSender(), "push": push.WebPushSender(
        phone_app.extensions["luukku"]["settings"])})
    with sessions() as s:
        assert s.scalar(select(PushSubscription.id)) is None
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "push"))
        assert (row.status, row.last_error) == ("dead", "push subscription gone")
