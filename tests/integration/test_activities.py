"""Proactive encounters and events: recorded through the API (business IDs checked, 201/400) and imported from the
city CRM's CSV (the same file twice adds nothing, mistakes listed by line); each user sees what the rule allows."""
import os
import subprocess

from sqlalchemy import func, select

from router.staff import users
from router.storage.models import Activity, AuditEvent, User

from ..conftest import ROOT


def token(sessions, email):
    with sessions() as s:
        issued = users.issue_token(s, s.scalar(select(User).where(User.email == email)))
        s.commit()
    return {"Authorization": f"Bearer {issued}"}


def test_a_specialist_records_a_company_visit_through_the_api(phone_app, staff, sessions):
    api, maija = phone_app.test_client(), token(sessions, staff["maija"])
    visit = {"kind": "company_visit", "date": "2026-11-27", "company": "Esimerkki Oy", "business_id": "1234567-1",
             "topic": "funding", "note": "Laajennus ensi vuonna, tarvitsevat kaksi asentajaa"}
    made = api.post("/api/v1/activities", json=visit, headers=maija)
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert (body["kind"], body["business_id"], body["source"]) == ("company_visit", "1234567-1", "api")
    event = {"kind": "event", "date": "2026-11-20", "company": "", "participants": 42, "note": "Yrittäjäilta"}
    assert api.post("/api/v1/activities", json=event, headers=maija).status_code == 201
    for wrong, says in (({**visit, "business_id": "1234567-2"}, "business_id"),
                        ({**visit, "kind": "lunch"}, "kind"), ({**visit, "topic": "cooking"}, "topic"),
                        ({**visit, "date": "2026-02-30"}, "day"), ({"kind": "letter", "date": "2026-11-27"}, "company"),
                        ({**visit, "extra": 1}, "extra")):
        refused = api.post("/api/v1/activities", json=wrong, headers=maija)
        assert refused.status_code == 400 and says in refused.get_json()["error"], (wrong, refused.get_json())
    assert api.post("/api/v1/activities", json=visit).status_code == 401
    # Maija and the admin see hers; Matti (another specialist) does not.
    assert len(api.get("/api/v1/activities", headers=maija).get_json()["activities"]) == 2
    assert len(api.get("/api/v1/activities", headers=token(sessions, staff["admin"])).get_json()["activities"]) == 2
    assert api.get("/api/v1/activities", headers=token(sessions, staff["matti"])).get_json()["activities"] == []
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 2


def test_the_crm_csv_imports_once_and_lists_its_mistakes(database_url, sessions, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(
        "kind,date,company,business_id,topic,participants,note,specialist\n"
        "company_visit,2026-10-02,Esimerkki Oy,1234567-1,funding,,Kone-investointi,maija\n"
        "event,2026-10-15,,,founding,35,Aloittavien yrittäjien ilta,maija\n"
        "letter,2026-10-20,Toinen Oy,1234567-2,,,,maija\n"
        "phone_call,2026-13-01,Kolmas Oy,,,,,maija\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": database_url}
    run = lambda: subprocess.run([str(ROOT / "bin" / "router"), "activities", "import", str(path)], env=env,  # noqa: E731
                                 capture_output=True, text=True, timeout=60)
    first = run()
    assert first.returncode == 1 and "added 2, already there 0, refused 2" in first.stdout
    assert "line 4: business_id" in first.stderr and "line 5:" in first.stderr
    again = run()
    assert "added 0, already there 2, refused 2" in again.stdout
    with sessions() as s:
        rows = s.scalars(select(Activity).order_by(Activity.day)).all()
        assert [(a.kind, a.participants, a.source) for a in rows] == [("company_visit", None, "csv"),
                                                                      ("event", 35, "csv")]
        assert all(a.specialist_id is not None for a in rows)
        assert s.scalar(select(AuditEvent.action)) == "activities_import"
        # The imported months' figures were recomputed by the import itself.
        from router.impact import rollups

        figures = rollups.figures(s, "2026-10", "2026-10", 5)
        assert (figures["activities"]["company_visit"], figures["activities"]["event"],
                figures["event_participants"]) == (1, 1, 35)
