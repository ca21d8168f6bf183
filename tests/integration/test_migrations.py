"""Migrations on data, not only on empty databases: the customer records' migration turns the phone threads the case
page joined before into one record per number, on SQLite and PostgreSQL, and goes down and up again."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command

from router.storage.migrate import alembic_config

from ..conftest import _fresh_pg_database

THREADS = [("sms", "+358401110001"), ("voice", "+358401110001"), ("whatsapp", "whatsapp:+358401110001"),
           ("web", None), ("email", "kirjoittaja@example.org"), ("sms", "+358401110002")]


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    url, drop = _fresh_pg_database(request.getfixturevalue("pg_server"))
    yield url
    drop()


def test_existing_phone_threads_become_one_customer_per_number(empty_url):
    config = alembic_config(empty_url)
    command.upgrade(config, "0017")
    engine = sa.create_engine(empty_url)
    at = datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO specialists (key, name, titles, email, topics, languages, working_hours, absences, team, "
            "notify_by, active) VALUES ('maija', 'Maija', '{}', 'maija@example.org', '[]', '[]', '{}', '[]', '', "
            "'email', true)"))
        for n, (channel, address) in enumerate(THREADS):
            conn.execute(sa.text("INSERT INTO conversations (public_id, channel, language, address, created_at, "
                                 "last_message_at) VALUES (:p, :c, 'fi', :a, :t, :t)"),
                         {"p": f"public-{n}", "c": channel, "a": address, "t": at})
        conn.execute(sa.text(
            "INSERT INTO cases (ref, handoff_key, conversation_id, channel, topic, language, specialist_id, summary, "
            "kind, status, created_at, due_at) VALUES ('LK-AAAAAA', 'k', 3, 'whatsapp', 'general', 'fi', 1, '', "
            "'handoff', 'open', :t, :t)"), {"t": at})
    command.upgrade(config, "head")
    with engine.begin() as conn:
        addresses = conn.execute(sa.text("SELECT address, how, customer_id FROM customer_addresses "
                                         "ORDER BY address")).all()
        owners = [row[0] for row in conn.execute(sa.text("SELECT customer_id FROM conversations ORDER BY id"))]
        case_owner = conn.execute(sa.text("SELECT customer_id FROM cases")).scalar_one()
    assert [(a, how) for a, how, _ in addresses] == [("+358401110001", "twilio"), ("+358401110002", "twilio")]
    first, second = addresses[0][2], addresses[1][2]
    assert owners == [first, first, first, None, None, second]  # typed or unproven addresses join nothing
    assert case_owner == first
    command.downgrade(config, "0016")
    command.upgrade(config, "head")
    engine.dispose()
