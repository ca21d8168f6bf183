"""Failed deliveries reach an admin once, show on the staff page, and can be sent again."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from router import config
from router.delivery import alerts
from router.delivery.outbox import PermanentFailure, deliver_due, enqueue
from router.delivery.senders import RecordingSender
from router.storage.models import OutboxMessage

from ..conftest import PUBLIC


def _failing_rows(sessions, clock):
    with sessions() as s:
        enqueue(s, key="conf:1", kind="email", recipient="asiakas@example.org", body="Vahvistus", subject="S",
                now=clock.now)
        enqueue(s, key="sms:1", kind="sms", recipient="+358401234567", body="Tekstiviesti", now=clock.now)
        s.commit()
    deliver_due(sessions, {"email": RecordingSender(PermanentFailure("550 no such user")),
                           "sms": RecordingSender()}, clock.now)
    with sessions() as s:  # Twilio's status callback later says the text never arrived
        sms = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "sms:1"))
        sms.delivery_status = "undelivered"
        s.commit()


def test_each_failure_is_told_to_admins_once_in_a_digest(sessions, staff, clock):
    _failing_rows(sessions, clock)
    settings = config.load({"public_base_url": PUBLIC})
    with sessions() as s:
        assert alerts.alert(s, settings, clock.now) == 2
        assert alerts.alert(s, settings, clock.now + timedelta(minutes=1)) == 0  # never twice
        s.commit()  # the worker's job commits (router/storage/db.py unit_of_work)
        [digest] = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("delivery-alert:")))
    assert digest.recipient == "aino.admin@example.org"
    assert "550 no such user" in digest.body and "undelivered" in digest.body
    assert "asiakas@example.org" not in digest.body and "+358401234567" not in digest.body  # ids, not people
    assert digest.body.endswith(f"{PUBLIC}/staff/admin/deliveries")
    # The digest itself failing does not start an alert loop.
    deliver_due(sessions, {"email": RecordingSender(PermanentFailure("mail server says no"))}, clock.now)
    with sessions() as s:
        assert alerts.alert(s, settings, clock.now + timedelta(minutes=2)) == 0


def test_admins_see_failures_and_send_one_again_others_cannot(sessions, signed_in, clock):
    _failing_rows(sessions, clock)
    admin = signed_in("admin")
    page = admin.get("/staff/admin/deliveries").get_data(as_text=True)
    assert "550 no such user" in page and "undelivered" in page
    assert signed_in("maija").get("/staff/admin/deliveries").status_code in (302, 403)
    with sessions() as s:
        dead = s.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == "conf:1"))
    resp = admin.post_form("/staff/admin/deliveries", f"/staff/admin/deliveries/{dead}/retry", {})
    assert resp.status_code == 302
    with sessions() as s:
        row = s.get(OutboxMessage, dead)
        assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)
    assert deliver_due(sessions, {"email": RecordingSender()}, clock.now + timedelta(seconds=1)) == 1
    assert "550" not in admin.get("/staff/admin/deliveries").get_data(as_text=True)
