"""The read audit: every look at a case (page, list, search, download, API) and every sign-in is appended to the
audit trail; admins read it whole, a team's lead one case at a time, and nobody can change it through the app."""
from sqlalchemy import select

from router import users
from router.models import AuditEvent, User


def token(sessions, email):
    with sessions() as s:
        issued = users.issue_token(s, s.scalar(select(User).where(User.email == email)))
        s.commit()
    return {"Authorization": f"Bearer {issued}"}


def test_reads_are_in_the_trail_and_only_admins_and_leads_see_it(phone_app, staff, signed_in, make_case, sessions):
    ref = make_case(email="asiakas@example.org", text="Haluaisin perustaa kahvilan")
    maija = signed_in("maija")
    assert maija.get(f"/staff/cases/{ref}").status_code == 200
    assert maija.get("/staff/").status_code == 200
    assert maija.get("/staff/search?q=kahvila").status_code == 200
    api = phone_app.test_client()
    assert api.get(f"/api/v1/cases/{ref}", headers=token(sessions, staff["matti"])).status_code == 404  # not his
    assert api.get(f"/api/v1/cases/{ref}", headers=token(sessions, staff["maija"])).status_code == 200

    admin = token(sessions, staff["admin"])
    trail = api.get(f"/api/v1/audit?case={ref}", headers=admin)
    assert trail.status_code == 200, trail.get_data(as_text=True)
    seen = [(e["actor"], e["action"], e["case"], (e["detail"] or {}).get("via")) for e in trail.get_json()["events"]]
    assert seen == [(staff["maija"], "case_read", ref, "api"), (staff["maija"], "case_read", ref, None)]
    whole = api.get("/api/v1/audit?limit=50", headers=admin).get_json()["events"]
    actions = [(e["actor"], e["action"]) for e in whole]
    assert (staff["maija"], "sign_in") in actions and (staff["maija"], "case_list") in actions
    assert (staff["maija"], "case_search") in actions
    # What was searched for is not kept: it may be a person's name or number.
    assert all("kahvila" not in str(e["detail"]) for e in whole)

    assert api.get(f"/api/v1/audit?case={ref}", headers=token(sessions, staff["lead"])).status_code == 200
    assert api.get("/api/v1/audit", headers=token(sessions, staff["lead"])).status_code == 403
    assert api.get(f"/api/v1/audit?case={ref}", headers=token(sessions, staff["maija"])).status_code == 403
    assert api.get("/api/v1/audit?case=LK-NONE", headers=admin).status_code == 404
    assert api.get("/api/v1/audit?limit=0", headers=admin).status_code == 400
    # Append-only: no way to change or remove an event through the app.
    for method in (api.post, api.put, api.delete, api.patch):
        assert method("/api/v1/audit", headers=admin).status_code == 405
    with sessions() as s:
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "audit_read")).all()
        assert len(reads) == 3 and all(e.actor in (staff["admin"], staff["lead"]) for e in reads)
