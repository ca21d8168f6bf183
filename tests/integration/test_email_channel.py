"""The one email address against real IMAP (pymap) and SMTP (aiosmtpd) servers; the bot is scripted here."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from router import config
from router.channels.mailbox import MailboxPoller
from router.delivery import notify
from router.delivery.outbox import deliver_due
from router.delivery.senders import SmtpSender
from router.storage.models import Attachment, Case, CaseEvent, MailReceipt, Message, OutboxMessage

from ..helpers import mail

NOW = datetime(2026, 11, 30, 8, 0)




@pytest.fixture
def settings(imap, smtp):
    return config.load({**imap.settings(), "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
                        "service_email": "luukku@example.org", "smtp_from": "Luukku <luukku@example.org>",
                        "public_base_url": "https://luukku.example.org", "attachment_max_bytes": 1_000_000})


@pytest.fixture
def poller(settings, sessions, rasa):
    return MailboxPoller(settings, sessions, rasa, lambda: NOW)


def deliver(sessions, settings):
    return deliver_due(sessions, {"email": SmtpSender(settings)}, NOW)


def cases(sessions):
    with sessions() as s:
        return s.scalars(select(Case).order_by(Case.id)).all()


def test_a_mail_becomes_a_case_with_an_rfc3834_acknowledgement_and_the_specialist_s_copy(
        imap, smtp, poller, sessions, settings):
    imap.append(mail("Maija Meikäläinen <maija.m@example.org>", "Rahoitus koneeseen",
                     "Hei,\n\ntarvitsemme rahoitusta uuteen koneeseen.\n\nTerveisin\nMaija", message_id="<m1@example.org>"))
    assert poller.poll() == {"case": 1}
    assert imap.unseen() == 0
    [case] = cases(sessions)
    assert (case.channel, case.topic, case.customer_email, case.customer_name) == (
        "email", "funding", "maija.m@example.org", "Maija Meikäläinen")
    assert deliver(sessions, settings) == 2
    [ack] = smtp.to("maija.m@example.org")
    assert ack["Auto-Submitted"] == "auto-replied" and ack["In-Reply-To"] == "<m1@example.org>"
    assert ack["Subject"] == f"Re: Rahoitus koneeseen [{case.ref}]"
    assert "Matti Esimerkki, rahoitusasiantuntija" in ack.get_content() and "viimeistään ke 2.12.2026" in ack.get_content()
    assert ack.get_content().rstrip().endswith("/privacy?lang=fi")
    [copy] = smtp.to("matti.esimerkki@example.org")
    assert "tarvitsemme rahoitusta uuteen koneeseen" in copy.get_content()
    assert copy["Reply-To"].startswith(f"luukku+{case.ref.lower()}.")  # the case's secret reply address


def test_each_message_is_handled_once_even_when_the_server_shows_it_again(imap, poller, sessions):
    raw = mail("a@example.org", "Toimitila", "Etsimme toimitilaa", message_id="<same@example.org>")
    imap.append(raw)
    poller.poll()
    imap.append(raw)  # the same Message-ID again (a resend, or another folder's copy)
    assert poller.poll() == {"duplicate": 1}
    assert len(cases(sessions)) == 1


def test_a_crash_between_commit_and_mark_replays_safely(imap, settings, sessions, rasa):
    imap.append(mail("b@example.org", "Vienti", "Haluamme aloittaa viennin", message_id="<crash@example.org>"))

    def crash(uid):
        raise RuntimeError("power cut after commit")

    with pytest.raises(RuntimeError):
        MailboxPoller(settings, sessions, rasa, lambda: NOW, after_commit=crash).poll()
    assert imap.unseen() == 1  # not marked: the crash came first
    assert MailboxPoller(settings, sessions, rasa, lambda: NOW).poll() == {"seen": 1}
    assert imap.unseen() == 0 and len(cases(sessions)) == 1


def test_a_reply_threads_into_its_case_and_the_specialist_hears_of_it(imap, smtp, poller, sessions, settings):
    imap.append(mail("c@example.org", "Rekrytointi", "Tarvitsemme kaksi asentajaa", message_id="<c1@example.org>"))
    poller.poll()
    deliver(sessions, settings)
    [ack] = smtp.to("c@example.org")
    # The customer's mail client answers to the acknowledgement's Reply-To: the case's address for its customer.
    imap.append(mail("c@example.org", ack["Subject"].replace("Re: ", "RE: "), "Lisäksi harjoittelija.\n\n"
                     "> aiempi viesti", message_id="<c2@example.org>", In_Reply_To=ack["Message-ID"],
                     to=str(ack["Reply-To"])))
    assert poller.poll() == {"thread": 1}
    [case] = cases(sessions)
    with sessions() as s:
        texts = s.scalars(select(Message.text).where(Message.conversation_id == case.conversation_id)
                          .order_by(Message.id)).all()
    assert texts == ["Tarvitsemme kaksi asentajaa", "Lisäksi harjoittelija."]
    deliver(sessions, settings)
    assert len(smtp.to("c@example.org")) == 1  # no second acknowledgement
    imap.append(mail("c@example.org", ack["Subject"], "Ja kesätyöntekijä.", message_id="<c3@example.org>",
                     to=str(ack["Reply-To"])))
    assert poller.poll() == {"thread": 1}
    # The same rule as a follow-up on any channel: on the case, and one notice to the specialist per five minutes
    # with both messages in it.
    with sessions() as s:
        assert s.scalars(select(CaseEvent.text).where(CaseEvent.kind == "customer_message")
                         .order_by(CaseEvent.id)).all() == ["Lisäksi harjoittelija.", "Ja kesätyöntekijä."]
        [notice] = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("%:follow-up:%"))).all()
        specialist = s.get(Case, case.id).specialist.email
    assert notice.recipient == specialist
    assert "Lisäksi harjoittelija." in notice.body and "Ja kesätyöntekijä." in notice.body


def test_a_specialist_s_emailed_reply_to_a_web_chat_customer_waits_for_the_widget(imap, smtp, poller, sessions,
                                                                                   settings, make_case):
    """The same rule as a message from the case page: the customer sees it in the widget, and the email copy waits
    CHAT_SEEN_MINUTES and is dropped once the widget has shown it."""
    ref = make_case(topic="funding", channel="web", email="w@example.org", text="Tarvitsen lainaa")
    imap.append(mail("Matti Esimerkki <matti.esimerkki@example.org>", f"Re: [{ref}]", "Hei, soitan huomenna.",
                     message_id="<w2@example.org>", to=notify.reply_address(settings, ref),
                     Authentication_Results="mx.example.org; spf=pass; dkim=pass; dmarc=pass"))
    assert poller.poll() == {"relayed": 1}
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        thread = s.execute(select(Message.author, Message.text, Message.payload).where(
            Message.conversation_id == case.conversation_id).order_by(Message.id)).all()
        [copy] = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("%staff-message%"))).all()
    assert [(a, t) for a, t, _ in thread][-2:] == [("system", "Matti Esimerkki liittyi keskusteluun."),
                                                  ("staff", "Hei, soitan huomenna.")]
    assert thread[-1][2]["name"] == "Matti Esimerkki"
    assert (copy.kind, copy.recipient, copy.subject) == ("email", "w@example.org", f"Re: [{ref}] Matti Esimerkki")
    assert copy.next_attempt_at == NOW + timedelta(minutes=settings.chat_seen_minutes)
    assert copy.headers["unless_seen"].isdigit()


def test_a_mail_with_a_spoofed_customer_from_and_the_case_ref_is_not_the_customer_s(imap, smtp, poller, sessions,
                                                                                      settings):
    """Finding 13: a mail with a spoofed customer `From:` and `[LK-ref]` joined the case as the customer and showed
    in their widget."""
    imap.append(mail("c@example.org", "Rekrytointi", "Tarvitsemme kaksi asentajaa", message_id="<s1@example.org>"))
    poller.poll()
    deliver(sessions, settings)
    [ack] = smtp.to("c@example.org")
    ref = ack["Subject"].split("[")[1].split("]")[0]
    # Anyone can write From: the customer with the reference in the subject, to the service's public address.
    imap.append(mail("c@example.org", f"Re: [{ref}]", "Vaihtakaa yhteyshenkilöksi mallory@example.org",
                     message_id="<s2@example.org>"))
    # DMARC failed where the receiving server checked it: no better.
    imap.append(mail("c@example.org", f"Re: [{ref}]", "Lähettäkää tiedot minulle", message_id="<s3@example.org>",
                     Authentication_Results="mx.example.org; dmarc=fail header.from=example.org"))
    assert poller.poll() == {"held": 2}
    [case] = cases(sessions)
    with sessions() as s:
        authors = s.execute(select(Message.author, Message.text).where(Message.conversation_id == case.conversation_id)
                            .order_by(Message.id)).all()
    assert [a for a, _ in authors] == ["customer", "unverified", "unverified"]  # the specialist sees them, flagged
    # A reply to what we sent, or a DMARC pass, is the customer's.
    imap.append(mail("c@example.org", f"Re: [{ref}]", "Oikea vastaus", message_id="<s4@example.org>",
                     Authentication_Results="mx.example.org; dmarc=pass header.from=example.org"))
    imap.append(mail("c@example.org", "Re: asia", "Toinen oikea", message_id="<s5@example.org>", to=str(ack["Reply-To"])))
    assert poller.poll() == {"thread": 2}


def _reply_address(smtp, sessions, settings, specialist="matti.esimerkki@example.org"):
    """What the specialist's mail client answers to: the Reply-To of the notification they really received."""
    deliver(sessions, settings)
    [notification] = [m for m in smtp.to(specialist) if m["Reply-To"]][:1]
    return str(notification["Reply-To"])


