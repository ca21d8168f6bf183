"""Retention: `router retention run` and the worker's daily purge remove what is past its time, batch by batch,
and keep what is still needed (open cases, recent conversations) and what the impact page counts."""
import os
import subprocess
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from router import config as config_mod
from router.inbound import conversation
from router.privacy import retention
from router.storage.models import AuditEvent, Call, Case, Conversation, JobLease, Message, OutboxMessage
from router.worker import Worker

from ..conftest import ROOT
from ..helpers import rasa_tracker_store
from .test_privacy import database_files

# About the database's own behaviour: runs on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases

AS_OF = datetime(2026, 11, 30, 3, 0)


def aged(sessions, make_case, tmp_path):
    """Fictional data of several ages, as of AS_OF."""
    old = make_case(text="Vanha asia: kahvila satamaan", email="vanha@example.org", when=AS_OF - timedelta(days=800))
    recent = make_case(text="Tuore asia: leipomo", email="tuore@example.org", when=AS_OF - timedelta(days=60))
    still_open = make_case(text="Avoin asia: tontti", email="avoin@example.org", when=AS_OF - timedelta(days=900))
    with sessions() as s:
        s.execute(update(Case).where(Case.ref.in_([old, recent])).values(
            status="resolved", resolved_at=AS_OF - timedelta(days=760)))
        s.execute(update(Case).where(Case.ref == recent).values(resolved_at=AS_OF - timedelta(days=30)))
        for days, words in ((45, "Hylätty keskustelu ilman yhteystietoja"), (5, "Tämän päivän keskustelu")):
            conv = conversation.start(s, channel="web", now=AS_OF - timedelta(days=days))
            conversation.record(s, conv, words, direction="in", author="customer", now=AS_OF - timedelta(days=days))
        s.add(Call(call_sid="CA" + "2" * 32, caller="+358401110999", speech="soitin turhaan",
                   created_at=AS_OF - timedelta(days=100)))
        s.add(Call(call_sid="CA" + "3" * 32, caller="+358401110998", speech="soitin eilen",
                   created_at=AS_OF - timedelta(days=1)))
        s.execute(update(OutboxMessage).values(status="sent", sent_at=AS_OF - timedelta(days=40)))
        s.add(AuditEvent(actor="cli", action="case_read", created_at=AS_OF - timedelta(days=800)))
        s.add(AuditEvent(actor="cli", action="case_read", created_at=AS_OF - timedelta(days=10)))
        s.commit()
    return old, recent, still_open


def settings(database_url, tmp_path):
    return config_mod.load({"database_url": database_url, "rasa_tracker_url": rasa_tracker_store(tmp_path / "rasa.db")})


