"""The one-question feedback page: opening the link records nothing; submitting records once."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from router import sanitize
from router.casework import survey
from router.web import clock, db, settings

bp = Blueprint("survey", __name__)
QUESTION = {
    "fi": ("Kuinka tyytyväinen olit palveluumme?", "Kommentti (vapaaehtoinen)", "Lähetä", "Kiitos palautteestasi!",
           "Tähän kyselyyn on jo vastattu. Kiitos!", "1 = erittäin tyytymätön, 5 = erittäin tyytyväinen"),
    "sv": ("Hur nöjd var du med vår service?", "Kommentar (frivillig)", "Skicka", "Tack för din respons!",
           "Denna enkät är redan besvarad. Tack!", "1 = mycket missnöjd, 5 = mycket nöjd"),
    "en": ("How satisfied were you with our service?", "Comment (optional)", "Send", "Thank you for your feedback!",
           "This survey has already been answered. Thank you!", "1 = very dissatisfied, 5 = very satisfied"),
}


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer(token: str):
    session = db()
    found = survey.from_token(session, settings(), token)
    if found is None:
        abort(404)
    language = found.case.language if found.case.language in QUESTION else "fi"
    words = QUESTION[language]
    if found.answered_at is not None:
        return render_template("survey.html", words=words, lang=language, state="answered", settings=settings())
    if request.method == "POST":
        raw = request.form.get("score", "")
        if raw not in {"1", "2", "3", "4", "5"}:
            return render_template("survey.html", words=words, lang=language, state="form", error=True,
                                   settings=settings()), 400
        recorded = survey.record(session, settings(), found, int(raw),
                                 sanitize.clean(request.form.get("comment", ""), 2000).strip(),
                                 clock())
        return render_template("survey.html", words=words, lang=language,
                               state="thanks" if recorded else "answered", settings=settings())
    return render_template("survey.html", words=words, lang=language, state="form", settings=settings())
