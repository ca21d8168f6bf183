"""One commit at each edge: a request commits once when its view has answered and nothing when it failed; a
command and a worker job commit once when they end."""
import pytest
from sqlalchemy import event, select

from router.delivery import notify
from router.storage.models import Case, CaseEvent, OutboxMessage

# Commits are counted on the engine: whatever the code calls, what reaches the database.
pytestmark = pytest.mark.both_databases


def commits_during(engine, action):
    seen = []
    listener = lambda _conn: seen.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        result = action()
    finally:
        event.remove(engine, "commit", listener)
    return len(seen), result


def test_a_staff_action_is_one_commit_when_the_view_has_answered(phone_app, signed_in, make_case, sessions):
    ref = make_case(email="asiakas@example.org")
    maija = signed_in("maija")
    page = maija.get(f"/staff/cases/{ref}")  # signed in and the form read before counting
    assert page.status_code == 200
    engine = phone_app.extensions["luukku"]["engine"]
    n, resp = commits_during(engine, lambda: maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/take-up",
                                                            {}))
    assert resp.status_code == 302
    # post_form reads the page for its CSRF token (a request of its own, one commit), then posts (one commit).
    assert n == 2
    with sessions() as s:
        assert s.scalar(select(Case.status).where(Case.ref == ref)) == "taken_up"
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == f"case:{ref}:taken-up"))


def test_a_request_that_fails_half_way_keeps_nothing_of_its_changes(phone_app, signed_in, make_case, sessions,
                                                                   monkeypatch):
    ref = make_case(email="asiakas@example.org")
    maija = signed_in("maija")

    def broken(*args, **kwargs):
        raise RuntimeError("the notice could not be queued")

    # The case's status is changed and its event added before the customer's notice fails.
    monkeypatch.setattr(notify, "to_customer", broken)
    resp = maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/take-up", {})
    assert resp.status_code == 500
    with sessions() as s:
        assert s.scalar(select(Case.status).where(Case.ref == ref)) == "open"
        assert s.scalars(select(CaseEvent.kind).join(Case).where(Case.ref == ref)).all() == []


def test_a_worker_job_commits_once_at_its_end(sessions, make_case, clock):
    from router import config
    from router.worker import Worker

    make_case(email="asiakas@example.org")
    worker = Worker(config.load({}), sessions, senders={}, clock=lambda: clock.now)
    engine = sessions.kw["bind"]
    n, sent = commits_during(engine, worker.alert_failures)
    assert (n, sent) == (1, 0)
