"""Answers about the agency itself (opening hours, address, what the service is, how to reach a person)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.storage.models import FaqAnswer, utcnow

LANGUAGES = ("fi", "sv", "en")
# The bot's intents faq_<key> (bot/data/nlu/faq.yml) ask for these answers.
KEYS = ("hours", "address", "about", "contact")

# Until an admin words an answer at /staff/admin/faq, it is filled from the settings (SERVICE_*).
DEFAULTS = {
    "hours": {
        "fi": "Palveluneuvonta palvelee arkisin klo {hours} puhelimitse {phone} ja paikan päällä ({address}). Tämä"
              " chat, tekstiviestit ja sähköposti {email} ottavat viestejä vastaan aina.",
        "sv": "Kundtjänsten betjänar vardagar kl. {hours} per telefon {phone} och på plats ({address}). Den här"
              " chatten, sms och e-post {email} tar emot meddelanden dygnet runt.",
        "en": "The service desk is open on working days {hours} by phone {phone} and in person ({address}). This"
              " chat, text messages and email {email} take messages at any time.",
    },
    "address": {
        "fi": "Käyntiosoitteemme on {address}. Palveluneuvonta on avoinna arkisin klo {hours}.",
        "sv": "Vår besöksadress är {address}. Kundtjänsten är öppen vardagar kl. {hours}.",
        "en": "Our visiting address is {address}. The service desk is open on working days {hours}.",
    },
    "about": {
        "fi": "{service} on kaupungin yrityspalvelujen yksi ovi: autamme yrityksen perustamisessa, rahoituksessa,"
              " rekrytoinnissa, kansainvälistymisessä sekä tonteissa ja toimitiloissa. Kerro asiasi, niin ohjaan"
              " sinut nimetylle asiantuntijalle, joka ottaa asian hoitaakseen kahden arkipäivän kuluessa. Palvelu"
              " on maksutonta.",
        "sv": "{service} är stadens enda dörr till företagstjänsterna: vi hjälper med att grunda företag,"
              " finansiering, rekrytering, internationalisering samt tomter och lokaler. Berätta ditt ärende så"
              " leder jag dig till en namngiven expert som tar ärendet inom två arbetsdagar. Tjänsten är"
              " avgiftsfri.",
        "en": "{service} is the city's single front door to business services: we help with founding a company,"
              " funding, recruitment, going international, and business plots and premises. Tell me your matter"
              " and I will hand you to a named specialist who takes it up within two working days. The service is"
              " free of charge.",
    },
    "contact": {
        "fi": "Palveluneuvonnan tavoitat puhelimitse {phone} (arkisin klo {hours}) ja sähköpostitse {email}. Voin"
              " myös välittää asiasi ihmiselle tästä.",
        "sv": "Kundtjänsten når du per telefon {phone} (vardagar kl. {hours}) och e-post {email}. Jag kan också"
              " skicka ditt ärende vidare till en människa härifrån.",
        "en": "You can reach the service desk by phone {phone} (working days {hours}) and by email {email}. I can"
              " also pass your matter to a person from here.",
    },
}

# The button under every answer: the service desk's contact form (the rule for the `general` intent).
PERSON = {"fi": "Haluan puhua ihmisen kanssa", "sv": "Jag vill tala med en människa",
          "en": "I'd like to talk to a person"}


def _language(language: Optional[str]) -> str:
    return language if language in LANGUAGES else "fi"


def default(settings, key: str, language: str) -> str:
    """The answer filled from the settings, before any admin wording."""
    return DEFAULTS[key][_language(language)].format(
        service=settings.service_name, phone=settings.service_phone, email=settings.service_email,
        address=settings.service_address, hours=settings.service_hours)


def answer(session: Session, settings, key: str, language: Optional[str]) -> dict:
    """The answer for `key` in `language`, the admin's wording first, with the button that offers a person."""
    if key not in KEYS:
        raise KeyError(key)
    lang = _language(language)
    stored = session.scalar(select(FaqAnswer.text).where(FaqAnswer.key == key, FaqAnswer.language == lang))
    return {"key": key, "language": lang, "text": stored or default(settings, key, lang),
            "buttons": [{"title": PERSON[lang], "payload": "/general"}]}


def answers(session: Session, settings, keys: tuple[str, ...] = KEYS, fill=None) -> list[dict]:
    """Every key and language with its current text and whether an admin has worded it (the admin page).

    `keys` and `fill` (settings, key, language -> default text) serve other admin-worded texts too (notices.py).
    """
    fill = fill or default
    stored = {(r.key, r.language): r for r in session.scalars(select(FaqAnswer).where(FaqAnswer.key.in_(keys)))}
    return [{"key": k, "language": lang, "text": stored[(k, lang)].text if (k, lang) in stored
             else fill(settings, k, lang), "edited": (k, lang) in stored} for k in keys for lang in LANGUAGES]


def reword(session: Session, key: str, language: str, text: str, keys: tuple[str, ...] = KEYS) -> None:
    """Store an admin's wording of one of `keys`; an empty text goes back to the default."""
    if key not in keys or language not in LANGUAGES:
        raise KeyError(f"{key}/{language}")
    row = session.scalar(select(FaqAnswer).where(FaqAnswer.key == key, FaqAnswer.language == language))
    if not text.strip():
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(FaqAnswer(key=key, language=language, text=text.strip(), updated_at=utcnow()))
    else:
        row.text, row.updated_at = text.strip(), utcnow()