def test_a_specialist_s_reply_is_relayed_to_the_customer(imap, smtp, poller, sessions, settings):
    imap.append(mail("d@example.org", "Laina", "Tarvitsemme lainaa", message_id="<d1@example.org>"))
    poller.poll()
    [case] = cases(sessions)
    reply_to = _reply_address(smtp, sessions, settings)
    assert reply_to.startswith("luukku+") and reply_to.endswith("@example.org") and case.ref.lower() in reply_to
    imap.append(mail("Matti Esimerkki <matti.esimerkki@example.org>", f"Re: [{case.ref}] Rahoitus",
                     "Hei, soitan teille huomenna.\n\n-- \nMatti", message_id="<d2@example.org>", to=reply_to,
                     Authentication_Results="mx.example.org; spf=pass; dkim=pass; dmarc=pass"))
    assert poller.poll() == {"relayed": 1}
    deliver(sessions, settings)
    relayed = [m for m in smtp.to("d@example.org") if "Hei, soitan" in m.get_content()]
    assert len(relayed) == 1 and relayed[0]["Subject"] == f"Re: [{case.ref}] Matti Esimerkki"
    assert relayed[0].get_content().rstrip().endswith("/privacy?lang=fi")


@pytest.mark.parametrize("forgery", ["no token", "dmarc fails", "another specialist", "guessed token"])
def test_a_forged_staff_reply_never_reaches_the_customer(imap, smtp, poller, sessions, settings, forgery):
    imap.append(mail("d@example.org", "Laina", "Tarvitsemme lainaa", message_id="<f1@example.org>"))
    poller.poll()
    [case] = cases(sessions)
    reply_to = _reply_address(smtp, sessions, settings)
    sender, to, extra = "Matti Esimerkki <matti.esimerkki@example.org>", reply_to, {}
    if forgery == "no token":
        to = "luukku@example.org"
    elif forgery == "dmarc fails":
        extra = {"Authentication_Results": "mx.example.org; spf=fail; dmarc=fail (p=reject)"}
    elif forgery == "another specialist":
        sender = "Maija Esimerkki <maija.esimerkki@example.org>"
    else:
        to = reply_to.split(".")[0] + "." + "0" * 20 + "@example.org"
    before = len(smtp.to("d@example.org"))
    imap.append(mail(sender, f"Re: [{case.ref}] Rahoitus", "Maksa ensin 500 euroa tilille FI00 1234",
                     message_id="<f2@example.org>", to=to, **extra))
    assert poller.poll() == {"held": 1}
    deliver(sessions, settings)
    assert len(smtp.to("d@example.org")) == before  # nothing more went to the customer
    with sessions() as s:
        kept = s.scalar(select(Message).where(Message.provider_id == "<f2@example.org>"))
        assert kept.author == "unverified" and "500 euroa" in kept.text  # kept for the specialist to see


