"""The privacy notice and the accessibility statement: public pages whose wording an admin may change.

Until an admin words them at /staff/admin/notices (stored beside the assistant's answers, `faq_answers`), they
are filled from the settings, so the retention periods they name are the ones the purge applies.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.inbound import faq
from router.storage.models import FaqAnswer

KEYS = ("privacy", "accessibility")
TITLES = {
    "privacy": {"fi": "Tietosuojaseloste", "sv": "Dataskyddsbeskrivning", "en": "Privacy notice"},
    "accessibility": {"fi": "Saavutettavuusseloste", "sv": "Tillgänglighetsutlåtande",
                      "en": "Accessibility statement"},
}

DEFAULTS = {
    "privacy": {
        "fi": """{service} on kaupungin yrityspalvelujen yhteinen asiointikanava (chat, tekstiviesti, puhelu ja sähköposti). Rekisterinpitäjä on kaupunki; tietosuoja-asioissa tavoitat meidät osoitteesta {email}.

Mitä tietoja käsittelemme: viestisi ja puheluidesi tekstiksi tunnistetun puheen, sekä nimesi, yhteystietosi ja yrityksesi, jos annat ne. Puhelinnumerosi ja sähköpostiosoitteesi näemme myös, kun otat yhteyttä niiden kautta.

Miksi: asiasi ohjaamiseksi nimetylle asiantuntijalle ja sen hoitamiseksi (julkisen tehtävän hoitaminen). Tietojasi välitetään vain, jos hyväksyt sen keskustelussa. Automaattinen avustaja tunnistaa vain, mitä asiasi koskee; päätöksiä tekevät ihmiset. Avustajan opetusaineistoon ei päädy nimiä, yhteystietoja eikä tunnuksia.

Kuka näkee: asiaasi hoitava asiantuntija, hänen esihenkilönsä ja palvelun ylläpitäjät. Jokainen asian avaaminen kirjataan.

Kuinka kauan säilytämme:
- ratkaistun asian yhteystiedot, viestit ja liitteet {case_months} kuukautta asian ratkaisemisesta
- keskustelut, joista ei syntynyt asiaa, {chat_days} päivää
- puheluiden tekstit {call_days} päivää, sähköpostien liitteet {attachment_days} päivää
- lähetettyjen viestien sisällöt {outbox_days} päivää, palautteen vapaat kommentit {survey_months} kuukautta
- kirjaukset siitä, kuka asiaa katsoi, {audit_months} kuukautta

Oikeutesi: voit pyytää nähdä tietosi, korjata ne tai poistaa ne kirjoittamalla osoitteeseen {email}. Tekstiviestit lopetat vastaamalla LOPETA. Voit tehdä valituksen tietosuojavaltuutetun toimistolle.""",
        "sv": """{service} är stadens gemensamma kanal för företagstjänster (chatt, sms, samtal och e-post). Personuppgiftsansvarig är staden; i dataskyddsfrågor når du oss på {email}.

Vilka uppgifter vi behandlar: dina meddelanden och det som sägs i dina samtal som text, samt ditt namn, dina kontaktuppgifter och ditt företag om du uppger dem. Ditt telefonnummer och din e-postadress ser vi också när du kontaktar oss den vägen.

Varför: för att leda ditt ärende till en namngiven expert och sköta det (en uppgift av allmänt intresse). Dina uppgifter förmedlas bara om du godkänner det i samtalet. Den automatiska assistenten känner bara igen vad ärendet gäller; beslut fattas av människor. Namn, kontaktuppgifter och id-nummer hamnar aldrig i assistentens träningsdata.

Vem ser dem: experten som sköter ditt ärende, hens chef och tjänstens administratörer. Varje gång ärendet öppnas registreras det.

Hur länge vi sparar:
- kontaktuppgifter, meddelanden och bilagor i ett avslutat ärende {case_months} månader efter att det avslutades
- samtal som inte ledde till ett ärende {chat_days} dagar
- samtalstexter {call_days} dagar, e-postbilagor {attachment_days} dagar
- innehållet i skickade meddelanden {outbox_days} dagar, fria kommentarer i responsen {survey_months} månader
- registreringar av vem som såg ärendet {audit_months} månader

Dina rättigheter: du kan be att få se, rätta eller radera dina uppgifter genom att skriva till {email}. Sms stoppar du genom att svara SLUTA. Du kan klaga hos dataombudsmannens byrå.""",
        "en": """{service} is the city's single channel to its business services (chat, text message, phone and email). The controller is the city; for data protection matters, write to {email}.

What we process: your messages and what you say on calls as text, and your name, contact details and company if you give them. We also see your phone number or email address when you contact us that way.

