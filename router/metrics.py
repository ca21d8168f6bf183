"""Prometheus metrics: counters kept by the web process, and figures read from the database at each scrape."""
from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.storage.models import Case, Message, OutboxMessage, WorkerHeartbeat

REGISTRY = CollectorRegistry()
TURNS = Counter("luukku_turns_total", "Customer messages answered, by channel and by who answered",
                ["channel", "answered_by"], registry=REGISTRY)
RASA_SECONDS = Histogram("luukku_rasa_seconds", "Time Rasa took to answer one message",
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16), registry=REGISTRY)
FALLBACKS = Counter("luukku_rasa_unavailable_total", "Messages that waited because Rasa was away", ["channel"],
                    registry=REGISTRY)
OUTBOX = Gauge("luukku_outbox_messages", "Outbox rows by status", ["status"], registry=REGISTRY)
OUTBOX_OLDEST = Gauge("luukku_outbox_oldest_pending_seconds", "Age of the oldest pending outbox row",
                      registry=REGISTRY)
AWAITING = Gauge("luukku_messages_awaiting_bot", "Customer messages waiting for Rasa", registry=REGISTRY)
BREACHES = Gauge("luukku_promise_breaches_open", "Open cases past their due time, not taken up", registry=REGISTRY)
HEARTBEAT = Gauge("luukku_worker_last_heartbeat_seconds", "Seconds since the freshest worker heartbeat",
                  registry=REGISTRY)


def freshest_heartbeat(session: Session) -> datetime | None:
    return session.scalar(select(func.max(WorkerHeartbeat.beat_at)))


def render(session: Session, now: datetime) -> bytes:
    """The exposition text, with the database figures as of `now`."""
    for status in ("pending", "sending", "sent", "dead", "cancelled"):
        OUTBOX.labels(status).set(0)
    for status, count in session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)):
        OUTBOX.labels(status).set(count)
    oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending",
                                                                             OutboxMessage.next_attempt_at <= now))
    OUTBOX_OLDEST.set((now - oldest).total_seconds() if oldest else 0)
    AWAITING.set(session.scalar(select(func.count(Message.id)).where(Message.awaiting_bot.is_(True))) or 0)
    BREACHES.set(session.scalar(select(func.count(Case.id)).where(Case.status == "open", Case.due_at < now)) or 0)
    beat = freshest_heartbeat(session)
    HEARTBEAT.set((now - beat).total_seconds() if beat else float("inf"))
    return generate_latest(REGISTRY)


def worker_alive(session: Session, now: datetime, within: timedelta = timedelta(seconds=60)) -> bool:
    beat = freshest_heartbeat(session)
    return beat is not None and now - beat <= within
