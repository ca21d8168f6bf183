"""One customer across channels: records joined only by verified addresses (a Twilio-signed number; an email address
that answered the service's mail, through real IMAP and SMTP servers), their history on the case page, merges that
are audited and undone, and the privacy export and erasure following the merged record."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from router.channels.mailbox import MailboxPoller
from router.privacy import person
from router.storage.models import AuditEvent, Case, Conversation, CustomerAddress, Message

from ..conftest import auth
from ..helpers import app_worker, mail

WEB_EMAIL = "ville.verkko@example.org"
PHONE = "+358401112223"




@pytest.fixture
def phone_settings(imap, smtp) -> dict:
    return {**imap.settings(), "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
            "service_email": "luukku@example.org", "smtp_from": "Luukku <luukku@example.org>",
            "chat_seen_minutes": 5.0}


def _poll(phone_app, rasa, clock):
    ext = phone_app.extensions["luukku"]
    return MailboxPoller(ext["settings"], ext["sessions"], rasa, clock).poll()


def _web_customer_answers_by_email(make_case, phone_app, tokens, clock, smtp, imap, rasa, sessions) -> str:
    """A web chat customer who typed an email address, is written to by the specialist, and answers the mail."""
    ref = make_case(topic="founding", channel="web", email=WEB_EMAIL, name="Ville Verkko",
                    text="Haluan perustaa verkkokaupan")
    api = phone_app.test_client()
    assert api.post(f"/api/v1/cases/{ref}/messages", headers=auth(tokens["maija"]),
                    json={"text": "Hei Ville, sopisiko puhelu torstaina?"}).status_code == 201
    with sessions() as s:  # what a customer typed joins nothing: no record yet
        assert s.scalar(select(Case.customer_id).where(Case.ref == ref)) is None
    clock.now += timedelta(minutes=6)  # the widget did not show it: the copy goes by email
    app_worker(phone_app, clock).deliver()
    [copy] = [m for m in smtp.to(WEB_EMAIL) if "torstaina" in m.get_body(("plain",)).get_content()]
    imap.append(mail(f"Ville Verkko <{WEB_EMAIL}>", f"Re: {copy['Subject']}", "Torstai sopii hyvin.",
                     message_id="<reply-1@example.org>", to=str(copy["Reply-To"])))
    assert _poll(phone_app, rasa, clock) == {"thread": 1}
    return ref


def test_a_web_customer_who_answers_the_service_s_email_is_one_verified_customer(
        make_case, phone_app, tokens, clock, smtp, imap, rasa, sessions, signed_in):
    ref = _web_customer_answers_by_email(make_case, phone_app, tokens, clock, smtp, imap, rasa, sessions)
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        [address] = s.scalars(select(CustomerAddress)).all()
        assert (address.address, address.kind, address.how) == (WEB_EMAIL, "email", "email_reply")
        assert case.customer_id == address.customer_id
        assert s.get(Conversation, case.conversation_id).customer_id == address.customer_id
    # Later the same person writes a new mail from that address and answers its acknowledgement: the same record.
    imap.append(mail(f"Ville Verkko <{WEB_EMAIL}>", "Rahoitus", "Tarvitsen myös rahoitusta varastoon.",
                     message_id="<new-1@example.org>"))
    assert _poll(phone_app, rasa, clock) == {"case": 1}
    app_worker(phone_app, clock).deliver()
    [ack] = [m for m in smtp.to(WEB_EMAIL) if m["Auto-Submitted"] == "auto-replied"]
    imap.append(mail(f"Ville Verkko <{WEB_EMAIL}>", f"Re: {ack['Subject']}", "Kiitos!",
                     message_id="<new-2@example.org>", to=str(ack["Reply-To"])))
    assert _poll(phone_app, rasa, clock) == {"thread": 1}
    with sessions() as s:
        second = s.scalar(select(Case).where(Case.ref != ref))
        assert second.customer_id == s.scalar(select(Case.customer_id).where(Case.ref == ref))
    page = signed_in("maija").get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert WEB_EMAIL in page and "vastasi palvelun sähköpostiin" in page
    record = phone_app.test_client().get(f"/api/v1/cases/{ref}", headers=auth(tokens["maija"])).get_json()[
        "customer_record"]
    assert record["cases"] == [second.ref]
    assert [(a["address"], a["kind"], a["how"]) for a in record["addresses"]] == [(WEB_EMAIL, "email", "email_reply")]
    assert second.ref in page  # the other case, on another channel, listed with the customer
    # The transcript has both channels: the web chat and the emailed answer.
    assert "Haluan perustaa verkkokaupan" in page and "Torstai sopii hyvin." in page


def test_a_number_twilio_signed_is_one_customer_and_a_typed_number_joins_nothing(make_case, sessions):
    first = make_case(topic="funding", channel="sms", phone=PHONE, text="Tarvitsen lainaa", specialist="matti")
    second = make_case(topic="recruitment", channel="voice", phone=PHONE, text="(puhelu)", specialist="maija")
    typed = make_case(topic="plots", channel="web", phone=PHONE, text="Etsin tonttia")  # typed into the chat
    with sessions() as s:
        by_ref = {c.ref: c for c in s.scalars(select(Case))}
        assert by_ref[first].customer_id is not None
        assert by_ref[first].customer_id == by_ref[second].customer_id
        assert by_ref[typed].customer_id is None
        assert s.scalar(select(func.count(CustomerAddress.id))) == 1


def test_staff_merge_two_records_audited_undone_and_the_export_follows(
        make_case, phone_app, tokens, clock, smtp, imap, rasa, sessions, signed_in):
    web_ref = _web_customer_answers_by_email(make_case, phone_app, tokens, clock, smtp, imap, rasa, sessions)
    sms_ref = make_case(topic="funding", channel="sms", phone=PHONE, text="Rahoitus koneeseen", specialist="maija")
    maija = signed_in("maija")
    page = f"/staff/cases/{web_ref}"
    assert sms_ref not in maija.get(page).get_data(as_text=True)
    # Not a case she can read, or her own case's: refused, nothing changed.
    assert maija.post_form(page, f"{page}/customer/merge", {"other": web_ref}).status_code == 302
    maija.post_form(page, f"{page}/customer/merge", {"other": sms_ref.lower()})
    shown = maija.get(page).get_data(as_text=True)
    assert sms_ref in shown and PHONE in shown and "Rahoitus koneeseen" in shown
    with sessions() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "customer_merge")) == 1
        exported = person.export(s, person.Subject.of(email=WEB_EMAIL), clock.now)
    assert {c["ref"] for c in exported["cases"]} == {web_ref, sms_ref}
    assert {a["address"] for a in exported["verified_addresses"]} == {WEB_EMAIL, PHONE}
    assert any(c["channel"] == "sms" for c in exported["conversations"])

    merge_id = int(shown.split('id="undo-merge-')[1].split('"')[0])
    maija.post_form(page, f"{page}/customer/merges/{merge_id}/undo", {})
    apart = maija.get(page).get_data(as_text=True)
    assert sms_ref not in apart and "Rahoitus koneeseen" not in apart
    with sessions() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "customer_unmerge")) == 1
        assert {c["ref"] for c in person.export(s, person.Subject.of(email=WEB_EMAIL), clock.now)["cases"]} == {
            web_ref}


@pytest.mark.both_databases
def test_erasure_follows_the_merged_record(make_case, phone_app, tokens, clock, smtp, imap, rasa, sessions,
                                           signed_in, tracker_url):
    web_ref = _web_customer_answers_by_email(make_case, phone_app, tokens, clock, smtp, imap, rasa, sessions)
    sms_ref = make_case(topic="funding", channel="sms", phone=PHONE, text="Rahoitus koneeseen", specialist="maija")
    maija = signed_in("maija")
    maija.post_form(f"/staff/cases/{web_ref}", f"/staff/cases/{web_ref}/customer/merge", {"other": sms_ref})
    settings = phone_app.extensions["luukku"]["settings"]
    with sessions() as s:
        done = person.erase(s, settings, person.Subject.of(email=WEB_EMAIL), clock.now)
    assert done["cases"] == 2 and done["verified_addresses"] == 2
    with sessions() as s:
        assert s.scalar(select(func.count(Message.id))) == 0
        assert s.scalar(select(func.count(CustomerAddress.id))) == 0
        assert s.scalar(select(func.count(Case.id)).where(Case.customer_phone.is_not(None))) == 0


def test_a_long_history_shows_its_newest_thousand_lines(make_case, sessions, clock, signed_in):
    ref = make_case(topic="funding", channel="sms", phone=PHONE, text="Ensimmäinen viesti", specialist="maija")
    with sessions() as s:
        conv_id = s.scalar(select(Case.conversation_id).where(Case.ref == ref))
        s.add_all(Message(conversation_id=conv_id, direction="in", channel="sms", author="customer",
                          text=f"rivi {n:04d}", created_at=clock.now + timedelta(seconds=n)) for n in range(1, 1005))
        s.commit()
    page = signed_in("maija").get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert "rivi 1004" in page and "rivi 0005" in page and "rivi 0004" not in page
    assert page.index("rivi 0005") < page.index("rivi 1004")  # oldest first
