"""Polling the one IMAP mailbox: each message handled once, marked handled only after its case is committed."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Optional

from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage, MailMessageFlags
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from router.channels import mailparse
from router.channels.email import EmailChannel
from router.config import Settings
from router.storage.db import unit_of_work
from router.storage.models import MailReceipt
from router.storage.store import insert_ignore

log = logging.getLogger(__name__)
BATCH = 100  # per poll, so a flood is worked through in turns and other work goes on


class RawMailMessage(MailMessage):
    """imap-tools' message that also keeps the bytes exactly as the server sent them."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw: bytes = self._get_message_data_parts(fetch_data)[0]


def connect(settings: Settings):
    """A logged-in mailbox with the configured transport security."""
    kinds = {"tls": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}
    box = kinds[settings.imap_security](settings.imap_host, settings.imap_port)
    box.email_message_class = RawMailMessage
    return box.login(settings.imap_user, settings.imap_password, initial_folder=settings.imap_folder)


class MailboxPoller:
    """One poll: fetch unseen messages without marking them, handle each in its own transaction, then mark."""

    def __init__(self, settings: Settings, sessions: sessionmaker, rasa, clock: Callable[[], datetime],
                 after_commit: Optional[Callable[[str], None]] = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.channel = EmailChannel(settings, rasa)
        self.clock = clock
        self.after_commit = after_commit or (lambda uid: None)  # tests crash here on purpose

    def poll(self) -> dict[str, int]:
        """Handle what is waiting; counts per outcome."""
        counts: dict[str, int] = {}
        with connect(self.settings) as box:
            status = box.folder.status(self.settings.imap_folder)
            uidvalidity = str(status.get("UIDVALIDITY", ""))
            for msg in box.fetch(AND(seen=False), mark_seen=False, bulk=20, limit=BATCH):
                outcome = self._handle(uidvalidity, msg.uid, msg.raw)
                self.after_commit(msg.uid)
                if outcome != "retry":  # marked read only once what it says is stored
                    box.flag(msg.uid, MailMessageFlags.SEEN, True)
                counts[outcome] = counts.get(outcome, 0) + 1
        if counts:
            log.info("mailbox poll: %s", counts)
        return counts

    def _handle(self, uidvalidity: str, uid: str, raw: bytes) -> str:
        """One mail in one unit of work (committed before the poll marks it read)."""
        try:
            with unit_of_work(self.sessions) as session:
                return self._handle_in(session, uidvalidity, uid, raw, self.clock())
        except IntegrityError:  # another worker handled the same message at the same moment
            return "seen"

    def _handle_in(self, session: Session, uidvalidity: str, uid: str, raw: bytes, now: datetime) -> str:
        if session.scalar(select(MailReceipt.id).where(MailReceipt.folder == self.settings.imap_folder,
                                                       MailReceipt.uidvalidity == uidvalidity,
                                                       MailReceipt.uid == uid)):
            return "seen"  # handled before a crash kept it from being marked
        try:
            mail = mailparse.parse(raw)
            outcome, case_id = self.channel.handle(session, mail, now)
            message_id = mail.message_id
        except Exception:  # noqa: BLE001 - one bad message must not block the ones behind it
            session.rollback()
            log.exception("email uid %s could not be handled; kept for the service desk", uid)
            try:
                outcome, case_id, message_id = "kept", self.channel.keep_unreadable(session, raw, now), None
            except Exception:  # noqa: BLE001 - not even that: leave it unread, the next poll tries again
                session.rollback()
                log.exception("email uid %s left unread", uid)
                return "retry"
        insert_ignore(session, MailReceipt, {
            "folder": self.settings.imap_folder, "uidvalidity": uidvalidity, "uid": uid,
            "message_id": (message_id or "")[:500] or None, "outcome": outcome, "case_id": case_id,
            "created_at": now})
        return outcome
