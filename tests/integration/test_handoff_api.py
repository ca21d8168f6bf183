"""The internal handoff API the bot's action calls."""

from datetime import datetime

from sqlalchemy import select

from router.storage.models import Case, OutboxMessage

from ..helpers import consent_given

AUTH = {"Authorization": "Bearer test-token"}


def start_conversation(client, text="Hei, haluaisin perustaa kahvilan", rasa=None, contact="maija.m@example.org"):
    session = client.post("/api/chat", json={"session": None, "text": text}).get_json()["session"]
    if rasa is not None:
        consent_given(client.post, rasa, session, contact)
    return session


def handoff(internal, session, **extra):
    body = {"conversation": session, "idempotency_key": f"{session}:1", "topic": "founding", "language": "fi",
            "customer_name": "Maija Meikäläinen", "contact": "maija.m@example.org", "company": "Kahvila Oy",
            "consent": True}
    body.update(extra)
    return internal.post("/internal/handoffs", json=body, headers=AUTH)


def test_handoff_names_the_specialist_and_the_date_and_queues_both_messages(client, sessions, internal, rasa):
    session = start_conversation(client, rasa=rasa)
    resp = handoff(internal, session)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["specialist"] == {"name": "Maija Esimerkki", "title": "yritysneuvoja"}
    assert body["text"].startswith("Maija Esimerkki, yritysneuvoja, on yhteydessä sinuun viimeistään ")
    with sessions() as s:
        case = s.scalar(select(Case))
        assert case.ref == body["case"] and case.topic == "founding" and case.customer_email == "maija.m@example.org"
        assert case.due_at > case.created_at
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.kind, r.recipient) for r in rows] == [("email", "maija.esimerkki@example.org"),
                                                   ("email", "maija.m@example.org")]
    assert "Hei, haluaisin perustaa kahvilan" in rows[0].body          # the request and the transcript
    assert f"/staff/cases/{case.ref}" in rows[0].body                  # the link to the case
    assert rows[1].headers["Auto-Submitted"] == "auto-generated"
    assert rows[1].body.rstrip().endswith("/privacy?lang=fi")          # every email to a customer has the link
    assert "/privacy" not in rows[0].body                              # the specialist's has not


def test_the_same_handoff_twice_makes_one_case(client, sessions, internal, rasa):
    session = start_conversation(client, rasa=rasa)
    first = handoff(internal, session).get_json()
    second = handoff(internal, session).get_json()
    assert first == second
    with sessions() as s:
        assert len(s.scalars(select(Case)).all()) == 1
        assert len(s.scalars(select(OutboxMessage)).all()) == 2


def test_a_phone_number_gets_an_sms_confirmation(client, sessions, internal, rasa):
    session = start_conversation(client, "Hej, jag behöver finansiering", rasa, "+358 40 0000 999")
    body = handoff(internal, session, topic="funding", language="sv", contact="+358 40 0000 999").get_json()
    assert body["specialist"]["name"] == "Matti Esimerkki" and "kontaktar dig senast" in body["text"]
    with sessions() as s:
        sms = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "sms"))
    assert sms.recipient == "+358400000999"


def test_an_unknown_topic_goes_to_the_service_desk(client, sessions, internal, rasa):
    session = start_conversation(client, rasa=rasa)
    body = handoff(internal, session, topic="astrology").get_json()
    with sessions() as s:
        assert s.scalar(select(Case.topic)) == "general"
    assert body["specialist"]["name"] in {"Sanna Testinen", "Paula Palvelu"}


def test_the_internal_api_needs_the_token(client, internal):
    session = start_conversation(client)
    assert client.post("/internal/handoffs", json={"conversation": session}, headers=AUTH).status_code == 404
    assert internal.post("/internal/handoffs", json={"conversation": session}).status_code == 401
    assert internal.get("/internal/menu?language=fi").status_code == 401


def test_bad_handoff_requests_are_clear_errors(client, internal):
    assert internal.post("/internal/handoffs", json={}, headers=AUTH).status_code == 400
    assert handoff(internal, "nope").status_code == 404


