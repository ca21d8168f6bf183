"""Accessibility feedback (the Act on the Provision of Digital Services): the form on /accessibility becomes a case
for the accessibility contact with a 14-day deadline, answered through the same thread."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from router.storage.models import Case, OutboxMessage

from ..conftest import auth, csrf_from


@pytest.fixture
def phone_settings() -> dict:
    return {"accessibility_contact": "matti"}  # ACCESSIBILITY_CONTACT: the person who answers


def test_feedback_becomes_a_case_with_a_14_day_deadline_answered_by_email(phone_app, sessions, clock, tokens):
    visitor = phone_app.test_client()
    page = visitor.get("/accessibility?lang=sv").get_data(as_text=True)
    assert 'action="/accessibility/feedback?lang=sv"' in page and "Vad fungerade inte?" in page
    done = visitor.post("/accessibility/feedback?lang=sv", data={
        "csrf_token": csrf_from(page), "message": "Chattens knappar läses inte upp av min skärmläsare.",
        "name": "Sara Exempel", "contact": "sara.exempel@example.org"})
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    with sessions() as s:
        case = s.scalar(select(Case))
        assert (case.topic, case.kind, case.language, case.customer_email) == (
            "accessibility", "feedback", "sv", "sara.exempel@example.org")
        # 14 calendar days: Monday 30.11. → Monday 14.12., at the day's end in Helsinki
        assert case.due_at - clock.now == timedelta(days=14, hours=6)
        who = case.specialist.key
    assert case.ref in text and "mån 14.12.2026" in text
    # The person who has it answers in the same thread: the reply goes to the address given.
    assert who == "matti"
    api = phone_app.test_client()
    assert api.post(f"/api/v1/cases/{case.ref}/messages", headers=auth(tokens["matti"]),
                    json={"text": "Tack! Vi har rättat knapparnas namn."}).get_json()["sent_on"] == "email"
    with sessions() as s:
        assert s.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.recipient == "sara.exempel@example.org",
            OutboxMessage.body.like("%rättat knapparnas%"))) == 1


def test_feedback_without_a_contact_or_words_is_refused_by_field_and_nothing_is_made(phone_app, sessions):
    visitor = phone_app.test_client()
    page = visitor.get("/accessibility").get_data(as_text=True)
    refused = visitor.post("/accessibility/feedback", data={"csrf_token": csrf_from(page),
                                                            "message": "Kontrasti on liian heikko", "contact": "-"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Anna sähköpostiosoite tai puhelinnumero" in html and 'aria-invalid="true"' in html
    assert "Kontrasti on liian heikko" in html  # what was typed stays in the form
    assert visitor.post("/accessibility/feedback", data={"message": "x", "contact": "a@example.org"}).status_code == 400
    with sessions() as s:
        assert s.scalar(select(func.count(Case.id))) == 0


def test_the_board_report_counts_feedback_and_what_was_answered_in_time(phone_app, sessions, clock, tokens):
    from router import config as config_mod
    from router.plan import report

    visitor = phone_app.test_client()
    for text in ("Lomakkeen virheilmoitus ei näy ruudunlukijalle", "Linkit eivät erotu tekstistä"):
        page = visitor.get("/accessibility").get_data(as_text=True)
        visitor.post("/accessibility/feedback", data={"csrf_token": csrf_from(page), "message": text,
                                                      "contact": "palaute@example.org"})
    with sessions() as s:
        first = s.scalars(select(Case).order_by(Case.id)).first().ref
    phone_app.test_client().post(f"/api/v1/cases/{first}/messages", headers=auth(tokens["matti"]),
                                 json={"text": "Kiitos, korjasimme sen."})
    with sessions() as s:
        data = report.build(s, config_mod.load({}), "2026-11", clock.now)
    assert data["accessibility"] == {"received": 2, "answered_in_time": 1}
    assert ["Saavutettavuuspalaute", "2 saatu, 1 vastattu 14 päivässä"] in report.rows(data, "fi")["feedback"]
