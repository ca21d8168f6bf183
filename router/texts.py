"""What the service says, in fi, sv and en. SMS texts stay in the GSM-7 alphabet (a test guards it)."""
from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "handoff_confirmed": {
        "fi": "{name}, {title}, on yhteydessä sinuun viimeistään {date}. Asiasi viite on {ref}.",
        "sv": "{name}, {title}, kontaktar dig senast {date}. Ditt ärendes referens är {ref}.",
        "en": "{name}, {title}, will contact you by {date} at the latest. Your reference is {ref}.",
    },
    "customer_confirmation_subject": {
        "fi": "[{ref}] Asiasi on vastaanotettu",
        "sv": "[{ref}] Ditt ärende har tagits emot",
        "en": "[{ref}] We have received your request",
    },
    "customer_confirmation_body": {
        "fi": "Hei {customer},\n\nkiitos yhteydenotostasi. {name}, {title}, on yhteydessä sinuun viimeistään {date}."
              "\nAsiasi viite on {ref}.\n\nYstävällisin terveisin\n{service}",
        "sv": "Hej {customer},\n\ntack för att du kontaktade oss. {name}, {title}, kontaktar dig senast {date}."
              "\nDitt ärendes referens är {ref}.\n\nMed vänliga hälsningar\n{service}",
        "en": "Hello {customer},\n\nthank you for contacting us. {name}, {title}, will contact you by {date} at the"
              " latest.\nYour reference is {ref}.\n\nBest regards\n{service}",
    },
    "customer_confirmation_sms": {
        "fi": "{service}: {name}, {title}, on yhteydessä sinuun viimeistään {date}. Viite {ref}.",
        "sv": "{service}: {name}, {title}, kontaktar dig senast {date}. Referens {ref}.",
        "en": "{service}: {name}, {title}, will contact you by {date}. Reference {ref}.",
    },
    "rasa_down": {
        "fi": "Viestisi on tallessa. Avustaja on hetken poissa käytöstä. {name}, {title}, auttaa aiheessa"
              " {topic}: {email}, {phone}.",
        "sv": "Ditt meddelande är sparat. Assistenten är tillfälligt ur bruk. {name}, {title}, hjälper med"
              " {topic}: {email}, {phone}.",
        "en": "Your message is saved. The assistant is briefly unavailable. {name}, {title}, helps with"
              " {topic}: {email}, {phone}.",
    },
    "clarify": {
        "fi": "Mitä asiasi koskee? Valitse aihe:",
        "sv": "Vad gäller ditt ärende? Välj ett ämne:",
        "en": "What is your matter about? Choose a topic:",
    },
    "clarify_sms": {
        "fi": "Vastaa numerolla:",
        "sv": "Svara med en siffra:",
        "en": "Reply with a number:",
    },
}


def say(key: str, language: str, **values: object) -> str:
    """A text in the customer's language (Finnish when the language is unknown)."""
    variants = TEXTS[key]
    return variants.get(language, variants["fi"]).format(**values)
