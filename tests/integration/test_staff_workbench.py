"""A specialist's day in the staff pages: search, lists, local times, words instead of keys, files, canned replies."""
from __future__ import annotations

import re

from sqlalchemy import select

from router.storage.models import Attachment, Case, Message


def test_search_finds_by_reference_name_phone_email_company_and_text_within_the_user_s_cases(
        signed_in, make_case, sessions):
    mine = make_case(phone="+358401234567", email="anna@example.org", name="Anna Asiakas",
                     text="Haluaisin avata kukkakaupan")
    other = make_case(topic="funding", name="Olli Muu", text="Tarvitsemme lainaa kukkakaupalle")
    with sessions() as s:
        s.scalar(select(Case).where(Case.ref == mine)).company = "Kukka Oy"
        s.commit()
    maija = signed_in("maija")
    for query in (mine, mine.lower(), "anna asiakas", "040 123 4567", "ANNA@example", "kukka oy", "kukkakaupan"):
        html = maija.get(f"/staff/search?q={query}").get_data(as_text=True)
        assert mine in html, query
        assert other not in html, query  # Matti's case: not Maija's to see
    assert other in signed_in("admin").get("/staff/search?q=kukkakaupalle").get_data(as_text=True)


def test_lists_of_open_in_progress_and_resolved_cases(signed_in, make_case):
    ref = make_case(email="anna@example.org")
    maija = signed_in("maija")
    assert ref in maija.get("/staff/?list=open").get_data(as_text=True)
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/take-up", {})
    assert ref not in maija.get("/staff/?list=open").get_data(as_text=True)
    assert ref in maija.get("/staff/?list=waiting").get_data(as_text=True)
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/resolve", {"outcome": "company_founded"})
    resolved = maija.get("/staff/?list=resolved").get_data(as_text=True)
    assert ref in resolved and "Yritys perustettu" in resolved and "company_founded" not in resolved


def test_the_case_page_speaks_finnish_local_time_and_links_the_contact_details(signed_in, make_case, clock):
    ref = make_case(phone="+358401234567", email="anna@example.org", channel="web")
    maija = signed_in("maija")
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/take-up", {})
    html = maija.get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert "ma 30.11.2026 10.00" in html  # 08:00 UTC is 10.00 in Helsinki, written the Finnish way
    assert "UTC" not in html
    for raw in ("taken_up", ">web<", "company_founded", "· customer"):
        assert raw not in re.sub(r'(value|name|id|class|href|action)="[^"]*"', "", html), raw
    assert 'href="tel:+358401234567"' in html and 'href="mailto:anna@example.org' in html
    assert "Verkkochat" in html and "Otettu työn alle" in html
    english = maija.get("/staff/lang/en") and maija.get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert "Mon 30 Nov 2026 10:00" in english and "Web chat" in english


def test_attachments_download_only_for_those_who_may_see_the_case(signed_in, make_case, sessions):
    ref = make_case(email="anna@example.org")
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        message_id = s.scalar(select(Message.id).where(Message.conversation_id == case.conversation_id))
        s.add(Attachment(case_id=case.id, message_id=message_id, filename="tarjous.html", content_type="text/html",
                         size=30, data=b"<script>alert('x')</script>"))
        s.commit()
        attachment_id = s.scalar(select(Attachment.id))
    path = f"/staff/cases/{ref}/attachments/{attachment_id}"
    page = signed_in("maija").get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert path in page
    got = signed_in("maija").get(path)
    assert got.status_code == 200 and got.data == b"<script>alert('x')</script>"
    assert got.headers["Content-Disposition"].startswith("attachment;") and "tarjous.html" in \
        got.headers["Content-Disposition"]
    assert got.mimetype == "application/octet-stream"  # never rendered as a page of ours
    assert signed_in("matti").get(path).status_code == 403


def test_an_admin_keeps_canned_replies_and_a_specialist_starts_a_message_from_one(signed_in, make_case):
    admin = signed_in("admin")
    resp = admin.post_form("/staff/admin/canned", "/staff/admin/canned", {
        "title": "Tapaamisen vahvistus", "language": "fi",
        "text": "Hei {customer}, vahvistan tapaamisemme. Viite {ref}. Terveisin {name}"})
    assert resp.status_code == 302
    ref = make_case(email="anna@example.org", name="Anna Asiakas")
    maija = signed_in("maija")
    page = maija.get(f"/staff/cases/{ref}").get_data(as_text=True)
    canned_id = re.search(r'<option value="(\d+)">Tapaamisen vahvistus</option>', page).group(1)
    filled = maija.get(f"/staff/cases/{ref}?canned={canned_id}").get_data(as_text=True)
    assert f"Hei Anna Asiakas, vahvistan tapaamisemme. Viite {ref}. Terveisin Maija Esimerkki" in filled
    assert signed_in("maija").get("/staff/admin/canned").status_code == 403


