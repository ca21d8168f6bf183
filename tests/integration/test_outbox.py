"""Outbox delivery: retries, give-ups, real SMTP, and two workers that never send one message twice."""
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from router import config
from router.delivery import outbox
from router.delivery.outbox import PermanentFailure, TemporaryFailure, deliver_due, enqueue
from router.delivery.senders import RecordingSender, SmtpSender, message_id
from router.storage.db import make_engine, make_sessionmaker
from router.storage.models import OutboxMessage

from ..helpers import SmtpServer

# About the database's own behaviour: runs on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 11, 30, 9, 0)


def queue(sessions, n=1, kind="email"):
    with sessions() as s:
        for i in range(n):
            enqueue(s, key=f"test:{i}", kind=kind, recipient=f"person{i}@example.org", subject=f"S{i}", body=f"B{i}",
                    now=NOW)
        s.commit()


def rows(sessions):
    with sessions() as s:
        return s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_the_same_key_is_queued_once(sessions):
    queue(sessions)
    queue(sessions)
    assert len(rows(sessions)) == 1


def test_delivery_marks_sent(sessions):
    queue(sessions, 3)
    sender = RecordingSender()
    assert deliver_due(sessions, {"email": sender}, NOW) == 3
    assert [r.status for r in rows(sessions)] == ["sent"] * 3
    assert deliver_due(sessions, {"email": sender}, NOW) == 0
    assert len(sender.sent) == 3


def test_a_temporary_failure_is_retried_later_with_backoff(sessions):
    queue(sessions)
    deliver_due(sessions, {"email": RecordingSender(TemporaryFailure("smtp 451"))}, NOW)
    row = rows(sessions)[0]
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + timedelta(seconds=5))
    assert deliver_due(sessions, {"email": RecordingSender()}, NOW + timedelta(seconds=3)) == 0
    assert deliver_due(sessions, {"email": RecordingSender()}, NOW + timedelta(seconds=6)) == 1
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 12)] == [5, 10, 20, 3600]


def test_a_row_another_worker_just_failed_is_not_tried_again_before_its_backoff(sessions):
    # Worker B lists what is due, then worker A claims one of those rows, fails and schedules the retry; B must
    # not claim it again at once: two attempts in a moment doubled the backoff (20 s instead of 10 in chaos).
    queue(sessions, 2)
    failing = RecordingSender(TemporaryFailure("smtp 421"))

    class InterleavingSender(RecordingSender):
        def send(self, out):
            if not self.sent:  # while B sends its first row, A runs a whole tick
                deliver_due(sessions, {"email": failing}, NOW, worker="a")
            return super().send(out)

    assert deliver_due(sessions, {"email": InterleavingSender()}, NOW, worker="b") == 1
    first, second = rows(sessions)
    assert (first.status, first.claimed_by) == ("sent", "b")
    assert (second.status, second.attempts, second.claimed_by) == ("pending", 1, "a")
    assert second.next_attempt_at == NOW + timedelta(seconds=5)


def test_a_permanent_failure_is_not_retried(sessions):
    queue(sessions)
    deliver_due(sessions, {"email": RecordingSender(PermanentFailure("opted out"))}, NOW)
    row = rows(sessions)[0]
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "opted out")


def test_gives_up_after_the_attempt_limit(sessions):
    queue(sessions)
    when = NOW
    for _ in range(3):
        deliver_due(sessions, {"email": RecordingSender(TemporaryFailure("x"))}, when, max_attempts=3)
        when += timedelta(hours=2)
    assert rows(sessions)[0].status == "dead"


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_lease(sessions):
    queue(sessions)
    with sessions() as s:
        row = s.scalar(select(OutboxMessage))
        row.status, row.claimed_at, row.claimed_by = "sending", NOW - outbox.LEASE / 2, "dead-worker"
        s.commit()
    assert deliver_due(sessions, {"email": RecordingSender()}, NOW) == 0
    # Seconds, not minutes: a killed worker's message is retried quickly.
    assert outbox.LEASE <= timedelta(seconds=60)
    assert deliver_due(sessions, {"email": RecordingSender()}, NOW + outbox.LEASE) == 1


