"""The web chat API with the Flask client, on SQLite and PostgreSQL (the turn's lock and connection differ)."""
import pytest
from sqlalchemy import func, select

from router.storage.models import Conversation, Message

pytestmark = pytest.mark.both_databases


def post(client, body, headers=None):
    return client.post("/api/chat", json=body, headers=headers or {})


def count(sessions, model):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_new_session_gets_a_random_id_and_the_bot_s_replies(client, rasa, sessions):
    resp = post(client, {"session": None, "text": "Hei, haluaisin perustaa kahvilan"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["replies"] == [{"text": "Mikä on nimesi?", "buttons": []}]
    assert len(body["session"]) >= 20
    sender, text, metadata = rasa.sent[0]
    # The turn's request id goes to Rasa (the action server sends it back), and to the client in a header.
    assert sender == body["session"] and metadata == {"language": "fi", "channel": "web",
                                                      "request_id": resp.headers["X-Request-Id"],
                                                      "message_id": metadata["message_id"]}
    with sessions() as s:
        stored = s.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.direction, m.author, m.text) for m in stored] == [
            ("in", "customer", "Hei, haluaisin perustaa kahvilan"), ("out", "bot", "Mikä on nimesi?")]
        assert metadata["message_id"] == stored[0].id  # a replay can ask Rasa's tracker whether it took this turn


def test_the_same_session_continues_the_conversation(client, rasa):
    session = post(client, {"session": None, "text": "hello I need funding"}).get_json()["session"]
    again = post(client, {"session": session, "text": "John Example"}).get_json()
    assert again["session"] == session
    assert [s for s, _, _ in rasa.sent] == [session, session]
    assert rasa.sent[0][2]["language"] == "en"


def test_buttons_come_through(client, rasa):
    rasa.replies = [{"text": "Valitse", "buttons": [{"title": "Rahoitus", "payload": "/funding"}]}]
    body = post(client, {"session": None, "text": "hmm"}).get_json()
    assert body["replies"][0]["buttons"] == [{"title": "Rahoitus", "payload": "/funding"}]


def test_empty_text_is_a_clear_error_and_stores_nothing(client, sessions):
    for bad in ({"session": None, "text": ""}, {"session": None, "text": "   "}, {"session": None}, {"text": 5}):
        resp = post(client, bad)
        assert resp.status_code == 400
        assert "text" in resp.get_json()["error"]
    assert count(sessions, Message) == 0


def test_ten_thousand_characters_are_refused_and_earlier_messages_stay(client, sessions):
    session = post(client, {"session": None, "text": "hei"}).get_json()["session"]
    resp = post(client, {"session": session, "text": "a" * 10_000})
    assert resp.status_code == 413
    assert "4000" in resp.get_json()["error"]
    assert count(sessions, Message) == 2