def test_every_staff_email_says_what_happened_to_whom_by_when_with_the_contact_details(
        signed_in, make_case, sessions):
    from router.storage.models import OutboxMessage

    ref = make_case(email="anna@example.org", phone="+358401234567", name="Anna Asiakas")
    maija = signed_in("maija")
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/reassign", {"specialist": "sanna"})
    maija_lead = signed_in("admin")
    maija_lead.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/take-up", {})
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    [new] = [o for o in rows if o.idempotency_key.endswith(":specialist")]
    [moved] = [o for o in rows if ":reassigned:" in o.idempotency_key and o.recipient == "sanna.testinen@example.org"]
    [taken] = [o for o in rows if o.idempotency_key.endswith(":taken-up")]
    assert new.subject == f"[{ref}] Uusi asia: Yrityksen perustaminen — Anna Asiakas, viimeistään ke 2.12.2026"
    assert moved.subject.startswith(f"[{ref}] Siirretty sinulle (Maija Esimerkki): Yrityksen perustaminen — Anna")
    for staff_mail in (new, moved):
        assert "anna@example.org" in staff_mail.body and "+358401234567" in staff_mail.body
        assert "ke 2.12.2026" in staff_mail.body and "UTC" not in staff_mail.body
    assert taken.subject == f"[{ref}] Sanna Testinen on aloittanut asiasi käsittelyn"


def test_an_admin_words_the_assistant_s_answers_about_the_agency_and_an_empty_text_restores_the_default(
        signed_in, sessions):
    from router.storage.models import FaqAnswer

    admin = signed_in("admin")
    page = admin.get("/staff/admin/faq").get_data(as_text=True)
    assert page.count("<textarea") == 12  # four answers in three languages
    resp = admin.post_form("/staff/admin/faq", "/staff/admin/faq",
                           {"key": "address", "language": "en", "text": "Example Street 2, 00100 City"})
    assert resp.status_code == 302
    assert "Example Street 2, 00100 City" in admin.get("/staff/admin/faq").get_data(as_text=True)
    admin.post_form("/staff/admin/faq", "/staff/admin/faq", {"key": "address", "language": "en", "text": " "})
    with sessions() as s:
        assert s.scalars(select(FaqAnswer)).all() == []
    assert admin.post_form("/staff/admin/faq", "/staff/admin/faq",
                           {"key": "weather", "language": "en", "text": "x"}).status_code == 400
    assert signed_in("maija").get("/staff/admin/faq").status_code == 403


def test_a_specialist_works_in_swedish_and_the_choice_is_kept_on_the_user(signed_in, make_case, sessions, staff):
    from router.storage.models import User

    ref = make_case(phone="+358401234567", email="anna@example.org", channel="web")
    maija = signed_in("maija")
    maija.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/take-up", {})
    maija.get("/staff/lang/sv")
    html = maija.get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "mån 30.11.2026 kl. 10.00" in html  # Helsinki time, written the way Finland's Swedish writes it
    assert "Webbchatt" in html and "Påbörjat" in html and "Meddelande till kunden" in html
    assert "Verkkochat" not in html and "staff." not in html
    with sessions() as s:
        assert s.scalar(select(User.language).where(User.email == staff["maija"])) == "sv"
    # A new sign-in (no session choice yet) opens in the stored language; ?lang= shows one page in another.
    again = signed_in("maija")
    assert '<html lang="sv">' in again.get("/staff/").get_data(as_text=True)
    assert '<html lang="en">' in again.get("/staff/?lang=en").get_data(as_text=True)
    assert '<html lang="sv">' in again.get("/staff/").get_data(as_text=True)


def test_every_staff_page_is_whole_in_each_language(signed_in, make_case):
    """No page shows a message id or falls back to another language's words for its navigation."""
    ref = make_case(email="anna@example.org")
    admin = signed_in("admin")
    pages = ["/staff/", "/staff/?list=resolved", f"/staff/cases/{ref}", "/staff/activities", "/staff/pipeline",
             "/staff/campaigns", "/staff/targets", "/staff/report/board", "/staff/admin/directory",
             "/staff/admin/canned", "/staff/admin/faq", "/staff/admin/notices", "/staff/admin/privacy",
             "/staff/admin/deliveries", "/staff/admin/audit", "/staff/admin/impact", "/staff/search?q=anna"]
    words = {"fi": "Kirjaudu ulos", "sv": "Logga ut", "en": "Sign out"}
    for language, signout in words.items():
        admin.get(f"/staff/lang/{language}")
        for path in pages:
            resp = admin.get(path)
            html = resp.get_data(as_text=True)
            assert resp.status_code == 200, (language, path)
            assert f'<html lang="{language}">' in html and signout in html, (language, path)
            assert not re.search(r"\b(staff|report|impact|page)\.[a-z_]+\b", re.sub(r"<[^>]+>", " ", html)), \
                (language, path)


