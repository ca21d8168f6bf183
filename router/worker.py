"""The worker: delivers the outbox and runs the periodic jobs, as many copies as you like."""
from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.orm import sessionmaker

from router.casework import promise_keeper, referral, survey
from router.channels import whatsapp
from router.config import Settings
from router.delivery import alerts, events, outbox, push
from router.delivery.senders import make_senders
from router.delivery.sms_policy import SmsPolicy
from router.impact import rollups as impact
from router.plan import registry
from router.privacy import retention
from router.storage import leases
from router.storage.db import unit_of_work
from router.storage.models import WorkerHeartbeat, utcnow

log = logging.getLogger(__name__)


class Worker:
    """One worker process: each tick runs every job once; a failing job never stops the others."""

    def __init__(self, settings: Settings, sessions: sessionmaker, senders: Optional[dict] = None,
                 clock: Callable = utcnow, rasa=None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.senders = senders or make_senders(settings)
        self.clock = clock
        self.rasa = rasa
        self.name = uuid.uuid4().hex[:12]
        # A plain flag: a signal handler must not take locks (Event.set can deadlock against the loop's wait).
        self.stop_requested = False
        self.jobs: list[tuple[str, Callable[[], object]]] = [
            ("promises", self.keep_promises), ("referrals", self.keep_referrals), ("surveys", self.send_surveys),
            ("outbox", self.deliver),
            ("alerts", self.alert_failures), ("replay", self.replay_waiting)]
        # Slow jobs run in a thread of their own, so a long mailbox poll or rollup never delays an SMS.
        self.slow_jobs: list[tuple[str, Callable[[], object]]] = [("impact", self.refresh_impact),
                                                                  ("companies", self.look_up_companies),
                                                                  ("retention", self.purge_expired),
                                                                  ("board_report", self.mail_board_report)]
        self.reported_month: Optional[str] = None
        self.next_rollup = 0.0
        self.next_companies: Optional[datetime] = None
        self.next_retention = 0.0
        self.purged_on: Optional[str] = None
        self.next_poll = 0.0
        if settings.imap_host:
            self.slow_jobs.append(("mailbox", self.poll_mailbox))
        self.shapers = {"whatsapp": whatsapp.shaper(settings), "push": push.shaper, "webhook": events.shaper}

    def deliver(self) -> int:
        return outbox.deliver_due(self.sessions, self.senders, self.clock(), worker=self.name,
                                  max_attempts=self.settings.outbox_max_attempts,
                                  sms_policy=SmsPolicy.from_settings(self.settings),
                                  stopping=lambda: self.stop_requested, shapers=self.shapers)

    def alert_failures(self) -> int:
        """Admins hear of messages that did not reach their recipient."""
        with unit_of_work(self.sessions) as session:
            return alerts.alert(session, self.settings, self.clock())

    def keep_promises(self) -> dict[str, int]:
        with unit_of_work(self.sessions) as session:
            return promise_keeper.keep(session, self.settings, self.clock())

    def keep_referrals(self) -> dict[str, int]:
        """Partners reminded of a referral on its due morning; the specialist told when it is overdue."""
        with unit_of_work(self.sessions) as session:
            return referral.keep(session, self.settings, self.clock())

    def look_up_companies(self) -> int:
        """The business IDs customers gave with new cases, from the trade register (each minute, one worker)."""
        now = self.clock()
        if self.next_companies is not None and now < self.next_companies:
            return 0
        self.next_companies = now + timedelta(seconds=60)
        with unit_of_work(self.sessions) as session:
            if not leases.acquire(session, "companies", self.name, self.clock(), timedelta(seconds=60)):
                return 0
            return registry.fill_cases(session, self.settings, self.clock())

    def send_surveys(self) -> int:
        with unit_of_work(self.sessions) as session:
            return survey.send_due(session, self.settings, self.clock())

    def replay_waiting(self) -> dict:
        """Messages that waited for the bot: replayed once Rasa is back, or handed to a person."""
        from router.inbound import replay
        from router.inbound.rasa_client import RasaClient

        if self.rasa is None:
            self.rasa = RasaClient(self.settings.rasa_url, self.settings.rasa_timeout, token=self.settings.rasa_token)
        return replay.replay(self.sessions, self.settings, self.rasa, self.clock())

    def refresh_impact(self) -> bool:
        """Keep this month's and last month's impact rollups fresh (every five minutes, one worker at a time)."""
        if time.monotonic() < self.next_rollup:
            return False
        self.next_rollup = time.monotonic() + 300
        with unit_of_work(self.sessions) as session:
            if not leases.acquire(session, "impact", self.name, self.clock(), timedelta(seconds=360)):
                return False
            impact.refresh(session, impact.recent_months(self.clock(), self.settings.timezone),
                           self.settings.timezone, self.clock())
        return True

    def purge_expired(self) -> Optional[dict]:
        """Once a day, by one worker: personal data past its retention time is removed (router/privacy/retention.py)."""
        if time.monotonic() < self.next_retention:
            return None
        self.next_retention = time.monotonic() + 3600
        now = self.clock()
        day = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.settings.timezone)).date().isoformat()
        if self.purged_on == day:
            return None
        with self.sessions() as session:
            # A lease per day: the first worker to take today's runs it, the others see it taken.
            if not leases.acquire(session, f"retention:{day}", self.name, now, timedelta(days=2)):
                return None
            self.purged_on = day
            return retention.run(session, self.settings, now)

    def mail_board_report(self) -> int:
        """In a month's first week, last month's board report to the leads and admins (once: outbox keys)."""
        if not self.settings.board_report_email:
            return 0
        local = self.clock().replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.settings.timezone))
        month = local.strftime("%Y-%m")
        if local.day > 7 or self.reported_month == month:
            return 0
        from router.plan import report

        with unit_of_work(self.sessions) as session:
            queued = report.mail_to_leads(session, self.settings, self.clock())
        self.reported_month = month
        return queued

    def poll_mailbox(self) -> None:
        """Poll IMAP every `imap_interval` seconds, one worker at a time (the worker ticks more often for the
        outbox)."""
        if time.monotonic() < self.next_poll:
            return
        self.next_poll = time.monotonic() + self.settings.imap_interval
        with self.sessions() as session:
            ttl = timedelta(seconds=self.settings.imap_interval + 120)  # outlives a slow poll, not a dead worker
            if not leases.acquire(session, "mailbox", self.name, self.clock(), ttl):
                return
        from router.channels.mailbox import MailboxPoller
        from router.inbound.rasa_client import RasaClient

        MailboxPoller(self.settings, self.sessions, RasaClient(self.settings.rasa_url, self.settings.rasa_timeout,
                                 token=self.settings.rasa_token),
                      self.clock).poll()

    def heartbeat(self) -> None:
        """This worker is alive and ticking (one upsert a tick)."""
        with unit_of_work(self.sessions) as session:
            row = session.get(WorkerHeartbeat, self.name)
            if row is None:
                session.add(WorkerHeartbeat(name=self.name, beat_at=self.clock()))
            else:
                row.beat_at = self.clock()

    def tick(self, jobs: Optional[list] = None) -> None:
        """Run each job once (all of them, slow ones too, when called directly); stop between jobs if asked."""
        for name, job in jobs if jobs is not None else [("heartbeat", self.heartbeat), *self.jobs, *self.slow_jobs]:
            if self.stop_requested:
                return
            try:
                with structlog.contextvars.bound_contextvars(worker=self.name, job=name):
                    job()
            except Exception:  # noqa: BLE001 - log and go on; the next tick tries again
                log.exception("worker job %s failed", name)

    def _loop(self, jobs: list, once: bool) -> None:
        while not self.stop_requested:
            self.tick(jobs)
            if once:
                break
            deadline = time.monotonic() + self.settings.worker_interval
            while not self.stop_requested and time.monotonic() < deadline:
                time.sleep(0.1)

    def stop(self, *_: object) -> None:
        self.stop_requested = True

    def run(self, once: bool = False) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            if threading.current_thread() is threading.main_thread():
                signal.signal(sig, self.stop)
        log.info("worker %s started", self.name)
        slow = threading.Thread(target=self._loop, args=(self.slow_jobs, once), name="slow-jobs", daemon=True)
        slow.start()
        self._loop([("heartbeat", self.heartbeat), *self.jobs], once)
        slow.join(timeout=None if once else 10)
        log.info("worker %s stopped", self.name)
