"""The worker keeps the promise and asks for feedback: frozen clock, real database, any number of workers."""
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from router import config
from router.casework import survey
from router.delivery.senders import RecordingSender
from router.storage.db import make_engine, make_sessionmaker
from router.storage.models import CaseEvent, OptOut, OutboxMessage, Survey
from router.worker import Worker

from ..conftest import PUBLIC


def worker(sessions, now, **overrides):
    settings = config.load({"public_base_url": PUBLIC, **overrides})
    return Worker(settings, sessions, senders={"email": RecordingSender(), "sms": RecordingSender()}, clock=lambda: now)


def keys(sessions, prefix):
    with sessions() as s:
        return sorted((o.idempotency_key, o.recipient) for o in s.scalars(select(OutboxMessage))
                      if o.idempotency_key.startswith(prefix))


def test_reminder_on_the_due_morning_then_escalation_to_deputy_and_lead(sessions, make_case, staff):
    contact = datetime(2026, 6, 18, 9, 0)  # Thursday before Midsummer: due Tue 23 Jun 16:00 Helsinki
    ref = make_case(topic="funding", text="rahoitus", when=contact)
    assert worker(sessions, datetime(2026, 6, 22, 12, 0)).keep_promises() == {"remind": 0, "escalate": 0}
    assert worker(sessions, datetime(2026, 6, 23, 5, 30)).keep_promises() == {"remind": 1, "escalate": 0}
    assert keys(sessions, "remind:") == [(f"remind:{ref}:matti", "matti.esimerkki@example.org")]
    assert worker(sessions, datetime(2026, 6, 23, 9, 0)).keep_promises() == {"remind": 0, "escalate": 0}
    assert worker(sessions, datetime(2026, 6, 23, 13, 30)).keep_promises() == {"remind": 0, "escalate": 1}
    assert [r for _, r in keys(sessions, "escalate:")] == ["leena.lead@example.org", "matti.esimerkki@example.org",
                                                         "sanna.testinen@example.org"]
    with sessions() as s:
        assert [e.kind for e in s.scalars(select(CaseEvent).order_by(CaseEvent.id))] == ["reminder", "escalated"]


@pytest.mark.both_databases
def test_timers_survive_restarts_and_run_once_with_several_workers(database_url, sessions, make_case, staff):
    contact = datetime(2026, 12, 23, 9, 0)  # due Tue 29 Dec after Christmas
    for _ in range(5):
        make_case(topic="plots", text="tontti", when=contact)
    breach = datetime(2026, 12, 29, 15, 0)
    engine = make_engine(database_url)
    shared = make_sessionmaker(engine)
    results, barrier = [], threading.Barrier(3)

    def run():
        barrier.wait()
        results.append(worker(shared, breach).keep_promises())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert sum(r["escalate"] for r in results) == 5
    assert worker(sessions, breach + timedelta(hours=1)).keep_promises() == {"remind": 0, "escalate": 0}


def resolved_case(make_case, signed_in, **kwargs):
    ref = make_case(**kwargs)
    signed_in("maija").post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/resolve", {})
    return ref


def test_an_sms_survey_is_sent_once_and_answered_by_a_number(signed_in, make_case, sessions, twilio, clock):
    ref = resolved_case(make_case, signed_in, channel="sms", phone="+358401234567")
    with sessions() as s:
        planned = s.scalar(select(Survey.scheduled_at))
    assert planned == clock.now + timedelta(hours=2)
    assert worker(sessions, clock.now).send_surveys() == 0
    assert worker(sessions, planned).send_surveys() == 1
    assert worker(sessions, planned).send_surveys() == 0
    [(key, to)] = keys(sessions, "survey:")
    assert to == "+358401234567"
    clock.now = planned + timedelta(minutes=30)
    reply = twilio.sms("+358401234567", "4 kiitos!")
    assert b"Kiitos palautteestasi!" in reply.data
    with sessions() as s:
        answered = s.scalar(select(Survey))
        assert (answered.score, answered.comment, answered.case.ref) == (4, "kiitos!", ref)
    twilio.sms("+358401234567", "5")  # a later text is not a second answer
    with sessions() as s:
        assert s.scalar(select(Survey.score)) == 4


