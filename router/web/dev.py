"""Development pages: what the dry run would have sent. Only in development, only for a signed-in admin."""
from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from router.storage.models import OutboxMessage
from router.web import db, settings

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def _only_in_development():
    # Real customers' messages never show here: the page exists only while nothing is really sent, and even
    # then it shows addresses and texts, so only to an admin.
    s = settings()
    if s.production or not (s.dev_pages and s.smtp_dry_run and s.twilio_dry_run):
        abort(404)
    if not current_user.is_authenticated or current_user.role != "admin":
        abort(404)


@bp.get("/outbox")
def outbox():
    rows = db().scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)).all()
    return render_template("dev_outbox.html", rows=rows, dry_run=settings().smtp_dry_run)
