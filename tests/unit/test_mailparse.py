"""Parsing inbound mail: charsets, HTML-only mail, attachments, automatic mail, broken MIME."""
from router.channels.email import is_automatic
from router.channels.mailparse import parse
from router.channels.mailtext import strip_reply

from ..helpers import mail


def test_a_windows_1252_message_is_decoded():
    raw = (b"From: =?windows-1252?q?J=E4rvinen?= <jarvinen@example.org>\r\nSubject: =?windows-1252?q?Yrityksen_"
           b"perustaminen_=96_apua?=\r\nMessage-ID: <w1@example.org>\r\nContent-Type: text/plain; charset=windows-1252"
           b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHaluaisin perustaa yrityksen \x96 ty\xf6nimi \x80-merkki\r\n")
    m = parse(raw)
    assert m.sender == "jarvinen@example.org" and m.sender_name == "Järvinen"
    assert m.subject == "Yrityksen perustaminen – apua"
    assert m.text == "Haluaisin perustaa yrityksen – työnimi €-merkki"


def test_an_undeclared_latin1_body_falls_back_instead_of_failing():
    raw = (b"From: a@example.org\r\nMessage-ID: <l1@example.org>\r\nContent-Type: text/plain; charset=x-unknown"
           b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nTarvitsen ty\xf6ntekij\xf6it\xe4\r\n")
    assert parse(raw).text == "Tarvitsen työntekijöitä"


def test_html_only_mail_becomes_text():
    raw = (b"From: a@example.org\r\nMessage-ID: <h1@example.org>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<html><head><style>p{}</style></head><body><p>Hei,</p><p>tarvitsemme <b>toimitilan</b>.</p>"
           b"<script>alert(1)</script></body></html>")
    assert parse(raw).text == "Hei,\n\ntarvitsemme toimitilan."


def test_plain_text_is_preferred_and_attachments_are_listed():
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "A <a@example.org>", "Liite", "<a1@example.org>"
    msg.set_content("Tekstinä")
    msg.add_alternative("<p>HTML:nä</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 data", maintype="application", subtype="pdf", filename="suunnitelma.pdf")
    m = parse(msg.as_bytes())
    assert m.text == "Tekstinä"
    assert [(a.filename, a.content_type, a.size) for a in m.attachments] == [("suunnitelma.pdf", "application/pdf", 13)]


def test_missing_and_garbled_headers_and_empty_body_do_not_fail():
    m = parse(b"From: =?utf-8?q?broken\r\nSubject: =?unknown-8bit?b?////?=\r\n\r\n")
    assert m.text == "" and m.message_id.startswith("<sha256.")  # no Message-ID: known by a digest instead
    assert parse(b"\x00\xff garbage without headers").sender == ""


def test_automatic_and_bulk_mail_is_recognised():
    own = "luukku@example.org"
    assert is_automatic(parse(mail("a@example.org", "Out of office", "x", message_id="<o@x>",
                                   Auto_Submitted="auto-replied")), own) == "loop"
    assert is_automatic(parse(mail("a@example.org", "x", "x", message_id="<n@x>", Auto_Submitted="no")), own) is None
    assert is_automatic(parse(mail("news@example.org", "News", "x", message_id="<b@x>", Precedence="bulk")), own) == "bulk"
    assert is_automatic(parse(mail("list@example.org", "x", "x", message_id="<l@x>", List_Id="<x.example.org>")), own) == "bulk"
    assert is_automatic(parse(mail("a@example.org", "x", "x", message_id="<x@x>", X_Loop=own)), own) == "loop"
    assert is_automatic(parse(mail("MAILER-DAEMON@example.org", "Undelivered", "x", message_id="<d@x>")), own) == "bounce"


def test_quotes_and_signatures_are_stripped():
    text = ("Kiitos, tässä lisätietoja: tarvitsemme 300 m2.\n\n--\nMatti Meikäläinen\nToimitusjohtaja\n\n"
            "ma 30.11.2026 klo 10.00 Luukku <luukku@example.org> kirjoitti:\n> Asiasi viite on LK-ABC123")
    assert strip_reply(text) == "Kiitos, tässä lisätietoja: tarvitsemme 300 m2."
    assert strip_reply("Hi\n\nOn Mon, 30 Nov 2026, Luukku wrote:\n> old") == "Hi"
    assert strip_reply("Hej\n> citat\nmer text\nSkickat från min iPhone") == "Hej\nmer text"


def test_the_classifier_sees_the_matter_without_greetings_and_signatures():
    from router.channels.mailtext import for_classifier

    text = ("Hyvä vastaanottaja,\n\nolemme kasvava yritys ja etsimme kolmea kehittäjää.\n\nYstävällisin terveisin\n"
            "Liisa Esimerkki\nToimitusjohtaja")
    assert for_classifier(text) == "olemme kasvava yritys ja etsimme kolmea kehittäjää."
    assert for_classifier("Dear Sir or Madam,\nwe need premises.\nKind regards,\nJane") == "we need premises."
