"""The read audit: every look at a case (page, list, search, download, API) and every sign-in is appended to the
audit trail; admins read it whole, a team's lead one case at a time, and nobody can change it through the app."""
from sqlalchemy import select

from router.staff import users
from router.storage.models import AuditEvent, Case, User


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

    lead = token(sessions, staff["lead"])
    assert api.get(f"/api/v1/audit?case={ref}", headers=lead).status_code == 200
    # Without a case, a lead gets their team's cases' events, never sign-ins or other teams' cases.
    teams = api.get("/api/v1/audit", headers=lead).get_json()["events"]
    assert teams and {e["case"] for e in teams} == {ref}
    assert api.get(f"/api/v1/audit?case={ref}", headers=token(sessions, staff["maija"])).status_code == 403
    assert api.get("/api/v1/audit?case=LK-NONE", headers=admin).status_code == 404
    assert api.get("/api/v1/audit?limit=0", headers=admin).status_code == 400
    # Append-only: no way to change or remove an event through the app.
    for method in (api.post, api.put, api.delete, api.patch):
        assert method("/api/v1/audit", headers=admin).status_code == 405
    with sessions() as s:
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "audit_read")).all()
        assert len(reads) == 4 and all(e.actor in (staff["admin"], staff["lead"]) for e in reads)


def test_an_admin_answers_a_data_request_in_the_browser(signed_in, make_case, sessions, staff):
    ref = make_case(channel="sms", phone="+358401110777", text="Haluaisin vuokrata toimitilan satamasta")
    admin = signed_in("admin")
    found = admin.post_form("/staff/admin/privacy", "/staff/admin/privacy", {"phone": "040 111 0777"})
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and ref in html
    export = admin.post_form("/staff/admin/privacy", "/staff/admin/privacy/export", {"phone": "040 111 0777"})
    assert export.status_code == 200 and export.mimetype == "application/json"
    assert "Haluaisin vuokrata toimitilan satamasta" in export.get_data(as_text=True)
    assert export.headers["Cache-Control"] == "no-store"
    # Erasing needs the confirmation ticked.
    unconfirmed = admin.post_form("/staff/admin/privacy", "/staff/admin/privacy/erase", {"phone": "+358401110777"})
    assert unconfirmed.status_code == 400
    with sessions() as s:
        assert s.scalar(select(Case.customer_phone).where(Case.ref == ref)) == "+358401110777"
    done = admin.post_form("/staff/admin/privacy", "/staff/admin/privacy/erase",
                           {"phone": "+358401110777", "confirm": "yes"})
    assert done.status_code == 302
    with sessions() as s:
        assert s.scalar(select(Case.customer_phone).where(Case.ref == ref)) is None
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert {"privacy_export", "privacy_erase", "privacy_admin.person"} <= set(actions)
    # Specialists and leads have no way in.
    assert signed_in("maija").get("/staff/admin/privacy").status_code == 403
    assert signed_in("lead").get("/staff/admin/privacy").status_code == 403


def test_the_audit_page_for_admins_and_team_leads(signed_in, make_case, staff):
    ref = make_case(email="asiakas@example.org")
    signed_in("maija").get(f"/staff/cases/{ref}")
    page = signed_in("admin").get("/staff/admin/audit")
    assert page.status_code == 200 and staff["maija"] in page.get_data(as_text=True)
    lead = signed_in("lead")
    own_team = lead.get("/staff/admin/audit").get_data(as_text=True)
    assert ref in own_team and "sign_in" not in own_team  # their team's cases, not everyone's sign-ins
    one = lead.get(f"/staff/admin/audit?case={ref}").get_data(as_text=True)
    assert staff["maija"] in one and "case_read" in one
    rows = signed_in("admin").get(f"/staff/admin/audit?case={ref}&format=csv").get_data(as_text=True).splitlines()
    assert rows[0] == "at,actor,action,case,detail" and any("case_read" in r for r in rows[1:])
    assert signed_in("maija").get("/staff/admin/audit").status_code == 403
