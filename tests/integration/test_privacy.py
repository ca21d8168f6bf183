"""A person's data: `router privacy export` finds everything about them, `router privacy erase` leaves no trace
of their number or words (in the database file and in Rasa's tracker store) and keeps what the impact page counts."""
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from router.storage.models import AuditEvent, Call, Case, CaseEvent, Conversation, Message, OutboxMessage, Survey

from ..conftest import ROOT
from ..helpers import rasa_tracker_store

# About the database's own behaviour: runs on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases

PHONE, SPOKEN = "+358401110123", "040 111 0123"
EMAIL = "anna.asiakas@example.org"
WORDS = "Haluaisin perustaa kahvilan Vanhaan satamaan"
OTHER_WORDS = "Tarvitsemme kaksi kokkia keittiöön"


def router(database_url, tracker_url, *args, stdin=None):
    env = {**os.environ, "DATABASE_URL": database_url, "RASA_TRACKER_URL": tracker_url}
    return subprocess.run([str(ROOT / "bin" / "router"), *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_export_then_erase_one_person(database_url, sessions, make_case, clock, tmp_path):
    ref = make_case(channel="sms", phone=PHONE, text=WORDS, name="Anna Asiakas")
    web_ref = make_case(channel="web", email=EMAIL, text="Voinko saada starttirahaa?", name="Anna Asiakas")
    other = make_case(topic="recruitment", channel="web", email="olli.muu@example.org", text=OTHER_WORDS,
                      name="Olli Muu")
    with sessions() as s:
        sms_case = s.scalar(select(Case).where(Case.ref == ref))
        s.add(Call(call_sid="CA" + "1" * 32, caller=PHONE, speech="kahvila satamaan", case_id=sms_case.id,
                   created_at=clock.now))
        s.add(Survey(case_id=sms_case.id, channel="sms", recipient=PHONE, specialist_id=sms_case.specialist_id,
                     topic="founding", scheduled_at=clock.now, sent_at=clock.now, answered_at=clock.now, score=5,
                     comment="Anna sai apua nopeasti"))
        s.add(CaseEvent(case_id=sms_case.id, kind="note", text="Anna soitti takaisin", created_at=clock.now))
        s.commit()
        convs = {c.ref: c.conversation.public_id for c in s.scalars(select(Case))}
        cases_before = s.scalar(select(func.count()).select_from(Case))
    bot = tmp_path / "rasa.db"
    bot_url = rasa_tracker_store(bot, [(convs[ref], WORDS), (convs[other], OTHER_WORDS)])

    # The person asks what is held: by their number, typed the domestic way.
    out = router(database_url, bot_url, "privacy", "export", "--phone", SPOKEN, "--out", str(tmp_path / "export"))
    assert out.returncode == 0, out.stderr
    assert PHONE not in out.stdout + out.stderr and WORDS not in out.stdout + out.stderr  # counts only
    data = json.loads(next((tmp_path / "export").glob("*.json")).read_text(encoding="utf-8"))
    assert [c["ref"] for c in data["cases"]] == [ref]
    assert WORDS in [m["text"] for conv in data["conversations"] for m in conv["messages"]]
    assert [c["speech"] for c in data["calls"]] == ["kahvila satamaan"]
    assert [s["comment"] for s in data["surveys"]] == ["Anna sai apua nopeasti"]
    assert all(o["to"] != "olli.muu@example.org" for o in data["messages_sent"])
    report = next((tmp_path / "export").glob("*.txt")).read_text(encoding="utf-8")
    assert ref in report and WORDS in report and OTHER_WORDS not in report
    # By email: the web chat behind the case the customer left their address on.
    by_email = router(database_url, bot_url, "privacy", "export", "--email", EMAIL.upper(), "--out",
                      str(tmp_path / "by-email"))
    assert by_email.returncode == 0, by_email.stderr
    assert [c["ref"] for c in json.loads(next((tmp_path / "by-email").glob("*.json")).read_text())["cases"]] \
        == [web_ref]

    refused = router(database_url, bot_url, "privacy", "erase", "--phone", SPOKEN, stdin="n\n")
    assert refused.returncode != 0  # "no" at the confirmation erases nothing
    # A shell without the tracker store's setting (or with a wrong one) erases nothing either, and says why: once
    # the router's rows lost the number, nothing could find the bot's copy of the words again.
    for wrong in (f"sqlite:///{tmp_path / 'elsewhere.db'}", f"sqlite:///{tmp_path / 'export' / 'x.db'}"):
        unreachable = router(database_url, wrong, "privacy", "erase", "--phone", SPOKEN, "--yes")
        assert unreachable.returncode != 0 and "RASA_TRACKER_URL" in unreachable.stderr, unreachable.stderr
        assert "nothing was erased" in unreachable.stderr and not (tmp_path / "elsewhere.db").exists()
    with sessions() as s:
        assert s.scalar(select(Case.customer_phone).where(Case.ref == ref)) == PHONE

    erased = router(database_url, bot_url, "privacy", "erase", "--phone", SPOKEN, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "bot_events 1" in erased.stdout
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        assert (case.customer_name, case.customer_phone, case.summary) == (None, None, "")
        assert (case.topic, case.channel) == ("founding", "sms")  # what the impact page counts stays
        assert s.scalar(select(func.count()).select_from(Case)) == cases_before
        assert s.scalar(select(func.count()).select_from(Message).where(
            Message.conversation_id == case.conversation_id)) == 0
        assert s.scalar(select(Conversation.address).where(Conversation.id == case.conversation_id)) is None
        call = s.scalar(select(Call))
        assert (call.caller, call.speech) == (None, None)
        survey = s.scalar(select(Survey))
        assert (survey.score, survey.comment, survey.recipient) == (5, None, "[erased]")
        assert all(e.text == "" for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)))
        for row in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)):
            assert (row.body, row.recipient) == ("", "[erased]") and row.status in ("sent", "cancelled", "dead")
        # Someone else's matter is untouched, and their words are still with the bot.
        kept = s.scalar(select(Case).where(Case.ref == other))
        assert kept.customer_email == "olli.muu@example.org"
        assert OTHER_WORDS in s.scalars(select(Message.text).where(
            Message.conversation_id == kept.conversation_id)).all()
        # The audit trail says an export and an erasure happened, never whom they were about.
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["privacy_export", "privacy_export", "privacy_erase"]
        assert all(PHONE not in json.dumps(e.detail) and e.actor == "cli" for e in events)
    with sqlite3.connect(bot) as db:
        assert [r[0] for r in db.execute("SELECT sender_id FROM events")] == [convs[other]]
    assert WORDS.encode() not in bot.read_bytes()
    # No readable copy of the number or the words is left in the database's own files.
    for blob in database_files(database_url):
        assert PHONE.encode() not in blob and WORDS.encode() not in blob and b"Anna sai apua" not in blob

    again = router(database_url, bot_url, "privacy", "export", "--phone", PHONE, "--out", str(tmp_path / "after"))
    assert again.returncode == 0 and "cases 0" in again.stdout