def test_staff_emails_come_in_the_reader_s_language(signed_in, make_case, sessions, staff):
    """Maija works in Swedish: her new case, a reassignment to her and the customer's follow-up come in Swedish;
    Matti, who did not choose, still reads Finnish."""
    from router.storage.models import OutboxMessage, User

    signed_in("maija").get("/staff/lang/sv")
    ref = make_case(email="anna@example.org", phone="+358401234567", name="Anna Asiakas")
    other = make_case(email="olli@example.org", name="Olli Asiakas", specialist="matti")
    signed_in("matti").post_form(f"/staff/cases/{other}", f"/staff/cases/{other}/reassign", {"specialist": "maija"})
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email").order_by(OutboxMessage.id)).all()
        assert s.scalar(select(User.language).where(User.email == staff["matti"])) == "fi"
    to_maija = [o for o in rows if o.recipient == "maija.esimerkki@example.org"]
    [new] = [o for o in to_maija if o.idempotency_key == f"case:{ref}:specialist"]
    [moved] = [o for o in to_maija if ":reassigned:" in o.idempotency_key]
    assert new.subject.startswith(f"[{ref}] Nytt ärende: ") and ", senast ons 2.12.2026" in new.subject
    assert "En ny kund till dig" in new.body and "Referens: " in new.body and "Svara på det här meddelandet" in \
        new.body and "Kund: " in new.body
    assert moved.subject.startswith(f"[{other}] Flyttat till dig (Matti Esimerkki): ")
    assert "Matti Esimerkki flyttade ärendet till dig." in moved.body
    for mail in (new, moved):
        assert not any(word in mail.body for word in ("Viite", "Asiakas:", "Määräaika", "Reference")), mail.body
    [matti_new] = [o for o in rows if o.idempotency_key == f"case:{other}:specialist"]
    assert matti_new.subject.startswith(f"[{other}] Uusi asia: ") and "Viite: " in matti_new.body


def test_forms_take_numbers_as_people_type_them_and_refuse_in_the_reader_s_words(signed_in, sessions):
    from router.storage.models import Lead, Target

    admin = signed_in("admin")
    admin.get("/staff/lang/sv")
    refused = admin.post_form("/staff/activities", "/staff/activities",
                              {"kind": "company_visit", "date": "2026-11-30", "business_id": "1234567-2"})
    assert refused.status_code == 302
    page = admin.get("/staff/activities").get_data(as_text=True)
    assert "FO-nummer: formen är 1234567-8, och kontrollsiffran måste stämma." in page
    assert "business_id" not in re.sub(r'(value|name|id|for)="[^"]*"', "", page)
    admin.post_form("/staff/pipeline", "/staff/pipeline", {"company": "Tehdas Oy", "jobs": "1 200",
                                                           "investment_eur": "3 000 000 €"})
    admin.post_form("/staff/targets", "/staff/targets", {"measure": "promise_kept_share", "year": "2026",
                                                         "value": "0,9"})
    admin.post_form("/staff/targets", "/staff/targets", {"measure": "contacts", "year": "2026", "value": "4 500"})
    with sessions() as s:
        assert (s.scalar(select(Lead.jobs)), s.scalar(select(Lead.investment_eur))) == (1200, 3_000_000)
        assert sorted((t.measure, t.value) for t in s.scalars(select(Target))) == [
            ("contacts", 4500.0), ("promise_kept_share", 0.9)]
    pipeline = admin.get("/staff/pipeline").get_data(as_text=True)
    assert "3\u00a0000\u00a0000\u00a0€" in pipeline and "1\u00a0200" in pipeline  # written as Swedish in Finland
    targets = admin.get("/staff/targets?year=2026").get_data(as_text=True)
    assert "4\u00a0500" in targets and "90\u00a0%" in targets and "4500.0" not in targets and "0.9<" not in targets
    assert "4\u00a0500 till 31.12.2026 kräver" in targets  # the pace in words
    wrong = admin.post_form("/staff/targets", "/staff/targets", {"measure": "contacts", "year": "2026",
                                                                 "value": "neljä"})
    assert wrong.status_code == 302
    assert "Mål: ange ett tal, till exempel 4 500 eller 4,5." in admin.get("/staff/targets").get_data(as_text=True)
