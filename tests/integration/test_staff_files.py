"""Files from a specialist to a customer: attachments by email (through a real SMTP server), signed expiring links in
the web chat and on SMS, type and size limits, and the same erasure as every attachment of the case."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from router.storage.models import Attachment, OutboxMessage

from ..conftest import auth
from ..helpers import app_worker

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64



@pytest.fixture
def phone_settings(smtp) -> dict:
    # Small limits: a file over them stays under the test client's in-memory threshold (no temporary file).
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none", "file_link_days": 7.0,
            "attachment_max_bytes": 200_000, "attachment_max_total_bytes": 300_000}


def _deliver(phone_app, clock):
    return app_worker(phone_app, clock).deliver()


def _send(staff_client, ref, text, files):
    page = f"/staff/cases/{ref}"
    from ..conftest import csrf_from

    token = csrf_from(staff_client.get(page).get_data(as_text=True))
    data = {"text": text, "csrf_token": token, "file": [(io.BytesIO(body), name) for name, body in files]}
    return staff_client.client.post(f"{page}/message", data=data, content_type="multipart/form-data")


def test_an_email_customer_gets_the_file_as_an_attachment(make_case, signed_in, phone_app, clock, smtp):
    ref = make_case(channel="email", email="asiakas@example.org")
    maija = signed_in("maija")
    assert _send(maija, ref, "Tässä hakemuslomake.", [("hakemus.pdf", PDF)]).status_code == 302
    _deliver(phone_app, clock)
    [mail] = [m for m in smtp.to("asiakas@example.org") if "hakemuslomake" in m.get_body(("plain",)).get_content()]
    [part] = list(mail.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == ("hakemus.pdf", "application/pdf",
                                                                                   PDF)


def test_a_web_chat_customer_downloads_the_file_until_the_link_expires(make_case, signed_in, phone_app, clock,
                                                                        sessions):
    ref = make_case()
    maija = signed_in("maija")
    assert _send(maija, ref, "Kartta tontista", [("tontti.png", PNG), ("ohje.txt", "Hei\nohje".encode())]) \
        .status_code == 302
    customer = phone_app.test_client()
    with sessions() as s:
        from router.storage.models import Case

        public_id = s.scalar(select(Case).where(Case.ref == ref)).conversation.public_id
    thread = customer.get(f"/api/chat/{public_id}").get_json()["messages"]
    [sent] = [m for m in thread if m["author"] == "staff"]
    assert [f["name"] for f in sent["files"]] == ["tontti.png", "ohje.txt"]
    url = sent["files"][0]["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    got = customer.get(f"/{path}")
    assert got.status_code == 200 and got.data == PNG and got.mimetype == "image/png"
    assert "attachment" in got.headers["Content-Disposition"] and got.headers["Cache-Control"] == "no-store"
    tampered = path[:-1] + ("0" if path[-1] != "0" else "1")
    assert customer.get(f"/{tampered}").status_code == 404
    # The staff page lists it too, as a download for whoever may see the case.
    assert "tontti.png" in maija.get(f"/staff/cases/{ref}").get_data(as_text=True)

    clock.now += timedelta(days=7, minutes=1)
    gone = customer.get(f"/{path}")
    assert gone.status_code == 410 and "Linkki on vanhentunut" in gone.get_data(as_text=True)


def test_an_sms_customer_gets_links_and_the_api_takes_multipart(make_case, tokens, phone_app, sessions):
    ref = make_case(channel="sms", phone="+358401234567")
    api = phone_app.test_client()
    resp = api.post(f"/api/v1/cases/{ref}/messages", headers=auth(tokens["maija"]), content_type="multipart/form-data",
                    data={"text": "Liitteenä päätös", "file": [(io.BytesIO(PDF), "paatos.pdf")]})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["sent_on"] == "sms"
    with sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.body.like("%Liitteenä päätös%")))
        assert row.kind == "sms" and "paatos.pdf: https://" in row.body and "/files/" in row.body
        assert row.attachments is None  # an SMS carries the link, not the file


@pytest.mark.parametrize("name,body,problem", [
    ("ohjelma.exe", b"MZ\x90\x00", "send PDF"),
    ("lasku.pdf", b"MZ\x90\x00 a program renamed", "not what its name says"),
    ("iso.pdf", b"%PDF-" + b"x" * 200_000, "over 0.2 MB"),
    ("tyhja.txt", b"", "empty"),
])
def test_files_that_may_not_go_are_refused_and_nothing_is_sent(make_case, tokens, phone_app, sessions, name, body,
                                                                problem):
    ref = make_case(channel="sms", phone="+358401234567")
    api = phone_app.test_client()
    resp = api.post(f"/api/v1/cases/{ref}/messages", headers=auth(tokens["maija"]), content_type="multipart/form-data",
                    data={"text": "Katso liite", "file": [(io.BytesIO(body), name)]})
    assert resp.status_code == 400 and problem in resp.get_json()["error"]
    with sessions() as s:
        assert s.scalar(select(func.count(Attachment.id))) == 0
        assert s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.body.like("%Katso liite%"))) == 0


def test_a_sent_file_is_erased_with_the_person(make_case, signed_in, phone_app, sessions, clock, tracker_url):
    from router import config as config_mod
    from router.privacy import person

    ref = make_case(email="poistettava@example.org")
    maija = signed_in("maija")
    assert _send(maija, ref, "Lomake", [("lomake.pdf", PDF)]).status_code == 302
    with sessions() as s:
        assert s.scalar(select(func.count(Attachment.id))) == 1
    settings = config_mod.load({"rasa_tracker_url": tracker_url})
    with sessions() as s:
        person.erase(s, settings, person.Subject.of(email="poistettava@example.org"), clock.now)
    with sessions() as s:
        assert s.scalar(select(func.count(Attachment.id))) == 0


def test_a_whatsapp_customer_gets_the_link_in_the_text(make_case, signed_in, sessions):
    ref = make_case(channel="whatsapp", phone="whatsapp:+358401234567")
    assert _send(signed_in("maija"), ref, "Tässä ohje", [("ohje.pdf", PDF)]).status_code == 302
    with sessions() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.body.like("%Tässä ohje%")))
    assert (row.kind, row.recipient) == ("whatsapp", "whatsapp:+358401234567")
    assert "ohje.pdf: https://" in row.body and row.attachments is None