def test_dry_run_counts_and_the_purge_removes_only_what_is_due(database_url, sessions, make_case, tmp_path):
    old, recent, still_open = aged(sessions, make_case, tmp_path)
    with sessions() as s:
        counted = retention.run(s, settings(database_url, tmp_path), AS_OF, dry_run=True)
        assert counted == {"resolved_cases": 1, "chats_without_case": 1, "call_speech": 1, "attachments": 0,
                           "outbox_bodies": s.scalar(select(func.count()).select_from(OutboxMessage)),
                           "survey_comments": 0, "audit_events": 1, "verified_addresses": 0}
        assert s.scalar(select(Case.customer_email).where(Case.ref == old)) == "vanha@example.org"  # unchanged

    # Without Rasa's tracker store (a shell that lacks the setting): refused, and nothing purged.
    elsewhere = {**os.environ, "DATABASE_URL": database_url, "RASA_TRACKER_URL": f"sqlite:///{tmp_path / 'no.db'}"}
    refused = subprocess.run([str(ROOT / "bin" / "router"), "retention", "run", "--as-of", "2026-11-30"],
                             env=elsewhere, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert refused.returncode != 0 and "RASA_TRACKER_URL" in refused.stderr, refused.stdout
    with sessions() as s:
        assert s.scalar(select(Case.customer_email).where(Case.ref == old)) == "vanha@example.org"
        assert "Vanha asia: kahvila satamaan" in set(s.scalars(select(Message.text)))

    env = {**os.environ, "DATABASE_URL": database_url, "RASA_TRACKER_URL": f"sqlite:///{tmp_path / 'rasa.db'}"}
    out = subprocess.run([str(ROOT / "bin" / "router"), "retention", "run", "--as-of", "2026-11-30"], env=env,
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    printed = dict(line.split()[:2] for line in out.stdout.splitlines())
    assert (printed["resolved_cases"], printed["chats_without_case"], printed["call_speech"]) == ("1", "1", "1")

    with sessions() as s:
        cases = {c.ref: c for c in s.scalars(select(Case))}
        assert (cases[old].customer_email, cases[old].summary, cases[old].topic) == (None, "", "founding")
        assert cases[recent].customer_email == "tuore@example.org"  # resolved a month ago: kept
        assert cases[still_open].customer_email == "avoin@example.org"  # open: everything is still needed
        texts = set(s.scalars(select(Message.text)))
        assert "Vanha asia: kahvila satamaan" not in texts and "Hylätty keskustelu ilman yhteystietoja" not in texts
        assert {"Tuore asia: leipomo", "Avoin asia: tontti", "Tämän päivän keskustelu"} <= texts
        assert s.scalar(select(func.count()).select_from(Conversation)) == 5  # still counted on the impact page
        assert sorted(c.speech or "-" for c in s.scalars(select(Call))) == ["-", "soitin eilen"]
        assert all(o.body == "" for o in s.scalars(select(OutboxMessage)))
        assert [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))] == \
            ["case_read", "retention_purge"]
        # Run again: nothing left to do.
        assert not any(retention.run(s, settings(database_url, tmp_path), AS_OF).values())
    # The purged words are not readable in the database's files either.
    for blob in database_files(database_url):
        assert b"Vanha asia: kahvila satamaan" not in blob and b"vanha@example.org" not in blob


def test_the_purge_runs_once_a_day_in_one_worker(database_url, sessions, make_case, tmp_path):
    aged(sessions, make_case, tmp_path)
    conf = settings(database_url, tmp_path)
    first, second = (Worker(conf, sessions, senders={}, clock=lambda: AS_OF) for _ in range(2))
    assert first.purge_expired()["resolved_cases"] == 1
    assert second.purge_expired() is None  # today's lease is taken
    first.next_retention = 0.0
    assert first.purge_expired() is None  # already done today
    with sessions() as s:
        assert s.scalar(select(JobLease.holder).where(JobLease.name == "retention:2026-11-30")) == first.name


def test_a_verified_number_goes_once_nothing_of_its_customer_holds_a_contact(database_url, sessions, make_case,
                                                                             tmp_path):
    from router.storage.models import CustomerAddress

    old = make_case(channel="sms", phone="+358401110997", text="Vanha tekstiviesti", when=AS_OF - timedelta(days=800))
    kept = make_case(channel="sms", phone="+358401110996", text="Tuore tekstiviesti", when=AS_OF - timedelta(days=800))
    with sessions() as s:
        s.execute(update(Case).where(Case.ref.in_([old, kept])).values(status="resolved",
                                                                       resolved_at=AS_OF - timedelta(days=760)))
        s.execute(update(Case).where(Case.ref == kept).values(resolved_at=AS_OF - timedelta(days=30)))
        s.commit()
        assert s.scalar(select(func.count(CustomerAddress.id))) == 2
        done = retention.run(s, settings(database_url, tmp_path), AS_OF)
    assert (done["resolved_cases"], done["verified_addresses"]) == (1, 1)
    with sessions() as s:
        assert s.scalars(select(CustomerAddress.address)).all() == ["+358401110996"]