def database_files(database_url):
    """The bytes of the database's files: the SQLite file and its log, or the PostgreSQL tables' files."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        return [Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p)]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
        home = conn.execute(text("SHOW data_directory")).scalar()
        paths = [conn.execute(text("SELECT pg_relation_filepath(:t)"), {"t": t}).scalar()
                 for t in ("messages", "cases", "calls", "surveys", "case_events", "outbox", "conversations")]
    engine.dispose()
    blobs = []
    for rel in paths:
        full = os.path.join(home, rel)
        if os.access(full, os.R_OK):
            blobs.append(Path(full).read_bytes())
    assert blobs or not os.access(home, os.R_OK), "the tables' files could not be read"
    return blobs


def test_the_admin_page_erases_nothing_while_rasa_s_store_cannot_be_reached(database_url, sessions, staff, make_case,
                                                                              rasa, tmp_path):
    from router.app import create_app

    from ..conftest import StaffClient

    ref = make_case(channel="sms", phone=PHONE, text=WORDS, name="Anna Asiakas")
    app = create_app({"database_url": database_url, "smtp_host": "", "twilio_account_sid": "",
                      "rasa_tracker_url": f"sqlite:///{tmp_path / 'missing.db'}"}, rasa=rasa)
    admin = StaffClient(app, staff["admin"])
    admin.get("/staff/lang/en")
    refused = admin.post_form("/staff/admin/privacy", "/staff/admin/privacy/erase",
                              {"phone": PHONE, "confirm": "yes"})
    assert refused.status_code == 503
    assert "cannot be reached, so nothing was erased" in refused.get_data(as_text=True)
    with sessions() as s:
        assert s.scalar(select(Case.customer_phone).where(Case.ref == ref)) == PHONE
        assert WORDS in set(s.scalars(select(Message.text)))
        assert "privacy_erase" not in set(s.scalars(select(AuditEvent.action)))
    app.extensions["luukku"]["engine"].dispose()