def test_the_topic_menu_lists_the_directory_s_topics_with_the_desk_last(client, internal):
    menu = internal.get("/internal/menu?language=sv", headers=AUTH).get_json()
    assert menu["buttons"][0] == {"title": "Att grunda företag", "payload": "/founding"}
    assert menu["buttons"][-1]["payload"] == "/general"
    assert len(menu["buttons"]) == 6


def test_answers_about_the_agency_come_from_the_settings_until_an_admin_words_them(internal, sessions):
    from router.inbound import faq

    body = internal.get("/internal/faq/hours?language=sv", headers=AUTH).get_json()
    assert body["language"] == "sv" and body["key"] == "hours"
    assert "Kundtjänsten" in body["text"] and "{" not in body["text"]
    assert body["buttons"] == [{"title": "Jag vill tala med en människa", "payload": "/general"}]
    with sessions() as s:
        faq.reword(s, "hours", "sv", "Vi har öppet må–fr 8–17.")
        s.commit()
    assert internal.get("/internal/faq/hours?language=sv", headers=AUTH).get_json()["text"] == "Vi har öppet må–fr 8–17."
    # Other languages keep their default; an unknown language falls back to Finnish; unknown keys are 404.
    assert "open" in internal.get("/internal/faq/hours?language=en", headers=AUTH).get_json()["text"]
    assert internal.get("/internal/faq/hours?language=de", headers=AUTH).get_json()["language"] == "fi"
    assert internal.get("/internal/faq/parking?language=fi", headers=AUTH).status_code == 404
    assert internal.get("/internal/faq/hours?language=fi").status_code == 401


def test_a_refused_consent_takes_each_typed_detail_out_of_every_message_and_rasa_s_store(sessions, tmp_path):
    """A detail typed inside a longer message (the email and a number together, a name in a sentence, the bot's
    echo of it) leaves the transcript and Rasa's tracker store, not only a message that was the detail alone."""
    import json
    import sqlite3

    from router import config as config_mod
    from router.inbound import consent, conversation
    from router.storage.models import Message

    from ..helpers import rasa_tracker_store

    class Tracker:  # Rasa's GET /conversations/{id}/tracker, as the router reads it (rasa_client.typed_into)
        def typed_into(self, sender, slots):
            return {"refuse@example.org", "+358401234567", "Rea Refuser", "-"}

    with sessions() as s:
        conv = conversation.start(s, channel="web", language="fi", address=None, now=datetime(2026, 11, 30, 8))
        for author, text in (("customer", "tarvitsen rahoitusta"), ("customer", "Nimeni on Rea Refuser"),
                             ("bot", "Kiitos, Rea Refuser. Miten tavoitamme sinut?"),
                             ("customer", "refuse@example.org 040 123 4567"), ("customer", "ei")):
            conversation.record(s, conv, text, direction="in" if author == "customer" else "out", author=author,
                                now=datetime(2026, 11, 30, 8))
        s.commit()
        url = rasa_tracker_store(tmp_path / "rasa.db", [(conv.public_id, "refuse@example.org 040 123 4567"),
                                                        (conv.public_id, "Nimeni on Rea Refuser")])
        settings = config_mod.load({"rasa_tracker_url": url})
        replies = consent.forget_refused(s, settings, Tracker(), conv,
                                         [{"text": "Selvä."}, {"custom": {"forget": ["email", "phone", "name"]}}])
        s.commit()
        stored = s.scalars(select(Message.text).where(Message.conversation_id == conv.id).order_by(Message.id)).all()
    assert stored == ["tarvitsen rahoitusta", f"Nimeni on {consent.REMOVED}",
                      f"Kiitos, {consent.REMOVED}. Miten tavoitamme sinut?", f"{consent.REMOVED} {consent.REMOVED}",
                      "ei"]
    assert replies[0] == {"text": "Selvä."} and "Palveluneuvonta" in replies[1]["text"]
    with sqlite3.connect(tmp_path / "rasa.db") as db:
        events = [json.loads(d) for (d,) in db.execute("SELECT data FROM events")]
    assert [e["text"] for e in events] == [f"{consent.REMOVED} {consent.REMOVED}", f"Nimeni on {consent.REMOVED}"]