def test_automatic_mail_gets_no_answer_and_no_case(imap, smtp, poller, sessions, settings):
    imap.append(mail("e@example.org", "Poissa", "Olen lomalla", message_id="<e1@example.org>",
                     Auto_Submitted="auto-replied"),
                mail("news@example.org", "Uutiskirje", "Uutisia", message_id="<e2@example.org>", Precedence="bulk"),
                mail("luukku@example.org", "Hei", "Väärennetty", message_id="<e3@example.org>"))
    assert poller.poll() == {"loop": 1, "bulk": 1, "forged": 1}
    assert cases(sessions) == [] and deliver(sessions, settings) == 0


def test_a_bounce_is_dropped_quietly(imap, poller, sessions):
    dsn = (b"From: MAILER-DAEMON@example.org\r\nTo: luukku@example.org\r\nSubject: Undelivered Mail\r\n"
           b"Message-ID: <dsn1@example.org>\r\nContent-Type: multipart/report; report-type=delivery-status; "
           b"boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--b\r\n"
           b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; example.org\r\n\r\n--b--\r\n")
    imap.append(dsn)
    assert poller.poll() == {"bounce": 1}
    assert cases(sessions) == []


def test_odd_mail_still_becomes_a_case_and_nothing_blocks_the_queue(imap, poller, sessions):
    big = mail("f@example.org", "Iso liite", "Liitteenä suunnitelma", message_id="<f1@example.org>")
    from email import message_from_bytes, policy

    msg = message_from_bytes(big, policy=policy.default)
    msg.add_attachment(b"x" * 20_000_000, maintype="application", subtype="octet-stream", filename="iso.bin")
    imap.append(msg.as_bytes(),
                b"From: g@example.org\r\nMessage-ID: <g1@example.org>\r\n\r\n",  # no subject, empty body
                b"From: h@example.org\r\nMessage-ID: <h1@example.org>\r\nContent-Type: multipart/mixed\r\n\r\n"
                b"no boundary at all\r\n",
                mail("i@example.org", "Tontti", "Etsimme tonttia", message_id="<i1@example.org>"))
    assert poller.poll() == {"case": 4}
    with sessions() as s:
        [attachment] = s.scalars(select(Attachment)).all()
        assert (attachment.filename, attachment.size, attachment.data) == ("iso.bin", 20_000_000, None)
        assert attachment.case_id is not None
        assert s.scalar(select(func.count()).select_from(MailReceipt)) == 4


def test_a_mail_bomb_is_contained(imap, poller, sessions):
    imap.append(*[mail("bomb@example.org", f"Viesti {i}", "rahoitus", message_id=f"<bomb{i}@example.org>")
                  for i in range(500)])
    total = {}
    while imap.unseen():
        for outcome, n in poller.poll().items():
            total[outcome] = total.get(outcome, 0) + n
    assert total == {"case": 5, "flood": 495}
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == "bomb@example.org")) == 1  # one acknowledgement a day


