"""The one email address with the trained model: Finnish, Swedish and English mail to named specialists."""
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from router.channels.mailbox import MailboxPoller
from router.storage.models import Case

from ..helpers import mail

pytestmark = pytest.mark.stack
NOW = datetime(2026, 11, 30, 8, 0)



@pytest.mark.parametrize("sender, subject, body, topic, language, person, phrase", [
    ("Liisa Esimerkki <liisa.e@example.org>", "Kysymys",
     "Hyvä vastaanottaja,\n\nolemme kasvava ohjelmistoyritys ja etsimme kolmea kehittäjää. Voisitteko auttaa "
     "rekrytoinnissa?\n\nYstävällisin terveisin\nLiisa Esimerkki\nToimitusjohtaja", "recruitment", "fi",
     "Liisa Kuvitteellinen", "on yhteydessä sinuun viimeistään ke 2.12.2026"),
    ("Johan Exempel <johan@example.org>", "Lokal",
     "Hej,\n\nvi söker en lagerlokal på cirka 400 kvadratmeter för vårt företag.\n\nMed vänliga hälsningar\nJohan",
     "plots", "sv", "Olli Oletus", "kontaktar dig senast ons 2.12.2026"),
    ("Jane Example <jane@example.org>", "Export",
     "Dear Sir or Madam,\n\nwe would like to start exporting our furniture to Germany and need advice.\n\n"
     "Kind regards,\nJane", "internationalisation", "en", "Erik Exempel", "will contact you by Wed 2 Dec 2026"),
])
def test_mail_in_three_languages_reaches_the_named_specialist(live, imap, sender, subject, body, topic, language,
                                                             person, phrase):
    settings = replace(live.settings, **imap.settings())
    imap.append(mail(sender, subject, body, message_id=f"<{topic}@example.org>"))
    assert MailboxPoller(settings, live.sessions, live.app.extensions["luukku"]["rasa"], lambda: NOW).poll() == {"case": 1}
    with live.sessions() as s:
        case = s.scalar(select(Case))
        assert (case.topic, case.language, case.specialist.name) == (topic, language, person)
        address = case.customer_email
    live.worker.deliver()
    [ack] = live.smtp.to(address)
    assert ack["Auto-Submitted"] == "auto-replied" and person in ack.get_content() and phrase in ack.get_content()
    assert len(live.smtp.to(live.settings.service_email)) == 0