def test_a_slow_send_renews_its_lease_so_no_other_worker_takes_the_row(sessions, monkeypatch):
    import threading
    import time

    monkeypatch.setattr(outbox, "RENEW", 0.1)
    queue(sessions)
    started, done = threading.Event(), threading.Event()

    class Slow(RecordingSender):
        def send(self, out):
            started.set()
            done.wait(10)  # the provider answers only once the other worker has looked
            return super().send(out)

    def claimed_at():
        with sessions() as s:
            return s.scalar(select(OutboxMessage.claimed_at))

    first, second = Slow(), RecordingSender()
    sending = threading.Thread(target=deliver_due, args=(sessions, {"email": first}, NOW))
    sending.start()
    assert started.wait(10)
    # The send runs on; the renewal moves the claim on with it (every RENEW seconds).
    deadline = time.monotonic() + 10
    while claimed_at() < NOW + timedelta(seconds=0.5) and time.monotonic() < deadline:
        time.sleep(0.02)
    # Past the lease as first claimed, but not as renewed: the second worker leaves the row alone.
    taken = deliver_due(sessions, {"email": second}, NOW + outbox.LEASE + timedelta(seconds=0.3))
    done.set()
    sending.join()
    assert (taken, len(first.sent), len(second.sent)) == (0, 1, 0)


def test_email_goes_through_a_real_smtp_server_with_a_stable_message_id(sessions):
    queue(sessions)
    with SmtpServer() as smtp:
        settings = config.load({"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"})
        assert deliver_due(sessions, {"email": SmtpSender(settings)}, NOW) == 1
        [msg] = smtp.messages
    assert msg["To"] == "person0@example.org" and msg["Subject"] == "S0"
    assert msg.get_content().strip() == "B0"
    assert msg["Message-ID"] == message_id("test:0", "example.org")
    assert rows(sessions)[0].provider_id == msg["Message-ID"]


def test_an_unreachable_smtp_server_is_a_temporary_failure(sessions):
    queue(sessions)
    settings = config.load({"smtp_host": "127.0.0.1", "smtp_port": 1, "smtp_security": "none", "smtp_timeout": 2})
    deliver_due(sessions, {"email": SmtpSender(settings)}, NOW)
    assert rows(sessions)[0].status == "pending"


class SlowRecorder(RecordingSender):
    """Records under a lock and yields, so racing workers overlap."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def send(self, out):
        with self.lock:
            self.sent.append(out)
        threading.Event().wait(0.002)
        return f"rec-{out.id}"


@pytest.mark.postgres
def test_four_workers_on_postgresql_send_each_message_exactly_once(pg_database_url):
    engine = make_engine(pg_database_url)
    maker = make_sessionmaker(engine)
    queue(maker, 200)
    sender = SlowRecorder()
    barrier = threading.Barrier(4)
    errors = []

    def work(name):
        try:
            barrier.wait()
            while deliver_due(maker, {"email": sender}, NOW, worker=name, batch=20):
                pass
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = [o.idempotency_key for o in sender.sent]
    assert len(keys) == 200 and len(set(keys)) == 200
    with maker() as s:
        claimed = {r.claimed_by for r in s.scalars(select(OutboxMessage))}
        assert all(r.status == "sent" for r in s.scalars(select(OutboxMessage)))
    assert len(claimed) > 1  # the work really was shared
    engine.dispose()


def test_a_singleton_job_runs_in_one_worker_at_a_time_and_moves_on_when_its_holder_dies(sessions):
    from datetime import datetime, timedelta

    from router.storage import leases

    now, ttl = datetime(2026, 11, 30, 8, 0), timedelta(minutes=3)
    with sessions() as s:
        assert leases.acquire(s, "mailbox", "worker-a", now, ttl)
        assert not leases.acquire(s, "mailbox", "worker-b", now + timedelta(minutes=1), ttl)  # a still holds it
        assert leases.acquire(s, "mailbox", "worker-a", now + timedelta(minutes=2), ttl)  # renewed by a
        assert leases.acquire(s, "impact", "worker-b", now, ttl)  # another job, another lease
        # a stops renewing (it died): once the lease has run out, b takes over
        assert not leases.acquire(s, "mailbox", "worker-b", now + timedelta(minutes=4), ttl)
        assert leases.acquire(s, "mailbox", "worker-b", now + timedelta(minutes=6), ttl)


def test_two_workers_refresh_the_rollups_once(sessions):
    from router import config
    from router.worker import Worker

    settings = config.load()
    first, second = Worker(settings, sessions, senders={"email": 1}), Worker(settings, sessions, senders={"email": 1})
    assert first.refresh_impact() is True
    assert second.refresh_impact() is False  # the other worker holds the lease: no second refresh
