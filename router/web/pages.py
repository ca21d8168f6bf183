"""Public pages: the agency's example page with the chat widget, in Finnish, Swedish and English."""
from flask import Blueprint, make_response, render_template

from router.privacy import notices
from router.web import db, settings
from router.web.i18n import lang

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    resp = make_response(render_template("index.html", settings=settings(), lang=lang()))
    resp.vary.add("Accept-Language")  # without ?lang= the page speaks the browser's language
    return resp


def _notice(key: str):
    language = lang()
    body = notices.text(db(), settings(), key, language)
    return render_template("notice.html", settings=settings(), lang=language, title=notices.title(key, language),
                           blocks=notices.blocks(body))


@bp.get("/privacy")
def privacy():
    """The privacy notice (what is kept, why, how long, your rights), in fi, sv or en."""
    return _notice("privacy")


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement."""
    return _notice("accessibility")
