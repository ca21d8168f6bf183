"""The one-question feedback page: opening the link records nothing; submitting records once."""
from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request

from router import sanitize
from router.casework import survey
from router.texts import LANGUAGES
from router.web import clock, db, settings

bp = Blueprint("survey", __name__)


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer(token: str):
    session = db()
    found = survey.from_token(session, settings(), token)
    if found is None:
        abort(404)
    language = found.case.language if found.case.language in LANGUAGES else "fi"
    g.language = language  # the page speaks the case's language, whatever the browser prefers
    if found.answered_at is not None:
        return render_template("survey.html", lang=language, state="answered", settings=settings())
    if request.method == "POST":
        raw = request.form.get("score", "")
        if raw not in {"1", "2", "3", "4", "5"}:
            return render_template("survey.html", lang=language, state="form", error=True,
                                   settings=settings()), 400
        recorded = survey.record(session, settings(), found, int(raw),
                                 sanitize.clean(request.form.get("comment", ""), 2000).strip(),
                                 clock())
        return render_template("survey.html", lang=language,
                               state="thanks" if recorded else "answered", settings=settings())
    return render_template("survey.html", lang=language, state="form", settings=settings())