def test_an_email_survey_says_where_the_privacy_notice_is(signed_in, make_case, sessions, clock):
    resolved_case(make_case, signed_in, email="asiakas@example.org", language="sv")
    with sessions() as s:
        planned = s.scalar(select(Survey.scheduled_at))
    assert worker(sessions, planned).send_surveys() == 1
    with sessions() as s:
        [sent] = [o for o in s.scalars(select(OutboxMessage)) if o.idempotency_key.startswith("survey:")]
    assert sent.kind == "email" and sent.recipient == "asiakas@example.org"
    assert sent.body.rstrip().endswith(f"{PUBLIC}/privacy?lang=sv")


def test_no_survey_to_a_number_that_said_stop(signed_in, make_case, sessions, clock):
    with sessions() as s:
        s.add(OptOut(phone="+358401234567", opted_out_at=clock.now))
        s.commit()
    resolved_case(make_case, signed_in, channel="sms", phone="+358401234567")
    with sessions() as s:
        assert s.scalars(select(Survey)).all() == []


def test_the_survey_link_records_on_submit_only_and_once(signed_in, make_case, sessions, phone_app, staff, clock):
    resolved_case(make_case, signed_in, email="asiakas@example.org")
    with sessions() as s:
        found = s.scalar(select(Survey))
        survey_id = found.id
    link = survey.link(phone_app.extensions["luukku"]["settings"], survey_id)
    path = link.removeprefix(PUBLIC)
    client = phone_app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "Kuinka tyytyväinen olit palveluumme?" in page.get_data(as_text=True)
    with sessions() as s:
        assert s.get(Survey, survey_id).answered_at is None  # opening records nothing
    from ..conftest import csrf_from

    token = csrf_from(page.get_data(as_text=True))
    assert client.post(path, data={"score": "9", "csrf_token": token}).status_code == 400
    done = client.post(path, data={"score": "2", "comment": "Liian hidasta", "csrf_token": token})
    assert "Kiitos palautteestasi!" in done.get_data(as_text=True)
    again = client.post(path, data={"score": "5", "csrf_token": token})
    assert "on jo vastattu" in again.get_data(as_text=True)
    with sessions() as s:
        answered = s.get(Survey, survey_id)
        assert (answered.score, answered.comment) == (2, "Liian hidasta")
    assert keys(sessions, "low-score:")[0][1] == "leena.lead@example.org"  # 1 or 2 alerts the team lead
    assert client.get(path[:-3] + "xyz").status_code == 404  # a tampered token


def test_after_a_handover_both_specialists_and_both_teams_leads_hear(sessions, make_case, staff):
    """Maija (team south) hands the case to Matti (team north); until Matti takes it up, Maija is still
    responsible: both get the reminder, and the escalation goes to both teams' leads, not to a third team's."""
    from router.casework import actions as casework
    from router.staff import users
    from router.storage.models import Case, Specialist

    with sessions() as s:
        for key, team in (("maija", "south"), ("matti", "north")):
            s.scalar(select(Specialist).where(Specialist.key == key)).team = team
        for name, team in (("Pohjoinen", "north"), ("Etelä", "south"), ("Länsi", "west")):
            users.create(s, email=f"lead.{team}@example.org", name=f"Lead {name}", password="long enough password",
                         role="lead", team=team)
        s.commit()
    contact = datetime(2026, 6, 18, 9, 0)  # due Tue 23 Jun 16:00 Helsinki
    ref = make_case(topic="founding", text="perustaminen", when=contact)
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        casework.reassign(s, config.load({"public_base_url": PUBLIC}), case, None, contact + timedelta(hours=1),
                          specialist_key="matti")
        s.commit()
    assert worker(sessions, datetime(2026, 6, 23, 5, 30)).keep_promises()["remind"] == 1
    assert [r for _, r in keys(sessions, "remind:")] == ["maija.esimerkki@example.org", "matti.esimerkki@example.org"]
    assert worker(sessions, datetime(2026, 6, 23, 13, 30)).keep_promises()["escalate"] == 1
    escalated = {r for _, r in keys(sessions, "escalate:")}
    assert {"lead.north@example.org", "lead.south@example.org", "maija.esimerkki@example.org",
            "matti.esimerkki@example.org"} <= escalated
    assert "lead.west@example.org" not in escalated and "leena.lead@example.org" not in escalated
