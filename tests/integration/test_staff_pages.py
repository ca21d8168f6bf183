"""Staff pages with sign-in and CSRF: my cases, the case page and its actions, admin, roles."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from router.storage.models import Case, NluCorrection, OutboxMessage, Specialist, Survey

from ..conftest import ROOT


def case_row(sessions, ref):
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        s.expunge(case)
        return case


def outbox(sessions, key_part):
    with sessions() as s:
        return [(o.kind, o.recipient, o.body) for o in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if key_part in o.idempotency_key]


def test_sign_in_needs_the_right_password_and_a_csrf_token(phone_app, staff):
    client = phone_app.test_client()
    assert client.get("/staff/").status_code == 302  # to the login page
    page = client.get("/staff/login").get_data(as_text=True)
    from ..conftest import csrf_from

    token = csrf_from(page)
    assert client.post("/staff/login", data={"email": staff["maija"], "password": "wrong password!",
                                             "csrf_token": token}).status_code == 401
    assert client.post("/staff/login", data={"email": staff["maija"], "password": "correct horse battery"}
                       ).status_code == 400  # no CSRF token
    resp = client.post("/staff/login?next=https://evil.example.org/", data={
        "email": staff["maija"], "password": "correct horse battery", "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/staff/"


def test_my_cases_lists_overdue_first_and_marks_them(signed_in, make_case, clock):
    old = make_case(when=clock.now - timedelta(days=7), text="vanha asia")
    new = make_case(text="uusi asia")
    html = signed_in("maija").get("/staff/").get_data(as_text=True)
    assert html.index(old) < html.index(new)
    assert re.search(rf'class="card overdue">\s*<a href="/staff/cases/{old}"', html)
    assert not re.search(rf'class="card overdue">\s*<a href="/staff/cases/{new}"', html)


def test_a_specialist_sees_only_their_cases_and_the_lead_sees_all(signed_in, make_case):
    mine = make_case(topic="founding")
    matti_s = make_case(topic="funding", text="rahoitusta")
    maija = signed_in("maija")
    assert matti_s not in maija.get("/staff/").get_data(as_text=True)
    assert maija.get(f"/staff/cases/{matti_s}").status_code == 403
    assert maija.get(f"/staff/cases/{mine}").status_code == 200
    everything = signed_in("lead").get("/staff/?all=1").get_data(as_text=True)
    assert mine in everything and matti_s in everything


def test_the_case_page_shows_the_transcript_the_contact_and_the_promise(signed_in, make_case):
    ref = make_case(email="asiakas@example.org")
    html = signed_in("maija").get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert "Haluaisin perustaa kahvilan" in html and "asiakas@example.org" in html
    assert "Odottaa, määräaika ke 2.12.2026" in html


def test_take_up_tells_the_customer_on_their_channel_and_keeps_the_promise(signed_in, make_case, sessions):
    ref = make_case(channel="sms", phone="+358401234567")
    resp = signed_in("maija").post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/take-up", {})
    assert resp.status_code == 302
    case = case_row(sessions, ref)
    assert (case.status, case.taken_up_in_time) == ("taken_up", True)
    [(kind, to, body)] = outbox(sessions, "taken-up")
    assert (kind, to) == ("sms", "+358401234567") and "Maija Esimerkki" in body and "aloittanut" in body


def test_late_take_up_is_recorded_as_late(signed_in, make_case, sessions, clock):
    ref = make_case()
    clock.now += timedelta(days=5)
    signed_in("maija").post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/take-up", {})
    assert case_row(sessions, ref).taken_up_in_time is False


def test_message_and_note(signed_in, make_case, sessions):
    ref = make_case(email="asiakas@example.org")
    maija = signed_in("maija")
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/message", {"text": "Soitan huomenna kello 10."})
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/note", {"text": "Asiakkaalla valmis suunnitelma"})
    [(kind, to, body)] = outbox(sessions, "staff-message")
    assert (kind, to) == ("email", "asiakas@example.org") and body.startswith("Soitan huomenna kello 10.")
    html = maija.get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert "Soitan huomenna kello 10." in html and "Asiakkaalla valmis suunnitelma" in html


def test_reassign_to_another_topic_keeps_a_correction_and_tells_everyone(signed_in, make_case, sessions):
    ref = make_case(topic="founding", text="tarvitsen lainaa kahvilaan", phone="+358401234567", channel="sms")
    resp = signed_in("maija").post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/reassign", {"topic": "funding"})
    assert resp.status_code == 302
    case = case_row(sessions, ref)
    with sessions() as s:
        assert s.get(Specialist, case.specialist_id).key == "matti"
        assert s.get(Specialist, case.first_specialist_id).key == "maija"  # responsible until taken up
        [correction] = s.scalars(select(NluCorrection)).all()
        assert (correction.text, correction.old_topic, correction.new_topic) == (
            "tarvitsen lainaa kahvilaan", "founding", "funding")
    assert [to for _, to, _ in outbox(sessions, "reassigned")] == ["matti.esimerkki@example.org", "+358401234567"]
    # Maija, who had it first, can still open it until it is taken up.
    assert signed_in("maija").get(f"/staff/cases/{ref}").status_code == 200


def test_resolve_schedules_one_survey_and_spam_gets_none(signed_in, make_case, sessions):
    ref = make_case(phone="+358401234567", channel="sms")
    spam = make_case(email="spam@example.org")
    maija = signed_in("maija")
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/resolve", {"outcome": "company_founded"})
    maija.post_form(f"/staff/cases/{spam}", f"/staff/cases/{spam}/resolve", {"spam": "1"})
    resp = maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/resolve", {})
    assert resp.status_code == 302  # a second resolve is refused with a message, nothing changes
    with sessions() as s:
        [survey] = s.scalars(select(Survey)).all()
        assert (survey.case.ref, survey.channel, survey.recipient) == (ref, "sms", "+358401234567")
        assert s.scalar(select(Case.outcome).where(Case.ref == ref)) == "company_founded"


def test_actions_need_csrf(signed_in, make_case):
    ref = make_case()
    assert signed_in("maija").client.post(f"/staff/cases/{ref}/take-up").status_code == 400


def test_admin_edits_the_directory_and_others_may_not(signed_in, sessions):
    assert signed_in("maija").get("/staff/admin/directory").status_code == 403
    admin = signed_in("admin")
    page = "/staff/admin/specialists/matti"
    form = {"name": "Matti Esimerkki", "title_fi": "rahoitusasiantuntija", "title_sv": "finansieringsexpert",
            "title_en": "funding specialist", "email": "matti.esimerkki@example.org", "phone": "+358 40 0000 103",
            "topics": "funding, internationalisation", "languages": "fi, sv", "hours_mon": "09:00-15:00",
            "absences": "2026-12-21..2027-01-06", "deputy": "sanna", "active": "1"}
    assert admin.post_form(page, page, form).status_code == 302
    with sessions() as s:
        matti = s.scalar(select(Specialist).where(Specialist.key == "matti"))
        assert matti.topics == ["funding", "internationalisation"] and matti.working_hours == {"mon": ["09:00", "15:00"]}
        assert matti.absences == [["2026-12-21", "2027-01-06"]]
    bad = {**form, "topics": "astrology", "absences": "2026-12-21..2026-12-01"}
    assert admin.post_form(page, page, bad).status_code == 400
    with sessions() as s:
        assert s.scalar(select(Specialist.topics).where(Specialist.key == "matti")) == ["funding", "internationalisation"]


def test_the_transcript_spans_the_customer_s_channels(signed_in, make_case, twilio, clock):
    ref = make_case(channel="sms", phone="+358401234567", text="tarvitsen toimitilan", topic="founding")
    clock.now += timedelta(days=3)  # a later text starts a new conversation
    twilio.sms("+358401234567", "Löytyikö jo tiloja?")
    html = signed_in("maija").get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert html.index("tarvitsen toimitilan") < html.index("Löytyikö jo tiloja?")


def test_a_domestic_phone_number_is_stored_in_international_form():
    from router.casework.handoff import split_contact

    assert split_contact("040 123 4567") == (None, "+358401234567")
    assert split_contact("00358 40 123 4567") == (None, "+358401234567")
    assert split_contact("+46 70 123 45 67") == (None, "+46701234567")
    assert split_contact("Anna@Example.org") == ("anna@example.org", None)


def test_the_dev_outbox_page_is_for_a_signed_in_admin_in_dry_run_only(app, phone_app, staff):
    from ..conftest import StaffClient

    assert app.test_client().get("/dev/outbox").status_code == 404  # anonymous: recipients and texts stay hidden
    assert StaffClient(app, staff["maija"]).get("/dev/outbox").status_code == 404
    assert StaffClient(app, staff["admin"]).get("/dev/outbox").status_code == 200
    assert StaffClient(phone_app, staff["admin"]).get("/dev/outbox").status_code == 404  # Twilio is configured


def test_repeated_wrong_passwords_lock_the_account_for_a_while(phone_app, staff):
    from ..conftest import PASSWORD, csrf_from

    client = phone_app.test_client()
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    for _ in range(5):
        assert client.post("/staff/login", data={"email": staff["matti"], "password": "guess guess",
                                                 "csrf_token": token}).status_code == 401
    locked = client.post("/staff/login", data={"email": staff["matti"], "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429 and "Liian monta" in locked.get_data(as_text=True)
    other = client.post("/staff/login", data={"email": staff["maija"], "password": PASSWORD, "csrf_token": token})
    assert other.status_code == 302  # one account's lock does not stop the others


def test_the_directory_file_and_the_admin_form_refuse_a_specialist_by_the_same_rules(signed_in, sessions):
    """One schema (router/schemas.Specialist): hours that end before they start, a deputy who is not in the
    directory, a language the service does not have — refused by the file's loader and by the form alike, the form
    naming the field by its label in the admin's language."""
    import yaml

    from router.casework import directory

    base = yaml.safe_load((ROOT / "directory.example.yml").read_text(encoding="utf-8"))
    matti = next(p for p in base["specialists"] if p["key"] == "matti")
    for change, field, words in ((("working_hours", {"mon": ["16:00", "08:00"]}), "hours_mon", "Arbetstider"),
                                 (("deputy", "nobody"), None, "Ersättare"),
                                 (("languages", ["fi", "de"]), "languages", "Språk")):
        broken = {**base, "specialists": [{**p, change[0]: change[1]} if p is matti else p
                                          for p in base["specialists"]]}
        with pytest.raises(directory.DirectoryError):
            directory.parse(yaml.safe_dump(broken, allow_unicode=True))
        admin = signed_in("admin")
        admin.get("/staff/lang/sv")
        page = "/staff/admin/specialists/matti"
        form = {"name": "Matti Esimerkki", "email": "matti.esimerkki@example.org", "topics": "funding",
                "languages": "fi, sv", "active": "1"}
        if field == "hours_mon":
            form["hours_mon"] = "16:00-08:00"
        elif field == "languages":
            form["languages"] = "fi, de"
        else:
            with sessions() as s:  # the form offers only keys in the directory; a stale one is refused too
                s.query(Specialist).filter(Specialist.key == "sanna").update({"key": "sanna-old"})
                s.commit()
            form["deputy"] = "sanna"
        refused = admin.post_form(page, page, form)
        assert refused.status_code == 400
        assert f"{words}: " in refused.get_data(as_text=True)
