"""Each request's language and formats: Flask-Babel over the one catalogue (router/texts.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from babel import Locale
from flask import Flask, g, request, session
from flask_babel import Babel, format_datetime, get_locale
from flask_login import current_user

from router import formats, texts
from router.plan import report
from router.texts import LANGUAGES, LOCALE_DIR, LOCALES


def select_locale() -> str:
    """A page about one case speaks its customer's language; else `?lang=`; staff their choice; else the browser's."""
    chosen = g.get("language") or request.args.get("lang")
    if chosen not in LANGUAGES and request.path.startswith("/staff"):
        chosen = session.get("lang")
        if chosen not in LANGUAGES and getattr(current_user, "is_authenticated", False):
            chosen = current_user.language
    if chosen not in LANGUAGES:
        chosen = request.accept_languages.best_match(LANGUAGES)
    return LOCALES[chosen or "fi"]


def init_app(app: Flask, timezone_name: str) -> None:
    """Flask-Babel with the catalogue's directory, the agency's zone, and the helpers templates use."""
    app.config.update(BABEL_TRANSLATION_DIRECTORIES=str(LOCALE_DIR), BABEL_DEFAULT_LOCALE="fi_FI",
                      BABEL_DEFAULT_TIMEZONE=timezone_name, BABEL_DOMAIN="messages")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(lang=lang, label=label)
    app.jinja_env.filters.update(
        local=local,
        number=lambda value, digits=0: formats.number(value, lang(), digits),
        money=lambda value, digits=0: formats.money(value, lang(), digits),
        share=lambda value: formats.share(value, lang()),
        date_text=lambda value: formats.date_text(date.fromisoformat(value) if isinstance(value, str) else value,
                                                  lang()),
        measure=lambda value, measure: report.measure_value(measure, value, lang()),
        pace=lambda progress: report.pace_words(progress, lang()),
        language_name=lambda code: Locale.parse(code).get_language_name(lang()) if code in LANGUAGES else code)


def lang() -> str:
    """The language of this request's page: fi, sv or en."""
    locale = get_locale()
    return locale.language if isinstance(locale, Locale) and locale.language in LANGUAGES else "fi"


def label(key: str | None, prefix: str = "") -> str:
    """A word for a stored key (channel, outcome, event, author); the key itself only if the catalogue has none."""
    if not key:
        return "-"
    found = texts.word("email_channel" if key == "email" and not prefix else key, lang(), f"staff.{prefix}")
    return key if found == "email_channel" else found


# How each language writes a day and a time (Finland's Swedish as in Finland: day before month, "kl.").
PATTERNS = {"fi": ("EEE d.M.yyyy HH.mm", "EEE d.M.yyyy"), "sv": ("EEE d.M.yyyy 'kl.' HH.mm", "EEE d.M.yyyy"),
            "en": ("EEE d MMM yyyy HH:mm", "EEE d MMM yyyy")}


def local(when: datetime | None, with_time: bool = True) -> str:
    """A stored naive-UTC time in the agency's zone, the way the page's language writes it ("ti 1.12.2026 10.05")."""
    if when is None:
        return "-"
    with_, without = PATTERNS[lang()]
    return format_datetime(when.replace(tzinfo=timezone.utc), with_ if with_time else without)
