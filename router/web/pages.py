"""Public pages: the agency's example page with the chat widget, in Finnish, Swedish and English."""
import io
from typing import Optional

from flask import Blueprint, abort, make_response, render_template, request, send_file
from sqlalchemy import select

from router import sanitize, texts
from router.casework import files, hours
from router.inbound import feedback
from router.privacy import notices
from router.storage.models import Attachment, Case, Message
from router.web import clock, db, settings
from router.web.i18n import lang

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    language = lang()
    back = hours.back_at(settings(), clock())
    closed = texts.say("widget_closed", language, **hours.when_text(settings(), back, language)) \
        if back > clock() else None
    resp = make_response(render_template("index.html", settings=settings(), lang=language, closed=closed))
    resp.vary.add("Accept-Language")  # without ?lang= the page speaks the browser's language
    resp.headers["Cache-Control"] = "no-cache"  # whether the office is open changes by the hour
    return resp


def _notice(key: str, feedback: Optional[dict] = None):
    language = lang()
    body = notices.text(db(), settings(), key, language)
    return render_template("notice.html", settings=settings(), lang=language, title=notices.title(key, language),
                           blocks=notices.blocks(body), feedback=feedback)


@bp.get("/privacy")
def privacy():
    """The privacy notice (what is kept, why, how long, your rights), in fi, sv or en."""
    return _notice("privacy")


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement, with the feedback form the law asks for."""
    return _notice("accessibility", feedback={})


@bp.post("/accessibility/feedback")
def accessibility_feedback():
    """Accessibility feedback: a case for the accessibility contact, answered within 14 days."""
    values = {k: sanitize.clean(request.form.get(k, ""), 4000 if k == "message" else 254)
              for k in ("message", "name", "contact")}
    try:
        result = feedback.submit(db(), settings(), text=values["message"], name=values["name"],
                                 contact=values["contact"], language=lang(), now=clock())
    except feedback.FeedbackError as exc:
        return _notice("accessibility", feedback={**values, "error": texts.say(exc.key, lang()),
                                                  "field": exc.field}), 400
    return render_template("notice.html", settings=settings(), lang=lang(),
                           title=texts.say("feedback_thanks_title", lang()),
                           blocks=[{"p": texts.say("feedback_thanks", lang(), ref=result.case.ref,
                                                   date=result.due_text)}])


@bp.get("/files/<token>")
def sent_file(token: str):
    """A file a specialist sent, by the signed link the customer got; after FILE_LINK_DAYS the link has expired."""
    try:
        attachment_id = files.opened(settings().secret_key, token[:64], clock())
    except files.LinkExpired:
        return _file_gone(token)
    found = db().get(Attachment, attachment_id) if attachment_id is not None else None
    if found is None or found.data is None or not db().scalar(
            select(Message.id).where(Message.id == found.message_id, Message.author == "staff")):
        abort(404)
    response = send_file(io.BytesIO(found.data), mimetype=found.content_type, as_attachment=True,
                         download_name=found.filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _file_gone(token: str):
    """An expired link, in the language of the case the file belongs to."""
    attachment_id = token.split(".", 1)[0]
    case = db().scalar(select(Case).join(Attachment, Attachment.case_id == Case.id)
                       .where(Attachment.id == int(attachment_id))) if attachment_id.isdigit() \
        and len(attachment_id) < 12 else None
    language = case.language if case is not None else lang()
    return render_template("notice.html", settings=settings(), lang=language,
                           title=texts.say("file_link_expired_title", language),
                           blocks=[{"p": texts.say("file_link_expired", language)}]), 410