def test_invalid_json_is_a_clear_error(client):
    resp = client.post("/api/chat", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert "JSON" in resp.get_json()["error"]
    assert client.post("/api/chat", json=["a", "list"]).status_code == 400


def test_an_unknown_session_is_404_and_creates_nothing(client, sessions):
    resp = post(client, {"session": "no-such-session", "text": "hei"})
    assert resp.status_code == 404
    assert count(sessions, Conversation) == 0
    assert post(client, {"session": 12, "text": "hei"}).status_code == 400


def test_html_is_kept_as_text(client, rasa, sessions):
    evil = "<script>alert('x')</script><b>hei</b>"
    assert post(client, {"session": None, "text": evil}).status_code == 200
    assert rasa.sent[0][1] == evil
    with sessions() as s:
        assert s.scalar(select(Message.text).where(Message.direction == "in")) == evil
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert" not in page


def test_when_rasa_is_down_the_customer_still_gets_a_named_person_and_the_message_is_kept(client, rasa, sessions):
    rasa.down = True
    body = post(client, {"session": None, "text": "tarvitsen rahoitusta koneeseen"}).get_json()
    assert "Matti Esimerkki" in body["replies"][0]["text"]
    with sessions() as s:
        texts = s.scalars(select(Message.text).order_by(Message.id)).all()
    assert texts[0] == "tarvitsen rahoitusta koneeseen" and len(texts) == 2


def test_health_and_readiness(client, rasa, sessions):
    from router import config
    from router.worker import Worker

    assert client.get("/healthz").get_json() == {"status": "ok"}
    no_worker = client.get("/readyz")
    assert no_worker.status_code == 503 and no_worker.get_json()["checks"]["worker"] == "no fresh heartbeat"
    Worker(config.load(), sessions, senders={}).heartbeat()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok", "rasa": "ok", "worker": "ok"}
    rasa.down = True
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.get_json()["checks"]["rasa"] == "unavailable"


def test_metrics_are_on_the_internal_listener_only(client, internal, rasa, sessions):
    client.post("/api/chat", json={"session": None, "text": "hei"})
    assert client.get("/metrics").status_code == 404
    text = internal.get("/metrics").get_data(as_text=True)
    assert 'luukku_turns_total{answered_by="bot",channel="web"}' in text
    assert "luukku_outbox_messages" in text and "luukku_worker_last_heartbeat_seconds" in text


def test_a_clicked_button_is_kept_in_the_transcript_as_the_customer_saw_it(client, rasa, sessions):
    rasa.replies = [{"text": "Sopiiko?", "buttons": [{"title": "Kyllä", "payload": "/affirm"}]}]
    session = post(client, {"session": None, "text": "hei"}).get_json()["session"]
    post(client, {"session": session, "text": "/affirm"})
    assert rasa.sent[-1][1] == "/affirm"
    with sessions() as s:
        assert s.scalars(select(Message.text).where(Message.direction == "in").order_by(Message.id)).all() == [
            "hei", "Kyllä"]


def test_a_caller_s_request_id_is_kept_and_a_bad_one_replaced(client):
    resp = post(client, {"session": None, "text": "Hei"}, headers={"X-Request-Id": "lb-123.abc"})
    assert resp.headers["X-Request-Id"] == "lb-123.abc"
    resp = post(client, {"session": None, "text": "Hei"}, headers={"X-Request-Id": "x ; drop"})
    assert resp.headers["X-Request-Id"] != "x ; drop" and len(resp.headers["X-Request-Id"]) == 32


def test_the_widget_s_language_choice_is_kept_until_the_customer_writes_in_another(client, rasa, sessions):
    first = post(client, {"session": None, "text": "Hei", "language": "sv"}).get_json()
    post(client, {"session": first["session"], "text": "ok", "language": "sv"})
    post(client, {"session": first["session"], "text": "Sorry, could we continue in English please?",
                  "language": "sv"})
    assert [m["language"] for _, _, m in rasa.sent] == ["sv", "sv", "en"]
    with sessions() as s:
        assert s.scalar(select(Conversation.language)) == "en"


def test_a_language_choice_outside_fi_sv_en_is_refused(client, rasa):
    resp = post(client, {"session": None, "text": "Hallo", "language": "de"})
    assert resp.status_code == 400 and "language" in resp.get_json()["error"]
    assert rasa.sent == []


def test_a_language_not_served_gets_an_english_answer_and_the_bot_is_not_asked(client, rasa, sessions):
    body = post(client, {"session": None, "text": "Guten Tag, ich möchte hier eine Firma gründen"}).get_json()
    assert body["replies"][0]["text"].startswith("Sorry, I can only help in Finnish, Swedish or English.")
    assert rasa.sent == []
    with sessions() as s:
        assert s.scalar(select(Conversation.language)) == "en"
        assert s.scalars(select(Message.author).order_by(Message.id)).all() == ["customer", "system"]


def test_the_home_page_is_in_the_visitor_s_language(client):
    for lang, heading, send in (("fi", "Yksi luukku yrittäjälle", "Lähetä"), ("sv", "En lucka för företagare", "Skicka"),
                                ("en", "One door for businesses", "Send")):
        page = client.get(f"/?lang={lang}").get_data(as_text=True)
        assert f'<html lang="{lang}">' in page and heading in page and f">{send}</button>" in page
    page = client.get("/", headers={"Accept-Language": "sv-FI,sv;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="sv">' in page


def test_what_the_widget_can_show_is_said_in_the_customer_s_language(client):
    """Issue 29, finding 21: every error a customer can see is a translated sentence."""
    from router import texts

    too_long = post(client, {"session": None, "text": "a" * 5000, "language": "sv"})
    assert too_long.status_code == 413 and too_long.get_json()["error"] == texts.say("chat_too_long", "sv", limit=4000)
    empty = post(client, {"session": None, "text": "\ud800", "language": "en"})  # a lone surrogate: nothing left
    assert empty.status_code == 400 and empty.get_json()["error"] == texts.say("chat_empty", "en")
    unknown = post(client, {"session": "no-such-session", "text": "Hei"})
    assert unknown.status_code == 404 and unknown.get_json()["error"] == texts.say("chat_bad_session", "fi")
