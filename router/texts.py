"""What the service says: one gettext catalogue (`router/locale/<lang>/LC_MESSAGES/messages.po`) in fi, sv and en.

Message ids are keys (`handoff_confirmed`, `staff.login`), and English is a translation like the others, so
rewording any language never orphans the other two. `make setup` compiles the catalogues; `make messages`
extracts the ids from code and templates and merges them into the three files. SMS texts (ids with `sms`) stay
in the GSM-7 alphabet and their segment budget (tests/unit/test_catalogue.py guards both).
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = ("fi", "sv", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# Babel's formats per language: the city's Swedish and English are Finland's (dates, decimal comma).
LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of a language (Finnish when the language is not served)."""
    language = language if language in LANGUAGES else "fi"
    mo = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.exists():
        raise RuntimeError(f"{mo} is missing: `make setup` compiles the message catalogues")
    with mo.open("rb") as f:
        return Translations(f, domain=DOMAIN)


def N_(key: str) -> str:  # noqa: N802 - gettext's name for "extract this id, translate it later"
    """Mark an id for extraction where it is looked up later (a table of stored keys to words)."""
    return key


def say(key: str, language: str, **values: object) -> str:
    """A text in the customer's language (Finnish when the language is unknown), its {placeholders} filled."""
    return translations(language).gettext(key).format(**values)


def word(key: str, language: str, prefix: str = "") -> str:
    """The word for a stored key (a channel, an outcome, a measure) under `prefix`; the key itself if none is known."""
    message = prefix + key
    found = translations(language).gettext(message)
    return key if found == message else found