def test_a_windows_1252_mail_through_imap_becomes_a_readable_case(imap, poller, sessions):
    raw = (b"From: =?windows-1252?q?S=F6derstr=F6m?= <soderstrom@example.org>\r\nTo: luukku@example.org\r\n"
           b"Subject: =?windows-1252?q?Ty=F6ntekij=F6it=E4_kes=E4ksi?=\r\nMessage-ID: <cp1252@example.org>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit"
           b"\r\n\r\nTarvitsemme kaksi ty\xf6ntekij\xe4\xe4 kes\xe4ksi \x96 palkka 2 000 \x80/kk.\r\n")
    imap.append(raw)
    assert poller.poll() == {"case": 1}
    [case] = cases(sessions)
    assert case.customer_name == "Söderström"
    assert "Tarvitsemme kaksi työntekijää kesäksi – palkka 2 000 €/kk." in case.summary
    assert case.summary.startswith("Työntekijöitä kesäksi")


def test_hostile_mail_still_becomes_a_case_and_its_acknowledgement_goes_out(imap, smtp, poller, sessions, settings):
    """A NUL in the body and CR/LF smuggled into the subject: stored clean, answered once, nothing stuck."""
    nul = mail("n@example.org", "Rahoitus", "Tarvitsemme\x00 lainaa", message_id="<n1@example.org>")
    crlf = mail("c2@example.org", "Tontti", "Etsimme tonttia", message_id="<n2@example.org>").replace(
        b"Subject: Tontti", b"Subject: Tontti\r\n =?utf-8?q?Bcc=3A_x=40example=2Eorg=0D=0AX-Evil=3A_1?=")
    imap.append(nul, crlf)
    assert poller.poll() == {"case": 2}
    assert imap.unseen() == 0
    assert deliver(sessions, settings) == 4  # two acknowledgements, two specialist copies
    [ack] = smtp.to("c2@example.org")
    assert ack["X-Evil"] is None and ack["Bcc"] is None and "\n" not in str(ack["Subject"])
    with sessions() as s:
        assert "Tarvitsemme lainaa" in s.scalar(select(Message.text).where(Message.provider_id == "<n1@example.org>"))


