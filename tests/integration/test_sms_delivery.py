"""Outbound SMS with the real twilio REST client against a local stand-in of Twilio's Messages API."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from router import config
from router.delivery.outbox import deliver_due, enqueue
from router.delivery.twilio_sms import TwilioSmsSender
from router.storage.models import OptOut, OutboxMessage

from ..twilio_standin import TwilioStandIn

NOW = datetime(2026, 11, 30, 9, 0)


@pytest.fixture
def standin():
    with TwilioStandIn() as server:
        yield server


@pytest.fixture
def sender(standin):
    settings = config.load({"twilio_account_sid": "ACtest", "twilio_auth_token": "secret",
                            "twilio_number": "+358400000000", "twilio_api_base_url": standin.base_url,
                            "public_base_url": "https://luukku.example.org"})
    return TwilioSmsSender(settings)


def queue(sessions, key="k1", automated=False, **headers):
    with sessions() as s:
        if automated:
            headers["automated"] = "1"
        enqueue(s, key=key, kind="sms", recipient="+358401234567", body="Hei ääkköset", headers=headers, now=NOW)
        s.commit()


def row(sessions):
    with sessions() as s:
        return s.scalar(select(OutboxMessage))


def test_an_sms_goes_out_with_a_status_callback_and_the_sid_is_kept(sessions, sender, standin):
    queue(sessions, validity_period="3600")
    assert deliver_due(sessions, {"sms": sender}, NOW) == 1
    [sent] = standin.received
    assert (sent["To"], sent["From"], sent["Body"]) == ("+358401234567", "+358400000000", "Hei ääkköset")
    assert sent["StatusCallback"] == "https://luukku.example.org/twilio/status"
    assert sent["ValidityPeriod"] == "3600" and sent["_account"] == "ACtest" and sent["_auth"] == "ACtest"
    assert row(sessions).provider_id.startswith("SM")


def test_an_opted_out_recipient_21610_is_not_retried(sessions, sender, standin):
    queue(sessions)
    standin.fail_next(400, 21610)
    deliver_due(sessions, {"sms": sender}, NOW)
    r = row(sessions)
    assert (r.status, r.attempts) == ("dead", 1) and "21610" in r.last_error
    assert deliver_due(sessions, {"sms": sender}, NOW + timedelta(hours=2)) == 0
    assert standin.received == []


@pytest.mark.parametrize("status, code", [(429, 20429), (500, 20500), (503, 20503)])
def test_rate_limits_and_server_errors_are_retried_with_backoff(sessions, sender, standin, status, code):
    queue(sessions)
    standin.fail_next(status, code, times=2)
    deliver_due(sessions, {"sms": sender}, NOW)
    assert (row(sessions).status, row(sessions).attempts) == ("pending", 1)
    deliver_due(sessions, {"sms": sender}, NOW + timedelta(seconds=31))
    assert row(sessions).attempts == 2
    assert deliver_due(sessions, {"sms": sender}, NOW + timedelta(minutes=5)) == 1
    assert len(standin.received) == 1


def test_an_unreachable_api_is_retried(sessions):
    settings = config.load({"twilio_account_sid": "ACtest", "twilio_auth_token": "secret",
                            "twilio_api_base_url": "http://127.0.0.1:9"})
    queue(sessions)
    deliver_due(sessions, {"sms": TwilioSmsSender(settings)}, NOW)
    assert row(sessions).status == "pending"


def test_automated_messages_respect_stop(sessions, sender, standin):
    with sessions() as s:
        s.add(OptOut(phone="+358401234567", opted_out_at=NOW))
        s.commit()
    queue(sessions, key="survey", automated=True)
    deliver_due(sessions, {"sms": sender}, NOW)
    assert (row(sessions).status, row(sessions).last_error) == ("dead", "opted out")
    assert standin.received == []


def test_a_text_twilio_accepted_but_whose_answer_was_lost_is_not_sent_twice(sessions, sender, standin):
    """Twilio took the message, the answer never came back: the retry finds it in the message log."""
    queue(sessions)
    standin.drop_answers = 1
    assert deliver_due(sessions, {"sms": sender}, NOW) == 0
    assert (row(sessions).status, len(standin.received)) == ("pending", 1)
    assert deliver_due(sessions, {"sms": sender}, NOW + timedelta(minutes=5)) == 1
    r = row(sessions)
    assert len(standin.received) == 1 and standin.list_calls == 1
    assert (r.status, r.provider_id) == ("sent", standin.received[0]["_sid"])


def test_a_row_left_by_a_worker_killed_mid_send_is_looked_up_before_it_is_sent(sessions, sender, standin):
    queue(sessions, key="k-killed")
    sender.send(_outgoing(sessions))  # the dead worker's send reached Twilio
    with sessions() as s:
        r = s.scalar(select(OutboxMessage))
        r.status, r.claimed_at, r.claimed_by, r.attempts = "sending", NOW, "killed-worker", 1
        s.commit()
    assert deliver_due(sessions, {"sms": sender}, NOW + timedelta(minutes=1)) == 1
    assert len(standin.received) == 1 and row(sessions).provider_id == standin.received[0]["_sid"]
    # A different text to the same number is not mistaken for it.
    queue(sessions, key="k-other")
    with sessions() as s:
        other = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "k-other"))
        other.body, other.status, other.claimed_at, other.attempts = "Toinen viesti", "sending", NOW, 1
        s.commit()
    assert deliver_due(sessions, {"sms": sender}, NOW + timedelta(minutes=1)) == 1
    assert len(standin.received) == 2


def _outgoing(sessions):
    from router.delivery.outbox import Outgoing

    r = row(sessions)
    return Outgoing(r.id, r.idempotency_key, r.kind, r.recipient, r.subject, r.body, {})