Why: to hand your matter to a named specialist and to handle it (a task in the public interest). Your details are passed on only if you agree in the conversation. The automated assistant only recognises what your matter is about; people make the decisions. Names, contact details and ID numbers never go into the assistant's training data.

Who sees it: the specialist handling your matter, their team lead and the service's administrators. Every time a case is opened, that is recorded.

How long we keep it:
- contact details, messages and attachments of a resolved matter: {case_months} months after it was resolved
- conversations that did not become a matter: {chat_days} days
- call texts: {call_days} days; email attachments: {attachment_days} days
- the content of messages we sent: {outbox_days} days; free-text feedback comments: {survey_months} months
- records of who looked at a matter: {audit_months} months

Your rights: you may ask to see, correct or erase your data by writing to {email}. Reply STOP to end text messages. You may complain to the Data Protection Ombudsman.""",
    },
    "accessibility": {
        "fi": """Tämä seloste koskee palvelua {service}: etusivua ja sen chattia, palautesivua, vaikuttavuussivua, yhteystietosivua ja henkilöstön sivuja.

Tavoitteena on WCAG 2.1 -ohjeiden AA-taso. Sivut tarkistetaan jokaisen muutoksen yhteydessä automaattisesti (axe-core) ja näppäimistöllä: chat ja asian käsittelysivu toimivat ilman hiirtä, kohdistus näkyy, kaavioilla on tekstivastine ja sivut toimivat 320 pikselin levyisinä ja 200 %:n suurennoksella.

Tiedossa olevat puutteet: automaattinen tarkistus ei löydä kaikkia ongelmia. Jos huomaat puutteen, kerro siitä osoitteeseen {email} tai puhelimitse {phone}; vastaamme kahden viikon kuluessa.

Jos et ole tyytyväinen vastaukseen, voit tehdä ilmoituksen valvontaviranomaiselle (Etelä-Suomen aluehallintovirasto, saavutettavuusvaatimukset.fi).""",
        "sv": """Detta utlåtande gäller tjänsten {service}: startsidan med chatten, responssidan, sidan om effekterna, kontaktsidan och personalens sidor.

Målet är nivå AA i WCAG 2.1. Sidorna kontrolleras vid varje ändring automatiskt (axe-core) och med tangentbordet: chatten och ärendesidan fungerar utan mus, fokus syns, diagrammen har en textmotsvarighet och sidorna fungerar 320 pixlar breda och förstorade till 200 %.

Kända brister: en automatisk kontroll hittar inte alla problem. Om du märker en brist, skriv till {email} eller ring {phone}; vi svarar inom två veckor.

Om du inte är nöjd med svaret kan du anmäla det till tillsynsmyndigheten (Regionförvaltningsverket i Södra Finland, tillganglighetskrav.fi).""",
        "en": """This statement covers {service}: the home page and its chat, the feedback page, the impact page, the contacts page and the staff pages.

The aim is level AA of WCAG 2.1. The pages are checked automatically (axe-core) and with the keyboard on every change: the chat and the case page work without a mouse, focus is visible, charts have a text alternative, and the pages work at 320 pixels wide and at 200 % zoom.

Known limitations: an automated check does not find every problem. If you notice one, write to {email} or call {phone}; we answer within two weeks.

If you are not satisfied with the answer, you may notify the supervisory authority (Regional State Administrative Agency for Southern Finland, webaccessibility.fi).""",
    },
}


def default(settings, key: str, language: str) -> str:
    """The notice filled from the settings (the service's contacts and the retention periods in force)."""
    return DEFAULTS[key][language if language in faq.LANGUAGES else "fi"].format(
        service=settings.service_name, email=settings.service_email, phone=settings.service_phone,
        case_months=settings.retain_case_months, chat_days=settings.retain_chat_days,
        call_days=settings.retain_call_speech_days, attachment_days=settings.retain_attachment_days,
        outbox_days=settings.retain_outbox_days, survey_months=settings.retain_survey_comment_months,
        audit_months=settings.retain_audit_months)


def text(session: Session, settings, key: str, language: Optional[str]) -> str:
    """The notice in `language`: the admin's wording, else the default."""
    lang = language if language in faq.LANGUAGES else "fi"
    stored = session.scalar(select(FaqAnswer.text).where(FaqAnswer.key == key, FaqAnswer.language == lang))
    return stored or default(settings, key, lang)


def blocks(body: str) -> list[dict]:
    """Paragraphs and lists ("- " lines) of a notice, for the page: never HTML from the stored text."""
    out: list[dict] = []
    for chunk in (c.strip() for c in body.replace("\r\n", "\n").split("\n\n")):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        items = [line[2:] for line in lines if line.startswith("- ")]
        lead = [line for line in lines if not line.startswith("- ")]
        if lead:
            out.append({"p": " ".join(lead)})
        if items:
            out.append({"ul": items})
    return out