def test_a_mail_of_thousands_of_parts_keeps_at_most_the_capped_attachments(imap, poller, sessions):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = ("p@example.org", "luukku@example.org", "Liitteet",
                                                                 "<p1@example.org>")
    msg.set_content("Liitteinä tiedostoja")
    for i in range(5000):
        msg.add_attachment(b"x" * 1024, maintype="application", subtype="octet-stream", filename=f"f{i}.bin")
    imap.append(msg.as_bytes())
    assert poller.poll() == {"case": 1}
    with sessions() as s:
        assert s.scalar(select(func.count(Attachment.id))) == 20  # ATTACHMENT_MAX_COUNT
        assert "4980 more, not stored" in s.scalar(select(Case.summary))


def test_a_mail_of_more_parts_than_anyone_sends_is_kept_whole_for_a_person_without_parsing(imap, poller, sessions):
    from router.channels.mailparse import MAX_PARTS

    raw = (b"From: p@example.org\r\nTo: luukku@example.org\r\nSubject: Osia\r\nMessage-ID: <p3@example.org>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
           b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nRahoitusta koneeseen\r\n"
           + b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f\"\r\n\r\n"
             b"x\r\n" * MAX_PARTS + b"--b--\r\n")
    imap.append(raw)
    assert poller.poll() == {"kept": 1}  # parsed, it would have been a funding case with 20 of its parts
    assert imap.unseen() == 0
    with sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert case.topic == "general" and case.specialist is not None
        [original] = s.scalars(select(Attachment)).all()
        assert (original.filename, original.data) == ("original.eml", raw)


def test_a_mail_the_channel_cannot_handle_is_kept_for_a_person(imap, poller, sessions, monkeypatch):
    imap.append(mail("q@example.org", "Kysymys", "Tärkeä asia", message_id="<q1@example.org>"))
    monkeypatch.setattr(poller.channel, "handle", lambda *a: 1 / 0)  # the fault, injected
    assert poller.poll() == {"kept": 1}
    assert imap.unseen() == 0
    with sessions() as s:
        [case] = s.scalars(select(Case)).all()
        assert case.topic == "general" and case.specialist is not None
        [original] = s.scalars(select(Attachment)).all()
        assert original.filename == "original.eml" and b"T\xc3\xa4rke\xc3\xa4 asia" in original.data


def test_a_mail_to_a_campaign_s_subaddress_is_the_campaign_s_contact_and_case(imap, poller, sessions):
    from datetime import date

    from router.storage.models import Campaign, Conversation

    with sessions() as s:
        s.add(Campaign(code="SYKSY26", name="Syksyn tonttikampanja", starts=date(2026, 11, 1), ends=date(2026, 12, 31),
                       email_tag="syksy"))
        s.commit()
    imap.append(mail("a@example.org", "Tontti", "Etsimme tonttia tehtaalle", message_id="<c1@example.org>",
                     to="Luukku <luukku+syksy@example.org>"),
                mail("b@example.org", "Tontti", "Etsimme myös tonttia", message_id="<c2@example.org>"))
    assert poller.poll() == {"case": 2}
    with sessions() as s:
        assert [(c.customer_email, c.campaign) for c in s.scalars(select(Case).order_by(Case.id))] == [
            ("a@example.org", "SYKSY26"), ("b@example.org", None)]
        assert sorted(s.scalars(select(Conversation.campaign)), key=str) == [None, "SYKSY26"]
